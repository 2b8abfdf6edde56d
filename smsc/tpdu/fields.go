package tpdu

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors, wrapped by the errors this package returns.
var (
	// ErrTruncated means the TPDU ended before a field it must hold.
	ErrTruncated = errors.New("truncated")
	// ErrLength means a length field is out of range or disagrees with the
	// bytes present.
	ErrLength = errors.New("bad length")
	// ErrField means a field holds a value the specification does not allow.
	ErrField = errors.New("bad field")
	// ErrAlphabet means text cannot be represented in, or decoded from, the
	// alphabet the data coding scheme names.
	ErrAlphabet = errors.New("bad text")
)

// DecodeError says where decoding a TPDU failed (offset in the TPDU) and
// what was expected there.
type DecodeError struct {
	Offset int    // offset of the offending byte
	Field  string // TS 23.040 field name, e.g. "TP-OA"
	Msg    string // what was expected
	Err    error  // ErrTruncated, ErrLength, ErrField or ErrAlphabet
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("tpdu: %s at offset %d: %v: %s", e.Field, e.Offset, e.Err, e.Msg)
}

// Unwrap returns the sentinel error.
func (e *DecodeError) Unwrap() error { return e.Err }

func errAt(off int, field string, err error, format string, args ...any) error {
	return &DecodeError{Offset: off, Field: field, Msg: fmt.Sprintf(format, args...), Err: err}
}

// Alphabet is the character set a data coding scheme selects (3GPP TS 23.038
// §4).
type Alphabet int

// Alphabets of 3GPP TS 23.038 §4.
const (
	AlphabetGSM7 Alphabet = iota // GSM 7-bit default alphabet, packed (§6.2.1)
	Alphabet8Bit                 // 8-bit data
	AlphabetUCS2                 // UCS2, 16 bits per character (§6.2.3)
)

// String returns the alphabet's name.
func (a Alphabet) String() string {
	switch a {
	case AlphabetGSM7:
		return "GSM 7-bit default alphabet"
	case Alphabet8Bit:
		return "8-bit data"
	case AlphabetUCS2:
		return "UCS2"
	}
	return fmt.Sprintf("alphabet %d", int(a))
}

// DCS is the TP-Data-Coding-Scheme octet (3GPP TS 23.040 §9.2.3.10, coded
// per TS 23.038 §4). F6 is 8-bit data, message class 2 ((U)SIM specific),
// the coding of a (U)SIM data download.
type DCS byte

// Common data coding schemes.
const (
	DCSGSM7            DCS = 0x00 // GSM 7-bit default alphabet, no class
	DCS8Bit            DCS = 0x04 // 8-bit data, no class
	DCSUCS2            DCS = 0x08 // UCS2, no class
	DCSClass0GSM7      DCS = 0xF0 // GSM 7-bit, class 0 (flash SMS)
	DCS8BitClass2      DCS = 0xF6 // 8-bit data, class 2: (U)SIM data download (TS 31.111 §7.1.1)
	DCS8BitClass1      DCS = 0xF5 // 8-bit data, class 1 (ME specific)
	DCSGSM7Class2      DCS = 0xF2 // GSM 7-bit, class 2
	DCSUCS2Class2      DCS = 0x1A // UCS2, class 2 (general coding group with class)
	DCSClass0UCS2      DCS = 0x18 // UCS2, class 0
	DCS8BitClass0      DCS = 0xF4 // 8-bit data, class 0
	DCSGSM7Class1      DCS = 0xF1 // GSM 7-bit, class 1
	DCS8BitClass3      DCS = 0xF7 // 8-bit data, class 3 (TE specific)
	dcsGroupGeneral        = 0x00
	dcsGroupAutoDelete     = 0x40
	dcsGroupMWIDiscard     = 0xC0
	dcsGroupMWIStore       = 0xD0
	dcsGroupMWIStoreUC     = 0xE0
	dcsGroupDataCoding     = 0xF0
)

// Alphabet returns the alphabet d selects. Reserved codings are treated as
// the GSM 7-bit default alphabet, as TS 23.038 §4 asks of a receiver.
func (d DCS) Alphabet() Alphabet {
	switch {
	case d&0x80 == 0: // general data coding or automatic deletion group
		switch (d >> 2) & 3 {
		case 1:
			return Alphabet8Bit
		case 2:
			return AlphabetUCS2
		}
		return AlphabetGSM7
	case d&0xF0 == dcsGroupMWIStoreUC:
		return AlphabetUCS2
	case d&0xF0 == dcsGroupDataCoding:
		if d&0x04 != 0 {
			return Alphabet8Bit
		}
	}
	return AlphabetGSM7
}

