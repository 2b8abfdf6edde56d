package mobileconnect

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// TestCharacterRulesMatchRegexps holds the byte-loop checks of params.go
// to the regular expressions they replace, on chosen and random strings.
func TestCharacterRulesMatchRegexps(t *testing.T) {
	msisdnRE := regexp.MustCompile(`^\+?[0-9]{6,15}$`)
	hexRE := regexp.MustCompile(`^[0-9a-fA-F]+$`)
	pkceRE := regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)
	cases := []string{"", "+", "+12345", "123456", "+123456", "1234567890123456", "123456789012345", "++123456", "12345a",
		"abcdef0123", "ABCDEFG", "0", "x", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX",
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk+", "１２３４５６７"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "0123456789abcdefABCDEF+-._~xyZ/ é"
	for range 20000 {
		b := make([]byte, rng.IntN(140))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := isMSISDN(s), msisdnRE.MatchString(s); got != want {
			t.Errorf("isMSISDN(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := isMSISDN([]byte(s)), msisdnRE.MatchString(s); got != want {
			t.Errorf("isMSISDN([]byte %q) = %v, regexp says %v", s, got, want)
		}
		if got, want := isHex(s), hexRE.MatchString(s); got != want {
			t.Errorf("isHex(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := isPKCE(s), pkceRE.MatchString(s); got != want {
			t.Errorf("isPKCE(%q) = %v, regexp says %v", s, got, want)
		}
	}
}
