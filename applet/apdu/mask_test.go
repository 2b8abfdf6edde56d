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
		{"8014000009810301230482", "8014000009810301230482"},                         // truncated
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