// Compressed reports whether the user data is compressed (TS 23.038 §4,
// bit 6 of the general data coding groups; TS 23.042).
func (d DCS) Compressed() bool { return d&0x80 == 0 && d&0x20 != 0 }

// Class returns the message class (0..3) and whether d carries one
// (TS 23.038 §4): 0 flash, 1 ME specific, 2 (U)SIM specific, 3 TE specific.
func (d DCS) Class() (int, bool) {
	switch {
	case d&0x80 == 0:
		return int(d & 3), d&0x10 != 0
	case d&0xF0 == dcsGroupDataCoding:
		return int(d & 3), true
	}
	return 0, false
}

// Septets reports whether TP-UDL counts septets (uncompressed GSM 7-bit)
// rather than octets (TS 23.040 §9.2.3.16).
func (d DCS) Septets() bool { return d.Alphabet() == AlphabetGSM7 && !d.Compressed() }

var classNames = [4]string{"class 0 (flash, immediate display)", "class 1 (ME specific)", "class 2 ((U)SIM specific)", "class 3 (TE specific)"}

// String describes d in TS 23.038 terms, e.g. "8-bit data, class 2 ((U)SIM
// specific)".
func (d DCS) String() string {
	var parts []string
	switch {
	case d&0xC0 == dcsGroupGeneral:
	case d&0xC0 == dcsGroupAutoDelete:
		parts = append(parts, "marked for automatic deletion")
	case d&0xF0 == dcsGroupMWIDiscard:
		parts = append(parts, "message waiting indication, discard message")
	case d&0xF0 == dcsGroupMWIStore, d&0xF0 == dcsGroupMWIStoreUC:
		parts = append(parts, "message waiting indication, store message")
	case d&0xF0 == dcsGroupDataCoding:
	default:
		parts = append(parts, "reserved coding group")
	}
	if d&0x80 == 0 && (d>>2)&3 == 3 {
		parts = append(parts, "reserved alphabet (read as GSM 7-bit)")
	} else {
		parts = append(parts, d.Alphabet().String())
	}
	if d.Compressed() {
		parts = append(parts, "compressed")
	}
	if c, ok := d.Class(); ok {
		parts = append(parts, classNames[c])
	}
	if d&0xE0 == dcsGroupMWIDiscard || d&0xF0 == dcsGroupMWIStoreUC {
		kind := [4]string{"voicemail", "fax", "e-mail", "other"}[d&3]
		state := "inactive"
		if d&0x08 != 0 {
			state = "active"
		}
		parts = append(parts, kind+" indication "+state)
	}
	return strings.Join(parts, ", ")
}

// TypeOfNumber is the TON of an address (3GPP TS 23.040 §9.1.2.5).
type TypeOfNumber byte

// Types of number (TS 23.040 §9.1.2.5).
const (
	TONUnknown         TypeOfNumber = 0
	TONInternational   TypeOfNumber = 1
	TONNational        TypeOfNumber = 2
	TONNetworkSpecific TypeOfNumber = 3
	TONSubscriber      TypeOfNumber = 4
	TONAlphanumeric    TypeOfNumber = 5 // GSM 7-bit text, packed (TS 23.038)
	TONAbbreviated     TypeOfNumber = 6
)

var tonNames = [8]string{"unknown", "international", "national", "network specific", "subscriber number", "alphanumeric", "abbreviated", "reserved"}

// String returns the TS 23.040 name.
func (t TypeOfNumber) String() string { return tonNames[t&7] }

// NumberingPlan is the NPI of an address (3GPP TS 23.040 §9.1.2.5).
type NumberingPlan byte

// Numbering plans (TS 23.040 §9.1.2.5).
const (
	NPIUnknown  NumberingPlan = 0
	NPIISDN     NumberingPlan = 1 // E.164/E.163
	NPIData     NumberingPlan = 3 // X.121
	NPITelex    NumberingPlan = 4
	NPINational NumberingPlan = 8
	NPIPrivate  NumberingPlan = 9
	NPIERMES    NumberingPlan = 10
)

// String returns the TS 23.040 name.
func (n NumberingPlan) String() string {
	switch n & 0x0F {
	case 0:
		return "unknown"
	case 1:
		return "ISDN/telephone (E.164)"
	case 3:
		return "data (X.121)"
	case 4:
		return "telex"
	case 5, 6:
		return "service centre specific"
	case 8:
		return "national"
	case 9:
		return "private"
	case 10:
		return "ERMES"
	}
	return "reserved"
}

