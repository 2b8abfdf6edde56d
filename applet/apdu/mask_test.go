package apdu_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/applet/apdu"
)

// TestMaskSecrets: PIN blocks and hidden GET INPUT answers are masked,
// nothing else. The terminal responses are TS 31.124 §27.22.4.3 GET INPUT
// 1.4.1 (hidden, "2345678") and 1.1.1 (shown, "12345"), as ofono's
// unit/stk-test-data.h has them.
func TestMaskSecrets(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"002000010831323334FFFFFFFF", "0020000108" + strings.Repeat("58", 8)},                  // VERIFY PIN1
		{"A02000010831323334FFFFFFFF", "A020000108" + strings.Repeat("58", 8)},                  // VERIFY CHV1
		{"002C00011031323334353637383132333435FFFFFF", "002C000110" + strings.Repeat("58", 16)}, // UNBLOCK PIN
		{"00240001103132333435FFFFFF31323334FFFFFFFF", "0024000110" + strings.Repeat("58", 16)}, // CHANGE PIN
		{"0020000100", "0020000100"},                                 // retry counter query
		{"00200001", "00200001"},                                     //
		{"00A40004023F00", "00A40004023F00"},                         // SELECT
		{"80200001083132333435363738", "80200001083132333435363738"}, // class 80: not a UICC PIN command
		{"80140000168103012304820282818301008D080432333435363738", "80140000168103012304820282818301008D0804" + strings.Repeat("58", 7)},
		{"80140000148103012300820282818301008D06043132333435", "80140000148103012300820282818301008D06043132333435"},
		{"801400000C810301218082028281830100", "801400000C810301218082028281830100"}, // DISPLAY TEXT OK
		{"8014000009810301230482", "80140000098103012304" + "58"},                    // truncated: masked from there (fail closed)
		{"801400000981030123048282", "80140000098103012304" + "5858"},                // truncated length
		// Device identities with a non-minimal length (81 02): ParseCTLV
		// refuses it; the text after it is masked all the same (review 1, M7).
		{"801400001481030123048281028281830100" + "8D0604" + "3132333435", "80140000148103012304" + strings.Repeat("58", 16)},
		// Shown input (qualifier bit 3 clear): nothing is masked.
		{"801400001481030123008281028281830100" + "8D0604" + "3132333435", "801400001481030123008281028281830100" + "8D0604" + "3132333435"},
	} {
		in, _ := hex.DecodeString(c.in)
		orig := bytes.Clone(in)
		got := strings.ToUpper(hex.EncodeToString(apdu.MaskSecrets(in)))
		if got != c.want {
			t.Errorf("MaskSecrets(%s) = %s, want %s", c.in, got, c.want)
		}
		if !bytes.Equal(in, orig) {
			t.Errorf("MaskSecrets(%s) changed its input", c.in)
		}
	}
}

// FuzzMaskSecrets: never panics, keeps the length, and only ever writes
// MaskByte.
func FuzzMaskSecrets(f *testing.F) {
	for _, s := range []string{"002000010831323334FFFFFFFF", "80140000168103012304820282818301008D080432333435363738", "0020000100", "80140000"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := apdu.MaskSecrets(b)
		if len(m) != len(b) {
			t.Fatalf("length %d → %d", len(b), len(m))
		}
		for i := range m {
			if m[i] != b[i] && m[i] != apdu.MaskByte {
				t.Fatalf("byte %d: %02X → %02X", i, b[i], m[i])
			}
		}
	})
}

// FuzzMaskHiddenInput: a TERMINAL RESPONSE to a hidden GET INPUT whose
// text string comes after any bytes at all (well-formed objects or not)
// never keeps a digit of the answer in clear (review 1, M7: a malformed
// object before the text string left it unmasked).
func FuzzMaskHiddenInput(f *testing.F) {
	for _, s := range []struct{ prefix, pin string }{
		{"82028281830100", "2345678"},
		{"8281028281830100", "12345"}, // device identities, non-minimal length
		{"", "0000"},
		{"82", "1234"},
		{"8305", "987654"},
	} {
		p, _ := hex.DecodeString(s.prefix)
		f.Add(p, []byte(s.pin))
	}
	f.Fuzz(func(t *testing.T, prefix, pin []byte) {
		if len(pin) == 0 || len(prefix)+len(pin) > 200 {
			return
		}
		digits := make([]byte, len(pin))
		for i, c := range pin {
			digits[i] = '0' + c%10
		}
		body := append([]byte{0x81, 0x03, 0x01, 0x23, 0x04}, prefix...)
		body = append(body, 0x8D, byte(len(digits)+1), 0x04)
		body = append(body, digits...)
		capdu := append([]byte{0x80, 0x14, 0x00, 0x00, byte(len(body))}, body...)
		m := apdu.MaskSecrets(capdu)
		for i := len(m) - len(digits); i < len(m); i++ {
			if m[i] != apdu.MaskByte {
				t.Fatalf("MaskSecrets(%X) = %X: answer digit at %d in clear", capdu, m, i)
			}
		}
	})
}
