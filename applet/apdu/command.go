// Package apdu is the codec for the application protocol data units a
// terminal and a UICC exchange (ISO/IEC 7816-4 §5.1, ETSI TS 102 221 §10):
// command APDUs of cases 1 to 4 in short and extended length, response APDUs,
// and status words with the names the specifications give them.
//
// It is a pure codec: no I/O, no clock, no globals. Parsed data fields alias
// the input.
package apdu

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped by *Error.
var (
	// ErrShort means fewer than the 4 header bytes (or 2 status bytes).
	ErrShort = errors.New("apdu: too short")
	// ErrLength means the body does not match any case of ISO/IEC 7816-4
	// §5.1 (Lc and the number of bytes that follow disagree).
	ErrLength = errors.New("apdu: inconsistent length")
	// ErrEncode means a Command cannot be encoded (too much data or Ne out of range).
	ErrEncode = errors.New("apdu: cannot encode")
)

// Error says where an APDU failed to decode and what was expected there.
type Error struct {
	Offset   int    // offset of the offending byte
	Expected string // what was expected at Offset
	Err      error  // ErrShort or ErrLength
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%v at offset %d: expected %s", e.Err, e.Offset, e.Expected)
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// Case is the ISO/IEC 7816-4 §5.1 command case: whether the command carries
// data (Lc) and whether it expects data back (Le).
type Case uint8

// Command cases. Extended-length forms are told apart by Command.Extended.
const (
	Case1 Case = 1 // no data, no data expected
	Case2 Case = 2 // no data, Le present
	Case3 Case = 3 // data (Lc), no Le
	Case4 Case = 4 // data and Le
)

// Command is a command APDU (ISO/IEC 7816-4 §5.1).
type Command struct {
	CLA, INS, P1, P2 byte
	// Data is the command data field (Nc = len(Data) bytes). It aliases the
	// input after Parse.
	Data []byte
	// Ne is the maximum number of response bytes expected: 0 when Le is
	// absent, 1..256 in short form (Le 00 means 256), up to 65536 in
	// extended form (Le 0000 means 65536).
	Ne int
	// Extended marks extended-length Lc/Le fields. Marshal uses the extended
	// form when this is set or when Data or Ne do not fit the short form.
	Extended bool
}

// Case returns the command case, from Data and Ne.
func (c *Command) Case() Case {
	switch {
	case len(c.Data) == 0 && c.Ne == 0:
		return Case1
	case len(c.Data) == 0:
		return Case2
	case c.Ne == 0:
		return Case3
	default:
		return Case4
	}
}

// Parse decodes a command APDU of any case, short or extended
// (ISO/IEC 7816-4 §5.1, table 5). Data aliases b.
func Parse(b []byte) (Command, error) {
	var c Command
	err := c.Unmarshal(b)
	return c, err
}

// Unmarshal decodes b into c (see Parse).
func (c *Command) Unmarshal(b []byte) error {
	if len(b) < 4 {
		return &Error{Offset: len(b), Expected: "a 4-byte header CLA INS P1 P2", Err: ErrShort}
	}
	*c = Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
		return nil
	case len(body) == 1: // case 2S
		c.Ne = shortNe(body[0])
		return nil
	case body[0] != 0: // case 3S or 4S
		nc := int(body[0])
		switch len(body) {
		case 1 + nc:
			c.Data = body[1 : 1+nc : 1+nc]
		case 2 + nc:
			c.Data = body[1 : 1+nc : 1+nc]
			c.Ne = shortNe(body[1+nc])
		default:
			return &Error{Offset: 4, Expected: fmt.Sprintf("Lc=%02X followed by %d data bytes and at most 1 Le byte, got %d bytes", nc, nc, len(body)-1), Err: ErrLength}
		}
		return nil
	}
	// body[0] == 0 and at least 2 bytes: extended length.
	c.Extended = true
	if len(body) == 3 { // case 2E
		c.Ne = extNe(body[1], body[2])
		return nil
	}
	if len(body) < 3 {
		return &Error{Offset: 4 + len(body), Expected: "an extended Le (00 + 2 bytes) or Lc (00 + 2 bytes + data)", Err: ErrLength}
	}
	nc := int(body[1])<<8 | int(body[2])
	if nc == 0 {
		return &Error{Offset: 5, Expected: "an extended Lc other than 0000", Err: ErrLength}
	}
	switch len(body) {
	case 3 + nc:
		c.Data = body[3 : 3+nc : 3+nc]
	case 5 + nc:
		c.Data = body[3 : 3+nc : 3+nc]
		c.Ne = extNe(body[3+nc], body[4+nc])
	default:
		return &Error{Offset: 4, Expected: fmt.Sprintf("extended Lc=%04X followed by %d data bytes and an optional 2-byte Le, got %d bytes", nc, nc, len(body)-3), Err: ErrLength}
	}
	return nil
}

func shortNe(le byte) int {
	if le == 0 {
		return 256
	}
	return int(le)
}

func extNe(hi, lo byte) int {
	n := int(hi)<<8 | int(lo)
	if n == 0 {
		return 65536
	}
	return n
}

// Len returns the encoded length of c.
func (c *Command) Len() int {
	n := 4
	ext := c.extended()
	if len(c.Data) > 0 {
		if ext {
			n += 3
		} else {
			n++
		}
		n += len(c.Data)
	}
	if c.Ne > 0 {
		switch {
		case !ext:
			n++
		case len(c.Data) > 0:
			n += 2
		default:
			n += 3
		}
	}
	return n
}

func (c *Command) extended() bool { return c.Extended || len(c.Data) > 255 || c.Ne > 256 }

// Append appends the encoding of c to dst, in short form unless Extended is
// set or the fields need the extended form.
func (c *Command) Append(dst []byte) ([]byte, error) {
	if len(c.Data) > 65535 {
		return dst, fmt.Errorf("%w: %d data bytes, at most 65535", ErrEncode, len(c.Data))
	}
	if c.Ne < 0 || c.Ne > 65536 {
		return dst, fmt.Errorf("%w: Ne %d out of 0..65536", ErrEncode, c.Ne)
	}
	dst = append(dst, c.CLA, c.INS, c.P1, c.P2)
	ext := c.extended()
	if len(c.Data) > 0 {
		if ext {
			dst = append(dst, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		} else {
			dst = append(dst, byte(len(c.Data)))
		}
		dst = append(dst, c.Data...)
	}
	if c.Ne > 0 {
		if ext {
			if len(c.Data) == 0 {
				dst = append(dst, 0)
			}
			dst = append(dst, byte(c.Ne>>8), byte(c.Ne)) // 65536 encodes as 0000
		} else {
			dst = append(dst, byte(c.Ne)) // 256 encodes as 00
		}
	}
	return dst, nil
}

// MarshalBinary encodes c (see Append).
func (c *Command) MarshalBinary() ([]byte, error) {
	return c.Append(make([]byte, 0, c.Len()))
}

// UnmarshalBinary decodes b into c, copying the data field.
func (c *Command) UnmarshalBinary(b []byte) error {
	if err := c.Unmarshal(b); err != nil {
		return err
	}
	if c.Data != nil {
		c.Data = append([]byte(nil), c.Data...)
	}
	return nil
}

// Channel returns the logical channel number the class byte addresses
// (ETSI TS 102 221 §10.1.1): 0..3 for first interindustry classes (0X, 8X,
// AX, CX, EX where the low 2 bits are the channel), 4..19 for further
// interindustry classes (4X..7X, CX..FX with b7 set).
func (c *Command) Channel() int { return ClassOf(c.CLA).Channel }
