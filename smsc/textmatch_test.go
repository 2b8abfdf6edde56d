package smsc

import (
	"testing"
	"unicode/utf16"
)

// slowContains is what Filter.Text meant before the fast path: decode,
// then compare lower-cased.
func slowContains(m *Message, sub string) bool {
	t, _ := m.Text()
	return containsFold(t, sub)
}

func TestTextContains(t *testing.T) {
	t.Parallel()
	ucs2 := func(s string) []byte {
		var b []byte
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u>>8), byte(u))
		}
		return b
	}
	for _, tc := range []struct {
		dcs  uint8
		body []byte
		sub  string
		want bool
	}{
		{0, []byte("Your code is 123456"), "CODE IS 1234", true},
		{0, []byte("Your code is 123456"), "code is 12345 ", false},
		{0, []byte("Pay 5\x1be now"), "e now", false}, // ESC e is '€': decoded
		{0, []byte("Pay 5\x1be now"), "5e", false},    // the euro sign is not an 'e'
		{0, []byte{0x00, 'x'}, "@x", true},            // '@' is septet 0: decoded
		{0, []byte("a\x02b"), "a$b", true},            // '$' is septet 2: decoded
		{1, []byte("IA5 Text"), "ia5 t", true},
		{8, ucs2("Код: 4711 OK"), "4711 ok", true},
		{8, ucs2("Код: 4711 OK"), "код", true}, // not ASCII: decoded
		{8, ucs2("\u0141ódź"), "odz", false},
		{8, ucs2("\u212A"), "k", true}, // the Kelvin sign lower-cases to 'k'
		{8, ucs2("\u0130"), "i", true},
		{4, []byte("binary"), "bin", false},
	} {
		m := &Message{DCS: tc.dcs, Body: tc.body}
		got := textContains(m, tc.sub)
		if got != tc.want || got != slowContains(m, tc.sub) {
			t.Errorf("%q in %q (dcs %d): %v, want %v (decoded: %v)", tc.sub, tc.body, tc.dcs, got, tc.want, slowContains(m, tc.sub))
		}
	}
}

// FuzzTextContains: the search over stored bodies agrees with decoding
// and lower-casing.
func FuzzTextContains(f *testing.F) {
	f.Add(uint8(0), []byte("Your code is 123456"), "CODE")
	f.Add(uint8(8), []byte{0, 'A', 0x04, 0x1A, 0, 'b'}, "ab")
	f.Add(uint8(1), []byte("x\x80y"), "y")
	f.Add(uint8(0), []byte("\x1b\x65uro"), "euro")
	f.Add(uint8(8), []byte{0x21, 0x2A}, "k")
	f.Fuzz(func(t *testing.T, dcs uint8, body []byte, sub string) {
		m := &Message{DCS: dcs, Body: body}
		if got, want := textContains(m, sub), slowContains(m, sub); got != want {
			t.Fatalf("%q in %q (dcs %d): %v, decoded: %v", sub, body, dcs, got, want)
		}
	})
}
