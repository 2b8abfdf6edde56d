// Package simtest runs simlab inside a Go test, the way net/http/httptest
// runs an HTTP server: the SMSC and the emulated fleet on loopback ports,
// closed when the test ends (NewServer) — or points a test at a simlab
// already running elsewhere, such as a `simlab serve` CI service (Connect,
// FromEnv). A service's CI binds its SMPP client to Server.SMPPAddr and
// scripts phones and reads messages with the helpers here.
//
// Parallel tests on one server each take a namespace (Server.NS): an SMPP
// system_id, a reply address and phone numbers of their own, and API calls
// scoped to what those binds sent and received. The namespaced helpers are
// built on the HTTP API client (simulator/apiclient) alone, so they work
// the same against an in-process and an external server.
package simtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc"
)

// Server is a running simlab for one test: started in-process
// (NewServer) or external (Connect).
type Server struct {
	// SMPPAddr and URL are where to connect: host:port for SMPP, and the
	// HTTP base URL of the APIs (capture and control, /api/v1/…).
	SMPPAddr string
	URL      string
	// Token is the API bearer token an external server needs ("" for
	// none).
	Token string
	srv   *simulator.Server // nil for an external server
}

// Environment variables FromEnv reads: the HTTP base URL and SMPP address
// of an external simlab, and its API token.
const (
	EnvAPI   = "SIMLAB_API"
	EnvSMPP  = "SIMLAB_SMPP"
	EnvToken = "SIMLAB_API_TOKEN"
)

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

// WithSelfSignedHTTPS serves HTTPS with a certificate generated at start;
// Client trusts it.
func WithSelfSignedHTTPS() Option {
	return func(c *simulator.Config) { c.HTTPS.SelfSigned = true }
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
	scheme := "http://"
	if a.HTTPS {
		scheme = "https://"
	}
	return &Server{SMPPAddr: a.SMPP, URL: scheme + a.HTTP, Token: cfg.APIToken, srv: srv}
}

// Remote says where an external simlab answers.
type Remote struct {
	// URL is the HTTP base URL ("http://127.0.0.1:8775"), SMPPAddr the
	// SMSC's host:port, Token the API token if the server needs one.
	URL, SMPPAddr, Token string
	// ReadyTimeout bounds the wait for the server to be ready (default
	// 30 s).
	ReadyTimeout time.Duration
}

