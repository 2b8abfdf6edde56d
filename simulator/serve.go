// Package simulator ties simlab together: the SMSC, the fleet of emulated
// phones, the control and capture APIs, and the devices of a lab bench. Run
// starts all of it as `simlab serve` does.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/smsc"
)

// Default listen addresses (DESIGN.md, "Defaults a newcomer gets").
const (
	DefaultSMPPAddr = "127.0.0.1:2775"
	DefaultHTTPAddr = "127.0.0.1:8775"
)

// Config is everything `simlab serve` needs. The zero value plus defaults
// from WithDefaults is a working configuration.
type Config struct {
	// SMPPAddr and HTTPAddr are the listen addresses ("" = default;
	// "off" disables the listener).
	SMPPAddr string `yaml:"smpp" json:"smpp"`
	HTTPAddr string `yaml:"http" json:"http"`
	// DataDir makes state durable; empty keeps everything in memory.
	DataDir string `yaml:"data" json:"data,omitempty"`
	// Repair moves a damaged message store in DataDir aside and starts
	// with what can still be read from it (serve --repair).
	Repair bool `yaml:"-" json:"-"`
	// APIToken is required from API clients when HTTPAddr is not loopback.
	APIToken string `yaml:"api_token" json:"-"`
	// Accounts are the SMPP accounts; with none, any credentials bind on
	// a loopback listener (required beyond loopback).
	Accounts []smsc.Account `yaml:"smpp_accounts" json:"smpp_accounts,omitempty"`
	// PromptTimeout is the handsets' toolkit timeout when a prompt has no
	// duration of its own (default 60 s).
	PromptTimeout time.Duration `yaml:"prompt_timeout" json:"prompt_timeout,omitempty"`
	// RetryMin is the SMSC's first retry delay for absent or busy phones
	// (default 5 s; it doubles up to a minute).
	RetryMin time.Duration `yaml:"retry_min" json:"retry_min,omitempty"`
	// Seed seeds injected faults and behaviours, for reproducible runs.
	Seed uint64 `yaml:"seed" json:"seed,omitempty"`
	// Fleet is a fleet file (docs/fleet.md); empty uses the embedded plan.
	Fleet string `yaml:"fleet" json:"fleet,omitempty"`
	// Interactive are numbers whose prompts a human answers at the
	// terminal (InteractiveIn/Out, default stdin and stderr).
	Interactive    []string  `yaml:"interactive" json:"interactive,omitempty"`
	InteractiveIn  io.Reader `yaml:"-" json:"-"`
	InteractiveOut io.Writer `yaml:"-" json:"-"`
	// Lab adds real bearers and cards in readers (docs/lab.md).
	Lab LabConfig `yaml:",inline" json:"lab"`

	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger `yaml:"-" json:"-"`
	// Ready, when set, is called once every listener is up, with the
	// addresses actually bound (useful with port 0).
	Ready func(Addrs) `yaml:"-" json:"-"`
	// ShutdownTimeout bounds graceful shutdown (default 5 s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"`
}

// Addrs are the addresses a running server listens on.
type Addrs struct {
	SMPP string `json:"smpp,omitempty"`
	HTTP string `json:"http,omitempty"`
}

// WithDefaults returns c with empty fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.SMPPAddr == "" {
		c.SMPPAddr = DefaultSMPPAddr
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// Validate reports configuration errors: listening beyond loopback needs
// credentials.
func (c Config) Validate() error {
	if c.HTTPAddr != "off" && !IsLoopback(c.HTTPAddr) && c.APIToken == "" {
		return fmt.Errorf("serve: HTTP address %s is not loopback: set an API token (--api-token-file or SIMLAB_API_TOKEN)", c.HTTPAddr)
	}
	return nil
}

