package simtest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

// DefaultWait bounds the NS waits whose context has no deadline.
const DefaultWait = 30 * time.Second

// NS is one test's namespace on a simlab server (Server.NS): everything
// the test sends and receives over SMPP is tagged with it, every read
// through it sees only that, and the phone numbers it leases are nobody
// else's. Parallel tests (t.Parallel) — in one process or in several
// sharing an external server — each take their own and cannot see each
// other's traffic.
//
// The path of a namespaced test: its SMPP clients bind with system_id
// Name and address_range Source (NS.SMPP gives both), so what they submit
// is captured in namespace Name, and the phones' answers to Source are
// delivered to those binds and captured in Name too; WaitOTP, WaitMessage
// and Messages read namespace Name only.
//
// Its methods fail the test on error; call them from the test's goroutine.
type NS struct {
	// Name is the namespace and the system_id to bind with.
	Name string
	// Source is the reply address reserved for the namespace: send
	// challenges and texts from it; phones answer to it.
	Source string
	// SMPPAddr is the SMSC's host:port.
	SMPPAddr string
	// API is a client of the server's API scoped to the namespace.
	API *apiclient.Client

	t       testing.TB
	created time.Time // the server's clock

	mu     sync.Mutex
	cursor map[string]time.Time // per number: waits start here (inclusive)
}

// NS creates a fresh namespace for t, named after t.Name(), and deletes it
// when t ends (its numbers go back to the pool; its captured messages
// stay). The server must run its SMSC without configured accounts (the
// default on loopback): a namespace is an SMPP system_id.
func (s *Server) NS(t testing.TB) *NS {
	t.Helper()
	api := s.API()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	ns, err := api.CreateNamespace(ctx, apiclient.NamespaceRequest{Label: t.Name()})
	if apiclient.StatusCode(err) == http.StatusUnauthorized {
		t.Fatalf("simtest: namespace: %v: the server needs its API token ($%s with FromEnv, Remote.Token with Connect)", err, EnvToken)
	}
	if err != nil {
		t.Fatalf("simtest: namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
		defer cancel()
		if _, err := api.DeleteNamespace(ctx, ns.Name); err != nil {
			t.Errorf("simtest: deleting namespace %s: %v", ns.Name, err)
		}
	})
	return &NS{
		Name: ns.Name, Source: ns.Source, SMPPAddr: s.SMPPAddr, API: api.WithNamespace(ns.Name),
		t: t, created: ns.Created, cursor: map[string]time.Time{},
	}
}

// ctx is the context of the calls that do not wait.
func (n *NS) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), DefaultWait)
}

// must makes one API call that does not wait and fails the test on error.
func must[T any](n *NS, call func(context.Context) (T, error)) T {
	n.t.Helper()
	ctx, cancel := n.ctx()
	defer cancel()
	v, err := call(ctx)
	if err != nil {
		n.t.Fatalf("simtest: %v", err)
	}
	return v
}

// waitCtx bounds a wait by DefaultWait when ctx has no deadline.
func waitCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, DefaultWait)
}

// SMPP returns the configuration of simlab's SMPP client (smsc/client) for
// the namespace: system_id Name, address_range Source. A service under
// test binds with the same values. It fails the test when the server was
// connected without an SMPP address ($SIMLAB_SMPP unset beside $SIMLAB_API).
func (n *NS) SMPP() client.Config {
	n.t.Helper()
	if n.SMPPAddr == "" {
		n.t.Fatalf("simtest: no SMPP address for %s: set $%s to its SMSC's host:port beside $%s (Remote.SMPPAddr with Connect)", n.API.BaseURL, EnvSMPP, EnvAPI)
	}
	return client.Config{Addr: n.SMPPAddr, SystemID: n.Name, Password: "simtest", AddressRange: n.Source}
}

// Pusher returns simlab's push client bound in the namespace (challenges
// from Source), closed when the test ends: a stand-in for a push service.
func (n *NS) Pusher() *push.Pusher {
	n.t.Helper()
	ctx, cancel := n.ctx()
	defer cancel()
	p, err := push.New(ctx, push.Config{SMPP: n.SMPP(), Source: n.Source})
	if err != nil {
		n.t.Fatalf("simtest: pusher: %v", err)
	}
	n.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
		defer cancel()
		p.Close(ctx)
	})
	return p
}

// Number leases a phone number of a magic outcome ("approve", "cancel",
// "ignore", "wrong-pin", … docs/numbers.md; "" for an ordinary fleet
// number) to the namespace: no other namespace gets it while the test
// runs, and its phone starts as the plan defines it.
func (n *NS) Number(outcome string) string {
	n.t.Helper()
	return n.Numbers(outcome, 1)[0]
}

