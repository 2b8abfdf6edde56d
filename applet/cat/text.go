package cat

import (
	"fmt"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Data coding schemes of a text string (ETSI TS 102 223 §8.15, coded per
// 3GPP TS 23.038 §4).
const (
	DCSPacked tpdu.DCS = 0x00 // GSM 7-bit default alphabet, packed
	DCSGSM8   tpdu.DCS = 0x04 // GSM default alphabet, 8 bits per character (unpacked)
	DCSUCS2   tpdu.DCS = 0x08 // UCS2
)

// TextString is the text string object (ETSI TS 102 223 §8.15): a data
// coding scheme and the coded text. Null is the null text string (an empty
// object: no DCS, no text). Data aliases the parsed message.
type TextString struct {
	Null bool
	DCS  tpdu.DCS
	Data []byte
}

// Text returns s coded in the GSM default alphabet, unpacked (DCS 04),
// when every character is in it or its extension table, in UCS2 (DCS 08)
// otherwise.
func Text(s string) TextString {
	if septets, err := tpdu.EncodeGSM7(s); err == nil {
		return TextString{DCS: DCSGSM8, Data: septets}
	}
	return TextString{DCS: DCSUCS2, Data: tpdu.EncodeUCS2(s)}
}

// TextIn returns s coded with the given scheme: 00 packed GSM 7-bit, 04
// unpacked GSM, 08 UCS2 (the alphabet bits of any TS 23.038 DCS are
// honoured). It fails when s has a character the GSM alphabet lacks.
func TextIn(s string, dcs tpdu.DCS) (TextString, error) {
	switch dcs.Alphabet() {
	case tpdu.AlphabetUCS2:
		return TextString{DCS: dcs, Data: tpdu.EncodeUCS2(s)}, nil
	case tpdu.AlphabetGSM7:
		septets, err := tpdu.EncodeGSM7(s)
		if err != nil {
			return TextString{}, fmt.Errorf("%w: %v", ErrText, err)
		}
		return TextString{DCS: dcs, Data: tpdu.Pack7(septets, 0)}, nil
	default:
		septets, err := tpdu.EncodeGSM7(s)
		if err != nil {
			return TextString{}, fmt.Errorf("%w: %v", ErrText, err)
		}
		return TextString{DCS: dcs, Data: septets}, nil
	}
}

// String decodes the text (TS 102 223 §8.15): packed GSM 7-bit for an
// alphabet of 7 bits (a last zero septet that only fills spare bits is
// dropped), GSM default alphabet one character per byte for 8-bit, UCS2.
// The null text string decodes to "".
func (t TextString) String() (string, error) {
	if t.Null {
		return "", nil
	}
	var s string
	var err error
	switch t.DCS.Alphabet() {
	case tpdu.AlphabetUCS2:
		s, err = tpdu.DecodeUCS2(t.Data)
	case tpdu.AlphabetGSM7:
		septets, uerr := tpdu.Unpack7(t.Data, 0, tpdu.UnpackedSeptetCount(t.Data))
		if uerr != nil {
			return "", fmt.Errorf("%w: %v", ErrText, uerr)
		}
		s, err = tpdu.DecodeGSM7(septets)
	default:
		s, err = tpdu.DecodeGSM7(t.Data)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrText, err)
	}
	return s, nil
}

func (t TextString) appendValue(dst []byte) []byte {
	if t.Null {
		return dst
	}
	dst = append(dst, byte(t.DCS))
	return append(dst, t.Data...)
}

func parseTextString(v []byte) TextString {
	if len(v) == 0 {
		return TextString{Null: true}
	}
	return TextString{DCS: tpdu.DCS(v[0]), Data: v[1:len(v):len(v)]}
}

// AlphaID is the alpha identifier object (ETSI TS 102 223 §8.2), coded as
// in ETSI TS 102 221 annex A: the GSM default alphabet unpacked (bit 8
// clear), or UCS2 in one of the forms 80, 81, 82. Item texts use the same
// coding. An empty Data is the null alpha identifier.
type AlphaID []byte

// Alpha returns s as an alpha identifier: the GSM default alphabet when it
// can hold s, else UCS2 in the 80 form.
func Alpha(s string) AlphaID {
	if septets, err := tpdu.EncodeGSM7(s); err == nil {
		return septets
	}
	return append(AlphaID{0x80}, tpdu.EncodeUCS2(s)...)
}

// String decodes the alpha identifier (ETSI TS 102 221 annex A). Trailing
// FF padding is ignored.
func (a AlphaID) String() (string, error) {
	if len(a) == 0 {
		return "", nil
	}
	switch a[0] {
	case 0x80:
		b := a[1:]
		for len(b) >= 2 && b[len(b)-1] == 0xFF && b[len(b)-2] == 0xFF {
			b = b[:len(b)-2]
		}
		if len(b)%2 == 1 && b[len(b)-1] == 0xFF {
			b = b[:len(b)-1]
		}
		s, err := tpdu.DecodeUCS2(b)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrText, err)
		}
		return s, nil
	case 0x81, 0x82:
		hdr := 3
		if a[0] == 0x82 {
			hdr = 4
		}
		if len(a) < hdr {
			return "", fmt.Errorf("%w: UCS2 form %02X needs %d header bytes, got %d", ErrText, a[0], hdr, len(a))
		}
		n := int(a[1])
		var base rune
		if a[0] == 0x81 {
			base = rune(a[2]) << 7
		} else {
			base = rune(a[2])<<8 | rune(a[3])
		}
		body := a[hdr:]
		if len(body) < n {
			return "", fmt.Errorf("%w: UCS2 form %02X announces %d characters, has %d bytes", ErrText, a[0], n, len(body))
		}
		out := make([]rune, 0, n)
		for i := 0; i < n; i++ {
			c := body[i]
			if c&0x80 != 0 {
				out = append(out, base+rune(c&0x7F))
				continue
			}
			s, err := tpdu.DecodeGSM7([]byte{c})
			if err != nil {
				return "", fmt.Errorf("%w: %v", ErrText, err)
			}
			out = append(out, []rune(s)...)
		}
		return string(out), nil
	}
	b := []byte(a)
	for len(b) > 0 && b[len(b)-1] == 0xFF {
		b = b[:len(b)-1]
	}
	s, err := tpdu.DecodeGSM7(b)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrText, err)
	}
	return s, nil
}