// Address is a TP address: TP-OA, TP-DA, TP-RA (3GPP TS 23.040 §9.1.2.5).
// Number holds the digits (0-9, '*', '#', 'a', 'b', 'c' for the semi-octets
// A..E, §9.1.2.3) or, for TON alphanumeric, the text.
type Address struct {
	TON    TypeOfNumber
	NPI    NumberingPlan
	Number string
}

// InternationalAddress returns an E.164 international address for digits
// (a leading '+' is dropped).
func InternationalAddress(digits string) Address {
	return Address{TON: TONInternational, NPI: NPIISDN, Number: strings.TrimPrefix(digits, "+")}
}

// String returns the number, with '+' for international numbers.
func (a Address) String() string {
	if a.TON == TONInternational && a.Number != "" {
		return "+" + a.Number
	}
	return a.Number
}

// toa returns the Type-of-Address octet.
func (a Address) toa() byte { return 0x80 | byte(a.TON&7)<<4 | byte(a.NPI&0x0F) }

const semiOctetDigits = "0123456789*#abc"

// AppendSemiOctets appends digits as semi-octets, low nibble first, with an
// F filler in the last high nibble when the count is odd (3GPP TS 23.040
// §9.1.2.3).
func AppendSemiOctets(dst []byte, digits string) ([]byte, error) {
	var cur byte
	for i := 0; i < len(digits); i++ {
		v := strings.IndexByte(semiOctetDigits, digits[i])
		if v < 0 {
			if c := digits[i]; c >= 'A' && c <= 'C' {
				v = int(c-'A') + 12
			} else {
				return dst, fmt.Errorf("tpdu: %w: %q is not a semi-octet digit (0-9 * # a b c)", ErrField, digits[i])
			}
		}
		if i%2 == 0 {
			cur = byte(v)
		} else {
			dst = append(dst, cur|byte(v)<<4)
		}
	}
	if len(digits)%2 == 1 {
		dst = append(dst, cur|0xF0)
	}
	return dst, nil
}

// DecodeSemiOctets decodes n digits from semi-octets (3GPP TS 23.040
// §9.1.2.3). An F nibble is allowed only as the filler after the last digit.
func DecodeSemiOctets(b []byte, n int) (string, error) {
	if len(b)*2 < n {
		return "", fmt.Errorf("tpdu: %w: %d digits need %d octets, got %d", ErrTruncated, n, (n+1)/2, len(b))
	}
	out := make([]byte, n)
	for i := range n {
		v := b[i/2] >> (4 * (i % 2)) & 0x0F
		if v == 0x0F {
			return "", fmt.Errorf("tpdu: %w: filler F at digit %d of %d", ErrField, i+1, n)
		}
		out[i] = semiOctetDigits[v]
	}
	return string(out), nil
}

// AppendAddress appends a in the TP address format: Address-Length (useful
// semi-octets), Type-of-Address, Address-Value (3GPP TS 23.040 §9.1.2.5).
func AppendAddress(dst []byte, a Address) ([]byte, error) {
	if a.TON == TONAlphanumeric {
		septets, err := EncodeGSM7(a.Number)
		if err != nil {
			return dst, err
		}
		packed := Pack7(septets, 0)
		if len(packed) > 10 {
			return dst, fmt.Errorf("tpdu: %w: alphanumeric address %q needs %d octets, at most 10 fit", ErrLength, a.Number, len(packed))
		}
		// Address-Length counts the semi-octets actually used by the septets.
		dst = append(dst, byte((len(septets)*7+3)/4), a.toa())
		return append(dst, packed...), nil
	}
	if len(a.Number) > 20 {
		return dst, fmt.Errorf("tpdu: %w: address has %d digits, at most 20 fit", ErrLength, len(a.Number))
	}
	dst = append(dst, byte(len(a.Number)), a.toa())
	return AppendSemiOctets(dst, a.Number)
}

