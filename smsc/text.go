package smsc

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/warthog618/sms/encoding/gsm7"
	"golang.org/x/text/encoding/charmap"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// The gsm7 package builds its character tables lazily without a lock:
// building the decoder during package initialisation fills them before any
// goroutine can race on them. It is used instead of tpdu.DecodeGSM7 because
// DecodeText is lenient: it also decodes octets with bit 8 set.
var gsmDecoder = gsm7.NewDecoder()

// Alphabet is how a message body is coded.
type Alphabet uint8

// Alphabets.
const (
	AlphabetGSM7     Alphabet = iota // GSM 7-bit default alphabet with extension table, TS 23.038 §6.2.1
	AlphabetBinary                   // 8-bit data
	AlphabetUCS2                     // UCS2 / UTF-16BE, TS 23.038 §6.2.3
	AlphabetLatin1                   // ISO-8859-1, SMPP data_coding 3
	AlphabetASCII                    // IA5, SMPP data_coding 1
	AlphabetCyrillic                 // ISO-8859-5, SMPP data_coding 6
	AlphabetHebrew                   // ISO-8859-8, SMPP data_coding 7
)

// String names the alphabet.
func (a Alphabet) String() string {
	return [...]string{"gsm7", "binary", "ucs2", "latin1", "ascii", "cyrillic", "hebrew"}[a]
}

// AlphabetOf maps an SMPP data_coding (SMPP 3.4 §5.2.19) to the alphabet of
// the body. Values 0x00-0x0F follow the SMPP table; 0x10 and above are TS
// 23.038 §4 coding groups (general data coding 00xx, message waiting
// 1100-1110, data coding/message class 1111).
func AlphabetOf(dcs uint8) Alphabet {
	if dcs < 0x10 {
		switch dcs {
		case 0x00:
			return AlphabetGSM7
		case 0x01:
			return AlphabetASCII
		case 0x03:
			return AlphabetLatin1
		case 0x06:
			return AlphabetCyrillic
		case 0x07:
			return AlphabetHebrew
		case 0x08:
			return AlphabetUCS2
		}
		return AlphabetBinary
	}
	switch dcs >> 4 {
	case 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7: // general data coding, TS 23.038 §4
		switch (dcs >> 2) & 3 {
		case 0:
			return AlphabetGSM7
		case 2:
			return AlphabetUCS2
		}
		return AlphabetBinary
	case 0xC, 0xD:
		return AlphabetGSM7
	case 0xE:
		return AlphabetUCS2
	case 0xF:
		if dcs&0x04 != 0 {
			return AlphabetBinary
		}
		return AlphabetGSM7
	}
	return AlphabetBinary
}

// MessageClass returns the TS 23.038 message class (0-3) of dcs, or -1 when
// it has none. data_coding values below 0x10 are SMPP's own (SMPP v3.4
// §5.2.19) and carry no class; from 0x10 on they are TS 23.038 DCS octets,
// read by tpdu.DCS.Class (the general and automatic-deletion groups, and
// group F).
func MessageClass(dcs uint8) int {
	if dcs < 0x10 {
		return -1
	}
	if c, ok := tpdu.DCS(dcs).Class(); ok {
		return c
	}
	return -1
}

