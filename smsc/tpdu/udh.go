package tpdu

import (
	"fmt"
)

// Information Element Identifiers of the user data header (3GPP TS 23.040
// §9.2.3.24; 70 and 71 from TS 31.115 §4, §5).
const (
	IEIConcat8         byte = 0x00 // concatenated short messages, 8-bit reference (§9.2.3.24.1)
	IEISpecialSMS      byte = 0x01 // special SMS message indication (§9.2.3.24.2)
	IEIPort8           byte = 0x04 // application port addressing, 8-bit address (§9.2.3.24.3)
	IEIPort16          byte = 0x05 // application port addressing, 16-bit address (§9.2.3.24.4)
	IEISMSCControl     byte = 0x06 // SMSC control parameters (§9.2.3.24.5)
	IEISourceIndicator byte = 0x07 // UDH source indicator (§9.2.3.24.6)
	IEIConcat16        byte = 0x08 // concatenated short messages, 16-bit reference (§9.2.3.24.8)
	IEIWCMP            byte = 0x09 // wireless control message protocol (§9.2.3.24.9)
	IEITextFormatting  byte = 0x0A // text formatting (§9.2.3.24.10.1.1)
	IEIRFC822          byte = 0x20 // RFC 822 e-mail header (§9.2.3.24.11)
	IEIHyperlink       byte = 0x21 // hyperlink format element (§9.2.3.24.12)
	IEIReplyAddress    byte = 0x22 // reply address element (§9.2.3.24.13)
	IEIEnhancedVoice   byte = 0x23 // enhanced voice mail information (§9.2.3.24.13)
	IEISingleShift     byte = 0x24 // national language single shift (§9.2.3.24.15)
	IEILockingShift    byte = 0x25 // national language locking shift (§9.2.3.24.16)
	IEICommandPacket   byte = 0x70 // (U)SIM toolkit security header: command packet (TS 31.115 §4.2)
	IEIResponsePacket  byte = 0x71 // (U)SIM toolkit security header: response packet (TS 31.115 §4.4)
	maxUserDataOctets       = 140
	maxUserDataSeptets      = 160
)

var ieiNames = map[byte]string{
	0x00: "concatenated short messages, 8-bit reference",
	0x01: "special SMS message indication",
	0x04: "application port addressing, 8-bit",
	0x05: "application port addressing, 16-bit",
	0x06: "SMSC control parameters",
	0x07: "UDH source indicator",
	0x08: "concatenated short messages, 16-bit reference",
	0x09: "wireless control message protocol",
	0x0A: "text formatting",
	0x0B: "predefined sound",
	0x0C: "user defined sound",
	0x0D: "predefined animation",
	0x0E: "large animation",
	0x0F: "small animation",
	0x10: "large picture",
	0x11: "small picture",
	0x12: "variable picture",
	0x13: "user prompt indicator",
	0x14: "extended object",
	0x15: "reused extended object",
	0x16: "compression control",
	0x17: "object distribution indicator",
	0x18: "standard WVG object",
	0x19: "character size WVG object",
	0x1A: "extended object data request command",
	0x20: "RFC 822 e-mail header",
	0x21: "hyperlink format element",
	0x22: "reply address element",
	0x23: "enhanced voice mail information",
	0x24: "national language single shift",
	0x25: "national language locking shift",
	0x70: "(U)SIM toolkit security header: command packet",
	0x71: "(U)SIM toolkit security header: response packet",
}

// IEIName returns the TS 23.040 §9.2.3.24 name of an information element.
func IEIName(id byte) string {
	if n, ok := ieiNames[id]; ok {
		return n
	}
	switch {
	case id >= 0x72 && id <= 0x7F:
		return "(U)SIM toolkit security header"
	case id >= 0x80 && id <= 0x9F:
		return "SME to SME specific use"
	case id >= 0xC0 && id <= 0xDF:
		return "SC specific use"
	}
	return "reserved"
}

// IE is one information element of a user data header (3GPP TS 23.040
// §9.2.3.24).
type IE struct {
	ID   byte
	Data []byte
}

// Concat8 returns the IE of a part of a concatenated message with an 8-bit
// reference (IEI 00, TS 23.040 §9.2.3.24.1); parts are numbered from 1.
func Concat8(ref byte, total, seq byte) IE {
	return IE{ID: IEIConcat8, Data: []byte{ref, total, seq}}
}

// Concat16 returns the IE of a part of a concatenated message with a 16-bit
// reference (IEI 08, TS 23.040 §9.2.3.24.8).
func Concat16(ref uint16, total, seq byte) IE {
	return IE{ID: IEIConcat16, Data: []byte{byte(ref >> 8), byte(ref), total, seq}}
}

