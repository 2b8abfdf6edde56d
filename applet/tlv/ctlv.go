package tlv

import (
	"errors"
	"fmt"
)

// Sentinel errors of the COMPREHENSION-TLV codec, wrapped by *CTLVError.
var (
	// ErrCTLVTruncated means the input ended inside a tag, a length or a
	// value (ETSI TS 102 223 §8, annex C).
	ErrCTLVTruncated = errors.New("tlv: COMPREHENSION-TLV truncated")
	// ErrCTLVTag means a tag field is not valid: 00, 80 and FF are not
	// tags, and a three-byte tag (7F xx xx) must carry a non-zero value
	// (ETSI TS 101 220 §7.1.1).
	ErrCTLVTag = errors.New("tlv: invalid COMPREHENSION-TLV tag")
	// ErrCTLVLength means a length field is not valid: the first byte is
	// 80 or 84..FF, or a long form encodes a length that fits a shorter one
	// (ETSI TS 101 220 §7.1.2).
	ErrCTLVLength = errors.New("tlv: invalid COMPREHENSION-TLV length")
)

// CTLVError says where COMPREHENSION-TLV decoding failed and what was
// expected there.
type CTLVError struct {
	Offset   int    // offset of the offending byte in the input given to the parser
	Expected string // what the parser expected at Offset
	Err      error  // one of ErrCTLVTruncated, ErrCTLVTag, ErrCTLVLength
}

// Error implements error.
func (e *CTLVError) Error() string {
	return fmt.Sprintf("%v at offset %d: expected %s", e.Err, e.Offset, e.Expected)
}

// Unwrap returns the sentinel error.
func (e *CTLVError) Unwrap() error { return e.Err }

// CTLVTag is a COMPREHENSION-TLV tag value without its comprehension
// required (CR) flag: 0x01..0x7E in the single-byte format, 0x0001..0x7FFF
// in the three-byte format (ETSI TS 101 220 §7.1.1, TS 102 223 annex C).
// CAT names these values in TS 102 223 §9.3, e.g. 0x01 command details,
// 0x0D text string.
type CTLVTag uint16

// CTLV is one COMPREHENSION-TLV data object (ETSI TS 102 223 §8, annex C).
//
// A single-byte tag carries the CR flag in bit 8 (0x8D = text string with
// comprehension required). A three-byte tag is 7F followed by two bytes whose
// top bit is the CR flag and whose other 15 bits are the tag value.
type CTLV struct {
	Tag CTLVTag
	// CR is the comprehension required flag: a receiver that does not know
	// the tag must reject the whole message (TS 102 223 §6.10, §7.3).
	CR bool
	// ThreeByte selects the three-byte tag format even for a value that
	// fits one byte. Tag values above 0x7E always use it.
	ThreeByte bool
	Value     []byte
}

// Len returns the encoded size of o.
func (o CTLV) Len() int { return CTLVSize(o.Tag, o.ThreeByte, len(o.Value)) }

// Append appends the encoding of o to dst.
func (o CTLV) Append(dst []byte) []byte {
	dst = appendCTLVTag(dst, o.Tag, o.CR, o.ThreeByte)
	dst = AppendCTLVLength(dst, len(o.Value))
	return append(dst, o.Value...)
}

// CTLVSize returns the encoded size of an object with tag t (in the
// three-byte format when threeByte or t > 0x7E) and an n-byte value.
func CTLVSize(t CTLVTag, threeByte bool, n int) int {
	tl := 1
	if threeByte || t > 0x7E {
		tl = 3
	}
	return tl + CTLVLengthSize(n) + n
}

// CTLVLengthSize returns the size of the length field for an n-byte value:
// 1 for 0..127, 2 for 128..255 (81 xx), 3 for 256..65535 (82 xx xx), 4 above
// (83 xx xx xx) (ETSI TS 101 220 §7.1.2). The coding is BER-TLV's shortest
// definite form, so this is BERLengthSize.
func CTLVLengthSize(n int) int { return BERLengthSize(n) }

// AppendCTLVLength appends the length n in its shortest form (ETSI TS 101
// 220 §7.1.2), the same bytes as AppendBERLength. n must be below 2^24.
func AppendCTLVLength(dst []byte, n int) []byte { return AppendBERLength(dst, n) }

func appendCTLVTag(dst []byte, t CTLVTag, cr, threeByte bool) []byte {
	if threeByte || t > 0x7E {
		hi := byte(t>>8) & 0x7F
		if cr {
			hi |= 0x80
		}
		return append(dst, 0x7F, hi, byte(t))
	}
	b := byte(t) & 0x7F
	if cr {
		b |= 0x80
	}
	return append(dst, b)
}

// AppendCTLV appends the object with tag t, flag cr and the given value to
// dst, choosing the single-byte tag format when t fits it.
func AppendCTLV(dst []byte, t CTLVTag, cr bool, value []byte) []byte {
	dst = appendCTLVTag(dst, t, cr, false)
	dst = AppendCTLVLength(dst, len(value))
	return append(dst, value...)
}

