package simulator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
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

// TestNamespaceDeleteForgetsAccount: a namespace's client binds with its
// name, leaves a receipt owed (a transmitter cannot take it) and goes;
// deleting the namespace drops the receipt and the account's
// receipts_owed series (review 1, M4).
func TestNamespaceDeleteForgetsAccount(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	base := "http://" + s.Addrs().HTTP
	var ns Namespace
	if code := callJSON(t, s, "POST", "/api/v1/namespaces", NamespaceRequest{Label: "forget"}, &ns); code != 201 {
		t.Fatalf("POST /api/v1/namespaces: %d", code)
	}
	ctx := context.Background()
	cl, err := client.Dial(ctx, client.Config{Addr: s.Addrs().SMPP, SystemID: ns.Name, Password: "x", Mode: client.Transmitter, NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	num, _ := fleet.MagicNumberFor("approve", 7)
	if _, err := cl.Submit(ctx, &client.Message{Source: client.Address{Addr: ns.Source}, Dest: client.Address{Addr: num},
		ShortMessage: []byte("hello"), RegisteredDelivery: 1}); err != nil {
		t.Fatal(err)
	}
	cl.Close(ctx)
	owed := func() (float64, bool) { return value(scrape(t, base), "simlab_smpp_receipts_owed", "account", ns.Name) }
	waitFor(t, "the receipt owed to "+ns.Name, func() bool { v, _ := owed(); return v == 1 })
	if code := callJSON(t, s, "DELETE", "/api/v1/namespaces/"+ns.Name, nil, nil); code != 200 {
		t.Fatalf("DELETE: %d", code)
	}
	if v, ok := owed(); ok {
		t.Fatalf("receipts_owed{account=%q} = %v after the namespace was deleted", ns.Name, v)
	}
}

// waitFor polls cond (an outside view: a scrape, an API read) until it
// holds, for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// TestNamespaceAccounts: on an SMSC with accounts a namespace is made
// with an account of its own (system_id and namespace = its name, a fresh
// password only the creation answers, its reply address as mo_ranges),
// removed with it; an account the
// SMSC refuses is a conflict that leaves no namespace behind.
func TestNamespaceAccounts(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off"})
	n := newNamespaces(s.Core().Fleet, true)
	if _, err := n.create("a"); !errors.Is(err, errNamespaceConflict) {
		t.Fatalf("no way to add accounts: %v", err)
	}
	added := map[string]smsc.Account{}
	var removed []string
	refuse := errors.New("refused")
	n.addAccount = func(a smsc.Account) error {
		if a.SystemID == "" || strings.HasPrefix(a.SystemID, "refuse") {
			return refuse
		}
		added[a.SystemID] = a
		return nil
	}
	n.removeAccount = func(id string) bool { removed = append(removed, id); return true }
	ns, err := n.create("TestX")
	if err != nil {
		t.Fatal(err)
	}
	acc := added[ns.Name]
	if acc.Password != ns.SMPPPassword || len(acc.Password) != smsc.MaxPasswordLen || acc.Namespace != ns.Name ||
		len(acc.MORanges) != 1 || acc.MORanges[0] != ns.Source {
		t.Fatalf("account %s (password %d characters, namespace %q, mo_ranges %v) for namespace %s (source %s)", acc.SystemID, len(acc.Password), acc.Namespace, acc.MORanges, ns.Name, ns.Source)
	}
	if got, _ := n.get(ns.Name); got.SMPPPassword != "" {
		t.Error("get gives the password")
	}
	if l := n.list(); len(l) != 1 || l[0].SMPPPassword != "" {
		t.Errorf("list: %d namespaces, or gives the password", len(l))
	}
	if _, err := n.create("refuse"); !errors.Is(err, errNamespaceConflict) || !errors.Is(err, refuse) {
		t.Errorf("refused account: %v", err)
	}
	if l := n.list(); len(l) != 1 {
		t.Errorf("a refused account left a namespace: %d", len(l))
	}
	if _, err := n.remove(ns.Name); err != nil || len(removed) != 1 || removed[0] != ns.Name {
		t.Errorf("remove: %v, accounts removed %v", err, removed)
	}
	seen := map[string]bool{}
	for range 200 {
		p := smppPassword()
		if len(p) != smsc.MaxPasswordLen || strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" || seen[p] {
			t.Fatalf("password %d characters, not letters and digits, or seen before", len(p))
		}
		seen[p] = true
	}
}