// Connect returns the Server for a simlab already running elsewhere — a
// `simlab serve` started by the CI job — once its /healthz says ready: a
// server still starting (503 "starting", or not yet listening) is asked
// again, more slowly each time, until r.ReadyTimeout. The namespaced
// helpers (NS) and API work as with NewServer, and so do Issuer, RP and
// Login (the RP polls); the in-process accessors (Fleet, SMSC, Phone,
// Script) fail the test, Gateway is nil.
func Connect(t testing.TB, r Remote) *Server {
	t.Helper()
	if _, err := apiclient.New(r.URL); err != nil {
		t.Fatalf("simtest: %v", err)
	}
	s := &Server{SMPPAddr: r.SMPPAddr, URL: strings.TrimRight(r.URL, "/"), Token: r.Token}
	wait := r.ReadyTimeout
	if wait <= 0 {
		wait = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := awaitReady(ctx, s.API()); err != nil {
		t.Fatalf("simtest: simlab at %s is not ready after %v: %v", r.URL, wait, err)
	}
	return s
}

// awaitReady polls GET /healthz until it says ok, with a backoff from
// 50 ms doubling to 1 s, until ctx ends; it returns the last answer's
// error then.
func awaitReady(ctx context.Context, api *apiclient.Client) error {
	backoff := 50 * time.Millisecond
	for {
		h, err := api.Health(ctx)
		if err == nil && h.Status == "ok" {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("status %s", h.Status)
		}
		if code := apiclient.StatusCode(err); code != 0 && code != http.StatusServiceUnavailable {
			return err // a wrong URL or token: waiting will not help
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// FromEnv connects to the simlab that $SIMLAB_API (HTTP base URL) and
// $SIMLAB_SMPP (host:port) name, with the token in $SIMLAB_API_TOKEN, when
// $SIMLAB_API is set; otherwise it starts one in-process with opts, as
// NewServer does. Options cannot change an external server: they are
// ignored for it (the test log says so). Tests written this way run alone
// with `go test` and against a shared CI server with the variables set.
func FromEnv(t testing.TB, opts ...Option) *Server {
	t.Helper()
	u := os.Getenv(EnvAPI)
	if u == "" {
		return NewServer(t, opts...)
	}
	if len(opts) > 0 {
		t.Logf("simtest: %d option(s) ignored: the server at %s is external", len(opts), u)
	}
	return Connect(t, Remote{URL: u, SMPPAddr: os.Getenv(EnvSMPP), Token: os.Getenv(EnvToken)})
}

// External reports whether the server runs outside this process.
func (s *Server) External() bool { return s.srv == nil }

// API returns a client of the server's HTTP API, not scoped to a namespace
// (it sees every namespace's messages).
func (s *Server) API() *apiclient.Client {
	return &apiclient.Client{BaseURL: s.URL, Token: s.Token}
}

// inProcess fails the test when the server is external.
func (s *Server) inProcess(t testing.TB, what string) {
	t.Helper()
	if s.srv == nil {
		t.Fatalf("simtest: %s needs an in-process server (NewServer); with an external one, use NS", what)
	}
}

// Fleet returns the emulated fleet, to script phones directly; nil for an
// external server.
func (s *Server) Fleet() *fleet.Fleet {
	if s.srv == nil {
		return nil
	}
	return s.srv.Core().Fleet
}

// SMSC returns the SMSC; nil for an external server.
func (s *Server) SMSC() *smsc.Server {
	if s.srv == nil {
		return nil
	}
	return s.srv.Core().SMSC
}

// Client returns an HTTP client for the APIs.
func (s *Server) Client() *http.Client {
	if s.srv != nil {
		return s.srv.SelfClient()
	}
	return http.DefaultClient
}

// Phone returns a phone, building it if needed; it fails the test on error
// and for an external server.
func (s *Server) Phone(t testing.TB, msisdn string) *fleet.Phone {
	t.Helper()
	s.inProcess(t, "Phone")
	p, err := s.Fleet().Phone(context.Background(), msisdn)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	return p
}

// Answer makes a phone's person give answer to every prompt from now on,
// opening links, as NS.Answer does, in process.
func (s *Server) Answer(t testing.TB, msisdn, answer string) *fleet.Phone {
	t.Helper()
	s.inProcess(t, "Answer")
	p := s.Phone(t, msisdn)
	if err := p.SetBehaviour(person.Always(answer)); err != nil {
		t.Fatalf("simtest: %v", err)
	}
	return p
}

// Next makes a phone's person give answers to the next prompts, once each,
// then answer as before, as NS.Next does, in process.
func (s *Server) Next(t testing.TB, msisdn string, answers ...string) *fleet.Phone {
	t.Helper()
	s.inProcess(t, "Next")
	p := s.Phone(t, msisdn)
	if err := p.QueueAnswers(steps(answers)); err != nil {
		t.Fatalf("simtest: %v", err)
	}
	return p
}

// Script sets the answers a phone's person gives: each answer once, in
// order, and the last one for every prompt after; no answers means
// approve. The person opens links.
//
// Deprecated: Script(t, n, "wrong-pin") reads as "next time" but means
// "always": use Answer (always) and Next (next time, then as before).
func (s *Server) Script(t testing.TB, msisdn string, answers ...string) *fleet.Phone {
	t.Helper()
	s.inProcess(t, "Script")
	b := script(answers)
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

// steps are answers as behaviour steps.
func steps(answers []string) []person.Step {
	out := make([]person.Step, len(answers))
	for i, a := range answers {
		out[i] = person.Step{Answer: a}
	}
	return out
}

// script is the behaviour of a list of answers: each once, the last
// repeated (person.AnswerApprove without answers), links opened.
func script(answers []string) person.Behaviour {
	b := person.Behaviour{Then: person.Step{Answer: person.AnswerApprove}, OpenURLs: true}
	for i, a := range answers {
		if i == len(answers)-1 {
			b.Then = person.Step{Answer: a}
		} else {
			b.Steps = append(b.Steps, person.Step{Answer: a})
		}
	}
	return b
}
