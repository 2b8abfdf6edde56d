package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// GSMTAPPort is the UDP port GSMTAP uses (IANA "gsmtap", 4729).
const GSMTAPPort = 4729

// GSMTAP header constants (osmocom libosmocore gsmtap.h, version 2).
const (
	GSMTAPVersion = 2
	GSMTAPTypeSIM = 0x04 // GSMTAP_TYPE_SIM: ISO 7816 APDUs
	gsmtapHdrLen  = 16   // hdr_len = 4 words
)

// ErrGSMTAP is wrapped by ParseGSMTAP's errors.
var ErrGSMTAP = errors.New("trace: malformed GSMTAP")

// GSMTAPHeader is the 16-byte GSMTAP version 2 header.
type GSMTAPHeader struct {
	Version     byte
	HdrLenWords byte
	Type        byte
	Timeslot    byte
	ARFCN       uint16
	SignalDBm   int8
	SNRdB       int8
	FrameNumber uint32
	SubType     byte
	Antenna     byte
	SubSlot     byte
}

// AppendGSMTAP appends h (16 bytes, network byte order) to dst.
func AppendGSMTAP(dst []byte, h GSMTAPHeader) []byte {
	dst = append(dst, h.Version, h.HdrLenWords, h.Type, h.Timeslot)
	dst = binary.BigEndian.AppendUint16(dst, h.ARFCN)
	dst = append(dst, byte(h.SignalDBm), byte(h.SNRdB))
	dst = binary.BigEndian.AppendUint32(dst, h.FrameNumber)
	return append(dst, h.SubType, h.Antenna, h.SubSlot, 0)
}

// ParseGSMTAP decodes a GSMTAP header and returns it with the payload that
// follows it (hdr_len words from the start).
func ParseGSMTAP(b []byte) (GSMTAPHeader, []byte, error) {
	var h GSMTAPHeader
	if len(b) < gsmtapHdrLen {
		return h, nil, fmt.Errorf("%w at offset %d: expected a 16-byte header, have %d bytes", ErrGSMTAP, len(b), len(b))
	}
	h = GSMTAPHeader{
		Version: b[0], HdrLenWords: b[1], Type: b[2], Timeslot: b[3],
		ARFCN: binary.BigEndian.Uint16(b[4:]), SignalDBm: int8(b[6]), SNRdB: int8(b[7]),
		FrameNumber: binary.BigEndian.Uint32(b[8:]), SubType: b[12], Antenna: b[13], SubSlot: b[14],
	}
	if h.Version != GSMTAPVersion {
		return h, nil, fmt.Errorf("%w at offset 0: expected version 2, got %d", ErrGSMTAP, h.Version)
	}
	hl := int(h.HdrLenWords) * 4
	if hl < gsmtapHdrLen || hl > len(b) {
		return h, nil, fmt.Errorf("%w at offset 1: expected hdr_len of 4..%d words, got %d", ErrGSMTAP, len(b)/4, h.HdrLenWords)
	}
	return h, b[hl:], nil
}

// SIMFrame returns the GSMTAP SIM payload for one APDU exchange, the way
// osmocom SIMtrace and Wireshark's gsm_sim dissector frame it: the command
// as it travels over T=0 (CLA INS P1 P2 P3, then the command data or the
// response data) followed by SW1 SW2 — command and response in one frame.
// A case 4 command (Lc, data, Le) carries its data, then the response data.
// Extended-length and malformed commands are passed through as they are.
func SIMFrame(capdu, rapdu []byte) []byte {
	out := make([]byte, 0, len(capdu)+len(rapdu)+1)
	sw := rapdu
	var rdata []byte
	if len(rapdu) >= 2 {
		rdata, sw = rapdu[:len(rapdu)-2], rapdu[len(rapdu)-2:]
	}
	switch {
	case len(capdu) == 4: // case 1: P3 = 00
		out = append(append(out, capdu...), 0x00)
	case len(capdu) == 5: // case 2: P3 = Le, the response data follows
		out = append(out, capdu...)
	case len(capdu) > 5 && capdu[4] != 0 && len(capdu) == 5+int(capdu[4]): // case 3
		out = append(out, capdu...)
	case len(capdu) > 5 && capdu[4] != 0 && len(capdu) == 6+int(capdu[4]): // case 4: drop Le
		out = append(out, capdu[:len(capdu)-1]...)
	default:
		out = append(out, capdu...)
	}
	out = append(out, rdata...)
	return append(out, sw...)
}
