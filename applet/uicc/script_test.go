package uicc

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestScript(t *testing.T) {
	t.Parallel()
	script := `
# select the MF, T=0 style (as in the vpcd capture)
00A4 0004 02 3F00      => 61XX
00C0000032             => 62…9000
0020000108 31323334FFFFFFFF => 9000   # PIN1
00B0000001                         # no expectation
reset
00A4000C023F00 => 6A82                # wrong on purpose
00A4000C023F00 => 90...
`
	steps, err := ParseScript(strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 7 || !steps[4].Reset || steps[0].Line != 3 || steps[1].Expect != "62…9000" {
		t.Fatalf("steps %+v", steps)
	}
	c := newCard(t, testProfile)
	trace, failed, err := RunScript(context.Background(), c, steps)
	if err != nil {
		t.Fatal(err)
	}
	if failed != 1 || !trace[5].Failed || trace[0].SW != "6132" || trace[1].Name != "GET RESPONSE" {
		t.Fatalf("failed %d, trace %+v", failed, trace)
	}
	var out strings.Builder
	if err := WriteTrace(&out, trace); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"VERIFY PIN", "0020000108****************", "FAILED: expected 6A82, got 9000", "reset  ATR 3B9E", "P1 00: select by file identifier"} {
		if !strings.Contains(s, want) {
			t.Errorf("trace lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "31323334") {
		t.Errorf("trace shows the PIN:\n%s", s)
	}
}

func TestParseScriptErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"00A4000", "00A4", "00A40000 => 9G00", "00A40000 => 90", "00A40000 => 9…0…0", "00A40000 => 900"} {
		if _, err := ParseScript(strings.NewReader(in)); !errors.Is(err, ErrScript) {
			t.Errorf("%q: %v", in, err)
		}
	}
	for _, c := range []struct {
		got, pat string
		ok       bool
	}{
		{"6132", "61XX", true}, {"AB9000", "9000", true}, {"AB9000", "AB9000", true}, {"AB9000", "AC9000", false},
		{"AB9000", "…9000", true}, {"AB9000", "AB…", true}, {"9000", "AB…9000", false}, {"AB9000", "", true},
	} {
		if matchResponse(c.got, c.pat) != c.ok {
			t.Errorf("match(%s, %s) != %v", c.got, c.pat, c.ok)
		}
	}
}
