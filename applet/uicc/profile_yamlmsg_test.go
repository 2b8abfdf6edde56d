package uicc

import (
	"errors"
	"strings"
	"testing"
)

// TestProfileErrorsInWords: a card profile with a value of the wrong kind
// is refused in words, without yaml.v3's Go type names.
func TestProfileErrorsInWords(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"name: x\npin1: {value: \"1234\", retries: many}\n", `"many" is not a whole number`},
		{"name: x\nlanguages: en\n", `"en" is not a list`},
		{"name: x\ncolour: red\n", `unknown key "colour"`},
	} {
		_, err := ParseProfile([]byte(c.in))
		if !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "!!") || strings.Contains(err.Error(), "uicc.") {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}
