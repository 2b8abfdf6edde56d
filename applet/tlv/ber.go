package tlv

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors of the BER-TLV codec, wrapped by *BERError.
var (
	// ErrBERTruncated means the input ended inside a tag, a length or a
	// value (ISO/IEC 7816-4 §5.2).
	ErrBERTruncated = errors.New("tlv: BER-TLV truncated")
	// ErrBERTag means a tag field is not valid: padding bytes 00/FF where a
	// tag must start, a first subsequent byte of 80, or more than 4 bytes
	// (ISO/IEC 7816-4 §5.2.2.1, X.690 §8.1.2).
	ErrBERTag = errors.New("tlv: invalid BER-TLV tag")
	// ErrBERLength means a length field is not valid: the indefinite form 80
	// or a length field longer than 4 bytes (ISO/IEC 7816-4 §5.2.2.2).
	ErrBERLength = errors.New("tlv: invalid BER-TLV length")
)

// BERError says where BER-TLV decoding failed and what was expected there.
type BERError struct {
	Offset   int    // offset of the offending byte in the input given to the parser
	Expected string // what the parser expected at Offset
	Err      error  // one of ErrBERTruncated, ErrBERTag, ErrBERLength
}

// Error implements error.
func (e *BERError) Error() string {
	return fmt.Sprintf("%v at offset %d: expected %s", e.Err, e.Offset, e.Expected)
}

// Unwrap returns the sentinel error.
func (e *BERError) Unwrap() error { return e.Err }

// BERTag is a BER-TLV tag held as its encoded bytes, big-endian: 0x62 for
// the FCP template, 0x5F2D for "language preference", 0x9F7F for a 2-byte
// private tag (ISO/IEC 7816-4 §5.2.2.1). Tags of 1 to 4 bytes are supported.
type BERTag uint32

// BER-TLV tags a UICC uses (ISO/IEC 7816-4 §7.4, ETSI TS 102 221 §11.1.1.3,
// ETSI TS 102 223 §9.1 and annex C).
const (
	TagFCP             BERTag = 0x62 // File Control Parameters template
	TagFMD             BERTag = 0x64 // File Management Data template
	TagFCI             BERTag = 0x6F // File Control Information template
	TagApplication     BERTag = 0x61 // application template (EF_DIR record)
	TagAID             BERTag = 0x4F // application identifier (EF_DIR)
	TagAppLabel        BERTag = 0x50 // application label (EF_DIR)
	TagProactive       BERTag = 0xD0 // proactive command (TS 102 223 §6.6)
	TagSMSPPDownload   BERTag = 0xD1 // ENVELOPE: SMS-PP download (TS 102 223 §7.1)
	TagCBDownload      BERTag = 0xD2 // ENVELOPE: cell broadcast download
	TagMenuSelection   BERTag = 0xD3 // ENVELOPE: menu selection (TS 102 223 §7.2)
	TagCallControl     BERTag = 0xD4 // ENVELOPE: call control
	TagMOSMControl     BERTag = 0xD5 // ENVELOPE: MO short message control
	TagEventDownload   BERTag = 0xD6 // ENVELOPE: event download (TS 102 223 §7.5)
	TagTimerExpiration BERTag = 0xD7 // ENVELOPE: timer expiration (TS 102 223 §7.6)
)

// Len returns the number of bytes the tag takes when encoded.
func (t BERTag) Len() int {
	switch {
	case t <= 0xFF:
		return 1
	case t <= 0xFFFF:
		return 2
	case t <= 0xFFFFFF:
		return 3
	default:
		return 4
	}
}

func (t BERTag) first() byte { return byte(t >> (8 * (t.Len() - 1))) }

// Constructed reports whether the tag marks a constructed object, one whose
// value is itself BER-TLV objects (bit b6 of the first byte, X.690 §8.1.2.5).
func (t BERTag) Constructed() bool { return t.first()&0x20 != 0 }

// Class returns the tag class from bits b8b7 of the first byte: 0 universal,
// 1 application, 2 context-specific, 3 private (X.690 §8.1.2.2).
func (t BERTag) Class() int { return int(t.first() >> 6) }

// String returns the tag in hex, e.g. "62" or "5F2D".
func (t BERTag) String() string {
	s := strconv.FormatUint(uint64(t), 16)
	if len(s)%2 == 1 {
		s = "0" + s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// AppendBERTag appends the encoding of t.
func AppendBERTag(dst []byte, t BERTag) []byte {
	for i := t.Len() - 1; i >= 0; i-- {
		dst = append(dst, byte(t>>(8*i)))
	}
	return dst
}

// BER is one BER-TLV data object. Value aliases the parser's input.
type BER struct {
	Tag   BERTag
	Value []byte
}

// Len returns the encoded size of the object: tag, length and value.
func (o BER) Len() int { return BERSize(o.Tag, len(o.Value)) }

// Append appends the encoding of o to dst.
func (o BER) Append(dst []byte) []byte { return AppendBER(dst, o.Tag, o.Value) }

// Children parses the value of a constructed object as a sequence of BER-TLV
// objects, appending them to dst (see ParseAllBER). Offsets in errors are
// relative to the start of the value.
func (o BER) Children(dst []BER) ([]BER, error) { return ParseAllBER(dst, o.Value) }

// BERLengthSize returns the number of bytes the length field takes for a
// value of n bytes: 1 below 128, then 2, 3 or 4 (81 xx, 82 xxxx, 83 xxxxxx).
func BERLengthSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xFF:
		return 2
	case n <= 0xFFFF:
		return 3
	default:
		return 4
	}
}

// BERSize returns the encoded size of an object with tag t and an n-byte value.
func BERSize(t BERTag, n int) int { return t.Len() + BERLengthSize(n) + n }

