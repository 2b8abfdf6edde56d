package push_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// cliDefaults is what `simlab push` binds with when given no flags: the
// same system_id and source for every run, and an address_range claiming
// the source.
func cliDefaults(addr string) push.Config {
	return push.Config{SMPP: client.Config{Addr: addr, SystemID: "simlab-push", Password: "x", AddressRange: "99955500", NoReconnect: true}}
}

// pushApproved pushes a LoA2 challenge to an approving number and fails
// the test unless it is approved with a valid signature.
func pushApproved(t *testing.T, p *push.Pusher, msisdn string) {
	t.Helper()
	res, err := p.Push(context.Background(), push.Request{MSISDN: msisdn, LoA: authn.LoA2, Timeout: 5 * time.Second})
	if err != nil {
		t.Errorf("push to %s: %v", msisdn, err)
		return
	}
	if res.Outcome != "approved" || !res.SignatureValid {
		t.Errorf("push to %s: outcome %s (%s), signature valid %v; want approved", msisdn, res.Outcome, res.Detail, res.SignatureValid)
	}
}

// TestTwoPushersDefaultFlags is issue #12's second report: two `simlab
// push` runs at once, with the same system_id, source and address_range,
// must each get their own answers.
func TestTwoPushersDefaultFlags(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	ctx := context.Background()
	var ps []*push.Pusher
	for range 2 {
		p, err := push.New(ctx, cliDefaults(s.SMPPAddr))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close(context.Background()) })
		ps = append(ps, p)
	}
	var wg sync.WaitGroup
	for k, p := range ps {
		for i := range 3 {
			wg.Go(func() { pushApproved(t, p, simtest.Number(t, "approve", 9100+10*k+i)) })
		}
	}
	wg.Wait()
}

// TestPushWithAccounts is issue #12's third report: with accounts
// configured, an account that has neither mo_ranges nor default_mo still
// gets the answers to its own challenges.
func TestPushWithAccounts(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t, simtest.WithAccounts(
		smsc.Account{SystemID: "ci", Password: "secret"},
		smsc.Account{SystemID: "other", Password: "other", DefaultMO: true},
	))
	ctx := context.Background()
	// Another account that takes every MO nobody claims is bound too: the
	// answers must still reach the account that asked.
	other, err := client.Dial(ctx, client.Config{Addr: s.SMPPAddr, SystemID: "other", Password: "other", NoReconnect: true,
		OnDeliver: func(d *client.Deliver) uint32 {
			if d.Receipt == nil {
				t.Errorf("account other received an MO from %s", d.Source.Addr)
			}
			return client.StatusOK
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close(context.Background()) })
	p, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "ci", Password: "secret", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	for i := range 2 {
		pushApproved(t, p, simtest.Number(t, "approve", 9200+i))
	}
}

// gate is a person who answers a prompt only when the test says so.
type gate struct {
	prompted chan struct{}
	release  chan struct{}
}

func newGate() *gate { return &gate{prompted: make(chan struct{}, 1), release: make(chan struct{})} }

func (g *gate) Answer(ctx context.Context, p person.Prompt, _ *person.Step) person.Answer {
	select {
	case g.prompted <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
		return person.Answer{Action: person.Confirm}
	case <-ctx.Done():
		return person.Answer{Action: person.Ignore}
	}
}

// TestPushAccountLacks: a bind the account refuses fails at once, saying
// what the account lacks.
func TestPushAccountLacks(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t, simtest.WithAccounts(
		smsc.Account{SystemID: "tx", Password: "pw", BindTypes: smsc.BindTransmitter},
		smsc.Account{SystemID: "one", Password: "pw", MaxBinds: 1},
	))
	ctx := context.Background()
	for _, c := range []struct {
		systemID, password string
		binds              int
		want               string
	}{
		{"tx", "pw", 1, "needs bind_types transceiver"},
		{"one", "pw", 2, "max_binds"},
		// An unknown id and a wrong password look alike (no enumeration).
		{"nobody", "pw", 1, `no account "nobody" with that password`},
		{"one", "wrong", 1, `no account "one" with that password`},
	} {
		p, err := push.New(ctx, push.Config{Binds: c.binds,
			SMPP: client.Config{Addr: s.SMPPAddr, SystemID: c.systemID, Password: c.password, NoReconnect: true}})
		if err == nil {
			p.Close(ctx)
			t.Errorf("%s/%s: bound, want an error", c.systemID, c.password)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s/%s: %v, want it to say %q", c.systemID, c.password, err, c.want)
		}
	}
}

// TestCrashedPusher: a client whose connection drops without unbind (a
// killed `simlab push`) leaves nothing behind that takes later clients'
// answers, though it claimed the same address_range. The answer to its
// last challenge, which comes after it died, goes on by the routing rules
// (here to the later client's bind, which claims the range and ignores an
// answer it did not ask for) and disturbs nothing.
func TestCrashedPusher(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	ctx := context.Background()
	cfg := cliDefaults(s.SMPPAddr)
	cfg.SMPP.SystemID = "crashed"
	var mu sync.Mutex
	var conns []net.Conn
	cfg.SMPP.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		return c, err
	}
	crashed, err := push.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pushApproved(t, crashed, simtest.Number(t, "approve", 9300))
	// A challenge under way when it dies: its phone answers afterwards.
	held := simtest.Number(t, "approve", 9301)
	g := newGate()
	if err := s.Fleet().SetInteractive(held, g); err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		crashed.Push(pctx, push.Request{MSISDN: held, LoA: authn.LoA2, Timeout: 20 * time.Second})
	}()
	<-g.prompted
	mu.Lock()
	for _, c := range conns {
		c.Close() // no unbind
	}
	mu.Unlock()
	stop() // the process is gone: nobody waits for the answer
	<-done
	crashed.Close(ctx)

	later, err := push.New(ctx, cliDefaults(s.SMPPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { later.Close(context.Background()) })
	close(g.release) // the dead client's answer is sent now
	for i := range 3 {
		pushApproved(t, later, simtest.Number(t, "approve", 9310+i))
	}
}
