// Package smsctest runs simlab's real SMSC for tests, the way net/http/httptest
// runs an HTTP server: NewServer(t) starts an smsc.Server on a free loopback
// port together with its capture API, and t.Cleanup shuts both down.
//
//	srv := smsctest.NewServer(t)
//	cl := srv.Dial(t, client.Config{SystemID: "sut"})
//	id, _ := cl.Submit(ctx, msg)
//	m, err := srv.AwaitMessage(ctx, smsc.Filter{AllNamespaces: true, To: "999000001"})
//
// A zero Server is ready to Start. Hooks (OnStored, OnState) see every
// event; the Await helpers wait on a condition signalled by the server's
// events, never by polling with sleeps.
package smsctest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
	"github.com/simlab-dev/simlab/smsc/client"
)

// Server is a running SMSC for a test. Set the configuration fields (all
// optional) before Start; NewServer does both.
type Server struct {
	// SMSC is the server; set its fields (Accounts, Router, Faults,
	// IDFormat, ...) before Start, or leave it nil for the defaults.
	// Its OnEvent is taken over by the test server.
	SMSC *smsc.Server
	// Store defaults to the SMSC's store or a fresh MemStore.
	Store smsc.Store
	// OnStored is called for every message stored (MT and MO).
	OnStored func(*smsc.Message)
	// OnState is called for every state change.
	OnState func(*smsc.Message)

	// Addr is the SMPP listener's host:port (127.0.0.1:N).
	Addr string
	// URL is the capture API's base URL (http://127.0.0.1:N); the API is
	// under URL + "/api/v1".
	URL string
	// Capture is the capture API handler.
	Capture *capture.API

	http *httptest.Server
	lis  net.Listener

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on events while waited on
	waiting atomic.Int32  // Await calls in progress
}

// Option configures a Server before it starts.
type Option func(*Server)

// WithAccounts requires these credentials instead of accepting any bind.
func WithAccounts(accounts ...smsc.Account) Option {
	return func(s *Server) { s.smsc().Accounts = accounts }
}

// WithStore uses st (for example a durable store) instead of a MemStore.
func WithStore(st smsc.Store) Option { return func(s *Server) { s.Store = st } }

// WithRouter routes MT messages with r.
func WithRouter(r smsc.Router) Option { return func(s *Server) { s.smsc().Router = r } }

// WithFaults installs fault injection.
func WithFaults(f *smsc.Faults) Option { return func(s *Server) { s.smsc().Faults = f } }

// WithSMSC configures the smsc.Server before start.
func WithSMSC(f func(*smsc.Server)) Option { return func(s *Server) { f(s.smsc()) } }

func (s *Server) smsc() *smsc.Server {
	if s.SMSC == nil {
		s.SMSC = &smsc.Server{}
	}
	return s.SMSC
}

// NewServer starts an SMSC on loopback for t, shut down by t.Cleanup.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{}
	for _, o := range opts {
		o(s)
	}
	s.Start(t)
	return s
}

// Start starts s; it fails t on error.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	srv := s.smsc()
	if s.Store == nil {
		s.Store = srv.Store
	}
	if s.Store == nil {
		s.Store = smsc.NewMemStore(0)
	}
	srv.Store = s.Store
	s.Capture = &capture.API{Store: s.Store, Faults: srv.Faults}
	s.changed = make(chan struct{})
	srv.OnEvent = s.event
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smsctest: %v", err)
	}
	s.lis = lis
	s.Addr = lis.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	s.http = httptest.NewServer(s.Capture.Handler())
	s.URL = s.http.URL
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("smsctest: shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, smsc.ErrServerClosed) {
			t.Errorf("smsctest: serve: %v", err)
		}
		s.Capture.Close() // end streams and waits still open
		s.http.Close()
	})
}

func (s *Server) event(ev smsc.Event) {
	s.Capture.Publish(ev)
	switch ev.Type {
	case smsc.EventStored:
		if s.OnStored != nil {
			s.OnStored(ev.Message)
		}
	case smsc.EventState:
		if s.OnState != nil {
			s.OnState(ev.Message)
		}
	}
	if s.waiting.Load() == 0 {
		return // nobody waits: keep the hot path free of allocations
	}
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// signal returns the channel closed at the next event.
func (s *Server) signal() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Await waits until cond, evaluated now and after every server event,
// returns true.
func (s *Server) Await(ctx context.Context, cond func() bool) error {
	// Counted before the first check: an event after it closes the
	// channel taken below, one before it is seen by cond.
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	for {
		ch := s.signal()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("smsctest: condition not met: %w", ctx.Err())
		}
	}
}

// AwaitMessage waits for the newest message matching f and returns it.
func (s *Server) AwaitMessage(ctx context.Context, f smsc.Filter) (*smsc.Message, error) {
	var found *smsc.Message
	err := s.Await(ctx, func() bool {
		p, err := s.Store.List(ctx, smsc.Query{Filter: f, Limit: 1})
		if err == nil && len(p.Messages) > 0 {
			found = p.Messages[0]
			return true
		}
		return false
	})
	return found, err
}

// AwaitCount waits until at least n messages match f.
func (s *Server) AwaitCount(ctx context.Context, f smsc.Filter, n int) ([]*smsc.Message, error) {
	var found []*smsc.Message
	err := s.Await(ctx, func() bool {
		found = found[:0]
		q := smsc.Query{Filter: f, Limit: 1000}
		for {
			p, err := s.Store.List(ctx, q)
			if err != nil {
				return false
			}
			found = append(found, p.Messages...)
			if p.Next == "" || len(found) >= n {
				break
			}
			q.Cursor = p.Next
		}
		return len(found) >= n
	})
	return found, err
}

// AwaitState waits until message id is in state st (or any final state
// when st is 0) and returns it.
func (s *Server) AwaitState(ctx context.Context, id string, st smsc.State) (*smsc.Message, error) {
	var found *smsc.Message
	err := s.Await(ctx, func() bool {
		m, err := s.Store.Get(ctx, id)
		if err != nil {
			return false
		}
		found = m
		return m.State == st || st == 0 && m.State.Final()
	})
	return found, err
}

// Dial binds an SMPP client to the server (as transceiver unless cfg
// says otherwise), closed by t.Cleanup. Missing credentials default to
// system_id "test".
func (s *Server) Dial(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	cfg.Addr = s.Addr
	if cfg.SystemID == "" {
		cfg.SystemID = "test"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("smsctest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cl.Close(ctx)
	})
	return cl
}

// Client returns an HTTP client for the capture API (the test server's).
func (s *Server) Client() *http.Client { return s.http.Client() }
