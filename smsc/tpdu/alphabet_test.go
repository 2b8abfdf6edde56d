package tpdu

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/warthog618/sms/encoding/gsm7"
)

func TestPack7KnownVector(t *testing.T) {
	t.Parallel()
	// "hellohello" in the GSM 7-bit default alphabet, packed: the example of
	// 3GPP TS 23.038 §6.1.2.1.1 style tutorials, E8 32 9B FD 46 97 D9 EC 37.
	septets, err := EncodeGSM7("hellohello")
	if err != nil {
		t.Fatal(err)
	}
	if got := Pack7(septets, 0); !bytes.Equal(got, []byte{0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37}) {
		t.Fatalf("packed %X", got)
	}
}

// TestPack7AgainstWarthog cross-checks the packing with fill bits against
// github.com/warthog618/sms/encoding/gsm7, an independent implementation.
func TestPack7AgainstWarthog(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		n := 1 + r.IntN(170) // with no septets, Pack7 still emits the fill octet that TP-UDL implies
		s := make([]byte, n)
		for i := range s {
			s[i] = byte(r.IntN(128))
		}
		for fill := range 7 {
			mine := Pack7(s, fill)
			theirs := gsm7.Pack7Bit(s, fill)
			if !bytes.Equal(mine, theirs) {
				t.Fatalf("n=%d fill=%d: %X vs warthog %X", n, fill, mine, theirs)
			}
			back, err := Unpack7(mine, fill, n)
			if err != nil || !bytes.Equal(back, s) {
				t.Fatalf("n=%d fill=%d: unpacked %X (%v)", n, fill, back, err)
			}
		}
	}
}

// FuzzAppendGSM7Lossy: whatever the input, the output is septets that
// decode to one character per input character (invalid UTF-8 octets count
// one each), each the input's own or the replacement.
func FuzzAppendGSM7Lossy(f *testing.F) {
	for _, s := range []string{"", "Your code is 123456", "Grüße 5€ — Ω ✓", "@$_[¤{\x1b\t\n\r", "日本\xff\xfe", "€€€"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendGSM7Lossy([]byte("x"), s, '?')
		got, err := DecodeGSM7(b[1:])
		if err != nil || b[0] != 'x' {
			t.Fatalf("%q encoded to % X: %v", s, b, err)
		}
		in, out := []rune(s), []rune(got)
		if len(in) != len(out) {
			t.Fatalf("%q (%d characters) decodes back as %q (%d)", s, len(in), got, len(out))
		}
		for i := range in {
			if in[i] != out[i] && out[i] != '?' {
				t.Fatalf("%q: character %d %q came back as %q", s, i, in[i], out[i])
			}
		}
	})
}
