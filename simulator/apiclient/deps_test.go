package apiclient_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/internal/needs"
)

// TestImportsNothingOfTheServer: a service's tests import this package to
// drive a simlab elsewhere; it must not link the simulator (the SMSC, the
// fleet, the card) into their binary. Its only non-standard dependency is
// the behaviour scripts' small package.
func TestImportsNothingOfTheServer(t *testing.T) {
	t.Parallel()
	gotool := needs.Command(t, "go", "golang-go")
	out, err := exec.Command(gotool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := []string{
		"github.com/simlab-dev/simlab/simulator/apiclient",
		"github.com/simlab-dev/simlab/simulator/person",
	}
	for _, p := range strings.Fields(string(out)) {
		if !slices.Contains(allowed, p) {
			t.Errorf("apiclient depends on %s", p)
		}
	}
}
