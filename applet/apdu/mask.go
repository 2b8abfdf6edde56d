package apdu

import "github.com/simlab-dev/simlab/applet/tlv"

// Secret marks a byte range [Start, End) of a command APDU that holds a
// secret.
type Secret struct{ Start, End int }

// AppendSecrets appends to dst the byte ranges of the command APDU capdu
// that must not appear in a trace or log:
//
//   - the data field of VERIFY, CHANGE, DISABLE, ENABLE and UNBLOCK PIN
//     (ETSI TS 102 221 §11.1.9–13; VERIFY/CHANGE/DISABLE/ENABLE/UNBLOCK
//     CHV in class A0): PIN, PUK and ADM values;
//   - the text a user typed into a GET INPUT with hidden input, in a
//     TERMINAL RESPONSE (TS 102 223 §6.8: command details of type 23 with
//     qualifier bit 3 set; the text string object, tag 0D, after its data
//     coding scheme byte): what a person enters at a PIN prompt.
//
// It is the one place simlab decides what is secret in an APDU: the
// phones' event traces, pcap and GSMTAP output, modem wire logs and card
// scripts all mask with it.
func AppendSecrets(dst []Secret, capdu []byte) []Secret {
	if len(capdu) < 5 {
		return dst
	}
	switch capdu[1] {
	case INSVerifyPIN, INSChangePIN, INSDisablePIN, INSEnablePIN, INSUnblockPIN:
		if k := ClassOf(capdu[0]).Kind; k != ClassInterindustry && k != ClassGSM {
			return dst
		}
		end := min(len(capdu), 5+int(capdu[4]))
		if end > 5 {
			dst = append(dst, Secret{5, end})
		}
	case INSTerminalResponse:
		body := capdu[5:]
		// Command details first: 81 03 number type qualifier.
		if len(body) < 5 || body[0]&0x7F != 0x01 || body[1] != 3 || body[3] != 0x23 || body[4]&0x04 == 0 {
			return dst
		}
		for off := 0; off < len(body); {
			obj, rest, err := tlv.ParseCTLV(body[off:])
			if err != nil {
				break
			}
			next := len(body) - len(rest)
			if obj.Tag == 0x0D && len(obj.Value) > 1 {
				// The value is the object's last bytes: DCS, then the text.
				dst = append(dst, Secret{5 + next - len(obj.Value) + 1, 5 + next})
			}
			off = next
		}
	}
	return dst
}

// MaskByte replaces secret bytes in MaskSecrets: 'X', so a masked PIN
// block stays the length a decoder expects.
const MaskByte = 'X'

// MaskSecrets returns capdu with the bytes AppendSecrets finds replaced by
// MaskByte, in a copy; capdu itself when it holds no secret.
func MaskSecrets(capdu []byte) []byte {
	var buf [2]Secret
	secrets := AppendSecrets(buf[:0], capdu)
	if len(secrets) == 0 {
		return capdu
	}
	out := append([]byte(nil), capdu...)
	for _, s := range secrets {
		for i := s.Start; i < s.End; i++ {
			out[i] = MaskByte
		}
	}
	return out
}
