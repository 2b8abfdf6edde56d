package tpdu

import "testing"

// TestSameInGSM7AgainstTables checks the table-free fast path against the
// full GSM 7-bit tables (github.com/warthog618/sms) for every byte.
func TestSameInGSM7AgainstTables(t *testing.T) {
	for c := 0; c < 256; c++ {
		b := []byte{byte(c)}
		enc, err := gsmEncoder.Encode(b)
		same := err == nil && len(enc) == 1 && enc[0] == byte(c)
		if c < 0x80 {
			dec, err := gsmDecoder.Decode(b)
			same = same && err == nil && string(dec) == string(b)
		}
		if sameInGSM7(byte(c)) != same {
			t.Errorf("%#02x %q: fast path says %v, tables %v", c, rune(c), sameInGSM7(byte(c)), same)
		}
	}
	for _, s := range []string{"Login 4F2A? (ok)", "a$b", "x@y", "line\nbreak", "Ünïcode"} {
		want, werr := gsmEncoder.Encode([]byte(s))
		got, gerr := EncodeGSM7(s)
		if (werr == nil) != (gerr == nil) || string(got) != string(want) {
			t.Errorf("EncodeGSM7(%q) = %x, %v; tables %x, %v", s, got, gerr, want, werr)
		}
		if werr == nil {
			back, err := DecodeGSM7(want)
			if err != nil || back != s {
				t.Errorf("DecodeGSM7(%x) = %q, %v; want %q", want, back, err, s)
			}
		}
	}
}
