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
//     coding scheme byte): what a person enters at a PIN prompt. Past
//     the command details of such a response, an object that is not a
//     well-formed device identities, result or text string object masks
//     everything from it to the end (fail closed).
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
		// Fail closed: past command details marking hidden input, only
		// objects of a known shape are kept as they are (command details,
		// device identities, result); a text string keeps its data coding
		// scheme byte. From anything else (an unknown tag, an odd length,
		// an object that does not parse) to the end is masked, so that a
		// malformed object before the text string cannot keep it in clear.
		for off := 0; off < len(body); {
			obj, rest, err := tlv.ParseCTLV(body[off:])
			next := len(body) - len(rest)
			switch {
			case err == nil && obj.Tag == 0x0D:
				// The value is the object's last bytes: DCS, then the
				// text. A DCS that is none of GET INPUT's (GSM 7 bit
				// packed, 8 bit, UCS2) is masked with the text: the
				// object is not what it seems.
				start := 5 + next - len(obj.Value)
				if len(obj.Value) > 0 && (obj.Value[0] == 0x00 || obj.Value[0] == 0x04 || obj.Value[0] == 0x08) {
					start++
				}
				if start < 5+next {
					dst = append(dst, Secret{start, 5 + next})
				}
			case err == nil && (obj.Tag == 0x01 && len(obj.Value) == 3 ||
				obj.Tag == 0x02 && len(obj.Value) == 2 ||
				obj.Tag == 0x03 && len(obj.Value) >= 1 && len(obj.Value) <= 2):
			default:
				return append(dst, Secret{5 + off, 5 + len(body)})
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
