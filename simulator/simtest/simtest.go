// Package simtest runs simlab inside a Go test, the way net/http/httptest
// runs an HTTP server: the SMSC and the emulated fleet on loopback ports,
// closed when the test ends. A service's CI binds its SMPP client to
// Server.SMPPAddr and scripts phones with the helpers here.
package simtest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc"
)

// Server is a running simlab for one test.
type Server struct {
	// SMPPAddr and URL are where to connect: host:port for SMPP, and the
	// HTTP base URL of the APIs (capture and control, /api/v1/…).
	SMPPAddr string
	URL      string
	srv      *simulator.Server
}

// Option changes the server's configuration before it starts.
type Option func(*simulator.Config)

// WithPromptTimeout sets the handsets' default toolkit timeout.
func WithPromptTimeout(d time.Duration) Option {
	return func(c *simulator.Config) { c.PromptTimeout = d }
}

// WithRetryMin sets the SMSC's first retry delay for absent or busy phones.
func WithRetryMin(d time.Duration) Option {
	return func(c *simulator.Config) { c.RetryMin = d }
}

// WithAccounts requires these SMPP accounts.
func WithAccounts(a ...smsc.Account) Option {
	return func(c *simulator.Config) { c.Accounts = a }
}

// NewServer starts simlab on loopback ports and stops it with t.Cleanup.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := simulator.Config{SMPPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := simulator.Start(cfg)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("simtest: shutdown: %v", err)
		}
	})
	a := srv.Addrs()
	return &Server{SMPPAddr: a.SMPP, URL: "http://" + a.HTTP, srv: srv}
}

// Fleet returns the emulated fleet, to script phones directly.
func (s *Server) Fleet() *fleet.Fleet { return s.srv.Core().Fleet }

// SMSC returns the SMSC.
func (s *Server) SMSC() *smsc.Server { return s.srv.Core().SMSC }

// Client returns an HTTP client for the APIs.
func (s *Server) Client() *http.Client { return http.DefaultClient }

// Phone returns a phone, building it if needed; it fails the test on error.
func (s *Server) Phone(t testing.TB, msisdn string) *fleet.Phone {
	t.Helper()
	p, err := s.Fleet().Phone(context.Background(), msisdn)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	return p
}

// Script sets the answers a phone gives, in order, then approve.
func (s *Server) Script(t testing.TB, msisdn string, answers ...string) *fleet.Phone {
	t.Helper()
	b := person.Behaviour{Then: person.Step{Answer: person.AnswerApprove}, OpenURLs: true}
	for _, a := range answers {
		b.Steps = append(b.Steps, person.Step{Answer: a})
	}
	p := s.Phone(t, msisdn)
	if err := p.SetBehaviour(b); err != nil {
		t.Fatalf("simtest: %v", err)
	}
	return p
}

// SendSMS makes phone msisdn send text to the address to (digits, + first
// for an international number), routed like any MO message to the ESME
// that owns the address; it returns the SMSC's id of each part and fails
// the test on error (POST /api/v1/phones/{msisdn}/sms does the same over
// HTTP).
func (s *Server) SendSMS(t testing.TB, msisdn, to, text string) []string {
	t.Helper()
	ids, err := s.Phone(t, msisdn).SendText(context.Background(), to, text)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	return ids
}

// Number returns the index-th magic number of an outcome ("approve",
// "cancel", "ignore", "wrong-pin", … docs/numbers.md), failing the test for
// an unknown one. Give each parallel test its own index.
func Number(t testing.TB, outcome string, index int) string {
	t.Helper()
	n, err := fleet.MagicNumberFor(outcome, index)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	return n
}