// IsLoopback reports whether the listen address addr (host:port) only
// accepts connections from this machine. An empty host means every
// interface, so it is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Subsystem is one part of the running server (the SMSC, the fleet, the
// HTTP API). Serve runs it until ctx is cancelled or Shutdown is called;
// Ready reports whether it can take work now.
type Subsystem interface {
	Name() string
	Ready() bool
	Shutdown(ctx context.Context) error
}

// Server is a running simlab: its subsystems and its listeners.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	httpSrv *http.Server
	httpLn  net.Listener
	smppLn  net.Listener

	mu   sync.Mutex
	subs []Subsystem
}

// Mux is the HTTP mux subsystems mount their handlers on (/api/v1/…).
func (s *Server) Mux() *http.ServeMux { return s.mux }

// SMPPListener is the SMPP listener, for the SMSC to serve on.
func (s *Server) SMPPListener() net.Listener { return s.smppLn }

// Add registers a subsystem for /healthz and shutdown.
func (s *Server) Add(sub Subsystem) {
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	s.mu.Unlock()
}

// Health is the body of GET /healthz.
type Health struct {
	Status     string          `json:"status"`
	Subsystems map[string]bool `json:"subsystems"`
}

func (s *Server) health() (Health, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := Health{Status: "ok", Subsystems: map[string]bool{}}
	ok := true
	for _, sub := range s.subs {
		r := sub.Ready()
		h.Subsystems[sub.Name()] = r
		ok = ok && r
	}
	if !ok {
		h.Status = "starting"
	}
	return h, ok
}

// Run starts simlab with cfg and blocks until ctx is cancelled, then shuts
// down gracefully: listeners close first, then subsystems drain. It returns
// nil after a clean shutdown.
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	return s.Shutdown(sctx)
}

// Start opens the listeners, starts every subsystem and returns the running
// server. Call Shutdown to stop it.
func Start(cfg Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	var err error
	if cfg.HTTPAddr != "off" {
		if s.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("serve: HTTP listener: %w", err)
		}
	}
	if cfg.SMPPAddr != "off" {
		if s.smppLn, err = net.Listen("tcp", cfg.SMPPAddr); err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("serve: SMPP listener: %w", err)
		}
	}
	for _, start := range subsystemStarters {
		sub, err := start(s, cfg)
		if err != nil {
			_ = s.Shutdown(context.Background())
			return nil, err
		}
		if sub != nil {
			s.Add(sub)
		}
	}
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	if s.httpLn != nil {
		s.httpSrv = &http.Server{Handler: s.authenticate(s.mux), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := s.httpSrv.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				cfg.Logger.Error("http server stopped", "err", err)
			}
		}()
	}
	cfg.Logger.Info("simlab serving", "smpp", s.Addrs().SMPP, "http", s.Addrs().HTTP)
	if cfg.Ready != nil {
		cfg.Ready(s.Addrs())
	}
	return s, nil
}

// subsystemStarters build the subsystems of `simlab serve` in order; each
// package that adds one to serve appends its starter in serve_*.go.
var subsystemStarters []func(s *Server, cfg Config) (Subsystem, error)

// Addrs returns the bound listen addresses.
func (s *Server) Addrs() Addrs {
	var a Addrs
	if s.httpLn != nil {
		a.HTTP = s.httpLn.Addr().String()
	}
	if s.smppLn != nil {
		a.SMPP = s.smppLn.Addr().String()
	}
	return a
}

func (s *Server) closeListeners() {
	if s.httpLn != nil {
		s.httpLn.Close()
	}
	if s.smppLn != nil {
		s.smppLn.Close()
	}
}

// Shutdown stops accepting connections, then shuts every subsystem down in
// reverse order of start, within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.httpSrv != nil {
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("serve: HTTP shutdown: %w", err))
		}
	}
	s.closeListeners()
	s.mu.Lock()
	subs := append([]Subsystem(nil), s.subs...)
	s.mu.Unlock()
	for i := len(subs) - 1; i >= 0; i-- {
		if err := subs[i].Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("serve: %s shutdown: %w", subs[i].Name(), err))
		}
	}
	return errors.Join(errs...)
}