// DecodeText decodes body for data_coding dcs. Binary codings return "" and
// false; undecodable input is decoded leniently (invalid septets become a
// space, invalid UTF-16 the replacement character).
func DecodeText(dcs uint8, body []byte) (string, bool) {
	switch AlphabetOf(dcs) {
	case AlphabetGSM7:
		// tpdu's strict decoder (with its table-free path for texts whose
		// codes equal ASCII) decodes every body of septets; bytes with bit 8
		// set, which SMPP peers do send, fall back to the lenient tables.
		if s, err := tpdu.DecodeGSM7(body); err == nil {
			return s, true
		}
		b, err := gsmDecoder.Decode(body)
		if err != nil {
			return "", false
		}
		return string(b), true
	case AlphabetASCII:
		// IA5 is 7-bit; peers do send UTF-8 under DCS 1, which is kept.
		// Octets that are neither become U+FFFD.
		return strings.ToValidUTF8(string(body), "\uFFFD"), true
	case AlphabetLatin1:
		r := make([]rune, len(body))
		for i, c := range body {
			r[i] = rune(c)
		}
		return string(r), true
	case AlphabetCyrillic:
		b, _ := charmap.ISO8859_5.NewDecoder().Bytes(body)
		return string(b), true
	case AlphabetHebrew:
		b, _ := charmap.ISO8859_8.NewDecoder().Bytes(body)
		return string(b), true
	case AlphabetUCS2:
		u := make([]uint16, len(body)/2)
		for i := range u {
			u[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}

// EncodeText encodes text in the GSM 7-bit alphabet (DCS 0, one septet per
// octet as SMPP carries it) when every character has a GSM 7-bit form
// (extension table included), else in UCS2 (DCS 8): tpdu.EncodeText (3GPP
// TS 23.038 §6.2.1, §6.2.3) with the DCS as an SMPP data_coding.
func EncodeText(text string) (dcs uint8, body []byte) {
	d, b := tpdu.EncodeText(text)
	return uint8(d), b
}

// IsSIMDownload reports whether a message is a class-2 SIM data download
// that the handset must pass to the SIM as ENVELOPE(SMS-PP download): PID
// 0x7F "(U)SIM data download" (TS 23.040 §9.2.3.9), or a class-2 8-bit DCS
// (0xF6, 0x16) together with a UDH command-packet IEI 0x70 (TS 31.115 §4).
func IsSIMDownload(pid, dcs uint8, udh []byte) bool {
	if pid == 0x7F {
		return true
	}
	return MessageClass(dcs) == 2 && AlphabetOf(dcs) == AlphabetBinary && hasIEI(udh, 0x70)
}

// hasIEI reports whether the UDH (with its UDHL octet) holds element iei.
func hasIEI(udh []byte, iei byte) bool {
	if len(udh) < 1 {
		return false
	}
	end := 1 + int(udh[0])
	if end > len(udh) {
		end = len(udh)
	}
	for i := 1; i+1 < end; {
		if udh[i] == iei {
			return true
		}
		i += 2 + int(udh[i+1])
	}
	return false
}

// ConcatFromUDH extracts the concatenation element (IEI 0x00 8-bit or 0x08
// 16-bit reference, TS 23.040 §9.2.3.24.1/.8) of a UDH with its UDHL octet.
func ConcatFromUDH(udh []byte) (Concat, bool) {
	if len(udh) < 1 {
		return Concat{}, false
	}
	end := 1 + int(udh[0])
	if end > len(udh) {
		return Concat{}, false
	}
	for i := 1; i+1 < end; {
		iei, l := udh[i], int(udh[i+1])
		v := udh[i+2:]
		if i+2+l > end {
			return Concat{}, false
		}
		switch {
		case iei == 0x00 && l == 3:
			return Concat{Ref: uint16(v[0]), Total: v[1], Seq: v[2]}, v[1] > 0 && v[2] > 0 && v[2] <= v[1]
		case iei == 0x08 && l == 4:
			return Concat{Ref: uint16(v[0])<<8 | uint16(v[1]), Total: v[2], Seq: v[3], Wide: true}, v[2] > 0 && v[3] > 0 && v[3] <= v[2]
		}
		i += 2 + l
	}
	return Concat{}, false
}

// smsDeliverDCS returns the TP-DCS to send on the air for an SMPP
// data_coding: SMPP-only codings (IA5, Latin-1) are transcoded, in which case
// body is returned re-encoded.
func smsDeliverDCS(dcs uint8, body []byte) (uint8, []byte) {
	switch {
	case dcs == 0x01 || dcs == 0x03 || dcs == 0x06 || dcs == 0x07:
		t, _ := DecodeText(dcs, body)
		return EncodeText(t)
	case dcs == 0x02 || dcs == 0x04:
		return 0x04, body
	case dcs < 0x10 && dcs != 0x00 && dcs != 0x08:
		return 0x04, body
	}
	return dcs, body
}

// DeliverTPDU builds the SMS-DELIVER TPDUs (TS 23.040 §9.2.2.1) that carry
// m to a handset, timestamped scts. A body longer than one SMS is split by
// tpdu.Split into concatenated parts with an 8-bit reference taken from the
// message id's low octet; a UDH already present is kept in every part,
// except the command packet identifier (IEI 0x70), which only the first
// segment of a concatenated packet carries (TS 31.115 §4.1).
func DeliverTPDU(m *Message, scts time.Time) ([][]byte, error) {
	dcs, body := smsDeliverDCS(m.DCS, m.Body)
	oa, err := tpAddress(m.Source)
	if err != nil {
		return nil, err
	}
	var ies []tpdu.IE
	if len(m.UDH) > 0 {
		if ies, _, err = tpdu.ParseHeader(m.UDH); err != nil {
			return nil, fmt.Errorf("smsc: user data header: %w", err)
		}
	}
	ref := byte(0)
	if n := len(m.ID); n > 0 {
		ref = m.ID[n-1] ^ byte(n)
	}
	parts, err := tpdu.Split(tpdu.DCS(dcs), body, ies, uint16(ref), false)
	if err != nil {
		return nil, fmt.Errorf("smsc: %w", err)
	}
	out := make([][]byte, len(parts))
	for i, ud := range parts {
		if i > 0 {
			ud.Header = slices.DeleteFunc(ud.Header, func(ie tpdu.IE) bool { return ie.ID == tpdu.IEICommandPacket })
		}
		d := tpdu.Deliver{StatusReportIndication: m.RegisteredDelivery&0x03 != 0,
			OA: oa, PID: m.PID, DCS: tpdu.DCS(dcs), SCTS: scts, UD: ud}
		if out[i], err = d.AppendBinary(nil); err != nil {
			return nil, fmt.Errorf("smsc: SMS-DELIVER: %w", err)
		}
	}
	return out, nil
}

// tpAddress is a's TP-OA (TS 23.040 §9.1.2.5): its TON and NPI, except
// that digits with a leading '+' are international ISDN (type of address
// 0x91) whatever they say; alphanumeric (TON 5) is packed GSM 7-bit. The
// address is checked by encoding it once.
func tpAddress(a Address) (tpdu.Address, error) {
	oa := tpdu.Address{TON: tpdu.TypeOfNumber(a.TON & 7), NPI: tpdu.NumberingPlan(a.NPI & 0x0F), Number: a.Addr}
	if a.TON != 5 && strings.HasPrefix(a.Addr, "+") {
		oa = tpdu.InternationalAddress(a.Addr)
	}
	if _, err := tpdu.AppendAddress(nil, oa); err != nil {
		return tpdu.Address{}, fmt.Errorf("smsc: originator %q: %w", a.Addr, err)
	}
	return oa, nil
}