// Port16 returns the application port addressing IE with 16-bit ports
// (IEI 05, TS 23.040 §9.2.3.24.4).
func Port16(dst, src uint16) IE {
	return IE{ID: IEIPort16, Data: []byte{byte(dst >> 8), byte(dst), byte(src >> 8), byte(src)}}
}

// ConcatInfo returns the reference, the number of parts and this part's
// number (from 1) of a concatenation IE (00 or 08), with ok false for any
// other IE or a malformed one.
func (ie IE) ConcatInfo() (ref uint16, total, seq byte, ok bool) {
	switch {
	case ie.ID == IEIConcat8 && len(ie.Data) == 3:
		return uint16(ie.Data[0]), ie.Data[1], ie.Data[2], true
	case ie.ID == IEIConcat16 && len(ie.Data) == 4:
		return uint16(ie.Data[0])<<8 | uint16(ie.Data[1]), ie.Data[2], ie.Data[3], true
	}
	return 0, 0, 0, false
}

// Describe returns a readable rendering of the IE's data where the IE has a
// known structure (concatenation, ports, security headers).
func (ie IE) Describe() string {
	if ref, total, seq, ok := ie.ConcatInfo(); ok {
		return fmt.Sprintf("reference %d, part %d of %d", ref, seq, total)
	}
	switch {
	case ie.ID == IEIPort8 && len(ie.Data) == 2:
		return fmt.Sprintf("destination port %d, originator port %d", ie.Data[0], ie.Data[1])
	case ie.ID == IEIPort16 && len(ie.Data) == 4:
		return fmt.Sprintf("destination port %d, originator port %d", uint16(ie.Data[0])<<8|uint16(ie.Data[1]), uint16(ie.Data[2])<<8|uint16(ie.Data[3]))
	case (ie.ID == IEICommandPacket || ie.ID == IEIResponsePacket) && len(ie.Data) == 0:
		return "secured packet follows in the user data (TS 31.115)"
	}
	return ""
}

// HeaderLen returns the encoded size of a header with the given elements,
// including the UDHL octet, or 0 for no elements.
func HeaderLen(ies []IE) int {
	n := 0
	for _, ie := range ies {
		n += 2 + len(ie.Data)
	}
	return n + 1
}

// AppendHeader appends a user data header: UDHL then each IE (TS 23.040
// §9.2.3.24).
func AppendHeader(dst []byte, ies []IE) ([]byte, error) {
	n := HeaderLen(ies) - 1
	if n > maxUserDataOctets-1 {
		return dst, fmt.Errorf("tpdu: %w: user data header of %d octets", ErrLength, n)
	}
	dst = append(dst, byte(n))
	for _, ie := range ies {
		if len(ie.Data) > 255 {
			return dst, fmt.Errorf("tpdu: %w: IE %02X of %d octets", ErrLength, ie.ID, len(ie.Data))
		}
		dst = append(dst, ie.ID, byte(len(ie.Data)))
		dst = append(dst, ie.Data...)
	}
	return dst, nil
}

// ParseHeader parses a user data header at the start of ud (UDHL then IEs)
// and returns its elements and its size including UDHL. IE data aliases ud.
func ParseHeader(ud []byte) ([]IE, int, error) {
	return parseHeader(make([]IE, 0, 2), ud, 0)
}

// AppendHeaderIEs is ParseHeader appending the elements to dst, so that a
// caller on a hot path can parse into a buffer of its own.
func AppendHeaderIEs(dst []IE, ud []byte) ([]IE, int, error) {
	return parseHeader(dst, ud, 0)
}

func parseHeader(ies []IE, ud []byte, base int) ([]IE, int, error) {
	if len(ud) == 0 {
		return nil, 0, errAt(base, "TP-UDHL", ErrTruncated, "a user data header length")
	}
	n := int(ud[0])
	if n+1 > len(ud) {
		return nil, 0, errAt(base, "TP-UDHL", ErrLength, "a header of %d octets within %d octets of user data", n, len(ud)-1)
	}
	h := ud[1 : 1+n]
	for i := 0; i < len(h); {
		if len(h)-i < 2 {
			return nil, 0, errAt(base+1+i, "TP-UDH", ErrTruncated, "an IEI and its length inside the header")
		}
		id, l := h[i], int(h[i+1])
		if len(h)-i-2 < l {
			return nil, 0, errAt(base+2+i, "TP-UDH", ErrLength, "IE %02X of %d octets within the %d header octets left", id, l, len(h)-i-2)
		}
		ies = append(ies, IE{ID: id, Data: h[i+2 : i+2+l : i+2+l]})
		i += 2 + l
	}
	return ies, n + 1, nil
}
