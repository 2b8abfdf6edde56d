package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// fleetFile writes a fleet file to dir and returns its path.
func fleetFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// capturedState asks srv's capture API for the newest message to number in
// direction dir and returns its state.
func capturedState(t *testing.T, srv *Server, number, dir string) string {
	t.Helper()
	q := url.Values{"to": {number}, "direction": {dir}}
	if dir == "MO" {
		q = url.Values{"from": {number}, "direction": {dir}}
	}
	resp, err := http.Get("http://" + srv.Addrs().HTTP + "/api/v1/messages/latest?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	var m struct {
		State string `json:"state"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m.State
}

// TestFrontRoutesToFleets: a front SMSC without a fleet of its own routes
// two number ranges to two fleet processes (each serving only its range, by
// its fleet file, with the cards of the default plan). Challenges to both
// ranges, pushed through the front, come back approved and verified on the
// bind that sent them; a text asking for a receipt gets the fleet's
// DELIVRD, one to a phone whose deliveries fail gets UNDELIV; the front's
// capture API shows every message it handed on in its final state, and
// the phones' answers (MO).
func TestFrontRoutesToFleets(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fleetA := startTest(t, Config{Fleet: fleetFile(t, "a.yaml", `ranges:
  - {name: a, from: "99901000000", to: "99901000499", card_index: 0}
`)})
	fleetB := startTest(t, Config{Fleet: fleetFile(t, "b.yaml", `ranges:
  - {name: b, from: "99901000500", to: "99901000999", card_index: 500}
  - {name: b-broken, from: "99901001000", to: "99901001009", card_index: 1000, delivery_error: true}
`)})
	front := startTest(t, Config{NoFleet: true, Routes: []Route{
		{Numbers: []string{"99901000000-99901000499"}, To: "smpp://front:secret1@" + fleetA.Addrs().SMPP},
		{Numbers: []string{"+99901000500-+99901000999", "99901001000-99901001009"}, To: "smpp://front:secret1@" + fleetB.Addrs().SMPP, Binds: 2},
	}})

	p, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: front.Addrs().SMPP, SystemID: "sut", Password: "pw", NoReconnect: true}, Binds: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	numbers := []string{"99901000007", "99901000499", "99901000500", "99901000942"}
	for _, n := range numbers {
		res, err := p.Push(ctx, push.Request{MSISDN: n, LoA: authn.LoA3, ClientName: "front test", Timeout: 20 * time.Second})
		if err != nil {
			t.Fatalf("push to %s through the front: %v", n, err)
		}
		if res.Outcome != "approved" || !res.SignatureValid {
			t.Errorf("push to %s: outcome %s, signature valid %v (%s)", n, res.Outcome, res.SignatureValid, res.Detail)
		}
	}
	// Each fleet got only its own range's challenges.
	mt := smsc.MT
	for srv, want := range map[*Server][]string{fleetA: numbers[:2], fleetB: numbers[2:]} {
		for _, n := range numbers {
			page, err := srv.Core().store.List(ctx, smsc.Query{Filter: smsc.Filter{AllNamespaces: true, To: n, Direction: &mt}})
			if err != nil {
				t.Fatal(err)
			}
			mine := strings.Contains(strings.Join(want, " "), n)
			if (len(page.Messages) > 0) != mine {
				t.Errorf("fleet %s holds %d messages to %s, want them only in the fleet owning it", srv.Addrs().SMPP, len(page.Messages), n)
			}
		}
	}

	// Receipts through the front: the fleet's outcome becomes the front's.
	esme, err := client.Dial(ctx, client.Config{Addr: front.Addrs().SMPP, SystemID: "sut2", Password: "pw", NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer esme.Close(context.Background())
	for n, want := range map[string]string{"99901000777": "DELIVRD", "99901001003": "UNDELIV"} {
		id, err := esme.Submit(ctx, &client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "99955501"},
			Dest: client.Address{TON: 1, NPI: 1, Addr: n}, RegisteredDelivery: 1, ShortMessage: []byte("through the front")})
		if err != nil {
			t.Fatal(err)
		}
		rc, err := esme.AwaitReceipt(ctx, id)
		if err != nil {
			t.Fatalf("receipt for %s: %v", n, err)
		}
		if rc.Stat != want {
			t.Errorf("receipt for %s: %s, want %s", n, rc.Stat, want)
		}
	}

	// The front's capture API: each message in its final state, and the
	// answers that came back through it.
	for n, want := range map[string]string{"99901000007": "DELIVERED", "99901000942": "DELIVERED", "99901000777": "DELIVERED", "99901001003": "UNDELIVERABLE"} {
		if got := capturedState(t, front, n, "MT"); got != want {
			t.Errorf("front's capture API: message to %s %s, want %s", n, got, want)
		}
	}
	for _, n := range numbers {
		if got := capturedState(t, front, n, "MO"); got == "" || strings.Contains(got, "404") {
			t.Errorf("front's capture API: no answer from %s (%s)", n, got)
		}
	}
}

// TestRoutesConfig: routes load from YAML; bad ones are refused with the
// route named and the password hidden; a route to an SMSC not up yet binds
// once it is.
func TestRoutesConfig(t *testing.T) {
	t.Parallel()
	cfg, _, err := ParseConfig([]byte(`no_fleet: true
routes:
  - numbers: ["99901000000-99901499999", "4479*"]
    to: smpp://front:secret1@fleet-0:2775
    binds: 2
    window: 100
`))
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Routes; len(r) != 1 || r[0].Binds != 2 || r[0].Window != 100 || r[0].To != "smpp://front:secret1@fleet-0:2775" || len(r[0].Numbers) != 2 {
		t.Fatalf("routes = %+v", r)
	}
	if err := cfg.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ParseConfig([]byte("routes:\n  - numbrs: [\"1\"]\n")); err == nil || !strings.Contains(err.Error(), "numbrs") {
		t.Errorf("a misspelt key: %v", err)
	}
	for _, bad := range []Route{
		{Numbers: nil, To: "smpp://a:b@h:1"},
		{Numbers: []string{"12-1"}, To: "smpp://a:b@h:1"},
		{Numbers: []string{"ab*"}, To: "smpp://a:b@h:1"},
		{Numbers: []string{"1-2"}, To: "modem:/dev/ttyUSB0"},
		{Numbers: []string{"1-2"}, To: "smpp://a:topsecret@h"},
		{Numbers: []string{"1-2"}, To: "smpp://a:b@h:1", Binds: 65},
	} {
		err := Config{Routes: []Route{bad}}.Validate()
		if err == nil || !strings.Contains(err.Error(), "routes[0]") || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if err := (Config{Routes: []Route{{Numbers: []string{"1-2"}, To: "smpp://a:b@h:1"}, {Numbers: []string{"1-2"}, To: "smpp://a:b@h:2"}}}).Validate(); err == nil {
		t.Error("two routes for the same numbers accepted")
	}
	// A refused bind is an error at once.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	up := startTest(t, Config{HTTPAddr: "off", Accounts: []smsc.Account{{SystemID: "front", Password: "secret1"}}})
	s := startTest(t, Config{HTTPAddr: "off", NoFleet: true})
	_, err = s.Core().StartRoutes(ctx, []Route{{Numbers: []string{"99901000000-99901000009"}, To: "smpp://front:wrong1@" + up.Addrs().SMPP}}, BearerOptions{})
	var se *client.StatusError
	if !errors.As(err, &se) || strings.Contains(err.Error(), "wrong1") {
		t.Errorf("a wrong password: %v", err)
	}
}

// TestRouteBindsLater: a route whose SMSC is not up yet is connected in
// the background; a message for it waits and is delivered once it binds.
func TestRouteBindsLater(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Reserve a port for the fleet, then free it until the fleet starts.
	probe := startTest(t, Config{HTTPAddr: "off"})
	addr := probe.Addrs().SMPP
	if err := probe.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	front := startTest(t, Config{NoFleet: true, RetryMin: 100 * time.Millisecond,
		Routes: []Route{{Numbers: []string{"99901000000-99901000999"}, To: "smpp://front:secret1@" + addr}}})
	esme, err := client.Dial(ctx, client.Config{Addr: front.Addrs().SMPP, SystemID: "sut", Password: "pw", NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer esme.Close(context.Background())
	id, err := esme.Submit(ctx, &client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "99955501"},
		Dest: client.Address{TON: 1, NPI: 1, Addr: "99901000003"}, RegisteredDelivery: 1, ShortMessage: []byte("early")})
	if err != nil {
		t.Fatal(err)
	}
	fleet := startTest(t, Config{SMPPAddr: addr, HTTPAddr: "off"})
	rc, err := esme.AwaitReceipt(ctx, id)
	if err != nil || !rc.Delivered() {
		t.Fatalf("receipt %+v, %v: want DELIVRD once the fleet is up", rc, err)
	}
	page, err := fleet.Core().store.List(ctx, smsc.Query{Filter: smsc.Filter{AllNamespaces: true, To: "99901000003"}})
	if err != nil || len(page.Messages) != 1 {
		t.Fatalf("the fleet holds %d messages (%v)", len(page.Messages), err)
	}
}

// TestDocsSplitFleetFiles: the fleet files of docs/fleet.md's "Splitting a
// fleet across servers" load, and every number of theirs keeps the card
// the embedded plan gives it.
func TestDocsSplitFleetFiles(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Splitting a fleet across servers\n")
	if !ok {
		t.Fatal("docs/fleet.md has no splitting section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(sec, -1)
	if len(blocks) != 2 {
		t.Fatalf("%d fleet files in the section, want 2", len(blocks))
	}
	for i, m := range blocks {
		plan, err := fleet.ParsePlan([]byte(m[1]))
		if err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
		dir, err := plan.Directory()
		if err != nil {
			t.Fatal(err)
		}
		for _, rg := range dir.Ranges {
			for _, n := range rg.Range {
				got, _, err1 := dir.Identity(n)
				want, _, err2 := fleet.DefaultDirectory().Identity(n)
				if err1 != nil || err2 != nil || got != want {
					t.Errorf("file %d: %s has card %s, the embedded plan's is %s (%v %v)", i, n, got, want, err1, err2)
				}
			}
		}
	}
}

// FuzzRoutes: routes read from YAML either fail or validate, never panic,
// and an error never shows a route's password.
func FuzzRoutes(f *testing.F) {
	f.Add([]byte("routes:\n  - numbers: [\"99901000000-99901499999\", \"4479*\", \"+99900000001\"]\n    to: smpp://front:s3cretpw@fleet-0:2775\n    binds: 2\n    window: 100\n"))
	f.Add([]byte("routes:\n  - numbers: [\"9-1\"]\n    to: smpps://a:s3cretpw@h:99999\n"))
	f.Add([]byte("routes:\n  - numbers: []\n    to: \"smpp://a:s3cretpw@[::1]:2775?system_type=x\"\n    binds: -1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, _, err := ParseConfig(b)
		if err != nil {
			return
		}
		err = validateRoutes(cfg.Routes)
		if err == nil {
			for _, r := range cfg.Routes {
				if _, _, err := r.routeNumbers(); err != nil {
					t.Fatalf("valid route %+v: numbers %v", r.Numbers, err)
				}
			}
			return
		}
		for _, r := range cfg.Routes {
			if u, perr := url.Parse(r.To); perr == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), ":"+pw+"@") {
					t.Fatalf("error shows the password %q: %v", pw, err)
				}
			}
		}
	})
}
