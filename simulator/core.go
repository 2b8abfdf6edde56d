package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/internal/workers"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
	"github.com/simlab-dev/simlab/smsc/store"
)

func init() { subsystemStarters = append(subsystemStarters, startCore) }

// Core is the heart of `simlab serve`: the SMSC, the emulated fleet routed
// behind it, and their HTTP APIs (capture under /api/v1/messages…, control
// under /api/v1/phones…).
type Core struct {
	SMSC    *smsc.Server
	Fleet   *fleet.Fleet
	Capture *capture.API
	// Sessions is the phones' view of challenge latency (GET
	// /api/v1/metrics/sessions, and in /metrics).
	Sessions *load.SessionLatency
	store    smsc.Store
	routes   *router
	closer   func() error
	lab      io.Closer
	workers  *workers.Pool // the phones' proactive sessions
	serving  atomic.Bool
	done     chan struct{} // closed when Serve has returned; serveErr is its error
	serveErr error
}

// Core returns the running core subsystem.
func (s *Server) Core() *Core {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
		if c, ok := sub.(*Core); ok {
			return c
		}
	}
	return nil
}

func startCore(s *Server, cfg Config) (Subsystem, error) {
	c := &Core{Sessions: &load.SessionLatency{}}
	if cfg.DataDir != "" {
		st, err := store.Open(filepath.Join(cfg.DataDir, "smsc"), store.Options{Repair: cfg.Repair, Logger: cfg.Logger})
		if errors.Is(err, store.ErrDamaged) {
			return nil, fmt.Errorf("serve: message store: %w; start with --repair to move it aside and keep what can still be read", err)
		}
		if err != nil {
			return nil, fmt.Errorf("serve: message store: %w", err)
		}
		c.store, c.closer = st, st.Close
	} else {
		c.store = smsc.NewMemStore(0)
	}
	c.Capture = capture.New(c.store)
	faults := smsc.NewFaults(cfg.Seed)
	c.Capture.Faults = faults
	c.SMSC = &smsc.Server{
		Store:    c.store,
		Accounts: cfg.Accounts,
		Faults:   faults,
		OnEvent:  c.Capture.Publish,
		// No event snapshots while nobody long-polls or streams.
		WantEvents: c.Capture.Subscribed,
		Logger:     cfg.Logger,
		RetryMin:   cfg.RetryMin,
	}
	var plan *fleet.Plan
	if cfg.Fleet != "" {
		var err error
		if plan, err = fleet.LoadPlan(cfg.Fleet); err != nil {
			return nil, fmt.Errorf("serve: --fleet: %w", err)
		}
	}
	c.workers = workers.New(0)
	fl, err := fleet.New(fleet.Config{
		Plan:      plan,
		Go:        c.workers.Go,
		OnSession: func(_, outcome string, d time.Duration) { c.Sessions.Observe(outcome, d) },
		MO: func(ctx context.Context, m *smsc.Message) error {
			_, err := c.SMSC.SubmitMO(ctx, m)
			return err
		},
		PromptTimeout: cfg.PromptTimeout,
	})
	if err != nil {
		return nil, err
	}
	c.Fleet = fl
	if len(cfg.Interactive) > 0 {
		in, out := cfg.InteractiveIn, cfg.InteractiveOut
		if in == nil {
			in = os.Stdin
		}
		if out == nil {
			out = os.Stderr
		}
		human := &person.Interactive{In: in, Out: out, Timeout: cfg.PromptTimeout}
		for _, n := range cfg.Interactive {
			norm, err := fleet.Normalize(n)
			if err != nil {
				return nil, fmt.Errorf("serve: --interactive: %w", err)
			}
			if err := fl.SetInteractive(norm, human.Labelled("+"+norm)); err != nil {
				return nil, err
			}
		}
	}
	c.routes = newRouter(fl) // attached cards and bearers in front of and behind the fleet (routes.go)
	c.SMSC.Router = c.routes
	capHandler := c.Capture.Handler()
	s.Mux().Handle("/api/v1/", capHandler)
	mountControl(s.Mux(), c)
	if err := serveOpenAPI(s.Mux()); err != nil {
		return nil, err
	}
	mountAttach(s.Mux(), c) // attach_http.go
	if ln := s.SMPPListener(); ln != nil {
		if !IsLoopback(ln.Addr().String()) && len(cfg.Accounts) == 0 {
			return nil, fmt.Errorf("serve: SMPP on %s is not loopback: configure accounts (smpp_accounts in --config)", ln.Addr())
		}
		c.serving.Store(true)
		c.done = make(chan struct{})
		go func() {
			err := c.SMSC.Serve(ln)
			// serve closes its listeners before the subsystems shut down.
			if errors.Is(err, smsc.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
				err = nil
			} else if err != nil {
				cfg.Logger.Error("smpp: serve stopped", "err", err)
			}
			c.serving.Store(false)
			c.serveErr = err
			close(c.done)
		}()
	}
	if len(cfg.Lab.Bearers) > 0 || len(cfg.Lab.Attach) > 0 {
		lab, err := c.StartLab(context.Background(), cfg.Lab, cfg.Logger)
		if err != nil {
			_ = c.Shutdown(context.Background())
			return nil, fmt.Errorf("serve: lab: %w", err)
		}
		c.lab = lab
	}
	return c, nil
}

// Name implements Subsystem.
func (c *Core) Name() string { return "smsc+fleet" }

// Ready implements Subsystem.
// While an SMPP listener is open, ready means the SMSC is serving it; a
// store that cannot write (a full disk) is not ready either.
func (c *Core) Ready() bool {
	return c.SMSC != nil && c.Fleet != nil && (c.done == nil || c.serving.Load()) && storeHealthy(c.store)
}

// storeHealthy reports whether st can take messages (smsc.HealthChecker).
func storeHealthy(st smsc.Store) bool {
	h, ok := st.(smsc.HealthChecker)
	return !ok || h.Health() == nil
}

// Shutdown implements Subsystem.
func (c *Core) Shutdown(ctx context.Context) error {
	var err error
	if c.lab != nil {
		err = c.lab.Close()
	}
	c.DetachAll()
	if serr := c.SMSC.Shutdown(ctx); serr != nil && !errors.Is(serr, smsc.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if c.done != nil { // Serve's own error, once it has returned
		select {
		case <-c.done:
			err = errors.Join(err, c.serveErr)
		case <-ctx.Done():
			err = errors.Join(err, ctx.Err())
		}
	}
	if c.closer != nil {
		err = errors.Join(err, c.closer())
	}
	c.workers.Close()
	return err
}