// Numbers leases count numbers of an outcome, as Number does.
func (n *NS) Numbers(outcome string, count int) []string {
	n.t.Helper()
	return must(n, func(ctx context.Context) ([]string, error) {
		return n.API.LeaseNumbers(ctx, n.Name, apiclient.LeaseRequest{Outcome: outcome, Count: count})
	})
}

// Answer makes a phone's person give answer to every prompt from now on
// ("always answer", `simlab phone set --answer`), opening links; it
// replaces the phone's script. Answers are docs/api.md's ("Answers").
func (n *NS) Answer(msisdn, answer string) *apiclient.Phone {
	n.t.Helper()
	b := person.Always(answer)
	return n.Update(msisdn, apiclient.PhoneUpdate{Behaviour: &b})
}

// Next makes a phone's person give answers to the next prompts, once each
// and in order, and then answer as before ("next time wrong-pin, then as
// before", `simlab phone set --next`). For "next time A, then always B",
// call Answer(n, B) and then Next(n, A).
func (n *NS) Next(msisdn string, answers ...string) *apiclient.Phone {
	n.t.Helper()
	return n.Update(msisdn, apiclient.PhoneUpdate{Next: steps(answers)})
}

// Script sets the answers a phone's person gives: each answer once, in
// order, and the last one for every prompt after; no answers means
// approve. The person opens links.
//
// Deprecated: Script(n, "wrong-pin") reads as "next time" but means
// "always": use Answer (always) and Next (next time, then as before).
// Script(n, a, b, c) is Answer(n, c) then Next(n, a, b).
func (n *NS) Script(msisdn string, answers ...string) *apiclient.Phone {
	n.t.Helper()
	b := script(answers)
	return n.Update(msisdn, apiclient.PhoneUpdate{Behaviour: &b})
}

// Update changes a phone (PUT /api/v1/phones/{msisdn}).
func (n *NS) Update(msisdn string, u apiclient.PhoneUpdate) *apiclient.Phone {
	n.t.Helper()
	return must(n, func(ctx context.Context) (*apiclient.Phone, error) { return n.API.UpdatePhone(ctx, msisdn, u) })
}

// Phone returns a phone as the control API shows it.
func (n *NS) Phone(msisdn string) *apiclient.Phone {
	n.t.Helper()
	return must(n, func(ctx context.Context) (*apiclient.Phone, error) { return n.API.Phone(ctx, msisdn) })
}

// Events returns a phone's event log, oldest first.
func (n *NS) Events(msisdn string) []apiclient.Event {
	n.t.Helper()
	return must(n, func(ctx context.Context) ([]apiclient.Event, error) { return n.API.PhoneEvents(ctx, msisdn) })
}

// Inbox returns the text SMS a phone received, oldest first.
func (n *NS) Inbox(msisdn string) []apiclient.InboxMessage {
	n.t.Helper()
	return must(n, func(ctx context.Context) ([]apiclient.InboxMessage, error) { return n.API.PhoneInbox(ctx, msisdn) })
}

// WaitEvent returns the first event of the phone, in its log or still to
// come, that match accepts (each event is offered once, oldest first); it
// fails the test when ctx (or DefaultWait, without a deadline) ends first.
// It follows the phone's event stream, so it wakes when the event happens.
func (n *NS) WaitEvent(ctx context.Context, msisdn string, match func(apiclient.Event) bool) apiclient.Event {
	n.t.Helper()
	ctx, cancel := waitCtx(ctx)
	defer cancel()
	// Subscribe first, then read the log: an event in between is in one
	// or both (then skipped the second time by its sequence number).
	st, err := n.API.StreamPhoneEvents(ctx, msisdn)
	if err != nil {
		n.t.Fatalf("simtest: %v", err)
	}
	defer st.Close()
	evs, err := n.API.PhoneEvents(ctx, msisdn)
	if err != nil {
		n.t.Fatalf("simtest: %v", err)
	}
	var last uint64
	for _, e := range evs {
		if match(e) {
			return e
		}
		last = max(last, e.Seq)
	}
	for {
		e, err := st.Next()
		if err != nil {
			if ctx.Err() != nil {
				n.t.Fatalf("simtest: no matching event of %s within the wait", msisdn)
			}
			n.t.Fatalf("simtest: event stream of %s: %v", msisdn, err)
		}
		if e.Seq > last && match(e) {
			return e
		}
	}
}

