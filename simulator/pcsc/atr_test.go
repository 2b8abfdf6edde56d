package pcsc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
)

// atrVectors are public ATRs.
var atrVectors = []struct {
	name       string
	hex        string
	conv       Convention
	protocols  []int
	historical string
	hasTCK     bool
	fi, di     int
}{
	// applet/apdu/testdata/vectors.txt: the ATR vpcd fetched from a small virtual card
	// (pcscd 1.9.9 + vsmartcard-vpcd 3.3).
	{"vectors-10-vpcd", "3B9F96801F878031E073FE211B674A4C753034054BA9", ConventionDirect, []int{0}, "8031E073FE211B674A4C753034054B", true, 512, 32},
	// PC/SC Part 3 §3.1.3.2.3: ATR of a contactless storage card
	// (also in Ludovic Rousseau's smartcard_list.txt).
	{"pcsc-part3-storage", "3B8F8001804F0CA000000306030001000000006A", ConventionDirect, []int{0, 1}, "804F0CA00000030603000100000000", true, 372, 1},
	// smartcard_list.txt: a T=1 card with TA1, TC1=00… TD3.
	{"smartcard-list-t1", "3BDB960080B1FE451F830031C064C7FC100001900074", ConventionDirect, []int{0, 1}, "0031C064C7FC1000019000", true, 512, 32},
	// smartcard_list.txt: shortest form, no interface bytes.
	{"smartcard-list-short", "3B021450", ConventionDirect, []int{0}, "1450", false, 372, 1},
	// smartcard_list.txt: inverse convention (TS = 3F).
	{"smartcard-list-inverse", "3F6525082204689000", ConventionInverse, []int{0}, "2204689000", false, 372, 1},
}

func TestParseATRVectors(t *testing.T) {
	t.Parallel()
	for _, v := range atrVectors {
		t.Run(v.name, func(t *testing.T) {
			b, _ := hex.DecodeString(v.hex)
			a, err := ParseATR(b)
			if err != nil {
				t.Fatal(err)
			}
			if a.Convention != v.conv || !slices.Equal(a.Protocols, v.protocols) || a.HasTCK != v.hasTCK {
				t.Fatalf("got %s %v tck=%v, want %s %v tck=%v", a.Convention, a.Protocols, a.HasTCK, v.conv, v.protocols, v.hasTCK)
			}
			if got := strings.ToUpper(hex.EncodeToString(a.Historical)); got != v.historical {
				t.Fatalf("historical = %s, want %s", got, v.historical)
			}
			if a.HasTCK && !a.TCKValid {
				t.Fatal("TCK reported wrong")
			}
			if fi, di, _ := a.FiDi(); fi != v.fi || di != v.di {
				t.Fatalf("Fi/Di = %d/%d, want %d/%d", fi, di, v.fi, v.di)
			}
			// Marshal back (the other direction).
			if got := a.Bytes(); !bytes.Equal(got, b) {
				t.Fatalf("Bytes() = %X, want %X", got, b)
			}
			if len(a.Describe()) < 3 {
				t.Fatalf("Describe() = %q", a.Describe())
			}
		})
	}
}

func TestParseATRDescribe(t *testing.T) {
	t.Parallel()
	b, _ := hex.DecodeString("3B9F96801F878031E073FE211B674A4C753034054BA9")
	a, err := ParseATR(b)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(a.Describe(), "\n")
	for _, want := range []string{
		"TA1 96  Fi=512, Di=32, fmax=5 MHz",
		"TD1 80  Y2=8, protocol T=0",
		"TD2 1F  Y3=1, protocol T=15",
		"TA3 87  clock stop state H, class A (5 V) B (3 V) C (1.8 V)",
		"TCK A9  checksum correct",
		"protocols T=0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe lacks %q:\n%s", want, got)
		}
	}
}

func TestParseATRErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		hex    string
		offset int
		want   string
	}{
		{"", 0, "TS"},
		{"3C", 0, "TS 0x3B or 0x3F, got 0x3C"},
		{"3B", 1, "T0"},
		{"3B10", 2, "TA1 announced by T0"},
		{"3B8010", 3, "TA2 announced by TD1"},
		{"3B02", 2, "2 historical bytes announced by T0, have 0"},
		{"3B8001", 3, "TCK"},          // TD1 says T=1, so a TCK is required
		{"3B00AABB", 2, "end of ATR"}, // two bytes after an ATR without historical bytes
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		_, err := ParseATR(b)
		var ae *ATRError
		if !errors.As(err, &ae) || !errors.Is(err, ErrATR) {
			t.Errorf("ParseATR(%s) = %v, want *ATRError", c.hex, err)
			continue
		}
		if ae.Offset != c.offset || !strings.Contains(ae.Expected, c.want) {
			t.Errorf("ParseATR(%s) = %v, want offset %d and %q", c.hex, err, c.offset, c.want)
		}
	}
}

func TestParseATRWrongTCK(t *testing.T) {
	t.Parallel()
	b, _ := hex.DecodeString("3B9F96801F878031E073FE211B674A4C753034054BAA")
	a, err := ParseATR(b)
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasTCK || a.TCKValid {
		t.Fatalf("HasTCK=%v TCKValid=%v, want a wrong TCK reported", a.HasTCK, a.TCKValid)
	}
}

func FuzzParseATR(f *testing.F) {
	for _, v := range atrVectors {
		b, _ := hex.DecodeString(v.hex)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseATR(b)
		if err != nil {
			var ae *ATRError
			if !errors.As(err, &ae) || ae.Offset < 0 || ae.Offset > len(b) {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		_ = a.Describe()
		if !a.HasTCK || a.TCKValid {
			if got := a.Bytes(); !bytes.Equal(got, b) {
				t.Fatalf("Bytes() = %X, want %X", got, b)
			}
		}
	})
}