// AppendBERLength appends the definite-form length n in its shortest form
// (ISO/IEC 7816-4 §5.2.2.2). n must be below 2^24.
func AppendBERLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xFF:
		return append(dst, 0x81, byte(n))
	case n <= 0xFFFF:
		return append(dst, 0x82, byte(n>>8), byte(n))
	default:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

// AppendBER appends the object tag t with the given value to dst.
func AppendBER(dst []byte, t BERTag, value []byte) []byte {
	dst = AppendBERTag(dst, t)
	dst = AppendBERLength(dst, len(value))
	return append(dst, value...)
}

// AppendBERFunc appends a constructed object with tag t whose value is
// whatever fn appends to the buffer it is given. The length is patched in
// afterwards, so nested templates can be written in one pass without a
// temporary buffer:
//
//	b = tlv.AppendBERFunc(b, tlv.TagFCP, func(b []byte) []byte {
//		b = tlv.AppendBER(b, 0x82, []byte{0x78, 0x21})
//		return tlv.AppendBER(b, 0x83, []byte{0x3F, 0x00})
//	})
func AppendBERFunc(dst []byte, t BERTag, fn func([]byte) []byte) []byte {
	return appendLengthValue(AppendBERTag(dst, t), fn)
}

// appendLengthValue appends a length field and the value fn appends after
// it, patching the length in afterwards (moving the value when it needs
// the long form). BER-TLV and COMPREHENSION-TLV code lengths the same way.
func appendLengthValue(dst []byte, fn func([]byte) []byte) []byte {
	lenAt := len(dst)
	dst = append(dst, 0)
	dst = fn(dst)
	n := len(dst) - lenAt - 1
	extra := BERLengthSize(n) - 1
	if extra == 0 {
		dst[lenAt] = byte(n)
		return dst
	}
	for range extra {
		dst = append(dst, 0)
	}
	copy(dst[lenAt+1+extra:], dst[lenAt+1:lenAt+1+n])
	AppendBERLength(dst[:lenAt], n)
	return dst
}

// ParseBER parses the BER-TLV object at the start of b and returns it with
// the bytes that follow it. The object's value aliases b. Lengths may use
// the short form or 81, 82, 83 (non-minimal forms such as 81 05 are
// accepted, as cards in the field send them).
func ParseBER(b []byte) (obj BER, rest []byte, err error) {
	return parseBER(b, 0)
}

func parseBER(b []byte, base int) (BER, []byte, error) {
	if len(b) == 0 {
		return BER{}, nil, &BERError{Offset: base, Expected: "a tag", Err: ErrBERTruncated}
	}
	t0 := b[0]
	if t0 == 0x00 || t0 == 0xFF {
		return BER{}, nil, &BERError{Offset: base, Expected: "a tag (00 and FF are padding)", Err: ErrBERTag}
	}
	tag := BERTag(t0)
	i := 1
	if t0&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return BER{}, nil, &BERError{Offset: base + i, Expected: "a subsequent tag byte", Err: ErrBERTruncated}
			}
			c := b[i]
			if i == 1 && c == 0x80 {
				return BER{}, nil, &BERError{Offset: base + i, Expected: "a first subsequent tag byte other than 80", Err: ErrBERTag}
			}
			if i == 4 {
				return BER{}, nil, &BERError{Offset: base + i, Expected: "a tag of at most 4 bytes", Err: ErrBERTag}
			}
			tag = tag<<8 | BERTag(c)
			i++
			if c&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return BER{}, nil, &BERError{Offset: base + i, Expected: "a length", Err: ErrBERTruncated}
	}
	l0 := b[i]
	i++
	n := int(l0)
	if l0 >= 0x80 {
		k := int(l0 & 0x7F)
		if k == 0 || k > 3 {
			return BER{}, nil, &BERError{Offset: base + i - 1, Expected: "a definite length of 1 to 4 bytes (00..7F, 81, 82 or 83)", Err: ErrBERLength}
		}
		if len(b)-i < k {
			return BER{}, nil, &BERError{Offset: base + len(b), Expected: fmt.Sprintf("%d length bytes", k), Err: ErrBERTruncated}
		}
		n = 0
		for _, c := range b[i : i+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if len(b)-i < n {
		return BER{}, nil, &BERError{Offset: base + len(b), Expected: fmt.Sprintf("a value of %d bytes for tag %v, got %d", n, tag, len(b)-i), Err: ErrBERTruncated}
	}
	return BER{Tag: tag, Value: b[i : i+n : i+n]}, b[i+n:], nil
}

// ParseAllBER parses b as a sequence of BER-TLV objects and appends them to
// dst. Bytes 00 and FF before, between and after objects are padding and are
// skipped (ISO/IEC 7816-4 §5.2.2). With enough capacity in dst it does not
// allocate. On error it returns dst with the objects parsed so far.
func ParseAllBER(dst []BER, b []byte) ([]BER, error) {
	off := 0
	for off < len(b) {
		if c := b[off]; c == 0x00 || c == 0xFF {
			off++
			continue
		}
		obj, rest, err := parseBER(b[off:], off)
		if err != nil {
			return dst, err
		}
		dst = append(dst, obj)
		off = len(b) - len(rest)
	}
	return dst, nil
}

// FindBER returns the value of the first object with tag t among the
// objects in b (one level, padding skipped), without allocating.
func FindBER(b []byte, t BERTag) (value []byte, ok bool, err error) {
	off := 0
	for off < len(b) {
		if c := b[off]; c == 0x00 || c == 0xFF {
			off++
			continue
		}
		obj, rest, err := parseBER(b[off:], off)
		if err != nil {
			return nil, false, err
		}
		if obj.Tag == t {
			return obj.Value, true, nil
		}
		off = len(b) - len(rest)
	}
	return nil, false, nil
}
