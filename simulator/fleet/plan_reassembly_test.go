package fleet

import (
	"os"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/handset"
)

// TestDocsFormatReassembly: the fleet file of docs/fleet.md's "Format"
// parses, and its reassembly section, said to be the defaults, is
// handset.DefaultReassemblyLimits.
func TestDocsFormatReassembly(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "## Format\n\n```yaml\n")
	doc, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("docs/fleet.md has no Format example")
	}
	p, err := ParsePlan([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if p.Reassembly == nil {
		t.Fatal("the Format example has no reassembly section")
	}
	got, err := p.reassemblyLimits()
	if err != nil {
		t.Fatal(err)
	}
	if got != handset.DefaultReassemblyLimits {
		t.Errorf("docs/fleet.md's reassembly %+v, the defaults are %+v", got, handset.DefaultReassemblyLimits)
	}
}
