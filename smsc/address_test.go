package smsc

import "testing"

func TestNormalizeNumber(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"99901000042", "99901000042", true},
		{"+99901000042", "99901000042", true},
		{" 99901000042", "99901000042", true}, // a raw + in a URL query
		{"0099901000042", "99901000042", true},
		{"+999 0100 0042", "99901000042", true},
		{"+44 (20) 7946-0000", "442079460000", true},
		{"0012", "0012", true}, // a short code keeps its zeros
		{"00123456789", "00123456789", true},
		{"SIMLAB", "", false},
		{"", "", false},
		{"+", "", false},
		{"999O1", "", false},
	} {
		got, ok := NormalizeNumber(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("NormalizeNumber(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if got := NormalizeAddr("  Example Bank "); got != "Example Bank" {
		t.Errorf("NormalizeAddr of a name: %q", got)
	}
}

// TestFilterMatchesNumbersWrittenEitherWay: a message submitted to
// +99901000042 is found by to=99901000042 and the other way round.
func TestFilterMatchesNumbersWrittenEitherWay(t *testing.T) {
	t.Parallel()
	for _, stored := range []string{"+99901000042", "99901000042"} {
		m := &Message{Source: Address{Addr: "SIMLAB"}, Dest: Address{Addr: stored}}
		for _, want := range []string{"99901000042", "+99901000042", " 99901000042", "0099901000042"} {
			for _, f := range []Filter{{AllNamespaces: true, To: want}, {AllNamespaces: true, Number: want}} {
				if !f.Match(m) {
					t.Errorf("stored %q, filter %+v: no match", stored, f)
				}
			}
		}
		if f := (Filter{AllNamespaces: true, To: "99901000043"}); f.Match(m) {
			t.Errorf("stored %q matched another number", stored)
		}
		if f := (Filter{AllNamespaces: true, From: " SIMLAB"}); !f.Match(m) {
			t.Errorf("alphanumeric source: no match")
		}
	}
}

// FuzzNormalizeNumber: what it accepts is digits, normal already, and the
// same with a + in front.
func FuzzNormalizeNumber(f *testing.F) {
	for _, s := range []string{"+99901000042", " 99901000042", "0099901000042", "+44 (20) 7946-0000", "0012", "SIMLAB", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := NormalizeNumber(s)
		if !ok {
			if d != "" {
				t.Fatalf("%q: not ok but %q", s, d)
			}
			return
		}
		if !isDigitString(d) {
			t.Fatalf("%q gave %q", s, d)
		}
		if again, ok := NormalizeNumber(d); !ok || (again != d && !(len(d) >= intl00Min && d[:2] == "00")) {
			t.Fatalf("%q gave %q, which gives %q, %v", s, d, again, ok)
		}
		if plus, ok := NormalizeNumber("+" + d); !ok || plus != func() string { x, _ := NormalizeNumber(d); return x }() {
			t.Fatalf("+%s gave %q, %v", d, plus, ok)
		}
	})
}
