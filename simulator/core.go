package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/internal/workers"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/fleet/phonestore"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/trace"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
	"github.com/simlab-dev/simlab/smsc/store"
)

func init() { subsystemStarters = append(subsystemStarters, startCore) }

// Core is the heart of `simlab serve`: the SMSC, the emulated fleet routed
// behind it (none with Config.NoFleet), and their HTTP APIs (capture under /api/v1/messages…, control
// under /api/v1/phones…).
type Core struct {
	SMSC    *smsc.Server
	Fleet   *fleet.Fleet
	Capture *capture.API
	// Sessions is the phones' view of challenge latency (GET
	// /api/v1/metrics/sessions, and in /metrics).
	Sessions *load.SessionLatency
	// Live is the event hub, the people answering "human" phones and the
	// recent challenges (live.go).
	Live     *Live
	store    smsc.Store
	phones   *phonestore.Store // with DataDir: the phones' records, attachments
	routes   *router
	closer   func() error
	lab      io.Closer
	upRoutes io.Closer     // Config.Routes
	workers  *workers.Pool // the phones' proactive sessions
	trace    *trace.Recorder
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
	if err := c.openStore(cfg); err != nil {
		return nil, err
	}
	c.Capture = capture.New(c.store)
	c.Live = newLive(cfg.PromptTimeout) // live.go: the one event hub
	c.Capture.Hub = c.Live.Hub
	if cfg.OTPPattern != "" {
		c.Capture.OTPPattern = regexp.MustCompile(cfg.OTPPattern) // checked by Validate
	}
	faults := smsc.NewFaults(cfg.Seed)
	c.Capture.Faults = faults
	c.SMSC = &smsc.Server{
		SystemID:          cfg.SystemID,
		Store:             c.store,
		Accounts:          cfg.Accounts,
		ReceiptPerMessage: cfg.ReceiptPerMessage,
		Faults:            faults,
		OnEvent:           c.Capture.Publish,
		// No event snapshots while nobody long-polls or streams.
		WantEvents: c.Capture.Subscribed,
		Logger:     cfg.Logger,
		RetryMin:   cfg.RetryMin,
	}
	if cfg.IDFormat == "hex" {
		c.SMSC.IDFormat = smsc.IDHex
	}
	c.Capture.Submit = c.SMSC.Submit // the page's compose
	c.workers = workers.New(0)
	rec, err := startTrace(cfg.Trace, cfg.Logger) // trace.go
	if err != nil {
		c.workers.Close()
		c.closeStore()
		return nil, err
	}
	if c.trace = rec; rec != nil {
		c.SMSC.Tracer = rec
	}
	if !cfg.NoFleet {
		if err := c.startFleet(cfg); err != nil {
			c.workers.Close()
			c.closeStore()
			rec.Close()
			return nil, err
		}
		c.routes = newRouter(c.Fleet) // attached cards and bearers in front of and behind the fleet (routes.go)
		mountControl(s.Mux(), c)
		mountLive(s.Mux(), c) // control_live.go
		// Test namespaces for parallel tests (namespaces.go).
		ns := newNamespaces(c.Fleet, len(cfg.Accounts) > 0)
		ns.forget = c.SMSC.Forget
		ns.addAccount, ns.removeAccount = c.SMSC.AddAccount, c.SMSC.RemoveAccount
		mountNamespaces(s.Mux(), ns)
		s.Metrics().MustRegister(&fleetCollector{fleet: c.Fleet, sessions: c.Sessions})
	} else {
		c.routes = newRouter(nil) // no fleet: attached cards and bearers only, the rest captured
	}
	c.SMSC.Router = c.routes
	s.Metrics().MustRegister(c.SMSC.Collector())
	c.Capture.Mount(s.Mux())
	s.OnHTTPShutdown(c.Capture.Close) // long polls and streams end with the HTTP server
	mountAttach(s.Mux(), c)           // control_attach.go
	var lns []net.Listener
	for _, ln := range []net.Listener{s.SMPPListener(), s.SMPPTLSListener()} {
		if ln != nil {
			lns = append(lns, ln)
		}
	}
	if len(lns) > 0 {
		c.serving.Store(true)
		c.done = make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, ln := range lns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := c.SMSC.Serve(ln)
				// serve closes its listeners before the subsystems shut down.
				if errors.Is(err, smsc.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
					err = nil
				} else if err != nil {
					cfg.Logger.Error("smpp: serve stopped", "listener", ln.Addr().String(), "err", err)
				}
				c.serving.Store(false)
				mu.Lock()
				c.serveErr = errors.Join(c.serveErr, err)
				mu.Unlock()
			}()
		}
		go func() { wg.Wait(); close(c.done) }()
	}
	if len(cfg.Lab.Bearers) > 0 || len(cfg.Lab.Attach) > 0 {
		lab, err := c.StartLab(context.Background(), cfg.Lab, cfg.Logger)
		if err != nil {
			_ = c.Shutdown(context.Background())
			return nil, fmt.Errorf("serve: lab: %w", err)
		}
		c.lab = lab
	}
	if err := c.restoreAttachments(cfg.Logger); err != nil { // attach_keep.go
		_ = c.Shutdown(context.Background())
		return nil, err
	}
	if len(cfg.Routes) > 0 {
		rs, err := c.StartRoutes(context.Background(), cfg.Routes, BearerOptions{ReceiptTimeout: cfg.Lab.ReceiptTimeout, Logger: cfg.Logger})
		if err != nil {
			_ = c.Shutdown(context.Background())
			return nil, err
		}
		c.upRoutes = rs
	}
	return c, nil
}

