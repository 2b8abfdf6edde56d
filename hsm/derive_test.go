package hsm

import (
	"encoding/hex"
	"errors"
	"testing"
)

func TestICCIDBytes(t *testing.T) {
	t.Parallel()
	cases := []struct{ iccid, want string }{
		// TS 102 221 §13.2: swapped nibbles, 'F' padding.
		{"89999000000000000012", "98990900000000000021"},
		{"8944110012345678901", "984411002143658709f1"},
		{"1", "f1ffffffffffffffffff"},
	}
	for _, c := range cases {
		got, err := ICCIDBytes(c.iccid)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("ICCIDBytes(%s) = %x, %v; want %s", c.iccid, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "123456789012345678901", "89a", "8 9"} {
		if _, err := ICCIDBytes(bad); !errors.Is(err, ErrICCID) {
			t.Errorf("ICCIDBytes(%q): err = %v, want ErrICCID", bad, err)
		}
	}
}

func TestTDESBlock(t *testing.T) {
	t.Parallel()
	cases := []struct{ iccid, want string }{
		{"89999000000000000012", "90000000000000126fffffffffffffed"},
		{"123", "0000000000000123fffffffffffffedc"},
	}
	for _, c := range cases {
		got, err := TDESBlock(c.iccid)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("TDESBlock(%s) = %x, %v; want %s", c.iccid, got, err, c.want)
		}
	}
	if _, err := TDESBlock("x"); !errors.Is(err, ErrICCID) {
		t.Errorf("TDESBlock(x): %v", err)
	}
}

// TestKDFInput checks the SP 800-108 fixed input of the docs/hsm.md example.
func TestKDFInput(t *testing.T) {
	t.Parallel()
	ctx, _ := ICCIDBytes("89999000000000000012")
	got := hex.EncodeToString(KDFInput(1, LabelKIc, ctx, 128))
	if want := "0173696d6c61622d6f74612d6b696300989909000000000000210080"; got != want {
		t.Errorf("KDFInput = %s, want %s", got, want)
	}
}

func TestKeyTypes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"des", "3des2", "3des3", "aes128", "aes192", "aes256", "hmac-sha256", "ec-p256", "rsa2048"} {
		if typ, err := ParseKeyType(s); err != nil || string(typ) != s {
			t.Errorf("ParseKeyType(%s) = %v, %v", s, typ, err)
		}
	}
	if _, err := ParseKeyType("aes"); err == nil {
		t.Error("ParseKeyType(aes) succeeded")
	}
}

// FuzzICCID: ICCIDBytes and TDESBlock accept exactly 1-20 digits, and
// ICCIDBytes decodes back to the digits (TS 102 221 §13.2 nibble order).
func FuzzICCID(f *testing.F) {
	f.Add("89999000000000000012")
	f.Add("8944110012345678901")
	f.Add("1")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ICCIDBytes(s)
		_, err2 := TDESBlock(s)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("ICCIDBytes and TDESBlock disagree on %q: %v / %v", s, err, err2)
		}
		if err != nil {
			return
		}
		var digits []byte
		for _, x := range b {
			for _, nib := range []byte{x & 0xf, x >> 4} {
				if nib != 0xf {
					digits = append(digits, '0'+nib)
				}
			}
		}
		if string(digits) != s {
			t.Errorf("%q encodes to %x, which decodes to %q", s, b, digits)
		}
	})
}
