package cat

import (
	"errors"
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Sentinel errors, wrapped by *DecodeError and by encoding errors.
var (
	// ErrTemplate means the outer BER-TLV template is missing, has the
	// wrong tag or does not span the input.
	ErrTemplate = errors.New("cat: bad template")
	// ErrMissing means a mandatory simple object is absent
	// (TS 102 223 §6.10: "error, required values are missing").
	ErrMissing = errors.New("cat: required object missing")
	// ErrObject means a simple object's value is malformed
	// (TS 102 223 §6.10: "command data not understood").
	ErrObject = errors.New("cat: bad object value")
	// ErrText means text cannot be coded in, or decoded from, the data coding
	// scheme given.
	ErrText = errors.New("cat: bad text")
)

// DecodeError says where decoding failed (offset in the input) and what was
// expected there.
type DecodeError struct {
	Offset int    // offset of the offending object or byte
	What   string // what was being decoded or what was expected
	Err    error  // ErrTemplate, ErrMissing, ErrObject, or a tlv error
}

// Error implements error.
func (e *DecodeError) Error() string {
	msg := e.Err.Error()
	if len(msg) > 5 && msg[:5] == "cat: " {
		msg = msg[5:]
	}
	return fmt.Sprintf("cat: %s at offset %d: %s", e.What, e.Offset, msg)
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

func errAt(off int, err error, format string, args ...any) error {
	return &DecodeError{Offset: off, What: fmt.Sprintf(format, args...), Err: err}
}

// crFlags records which known objects carried a CR flag different from the
// default (set), so that a parsed message re-encodes byte for byte.
type crFlags [2]uint64

func (c *crFlags) note(o tlv.CTLV) {
	if !o.CR && o.Tag < 128 {
		c[o.Tag>>6] |= 1 << (o.Tag & 63)
	}
}

func (c crFlags) cr(t tlv.CTLVTag) bool {
	return t >= 128 || c[t>>6]&(1<<(t&63)) == 0
}

// obj appends a simple object with tag t and the CR flag the message had
// (set by default).
func (c crFlags) obj(dst []byte, t tlv.CTLVTag, value ...byte) []byte {
	return tlv.AppendCTLV(dst, t, c.cr(t), value)
}

func (c crFlags) objBytes(dst []byte, t tlv.CTLVTag, value []byte) []byte {
	return tlv.AppendCTLV(dst, t, c.cr(t), value)
}

// CommandDetails is the command details object (ETSI TS 102 223 §8.6).
type CommandDetails struct {
	Number    byte // command number, 01..FE
	Type      CommandType
	Qualifier byte
}

// DeviceIdentities is the device identities object (ETSI TS 102 223 §8.7).
type DeviceIdentities struct {
	Source, Destination Device
}

// Result is the result object of a TERMINAL RESPONSE (ETSI TS 102 223
// §8.12): a general result and, for some results, additional information
// such as the terminal's cause for 20.
type Result struct {
	General    GeneralResult
	Additional []byte
}

// String describes the result, e.g. "terminal currently unable to process
// command: screen is busy".
func (r Result) String() string {
	if s := AdditionalInfoString(r.General, r.Additional); s != "" {
		return r.General.String() + ": " + s
	}
	return r.General.String()
}

// TimeUnit is the time unit of a duration (ETSI TS 102 223 §8.8).
type TimeUnit byte

// Time units (TS 102 223 §8.8).
const (
	Minutes          TimeUnit = 0
	Seconds          TimeUnit = 1
	TenthsOfASeconds TimeUnit = 2
)

// Duration is the duration object (ETSI TS 102 223 §8.8): Interval units
// (1..255) of Unit.
type Duration struct {
	Unit     TimeUnit
	Interval byte
}

// DurationOf returns the duration object closest to d: seconds when d is a
// whole number of seconds below 256, else minutes, else tenths of seconds.
func DurationOf(d time.Duration) Duration {
	switch {
	case d%time.Second == 0 && d/time.Second <= 255 && d > 0:
		return Duration{Unit: Seconds, Interval: byte(d / time.Second)}
	case d < 25600*time.Millisecond:
		return Duration{Unit: TenthsOfASeconds, Interval: byte(max(d/(100*time.Millisecond), 1))}
	default:
		return Duration{Unit: Minutes, Interval: byte(min((d+time.Minute-1)/time.Minute, 255))}
	}
}

// Duration returns the duration as a time.Duration.
func (d Duration) Duration() time.Duration {
	switch d.Unit {
	case Minutes:
		return time.Duration(d.Interval) * time.Minute
	case Seconds:
		return time.Duration(d.Interval) * time.Second
	case TenthsOfASeconds:
		return time.Duration(d.Interval) * 100 * time.Millisecond
	}
	return 0
}

// IconID is the icon identifier object (ETSI TS 102 223 §8.31).
type IconID struct {
	NotSelfExplanatory bool // qualifier bit 1: the icon is shown with the text
	ID                 byte // record number in EF_IMG
}

// ResponseLength is the response length object of GET INPUT (ETSI TS 102
// 223 §8.11).
type ResponseLength struct {
	Min, Max byte
}

// TimerValue is the timer value object (ETSI TS 102 223 §8.38): hours,
// minutes and seconds as swapped BCD.
type TimerValue struct {
	Hours, Minutes, Seconds byte
}

// Duration returns the value as a time.Duration.
func (v TimerValue) Duration() time.Duration {
	return time.Duration(v.Hours)*time.Hour + time.Duration(v.Minutes)*time.Minute + time.Duration(v.Seconds)*time.Second
}

func (v TimerValue) appendValue(dst []byte) []byte {
	sw := func(x byte) byte { return (x%10)<<4 | (x/10)%10 }
	return append(dst, sw(v.Hours), sw(v.Minutes), sw(v.Seconds))
}

func parseTimerValue(b []byte) (TimerValue, bool) {
	if len(b) != 3 {
		return TimerValue{}, false
	}
	var out [3]byte
	for i, c := range b {
		lo, hi := c&0x0F, c>>4
		if lo > 9 || hi > 9 {
			return TimerValue{}, false
		}
		out[i] = lo*10 + hi
	}
	return TimerValue{out[0], out[1], out[2]}, true
}

// Item is an item object of SELECT ITEM and SET UP MENU (ETSI TS 102 223
// §8.9): an identifier and its text, coded like an alpha identifier.
type Item struct {
	ID   byte
	Text AlphaID
}

// Address is the address object (ETSI TS 102 223 §8.1): TON/NPI and a
// BCD dialling number, e.g. the service centre address of SEND SHORT
// MESSAGE or SMS-PP DOWNLOAD.
type Address struct {
	tpdu.Address
	// Bit8Clear records a TON/NPI byte whose bit 8, which should be 1, was
	// 0 (onomondo's test envelope sends 10); it is re-encoded as received.
	Bit8Clear bool
}

// appendAddressValue appends the value of an address object.
func appendAddressValue(dst []byte, a Address) ([]byte, error) {
	ext := byte(0x80)
	if a.Bit8Clear {
		ext = 0
	}
	dst = append(dst, ext|byte(a.TON&7)<<4|byte(a.NPI&0x0F))
	b, err := tpdu.AppendSemiOctets(dst, a.Number)
	if err != nil {
		return b, fmt.Errorf("%w: address: %v", ErrObject, err)
	}
	return b, nil
}

func parseAddressValue(b []byte) (Address, error) {
	if len(b) == 0 {
		return Address{}, fmt.Errorf("%w: an address needs a TON/NPI byte", ErrObject)
	}
	a := Address{Address: tpdu.Address{TON: tpdu.TypeOfNumber(b[0]>>4) & 7, NPI: tpdu.NumberingPlan(b[0] & 0x0F)}, Bit8Clear: b[0]&0x80 == 0}
	v := b[1:]
	n := len(v) * 2
	if n > 0 && v[len(v)-1]>>4 == 0x0F {
		n--
	}
	s, err := tpdu.DecodeSemiOctets(v, n)
	if err != nil {
		return Address{}, fmt.Errorf("%w: %v", ErrObject, err)
	}
	a.Number = s
	return a, nil
}

// ItemIconList is the item icon identifier list (TS 102 223 §8.32).
type ItemIconList struct {
	NotSelfExplanatory bool
	IDs                []byte
}
