package load

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseRange: any input either fails with ErrNumbers or gives a range
// whose numbers are digit strings of the ends' width, in order, wrapping.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"9990001000-9990001999", "+99901000000-+99901000999", "99901000007", "0012-0014", "9-0", "-", "+-+", "1-", "999999999999999999-999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := ParseRange(s)
		if err != nil {
			if ns.Len() != 0 {
				t.Fatalf("error %v with %d numbers", err, ns.Len())
			}
			return
		}
		n := ns.Len()
		if n <= 0 {
			t.Fatalf("%q: %d numbers", s, n)
		}
		first, last := ns.At(0), ns.At(n-1)
		if len(first) != len(last) || ns.At(n) != first {
			t.Fatalf("%q: first %s last %s wrap %s", s, first, last, ns.At(n))
		}
		a, err1 := strconv.ParseUint(first, 10, 64)
		b, err2 := strconv.ParseUint(last, 10, 64)
		if err1 != nil || err2 != nil || b-a+1 != uint64(n) {
			t.Fatalf("%q: %s..%s is not %d numbers", s, first, last, n)
		}
	})
}

// FuzzReadNumbers: a list either fails with ErrNumbers or holds only digit
// strings, one per non-comment line.
func FuzzReadNumbers(f *testing.F) {
	for _, s := range []string{"+99901000001\n99901000002\n", "# c\n\n0099901000003\r\n", "", "abc\n", "+\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := ReadNumbers(strings.NewReader(s))
		if err != nil {
			return
		}
		for i := 0; i < ns.Len(); i++ {
			if m := ns.At(i); m == "" || strings.Trim(m, "0123456789") != "" {
				t.Fatalf("%q: number %d is %q", s, i, m)
			}
		}
	})
}
