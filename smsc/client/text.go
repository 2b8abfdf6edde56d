package client

import (
	"fmt"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Data coding schemes (SMPP v3.4 §5.2.19) chosen by SplitText.
const (
	DCSDefault byte = 0x00 // SMSC default alphabet: GSM 7-bit, one septet per octet
	DCSBinary  byte = 0x04 // 8-bit binary
	DCSUCS2    byte = 0x08 // UCS2 (UTF-16BE)
	ESMUDHI    byte = 0x40 // esm_class: short_message starts with a UDH (§5.2.12)
)

// Part is one segment of a message ready for submit_sm: data_coding,
// esm_class (UDHI when concatenated) and the short_message bytes.
type Part struct {
	DataCoding   byte
	ESMClass     byte
	ShortMessage []byte
}

// SplitText encodes text for SMS: GSM 7-bit default alphabet with its
// extension table (TS 23.038 §6.2.1), one septet per octet as SMPP carries
// it, when every character has a GSM code; UCS2 otherwise. A text longer
// than one SMS (160 septets, 70 UCS2 characters) is split into parts of
// 153 septets or 67 characters, each with a concatenation UDH (TS 23.040
// §9.2.3.24.1, IEI 00, 8-bit reference ref); an escape sequence or a UTF-16
// surrogate pair is never cut (tpdu.SplitText). More than 255 parts is an
// error.
func SplitText(text string, ref byte) ([]Part, error) {
	dcs, uds, err := tpdu.SplitText(text, ref)
	if err != nil {
		return nil, fmt.Errorf("smpp client: %w", err)
	}
	coding := DCSDefault
	if dcs != tpdu.DCSGSM7 {
		coding = DCSUCS2
	}
	return parts(uds, coding)
}

// SplitBinary splits 8-bit data into parts of at most 140 octets; longer
// data gets 134-octet parts with a concatenation UDH (TS 23.040
// §9.2.3.24.1). dcs is the data_coding to send (0x04, or 0xF6/0x16 for a
// SIM data download). More than 255 parts is an error.
func SplitBinary(data []byte, dcs, ref byte) ([]Part, error) {
	uds, err := tpdu.Split(tpdu.DCS8Bit, data, nil, uint16(ref), false)
	if err != nil {
		return nil, fmt.Errorf("smpp client: %w", err)
	}
	return parts(uds, dcs)
}

// parts turns TPDU user data into short_message parts with data_coding
// dcs: the UDH (with its length octet) first and UDHI set when there is
// one.
func parts(uds []tpdu.UserData, dcs byte) ([]Part, error) {
	out := make([]Part, len(uds))
	for i, ud := range uds {
		out[i] = Part{DataCoding: dcs, ShortMessage: ud.Data}
		if len(ud.Header) == 0 {
			continue
		}
		sm, err := tpdu.AppendHeader(nil, ud.Header)
		if err != nil {
			return nil, fmt.Errorf("smpp client: %w", err)
		}
		out[i].ESMClass, out[i].ShortMessage = ESMUDHI, append(sm, ud.Data...)
	}
	return out, nil
}

// WithUDH prefixes a user data header (its length octet included) to ud and
// sets UDHI. It checks that the UDH's length octet matches.
func WithUDH(udh, ud []byte, dcs byte) (Part, error) {
	if len(udh) == 0 {
		return Part{DataCoding: dcs, ShortMessage: ud}, nil
	}
	if int(udh[0]) != len(udh)-1 {
		return Part{}, fmt.Errorf("smpp client: UDH length octet says %d but %d octets follow", udh[0], len(udh)-1)
	}
	sm := append(append([]byte(nil), udh...), ud...)
	return Part{DataCoding: dcs, ESMClass: ESMUDHI, ShortMessage: sm}, nil
}
