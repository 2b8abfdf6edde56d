package simtest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestParallelNamespacesSeeOnlyTheirOwn runs twelve parallel tests on one
// server, each in its own namespace: each leases numbers, pushes
// challenges from its own bind (one phone approves, one is scripted wrong
// PIN then approve), texts one-time codes (one of them long enough to be
// concatenated, some through a foreign ESME, go-smpp) and waits for them,
// and lists its namespace. Every test must get exactly its own answers,
// codes and messages; afterwards the server's whole capture must be the
// disjoint union of what the tests saw. Half the tests reach the server as
// an external one (Connect), through the HTTP API and SMPP only.
func TestParallelNamespacesSeeOnlyTheirOwn(t *testing.T) {
	s := simtest.NewServer(t, simtest.WithPromptTimeout(10*time.Second))
	remote := simtest.Connect(t, simtest.Remote{URL: s.URL, SMPPAddr: s.SMPPAddr})
	const tests = 12
	var (
		mu      sync.Mutex
		seen    = map[string]map[string]bool{} // namespace → message ids
		numbers = map[string]string{}          // leased number → namespace
	)
	t.Run("group", func(t *testing.T) {
		for i := range tests {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				srv := s
				if i%2 == 1 {
					srv = remote
				}
				ns := srv.NS(t)
				ctx := t.Context()
				approve, scripted, texted := ns.Number("approve"), ns.Number(""), ns.Number("")
				mu.Lock()
				for _, n := range []string{approve, scripted, texted} {
					if other, dup := numbers[n]; dup {
						t.Errorf("number %s leased to %s and %s", n, other, ns.Name)
					}
					numbers[n] = ns.Name
				}
				mu.Unlock()

				p := ns.Pusher()
				mt := map[string]bool{} // what this test submitted
				sessions := map[string]int{}
				challenge := func(n, want string) {
					t.Helper()
					res, err := p.Push(ctx, push.Request{MSISDN: n, LoA: authn.LoA3, ClientName: "Bank " + ns.Name, BindingMessage: "Login", Timeout: 20 * time.Second})
					if err != nil {
						t.Fatalf("push to %s: %v", n, err)
					}
					if res.Outcome != want || !res.SignatureValid {
						t.Fatalf("push to %s: %s (%s), signature valid %v; want %s", n, res.Outcome, res.Detail, res.SignatureValid, want)
					}
					mt[res.MessageID] = true
					// The phone's answer leaves before its toolkit session
					// closes; wait for the session's end, so a next
					// challenge does not find the phone busy.
					sessions[n]++
					ns.WaitSessions(ctx, n, sessions[n])
				}
				challenge(approve, "approved")
				ns.Next(scripted, "wrong-pin")
				challenge(scripted, "wrong_pin")
				challenge(scripted, "approved")
				if ph := ns.Phone(scripted); ph.PIN.TriesLeft != 3 || !ph.Scripted {
					t.Errorf("scripted phone after a good PIN: %+v", ph.PIN)
				}

				// One-time codes: two in a row to one number come back in
				// order; a long text is waited for whole.
				codes := []string{fmt.Sprintf("%06d", 100000+i*7919), fmt.Sprintf("%06d", 900000-i*104729%800000)}
				for _, code := range codes {
					ids, err := p.SendText(ctx, texted, "Your Example Bank code is "+code, time.Minute)
					if err != nil {
						t.Fatal(err)
					}
					mt[ids[0]] = true
				}
				if i%3 == 0 { // a foreign ESME in the namespace: go-smpp
					e := newESME(t, s, ns.Name)
					codes = append(codes, fmt.Sprintf("%06d", 424242+i))
					mt[e.submit(t, texted, "code "+codes[2], time.Minute)] = true
				}
				for _, code := range codes {
					if got := ns.WaitOTP(ctx, texted); got != code {
						t.Errorf("code %s, want %s (namespace %s)", got, code, ns.Name)
					}
				}
				long := strings.Repeat(ns.Name+" ", 40)
				ids, err := p.SendText(ctx, texted, long, time.Minute)
				if err != nil || len(ids) < 2 {
					t.Fatalf("long text: %d parts, %v", len(ids), err)
				}
				for _, id := range ids {
					mt[id] = true
				}
				if m := ns.WaitMessage(ctx, texted); m.Body() != long {
					t.Errorf("long text waited for: %q", m.Body())
				}

				// The namespace holds exactly this test's MT and the three
				// answers to its reply address, nothing of the others.
				answers := 0
				got := map[string]bool{}
				for _, m := range ns.Messages(apiclient.Filter{}) {
					got[m.ID] = true
					switch {
					case m.Namespace != ns.Name:
						t.Errorf("message %s of namespace %q listed in %s", m.ID, m.Namespace, ns.Name)
					case m.Direction == "MT" && !mt[m.ID]:
						t.Errorf("MT %s to %s is not this test's", m.ID, m.To)
					case m.Direction == "MO" && (m.To != ns.Source || (m.From != approve && m.From != scripted)):
						t.Errorf("MO %s from %s to %s is not an answer to this test", m.ID, m.From, m.To)
					case m.Direction == "MO":
						answers++
					}
				}
				for id := range mt {
					if !got[id] {
						t.Errorf("MT %s missing from the namespace", id)
					}
				}
				if answers != 3 {
					t.Errorf("%d answers in the namespace, want 3", answers)
				}
				mu.Lock()
				seen[ns.Name] = got
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		return
	}
	// Every message on the server belongs to exactly one test.
	all := map[string]string{}
	for ns, ids := range seen {
		for id := range ids {
			if other, dup := all[id]; dup {
				t.Errorf("message %s seen by %s and %s", id, other, ns)
			}
			all[id] = ns
		}
	}
	list, err := s.API().Messages(context.Background(), apiclient.ListRequest{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Messages) != len(all) || len(seen) != tests {
		t.Errorf("the server holds %d messages, the %d tests saw %d", len(list.Messages), len(seen), len(all))
	}
	for _, m := range list.Messages {
		if all[m.ID] != m.Namespace {
			t.Errorf("message %s (namespace %q) was seen by %q", m.ID, m.Namespace, all[m.ID])
		}
	}
	// The namespaces ended with their tests.
	if left, err := s.API().Namespaces(context.Background()); err != nil || len(left) != 0 {
		t.Errorf("namespaces left after their tests: %+v %v", left, err)
	}
}

// TestNSWithToken: a server that wants an API token gets it from the
// in-process Server and from Connect's Remote.
func TestNSWithToken(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t, func(c *simulator.Config) { c.APIToken = "s3cret-token" })
	remote := simtest.Connect(t, simtest.Remote{URL: s.URL, SMPPAddr: s.SMPPAddr, Token: "s3cret-token"})
	for _, srv := range []*simtest.Server{s, remote} {
		ns := srv.NS(t)
		n := ns.Number("cancel")
		if p := ns.Phone(n); p.Magic != "cancel" {
			t.Errorf("leased %s: %+v", n, p)
		}
	}
	if _, err := (&apiclient.Client{BaseURL: s.URL}).Namespaces(t.Context()); apiclient.StatusCode(err) != http.StatusUnauthorized {
		t.Errorf("namespaces without the token: %v", err)
	}
}
