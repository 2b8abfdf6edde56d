package smsc

import (
	"strings"
	"unicode/utf8"
)

// textContains reports whether m's decoded text contains sub, ignoring
// case: what Filter.Text selects. Capture searches run it on every stored
// message, so for the usual case, an ASCII search term in a GSM 7-bit,
// IA5 or UCS2 body, it searches the body as it is stored, without decoding
// it to a string or lower-casing it (which cost a capture poller most of
// its time and the submit path its share of the CPU). Anything else
// decodes the text and compares lower-cased, as containsFold does.
func textContains(m *Message, sub string) bool {
	if sub == "" {
		return true
	}
	lower := strings.ToLower(sub)
	if fast, ok := containsASCIIFold(m.DCS, m.Body, lower); ok {
		return fast
	}
	t, _ := m.Text()
	return containsFold(t, sub)
}

// containsASCIIFold searches body, in the alphabet dcs names, for lower,
// an ASCII text in lower case. ok is false when it cannot say without
// decoding: a non-ASCII search term, a GSM 7-bit term with characters
// whose septet differs from their ASCII code, a body with escapes (GSM
// 7-bit extension table) or bytes outside its alphabet, or another
// alphabet.
func containsASCIIFold(dcs uint8, body []byte, lower string) (found, ok bool) {
	for i := 0; i < len(lower); i++ {
		if lower[i] >= utf8.RuneSelf {
			return false, false
		}
	}
	switch AlphabetOf(dcs) {
	case AlphabetGSM7:
		// Septets decode to their ASCII character for LF, CR, space to
		// '?' but '$', and the letters (3GPP TS 23.038 §6.2.1); every other
		// septet is a character that is not ASCII or not its own code, so a
		// term made of those characters matches exactly where its codes do.
		for i := 0; i < len(lower); i++ {
			if !sameInGSM7(lower[i]) {
				return false, false
			}
		}
		for _, c := range body {
			if c >= 0x80 || c == 0x1B {
				return false, false
			}
		}
		return indexASCIIFold(body, 1, lower), true
	case AlphabetASCII:
		for _, c := range body {
			if c >= 0x80 {
				return false, false
			}
		}
		return indexASCIIFold(body, 1, lower), true
	case AlphabetUCS2:
		// UTF-16BE: an ASCII character is 00 xx; a surrogate or any other
		// code unit never equals one, but for the two that lower-case to
		// ASCII letters (U+0130 to 'i', the Kelvin sign U+212A to 'k').
		if len(body)%2 != 0 {
			return false, false
		}
		for i := 0; i < len(body); i += 2 {
			if u := uint16(body[i])<<8 | uint16(body[i+1]); u == 0x0130 || u == 0x212A {
				return false, false
			}
		}
		return indexASCIIFold(body, 2, lower), true
	}
	return false, false
}

// sameInGSM7 reports whether the GSM 7-bit code of ASCII character c is c.
func sameInGSM7(c byte) bool {
	return c == '\n' || c == '\r' || c >= ' ' && c <= '?' && c != '$' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// indexASCIIFold reports whether the characters of body, width octets
// each (1, or 2 for UTF-16BE), contain lower ignoring ASCII case.
func indexASCIIFold(body []byte, width int, lower string) bool {
	n := len(body) / width
	m := len(lower)
	at := func(i int) (byte, bool) {
		if width == 2 {
			if body[2*i] != 0 {
				return 0, false
			}
			return body[2*i+1], true
		}
		return body[i], true
	}
outer:
	for i := 0; i+m <= n; i++ {
		for j := 0; j < m; j++ {
			c, ok := at(i + j)
			if !ok {
				continue outer
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				continue outer
			}
		}
		return true
	}
	return false
}