// parseAddress parses a TP address at b[off:].
func parseAddress(b []byte, off int, field string) (Address, int, error) {
	if len(b)-off < 2 {
		return Address{}, 0, errAt(len(b), field, ErrTruncated, "an address length and type-of-address")
	}
	n := int(b[off])
	if n > 20 {
		return Address{}, 0, errAt(off, field, ErrLength, "at most 20 semi-octets, got %d", n)
	}
	toa := b[off+1]
	a := Address{TON: TypeOfNumber(toa>>4) & 7, NPI: NumberingPlan(toa & 0x0F)}
	octets := (n + 1) / 2
	if len(b)-off-2 < octets {
		return Address{}, 0, errAt(len(b), field, ErrTruncated, "%d address octets, got %d", octets, len(b)-off-2)
	}
	v := b[off+2 : off+2+octets]
	if a.TON == TONAlphanumeric {
		septets, err := Unpack7(v, 0, octets*8/7)
		if err != nil {
			return Address{}, 0, errAt(off+2, field, ErrField, "%v", err)
		}
		septets = septets[:n*4/7]
		s, err := DecodeGSM7(septets)
		if err != nil {
			return Address{}, 0, errAt(off+2, field, ErrAlphabet, "%v", err)
		}
		a.Number = s
	} else {
		s, err := DecodeSemiOctets(v, n)
		if err != nil {
			return Address{}, 0, errAt(off+2, field, ErrField, "%v", err)
		}
		// The filler of an odd count should be F; some senders put a digit
		// there (onomondo's test TPDUs do). It is not a useful semi-octet,
		// so it is ignored and re-encoded as F.
		a.Number = s
	}
	return a, 2 + octets, nil
}

// AppendTimestamp appends t as a 7-octet TP-SCTS/TP-DT/absolute TP-VP
// (3GPP TS 23.040 §9.2.3.11): year (two digits), month, day, hour, minute,
// second as swapped semi-octets, then the time zone in quarter hours with a
// sign bit. t's zone offset must be a multiple of 15 minutes within ±19:45.
func AppendTimestamp(dst []byte, t time.Time) ([]byte, error) {
	_, off := t.Zone()
	if off%900 != 0 || off/900 > 79 || off/900 < -79 {
		return dst, fmt.Errorf("tpdu: %w: time zone offset %ds is not a multiple of 15 minutes within ±19:45", ErrField, off)
	}
	if t.Year() < 1990 || t.Year() > 2089 {
		return dst, fmt.Errorf("tpdu: %w: year %d outside 1990..2089", ErrField, t.Year())
	}
	for _, v := range [6]int{t.Year() % 100, int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()} {
		dst = append(dst, swapBCD(v))
	}
	q := off / 900
	sign := byte(0)
	if q < 0 {
		q, sign = -q, 0x08
	}
	return append(dst, swapBCD(q)|sign), nil
}

func swapBCD(v int) byte { return byte(v%10)<<4 | byte(v/10) }

func unswapBCD(c byte) (int, bool) {
	lo, hi := int(c&0x0F), int(c>>4)
	return lo*10 + hi, lo <= 9 && hi <= 9
}

// ParseTimestamp decodes a 7-octet time stamp (3GPP TS 23.040 §9.2.3.11),
// as TP-SCTS, TP-DT and CAT's date-time and time zone object carry it.
// Two-digit years 90..99 are 1990..1999, the others 2000..2089.
func ParseTimestamp(b []byte) (time.Time, error) {
	if len(b) != 7 {
		return time.Time{}, errAt(0, "time stamp", ErrLength, "7 octets, got %d", len(b))
	}
	return parseTimestamp(b, 0, "time stamp")
}

// parseTimestamp decodes a 7-octet timestamp at b[off:]. Two-digit years
// 90..99 are 1990..1999, the others 2000..2089.
func parseTimestamp(b []byte, off int, field string) (time.Time, error) {
	if len(b)-off < 7 {
		return time.Time{}, errAt(len(b), field, ErrTruncated, "a 7-octet time stamp, got %d", len(b)-off)
	}
	var v [6]int
	for i := range v {
		x, ok := unswapBCD(b[off+i])
		if !ok {
			return time.Time{}, errAt(off+i, field, ErrField, "two decimal semi-octets, got %02X", b[off+i])
		}
		v[i] = x
	}
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return time.Time{}, errAt(off, field, ErrField, "a valid date and time, got %02d-%02d-%02d %02d:%02d:%02d", v[0], v[1], v[2], v[3], v[4], v[5])
	}
	tz := b[off+6]
	q, ok := unswapBCD(tz &^ 0x08)
	if !ok || q > 79 {
		return time.Time{}, errAt(off+6, field, ErrField, "a time zone in quarter hours (00..79), got %02X", tz)
	}
	if tz&0x08 != 0 {
		q = -q
	}
	year := 2000 + v[0]
	if v[0] >= 90 {
		year = 1900 + v[0]
	}
	t := time.Date(year, time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.FixedZone("", q*900))
	if t.Day() != v[2] {
		return time.Time{}, errAt(off+2, field, ErrField, "a day that exists in %04d-%02d, got %d", year, v[1], v[2])
	}
	return t, nil
}