// WaitSessions waits until the phone has logged count SMS-PP download
// sessions in all (its "session" events): a challenge's answer reaches the
// service a moment before the phone's SIM Toolkit session closes, and a
// next challenge arriving in that moment finds the phone busy (the SMSC
// retries it seconds later), so back-to-back challenges to one phone wait
// for the previous session first.
func (n *NS) WaitSessions(ctx context.Context, msisdn string, count int) {
	n.t.Helper()
	seen := 0
	n.WaitEvent(ctx, msisdn, func(e apiclient.Event) bool {
		if e.Kind == "session" {
			seen++
		}
		return seen >= count
	})
}

// Messages returns the namespace's messages that match f, newest first
// (every page).
func (n *NS) Messages(f apiclient.Filter) []apiclient.Message {
	n.t.Helper()
	ctx, cancel := n.ctx()
	defer cancel()
	var out []apiclient.Message
	req := apiclient.ListRequest{Filter: f, Limit: 1000}
	for {
		page, err := n.API.Messages(ctx, req)
		if err != nil {
			n.t.Fatalf("simtest: %v", err)
		}
		out = append(out, page.Messages...)
		if page.NextCursor == "" {
			return out
		}
		req.Cursor = page.NextCursor
	}
}

// WaitMessage returns the next message to the number in the namespace:
// each call returns the oldest one that an earlier WaitMessage or WaitOTP
// of this NS has not returned, whether it arrived before the call or comes
// later, so a test never races the SMSC. The parts of a concatenated
// message are waited for and returned as one (Message.Body is the whole
// text). It fails the test when ctx (or DefaultWait, without a deadline)
// ends first.
func (n *NS) WaitMessage(ctx context.Context, to string) *apiclient.Message {
	n.t.Helper()
	ctx, cancel := waitCtx(ctx)
	defer cancel()
	m, err := n.API.WaitMessage(ctx, apiclient.Filter{To: to, Since: n.since(to)})
	if err != nil {
		n.failWait("a message", to, err)
	}
	if m, err = n.complete(ctx, to, m); err != nil {
		n.failWait("every part of message "+m.ID, to, err)
	}
	return m
}

// WaitOTP returns the one-time password of the next message to the number
// with a code in it (the server's pattern: 4 to 8 digits), in the order
// WaitMessage gives; messages before it without a code are passed over.
func (n *NS) WaitOTP(ctx context.Context, to string) string {
	n.t.Helper()
	ctx, cancel := waitCtx(ctx)
	defer cancel()
	otp, err := n.API.WaitOTP(ctx, apiclient.OTPRequest{Filter: apiclient.Filter{To: to, Since: n.since(to)}})
	if err != nil {
		n.failWait("a one-time password", to, err)
	}
	m, err := n.API.Message(ctx, otp.MessageID)
	if err == nil {
		_, err = n.complete(ctx, to, m)
	}
	if err != nil {
		n.t.Fatalf("simtest: the message of the code to %s: %v", to, err)
	}
	return otp.OTP
}

func (n *NS) failWait(what, to string, err error) {
	n.t.Helper()
	if apiclient.StatusCode(err) == http.StatusRequestTimeout || errors.Is(err, context.DeadlineExceeded) {
		n.t.Fatalf("simtest: no %s to %s in namespace %s within the wait", what, to, n.Name)
	}
	n.t.Fatalf("simtest: waiting for %s to %s: %v", what, to, err)
}

// since is where the next wait for a number starts.
func (n *NS) since(to string) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.cursor[strings.TrimPrefix(to, "+")]; ok {
		return c
	}
	return n.created
}

// complete waits until every part of m is there when m is a part of a
// concatenated message, moves the number's cursor past the last of them
// (past m for a single message) and returns m decoded with its full text.
func (n *NS) complete(ctx context.Context, to string, m *apiclient.Message) (*apiclient.Message, error) {
	last := m.SubmitTime
	if m.Concat != nil {
		seen := m.SubmitTime
		for {
			full, err := n.API.Message(ctx, m.ID)
			if err != nil {
				return m, err
			}
			m = full
			if m.FullText != nil && len(m.Parts) == int(m.Concat.Total) {
				break
			}
			// The next message to the number: perhaps a missing part.
			next, err := n.API.WaitMessage(ctx, apiclient.Filter{To: to, Since: seen.Add(time.Nanosecond)})
			if err != nil {
				return m, err
			}
			seen = next.SubmitTime
		}
		for _, p := range m.Parts {
			pm, err := n.API.Message(ctx, p.ID)
			if err != nil {
				return m, err
			}
			if pm.SubmitTime.After(last) {
				last = pm.SubmitTime
			}
		}
	}
	key := strings.TrimPrefix(to, "+")
	n.mu.Lock()
	if c := last.Add(time.Nanosecond); c.After(n.cursor[key]) {
		n.cursor[key] = c
	}
	n.mu.Unlock()
	return m, nil
}
