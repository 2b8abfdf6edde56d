package simulator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

func TestNamespaceNames(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ label, prefix string }{
		{"TestLogin/approve", "TestLogi-"},
		{"Test/x", "Test-x-"},
		{"a  b", "a--b-"},
		{"", "ns-"},
		{"///", "ns-"},
		{"Üben/ok", "ben-ok-"},
		{"x.y_z", "x.y_z-"},
		{strings.Repeat("Z", 300), "ZZZZZZZZ-"},
	} {
		seen := map[string]bool{}
		for range 50 {
			n := nameOf(c.label)
			if !strings.HasPrefix(n, c.prefix) || len(n) > 15 || len(n) != len(c.prefix)+6 || seen[n] {
				t.Fatalf("nameOf(%q) = %q: want %q + 6 fresh characters, 15 at most", c.label, n, c.prefix)
			}
			seen[n] = true
		}
	}
}

// TestNamespaceLeases: leases come from the top of a range down, never
// twice at once, an exhausted range is a conflict that leases nothing, and
// released numbers return to the pool.
func TestNamespaceLeases(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off"})
	n := newNamespaces(s.Core().Fleet, false)
	n.numbering = func(outcome string) (int, func(int) string, error) {
		if outcome != "cancel" {
			return 0, nil, fmt.Errorf("unknown outcome %q", outcome)
		}
		return 5, func(i int) string { s, _ := fleet.MagicNumberFor("cancel", i); return s }, nil
	}
	ctx := context.Background()
	a, err := n.create("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.create("b")
	if err != nil || a.Source == b.Source {
		t.Fatalf("%+v %+v %v", a, b, err)
	}
	got, err := n.lease(ctx, a.Name, LeaseRequest{Outcome: "cancel", Count: 3})
	if want, _ := fleet.MagicNumberFor("cancel", 4); err != nil || len(got) != 3 || got[0] != want {
		t.Fatalf("lease %v %v", got, err)
	}
	if _, err := n.lease(ctx, b.Name, LeaseRequest{Outcome: "cancel", Count: 3}); !errors.Is(err, errNamespaceConflict) {
		t.Fatalf("over-leasing: %v", err)
	}
	theirs, err := n.lease(ctx, b.Name, LeaseRequest{Outcome: "cancel", Count: 2})
	if err != nil || len(theirs) != 2 {
		t.Fatalf("the rest: %v %v", theirs, err)
	}
	if bb, _ := n.get(b.Name); len(bb.Numbers) != 2 {
		t.Fatalf("b holds %v after a refused lease", bb.Numbers)
	}
	if released, err := n.remove(a.Name); err != nil || released != 3 {
		t.Fatalf("remove: %d %v", released, err)
	}
	again, err := n.lease(ctx, b.Name, LeaseRequest{Outcome: "cancel", Count: 3})
	if err != nil || len(again) != 3 {
		t.Fatalf("after release: %v %v", again, err)
	}
	if _, err := n.lease(ctx, b.Name, LeaseRequest{Outcome: "approve"}); err == nil {
		t.Fatal("an outcome the numbering refuses was leased")
	}
}

// TestNamespacesConcurrently: parallel creators and leasers never share a
// name, a reply address or a number (run with -race).
func TestNamespacesConcurrently(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off"})
	n := newNamespaces(s.Core().Fleet, false)
	var (
		mu    sync.Mutex
		owner = map[string]string{}
		wg    sync.WaitGroup
	)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns, err := n.create(fmt.Sprint("T", i))
			if err != nil {
				t.Error(err)
				return
			}
			nums, err := n.lease(context.Background(), ns.Name, LeaseRequest{Outcome: "approve", Count: 3})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, k := range append(nums, ns.Name, ns.Source) {
				if o, dup := owner[k]; dup {
					t.Errorf("%s given to %s and %s", k, o, ns.Name)
				}
				owner[k] = ns.Name
			}
		}()
	}
	wg.Wait()
	if len(n.list()) != 16 {
		t.Fatalf("%d namespaces", len(n.list()))
	}
}

// TestNamespaceLeasesFollowThePlan: with a fleet file, leases come from
// its ranges by name; the embedded plan's outcomes are not there.
func TestNamespaceLeasesFollowThePlan(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off", Fleet: "../fixtures/fleets/lab.yaml"})
	n := newNamespaces(s.Core().Fleet, false)
	ns, err := n.create("lab")
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.lease(context.Background(), ns.Name, LeaseRequest{Outcome: "lab-cancel", Count: 2})
	if err != nil || len(got) != 2 || got[0] != "447700900999" || got[1] != "447700900998" {
		t.Fatalf("lease %v %v", got, err)
	}
	for _, outcome := range []string{"approve", ""} {
		if _, err := n.lease(context.Background(), ns.Name, LeaseRequest{Outcome: outcome}); err == nil || !strings.Contains(err.Error(), "GET /api/v1/numbers") {
			t.Errorf("outcome %q in a plan without it: %v", outcome, err)
		}
	}
}
