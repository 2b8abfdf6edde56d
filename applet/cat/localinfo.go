package cat

import (
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Objects a terminal returns in the TERMINAL RESPONSE to PROVIDE LOCAL
// INFORMATION (3GPP TS 31.111 §6.4.15, ETSI TS 102 223 §6.4.15). They go in
// TerminalResponse.Extra; Explain decodes them.

// LocationInfo is the location information object (3GPP TS 31.111 §8.19):
// the PLMN (MCC, MNC as in TS 24.008 §10.5.1.3), the location area code and
// the cell identity (2 bytes for GERAN, 4 with the extended cell ID for
// UTRAN).
type LocationInfo struct {
	MCC, MNC string // 3 digits; 2 or 3 digits
	LAC      uint16
	CellID   []byte
}

// Object returns the location information object.
func (l LocationInfo) Object() (tlv.CTLV, error) {
	if len(l.MCC) != 3 || (len(l.MNC) != 2 && len(l.MNC) != 3) {
		return tlv.CTLV{}, fmt.Errorf("%w: location information: MCC needs 3 digits and MNC 2 or 3, got %q/%q", ErrObject, l.MCC, l.MNC)
	}
	d := func(s string, i int) (byte, error) {
		if i >= len(s) {
			return 0x0F, nil
		}
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: location information: %q is not a digit", ErrObject, s[i])
		}
		return s[i] - '0', nil
	}
	var ds [6]byte
	var err error
	for i, src := range [6]struct {
		s string
		i int
	}{{l.MCC, 0}, {l.MCC, 1}, {l.MCC, 2}, {l.MNC, 0}, {l.MNC, 1}, {l.MNC, 2}} {
		if ds[i], err = d(src.s, src.i); err != nil {
			return tlv.CTLV{}, err
		}
	}
	v := []byte{ds[1]<<4 | ds[0], ds[5]<<4 | ds[2], ds[4]<<4 | ds[3], byte(l.LAC >> 8), byte(l.LAC)}
	v = append(v, l.CellID...)
	return tlv.CTLV{Tag: TagLocationInfo, CR: true, Value: v}, nil
}

// ParseLocationInfo decodes a location information object's value.
func ParseLocationInfo(v []byte) (LocationInfo, error) {
	if len(v) < 5 {
		return LocationInfo{}, fmt.Errorf("%w: location information: expected at least 5 bytes, got %d", ErrObject, len(v))
	}
	digit := func(n byte) (byte, bool) { return '0' + n, n <= 9 }
	var out [6]byte
	oks := true
	for i, n := range [6]byte{v[0] & 0x0F, v[0] >> 4, v[1] & 0x0F, v[2] & 0x0F, v[2] >> 4, v[1] >> 4} {
		c, ok := digit(n)
		out[i] = c
		if !ok && !(i == 5 && n == 0x0F) {
			oks = false
		}
	}
	if !oks {
		return LocationInfo{}, fmt.Errorf("%w: location information: MCC/MNC %X is not BCD", ErrObject, v[:3])
	}
	l := LocationInfo{MCC: string(out[:3]), MNC: string(out[3:5]), LAC: uint16(v[3])<<8 | uint16(v[4]), CellID: v[5:len(v):len(v)]}
	if v[1]>>4 != 0x0F {
		l.MNC += string(out[5])
	}
	return l, nil
}

// IMEIObject returns the IMEI object (3GPP TS 31.111 §8.20) for a 15-digit
// IMEI (or 14 digits, the check digit then sent as 0), coded as the mobile
// identity of TS 24.008 §10.5.1.4 (type IMEI, odd).
func IMEIObject(imei string) (tlv.CTLV, error) {
	if len(imei) == 14 {
		imei += "0"
	}
	if len(imei) != 15 {
		return tlv.CTLV{}, fmt.Errorf("%w: IMEI needs 15 digits, got %d", ErrObject, len(imei))
	}
	v := make([]byte, 8)
	for i := range 15 {
		c := imei[i]
		if c < '0' || c > '9' {
			return tlv.CTLV{}, fmt.Errorf("%w: IMEI digit %q", ErrObject, c)
		}
		n := (i + 1) / 2
		if (i+1)%2 == 0 {
			v[n] |= c - '0'
		} else {
			v[n] |= (c - '0') << 4
		}
	}
	v[0] |= 0x0A
	return tlv.CTLV{Tag: TagIMEI, CR: true, Value: v}, nil
}

// DateTimeObject returns the date-time and time zone object (ETSI TS 102
// 223 §8.39), coded like an SMS time stamp.
func DateTimeObject(t time.Time) (tlv.CTLV, error) {
	v, err := tpdu.AppendTimestamp(nil, t)
	if err != nil {
		return tlv.CTLV{}, fmt.Errorf("%w: date-time: %v", ErrObject, err)
	}
	return tlv.CTLV{Tag: TagDateTimeZone, CR: true, Value: v}, nil
}

// LanguageObject returns the language object (ETSI TS 102 223 §8.45): an
// ISO 639 two-letter code in the GSM default alphabet.
func LanguageObject(code string) (tlv.CTLV, error) {
	if len(code) != 2 {
		return tlv.CTLV{}, fmt.Errorf("%w: language: expected 2 letters, got %q", ErrObject, code)
	}
	return tlv.CTLV{Tag: TagLanguage, CR: true, Value: []byte(code)}, nil
}