// AppendCTLVFunc appends an object with tag t and flag cr whose value is
// whatever fn appends to the buffer it is given; the length is patched in
// afterwards, so a value can be written in one pass without a temporary
// buffer.
func AppendCTLVFunc(dst []byte, t CTLVTag, cr bool, fn func([]byte) []byte) []byte {
	return appendLengthValue(appendCTLVTag(dst, t, cr, false), fn)
}

// ParseCTLVLength parses a length field at the start of b (ETSI TS 101 220
// §7.1.2) and returns the length and the size of the field. Only the
// shortest form is accepted (81 xx needs xx >= 80, 82 needs a value above
// FF, 83 above FFFF), so that parsing and encoding agree byte for byte.
func ParseCTLVLength(b []byte) (n, size int, err error) {
	return parseCTLVLength(b, 0)
}

func parseCTLVLength(b []byte, base int) (int, int, error) {
	if len(b) == 0 {
		return 0, 0, &CTLVError{Offset: base, Expected: "a length", Err: ErrCTLVTruncated}
	}
	l0 := b[0]
	if l0 < 0x80 {
		return int(l0), 1, nil
	}
	k := int(l0 & 0x7F)
	if k == 0 || k > 3 {
		return 0, 0, &CTLVError{Offset: base, Expected: "a length 00..7F, 81 xx, 82 xx xx or 83 xx xx xx", Err: ErrCTLVLength}
	}
	if len(b) < 1+k {
		return 0, 0, &CTLVError{Offset: base + len(b), Expected: fmt.Sprintf("%d more length bytes after %02X", k, l0), Err: ErrCTLVTruncated}
	}
	n := 0
	for _, c := range b[1 : 1+k] {
		n = n<<8 | int(c)
	}
	if min := [4]int{0, 0x80, 0x100, 0x10000}[k]; n < min {
		return 0, 0, &CTLVError{Offset: base, Expected: fmt.Sprintf("the shortest length form (%d does not need %02X)", n, l0), Err: ErrCTLVLength}
	}
	return n, 1 + k, nil
}

// ParseCTLV parses the COMPREHENSION-TLV object at the start of b and
// returns it with the bytes that follow it. The value aliases b.
func ParseCTLV(b []byte) (obj CTLV, rest []byte, err error) {
	return parseCTLV(b, 0)
}

func parseCTLV(b []byte, base int) (CTLV, []byte, error) {
	if len(b) == 0 {
		return CTLV{}, nil, &CTLVError{Offset: base, Expected: "a tag", Err: ErrCTLVTruncated}
	}
	var o CTLV
	i := 0
	switch t0 := b[0]; t0 {
	case 0x00, 0x80, 0xFF:
		return CTLV{}, nil, &CTLVError{Offset: base, Expected: fmt.Sprintf("a tag (%02X is not one)", t0), Err: ErrCTLVTag}
	case 0x7F:
		if len(b) < 3 {
			return CTLV{}, nil, &CTLVError{Offset: base + len(b), Expected: "two more bytes of a three-byte tag 7F xx xx", Err: ErrCTLVTruncated}
		}
		o.CR = b[1]&0x80 != 0
		o.Tag = CTLVTag(b[1]&0x7F)<<8 | CTLVTag(b[2])
		o.ThreeByte = true
		if o.Tag == 0 {
			return CTLV{}, nil, &CTLVError{Offset: base + 1, Expected: "a non-zero three-byte tag value", Err: ErrCTLVTag}
		}
		i = 3
	default:
		o.CR = t0&0x80 != 0
		o.Tag = CTLVTag(t0 & 0x7F)
		i = 1
	}
	n, ls, err := parseCTLVLength(b[i:], base+i)
	if err != nil {
		return CTLV{}, nil, err
	}
	i += ls
	if len(b)-i < n {
		return CTLV{}, nil, &CTLVError{Offset: base + len(b), Expected: fmt.Sprintf("a value of %d bytes for tag %02X, got %d", n, b[0], len(b)-i), Err: ErrCTLVTruncated}
	}
	o.Value = b[i : i+n : i+n]
	return o, b[i+n:], nil
}

// ParseAllCTLV parses b as a sequence of COMPREHENSION-TLV objects and
// appends them to dst. With enough capacity in dst it does not allocate. On
// error it returns dst with the objects parsed so far; the error's offset is
// relative to b.
func ParseAllCTLV(dst []CTLV, b []byte) ([]CTLV, error) { return ParseAllCTLVAt(dst, b, 0) }

// ParseAllCTLVAt is ParseAllCTLV for b found at offset base of a larger
// message: error offsets are reported relative to that message.
func ParseAllCTLVAt(dst []CTLV, b []byte, base int) ([]CTLV, error) {
	off := 0
	for off < len(b) {
		obj, rest, err := parseCTLV(b[off:], base+off)
		if err != nil {
			return dst, err
		}
		dst = append(dst, obj)
		off = len(b) - len(rest)
	}
	return dst, nil
}

// FindCTLV returns the first object with tag t (CR flag ignored) in objs.
func FindCTLV(objs []CTLV, t CTLVTag) (CTLV, bool) {
	for _, o := range objs {
		if o.Tag == t {
			return o, true
		}
	}
	return CTLV{}, false
}
