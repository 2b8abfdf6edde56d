package tpdu

import (
	"testing"
	"unicode/utf8"
)

// FuzzAlphabet: the GSM 7-bit and UCS2 codecs (3GPP TS 23.038 §6.2.1,
// §6.2.3). Septets or octets that decode give valid UTF-8 that encodes and
// decodes to itself; text that encodes decodes back to itself.
func FuzzAlphabet(f *testing.F) {
	f.Add([]byte("Hello @£$"), "€uro [x]")
	f.Add([]byte{0x1b, 0x65, 0x1b, 0x1b, 0x00}, "\x1b")
	f.Add([]byte{0xd8, 0x3d, 0xde, 0x00}, "😀")
	f.Add([]byte{0x80}, "ÄÖÑÜ§¿äöñüà")
	f.Fuzz(func(t *testing.T, b []byte, s string) {
		for name, dec := range map[string]func([]byte) (string, error){"GSM7": DecodeGSM7, "UCS2": DecodeUCS2} {
			txt, err := dec(b)
			if err != nil {
				continue
			}
			if !utf8.ValidString(txt) {
				t.Fatalf("%s %x decodes to invalid UTF-8", name, b)
			}
			if name == "UCS2" {
				if back, err := DecodeUCS2(EncodeUCS2(txt)); err != nil || back != txt {
					t.Fatalf("UCS2 %q: %q %v", txt, back, err)
				}
				continue
			}
			if sep, err := EncodeGSM7(txt); err == nil {
				if back, err := DecodeGSM7(sep); err != nil || back != txt {
					t.Fatalf("GSM7 %q: %q %v", txt, back, err)
				}
			}
		}
		if !utf8.ValidString(s) {
			return
		}
		if sep, err := EncodeGSM7(s); err == nil {
			if back, err := DecodeGSM7(sep); err != nil || back != s {
				t.Fatalf("%q encodes to %x, which decodes to %q (%v)", s, sep, back, err)
			}
		}
	})
}
