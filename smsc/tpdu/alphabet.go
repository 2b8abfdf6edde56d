package tpdu

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/ucs2"
)

// The gsm7 character tables are built lazily by that package without a lock;
// building the codecs here, during package initialisation, fills them before
// any goroutine can race on them.
var (
	gsmDecoder = gsm7.NewDecoder()
	gsmEncoder = gsm7.NewEncoder()
)

const gsmEscape = 0x1B

// EncodeGSM7 converts s to unpacked septets of the GSM 7-bit default alphabet
// with its extension table (3GPP TS 23.038 §6.2.1, §6.2.1.1): one septet per
// byte, an extension character as ESC (1B) followed by its code. It fails on
// a character that neither table holds, U+001B included: septet 1B is the
// escape, not a character (gsm7's table maps it, and a lone 1B decodes as a
// space).
func EncodeGSM7(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	if allSameInGSM7(s) {
		return []byte(s), nil
	}
	if strings.IndexByte(s, gsmEscape) >= 0 {
		return nil, fmt.Errorf("tpdu: %w: U+001B is the GSM 7-bit escape, not a character", ErrAlphabet)
	}
	b, err := gsmEncoder.Encode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("tpdu: %w: %v", ErrAlphabet, err)
	}
	return b, nil
}

// GSM7Representable reports whether every character of s is in the GSM 7-bit
// default alphabet or its extension table (3GPP TS 23.038 §6.2.1).
func GSM7Representable(s string) bool {
	_, err := EncodeGSM7(s)
	return err == nil
}

// AppendGSM7Lossy appends s to dst as unpacked septets of the GSM 7-bit
// default alphabet with its extension table (3GPP TS 23.038 §6.2.1,
// §6.2.1.1), one septet per byte as SMPP carries data_coding 0, replacing
// every character that neither table holds by repl, itself a
// default-alphabet code such as '?'. The control characters other than LF
// and CR are replaced too: septet 1B is the escape, not a character.
func AppendGSM7Lossy(dst []byte, s string, repl byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if sameInGSM7(c) {
			dst = append(dst, c)
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		if c < ' ' {
			dst = append(dst, repl)
		} else if b, err := gsmEncoder.Encode([]byte(s[i : i+n])); err == nil {
			dst = append(dst, b...)
		} else {
			dst = append(dst, repl)
		}
		i += n
	}
	return dst
}

// DecodeGSM7 converts unpacked septets of the GSM 7-bit default alphabet with
// its extension table (3GPP TS 23.038 §6.2.1) to a string. A byte with bit 8
// set is not a septet and is an error; an escape followed by a code the
// extension table does not define decodes as the default-table character,
// as §6.2.1.1 asks of a receiver.
func DecodeGSM7(septets []byte) (string, error) {
	for i, c := range septets {
		if c >= 0x80 {
			return "", fmt.Errorf("tpdu: %w: byte %d is %02X, not a GSM 7-bit septet", ErrAlphabet, i, c)
		}
	}
	if allSameInGSM7(septets) {
		return string(septets), nil
	}
	b, err := gsmDecoder.Decode(septets)
	if err != nil {
		return "", fmt.Errorf("tpdu: %w: %v", ErrAlphabet, err)
	}
	return string(b), nil
}

// sameInGSM7 reports whether c is an ASCII character whose GSM 7-bit
// default-alphabet code is its ASCII code (3GPP TS 23.038 §6.2.1): LF, CR,
// space to '?' except '$' (0x24 is '¤'), 'A'–'Z' and 'a'–'z'. Texts made of
// these only need no table lookup.
func sameInGSM7(c byte) bool {
	return c == '\n' || c == '\r' || c >= ' ' && c <= '?' && c != '$' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func allSameInGSM7[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if !sameInGSM7(s[i]) {
			return false
		}
	}
	return true
}

// Pack7 packs septets into octets (3GPP TS 23.038 §6.1.2.1), starting after
// fillBits (0..6) zero bits, as user data after a header needs (TS 23.040
// §9.2.3.24).
func Pack7(septets []byte, fillBits int) []byte {
	out := make([]byte, 0, (len(septets)*7+fillBits+7)/8)
	var acc uint32
	nbits := fillBits
	for _, s := range septets {
		acc |= uint32(s&0x7F) << nbits
		nbits += 7
		for nbits >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			nbits -= 8
		}
	}
	if nbits > 0 {
		out = append(out, byte(acc))
	}
	return out
}

// Unpack7 unpacks n septets from octets packed after fillBits (0..6) leading
// fill bits (3GPP TS 23.038 §6.1.2.1). It fails when b holds fewer than n
// septets.
func Unpack7(b []byte, fillBits, n int) ([]byte, error) {
	if n < 0 || fillBits < 0 || fillBits > 6 {
		return nil, fmt.Errorf("tpdu: %w: cannot unpack %d septets after %d fill bits", ErrLength, n, fillBits)
	}
	if need := (n*7 + fillBits + 7) / 8; len(b) < need {
		return nil, fmt.Errorf("tpdu: %w: %d septets after %d fill bits need %d octets, got %d", ErrTruncated, n, fillBits, need, len(b))
	}
	out := make([]byte, n)
	bit := fillBits
	for i := range out {
		byteAt, off := bit/8, bit%8
		v := uint16(b[byteAt]) >> off
		if off > 1 {
			v |= uint16(b[byteAt+1]) << (8 - off)
		}
		out[i] = byte(v) & 0x7F
		bit += 7
	}
	return out, nil
}

// UnpackedSeptetCount returns how many septets n octets of packed text
// without fill bits hold, dropping a last zero septet that only fills 7
// spare bits (3GPP TS 23.038 §6.1.2.1; used for CAT text strings with DCS
// 00, where no septet count is sent).
func UnpackedSeptetCount(b []byte) int {
	n := len(b) * 8 / 7
	if len(b) > 0 && len(b)%7 == 0 && b[len(b)-1]>>1 == 0 {
		n--
	}
	return n
}

// EncodeUCS2 converts s to UCS2, big-endian (3GPP TS 23.038 §6.2.3);
// characters outside the BMP become UTF-16 surrogate pairs.
func EncodeUCS2(s string) []byte {
	return ucs2.Encode([]rune(s))
}

// DecodeUCS2 converts big-endian UCS2/UTF-16 to a string (3GPP TS 23.038
// §6.2.3). An odd length or a dangling surrogate is an error.
func DecodeUCS2(b []byte) (string, error) {
	r, err := ucs2.Decode(b)
	if err != nil {
		return "", fmt.Errorf("tpdu: %w: %v", ErrAlphabet, err)
	}
	return string(r), nil
}

// DecodeText decodes user data in the given alphabet: septets (one per byte)
// for GSM 7-bit, UCS2 octets, or 8-bit data which is returned as hex by the
// caller's choice (ok false).
func DecodeText(a Alphabet, data []byte) (text string, ok bool, err error) {
	switch a {
	case AlphabetGSM7:
		s, err := DecodeGSM7(data)
		return s, err == nil, err
	case AlphabetUCS2:
		s, err := DecodeUCS2(data)
		return s, err == nil, err
	default:
		return "", false, nil
	}
}
