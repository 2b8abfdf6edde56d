package fleet

import (
	"errors"
	"strings"
	"testing"
)

// TestPlanErrorsInWords: a fleet file with a value of the wrong kind is
// refused in words, without yaml.v3's Go type names.
func TestPlanErrorsInWords(t *testing.T) {
	t.Parallel()
	_, err := ParsePlan([]byte("ranges:\n  - from: \"+99901000000\"\n    to: \"+99901000099\"\n    no_nfc: maybe\n"))
	if !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), `line 4: "maybe" is not true or false`) ||
		strings.Contains(err.Error(), "!!") || strings.Contains(err.Error(), "unmarshal") {
		t.Errorf("no_nfc: maybe: %v", err)
	}
}