// openStore opens the message store: durable under DataDir/smsc, or in
// memory. A data directory written by the former `simlab smsc serve`
// (smsc.db directly in it) is opened where it is.
func (c *Core) openStore(cfg Config) error {
	if cfg.DataDir == "" {
		c.store = &smsc.MemStore{MaxMessages: cfg.Retention.MaxMessages, MaxBytes: cfg.Retention.MaxBytes}
		return nil
	}
	dir := filepath.Join(cfg.DataDir, "smsc")
	if _, err := os.Stat(filepath.Join(cfg.DataDir, store.FileName)); err == nil {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			dir = cfg.DataDir
			cfg.Logger.Warn("serve: using the message store of `simlab smsc serve` in the data directory itself", "dir", dir)
		}
	}
	st, err := store.Open(dir, store.Options{MaxMessages: cfg.Retention.MaxMessages, MaxBytes: cfg.Retention.MaxBytes,
		MaxAge: cfg.Retention.MaxAge, Repair: cfg.Repair, Logger: cfg.Logger})
	if errors.Is(err, store.ErrDamaged) {
		return fmt.Errorf("serve: message store: %w; start with --repair to move it aside and keep what can still be read", err)
	}
	if err != nil {
		return fmt.Errorf("serve: message store: %w", err)
	}
	c.store, c.closer = st, st.Close
	// The phones' records and run-time attachments (docs/fleet.md, "What
	// is kept").
	if c.phones, err = phonestore.Open(filepath.Join(cfg.DataDir, "phones"), phonestore.Options{}); err != nil {
		st.Close()
		return fmt.Errorf("serve: phone store: %w", err)
	}
	return nil
}

func (c *Core) closeStore() {
	if c.closer != nil {
		c.closer()
	}
	if c.phones != nil {
		c.phones.Close()
	}
}

// startFleet builds the emulated fleet from the plan (a fleet file or the
// embedded one) and hands its interactive numbers to a terminal person.
func (c *Core) startFleet(cfg Config) error {
	var plan *fleet.Plan
	if cfg.Fleet != "" {
		var err error
		if plan, err = fleet.LoadPlan(cfg.Fleet); err != nil {
			return fmt.Errorf("serve: --fleet: %w", err)
		}
	}
	var kept fleet.Store // nil: in memory
	if c.phones != nil {
		kept = c.phones
	}
	fc := fleet.Config{
		Store:     kept,
		Plan:      plan,
		Go:        c.workers.Go,
		OnSession: func(_, outcome string, d time.Duration) { c.Sessions.Observe(outcome, d) },
		MO: func(ctx context.Context, m *smsc.Message) error {
			_, err := c.SMSC.SubmitMO(ctx, m)
			return err
		},
		PromptTimeout: cfg.PromptTimeout,
		HTTPClient:    linkClient(cfg.httpsRoots),
		Trace:         apduTrace(c.trace),
		MaxTraces:     cfg.Trace.APDUSessions,
	}
	c.Live.wireFleet(&fc) // live.go: events, human prompts, challenges
	fl, err := fleet.New(fc)
	if err != nil {
		return err
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
				return fmt.Errorf("serve: --interactive: %w", err)
			}
			if err := fl.SetInteractive(norm, human.Labelled("+"+norm)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Name implements Subsystem.
// "smsc+fleet", or "smsc" without the fleet.
func (c *Core) Name() string {
	if c.Fleet == nil {
		return "smsc"
	}
	return "smsc+fleet"
}

// Ready implements Subsystem.
// While an SMPP listener is open, ready means the SMSC is serving it; a
// store that cannot write (a full disk) is not ready either.
func (c *Core) Ready() bool {
	return c.SMSC != nil && (c.done == nil || c.serving.Load()) && storeHealthy(c.store)
}

// storeHealthy reports whether st can take messages (smsc.HealthChecker).
func storeHealthy(st smsc.Store) bool {
	h, ok := st.(smsc.HealthChecker)
	return !ok || h.Health() == nil
}

// Shutdown implements Subsystem.
func (c *Core) Shutdown(ctx context.Context) error {
	var err error
	if c.upRoutes != nil {
		err = c.upRoutes.Close()
	}
	if c.lab != nil {
		err = errors.Join(err, c.lab.Close())
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
	if c.phones != nil {
		if c.Fleet != nil {
			err = errors.Join(err, c.Fleet.Flush())
		}
		err = errors.Join(err, c.phones.Close())
	}
	return errors.Join(err, c.trace.Close())
}
