// Package simulator ties simlab together: the SMSC, the fleet of emulated
// phones, the control and capture APIs, and the devices of a lab bench. Run
// starts all of it as `simlab serve` does.
//
// The files say what each part does:
//
//   - serve.go: listeners, subsystems, start and shutdown;
//   - config.go, config_yaml.go: the one Config, its defaults and checks,
//     and reading it from YAML;
//   - http.go, http_auth.go, http_host.go: the HTTP stack every subsystem
//     shares (JSON errors and bodies, the auth rule and its lockout,
//     session login, the Host check against DNS rebinding, limits);
//     https.go: the listener over TLS (a certificate, or a self-signed one);
//     http_params.go: the query parameters each operation declares;
//   - metrics.go: /metrics;
//   - core.go: the SMSC and fleet subsystem; routes.go, route_upstream.go:
//     where the SMSC sends a message (the fleet, attached cards, bearers,
//     upstream SMSCs for number ranges);
//   - control.go, control_live.go, control_attach.go: the control API
//     (phones, their events and messages, attached readers); live.go: the
//     event hub the web page and the streams watch;
//   - namespaces.go: test namespaces for parallel tests;
//   - attach.go, attach_keep.go, bearer.go, lab.go: real cards in PC/SC
//     readers and real networks (the lab bench);
//   - trace.go: SMPP and APDU traces for Wireshark;
//   - serve_mc.go: the Mobile Connect gateway; logins.go: its recent
//     logins (GET /api/v1/mc/logins, the live hub); serve_web.go: the web
//     page;
//   - openapi.go: the API document.
//
// TestPackageDocNamesEveryFile keeps this list whole.
package simulator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simlab-dev/simlab/internal/connlimit"
)

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
	cfg       Config
	mux       *http.ServeMux
	httpSrv   *http.Server
	httpLn    net.Listener
	smppLn    net.Listener
	smppTLSLn net.Listener // already speaking TLS
	metrics   *prometheus.Registry
	httpStats *httpStats
	auth      *authenticator
	cop       *http.CrossOriginProtection
	hosts     *hostPolicy

	mu     sync.Mutex
	subs   []Subsystem
	public map[string]bool // mux patterns served without credentials
	// onShutdown run when the HTTP server starts shutting down.
	onShutdown []func()
}

// Mux is the HTTP mux subsystems mount their handlers on (/api/v1/…).
// Everything on it is behind the server's one auth rule (http_auth.go):
// a handler never checks credentials itself. HandlePublic mounts what must
// be reachable without them.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// HandlePublic registers h for pattern on the mux, reachable without
// credentials even when an API token is configured (a login page, its
// assets, an OpenID Connect endpoint). Such a pattern is exempt from the
// cross-origin check too: it takes no credentials a foreign page could
// abuse, and a form from another site may post to it (an OIDC authorize
// request).
func (s *Server) HandlePublic(pattern string, h http.Handler) {
	s.handlePublic(pattern, h)
	s.cop.AddInsecureBypassPattern(pattern)
}

// handlePublic registers a public pattern that keeps the cross-origin
// check (the session login).
func (s *Server) handlePublic(pattern string, h http.Handler) {
	s.mu.Lock()
	s.public[pattern] = true
	s.mu.Unlock()
	s.mux.Handle(pattern, h)
}

// Metrics is the Prometheus registry served at /metrics: subsystems
// register their collectors on it.
func (s *Server) Metrics() *prometheus.Registry { return s.metrics }

// Config returns the configuration the server runs with (defaults filled).
func (s *Server) Config() Config { return s.cfg }

// SMPPListener is the SMPP listener, for the SMSC to serve on.
func (s *Server) SMPPListener() net.Listener { return s.smppLn }

// SMPPTLSListener is the SMPP-over-TLS listener (nil without smpp_tls); it
// hands out TLS connections.
func (s *Server) SMPPTLSListener() net.Listener { return s.smppTLSLn }

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
	s := &Server{cfg: cfg, mux: http.NewServeMux(), public: map[string]bool{}, cop: http.NewCrossOriginProtection()}
	s.metrics = newRegistry()
	s.httpStats = newHTTPStats(s.metrics)
	s.auth = newAuthenticator(cfg.APIToken, s.httpStats)
	s.auth.pattern = func(r *http.Request) string { _, p := s.mux.Handler(r); return p }
	s.hosts = newHostPolicy(cfg)
	var cert tls.Certificate
	if cfg.SMPPTLS.Addr != "" {
		var err error
		if cert, err = tls.LoadX509KeyPair(cfg.SMPPTLS.Cert, cfg.SMPPTLS.Key); err != nil {
			return nil, fmt.Errorf("serve: smpp_tls: %w", err)
		}
	}
	var err error
	if cfg.HTTPAddr != "off" {
		refuse, tlsCfg := refuseHTTP, new(*tls.Config)
		if cfg.HTTPS.On() {
			refuse = refuseHTTPS(tlsCfg)
		}
		if s.httpLn, err = s.listen("http", cfg.HTTPAddr, cfg.HTTPLimits.ConnLimits, refuse); err != nil {
			return nil, err
		}
		if cfg.HTTPS.On() {
			// Before any subsystem starts: each sees the scheme it serves.
			ln, tc, roots, err := httpsListener(cfg.HTTPS, s.httpLn)
			if err != nil {
				s.closeListeners()
				return nil, err
			}
			*tlsCfg = tc
			s.httpLn, cfg.httpsRoots, s.cfg.httpsRoots = ln, roots, roots
		}
	}
	if cfg.SMPPAddr != "off" {
		if s.smppLn, err = s.listen("smpp", cfg.SMPPAddr, cfg.SMPPLimits, nil); err != nil {
			s.closeListeners()
			return nil, err
		}
	}
	if cfg.SMPPTLS.Addr != "" {
		ln, err := s.listen("smpp_tls", cfg.SMPPTLS.Addr, cfg.SMPPLimits, nil)
		if err != nil {
			s.closeListeners()
			return nil, err
		}
		s.smppTLSLn = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.mountServerRoutes()
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
	if s.httpLn != nil {
		s.httpSrv = s.newHTTPServer()
		go func() {
			if err := s.httpSrv.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				cfg.Logger.Error("http server stopped", "err", err)
			}
		}()
	}
	a := s.Addrs()
	attrs := []any{"smpp", a.SMPP, "http", a.HTTP}
	if a.SMPPTLS != "" {
		attrs = append(attrs, "smpp_tls", a.SMPPTLS)
	}
	cfg.Logger.Info("simlab serving", attrs...)
	if cfg.Ready != nil {
		cfg.Ready(a)
	}
	return s, nil
}

// ListenError is the error of a listener serve could not open: Name is
// "smpp", "http" or "smpp_tls", so that a caller can name the setting to
// change (an address already in use).
type ListenError struct {
	Name, Addr string
	Err        error
}

func (e *ListenError) Error() string { return fmt.Sprintf("serve: %s listener: %v", e.Name, e.Err) }

func (e *ListenError) Unwrap() error { return e.Err }

// listen opens a TCP listener with the connection caps of lim.
func (s *Server) listen(name, addr string, lim ConnLimits, refuse func(net.Conn, string)) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Name: name, Addr: addr, Err: err}
	}
	return &connlimit.Listener{
		Listener: ln, Max: lim.MaxConns, PerSource: lim.MaxConnsPerSource,
		Refuse:   refuse,
		OnRefuse: func(reason string) { s.httpStats.refused.WithLabelValues(name, reason).Inc() },
		Logger:   s.cfg.Logger,
	}, nil
}

// subsystemStarters build the subsystems of `simlab serve` in order; each
// package that adds one to serve appends its starter in serve_*.go.
var subsystemStarters []func(s *Server, cfg Config) (Subsystem, error)

// Addrs returns the bound listen addresses.
func (s *Server) Addrs() Addrs {
	var a Addrs
	if s.httpLn != nil {
		a.HTTP = s.httpLn.Addr().String()
		a.HTTPS = s.cfg.HTTPS.On()
	}
	if s.smppLn != nil {
		a.SMPP = s.smppLn.Addr().String()
	}
	if s.smppTLSLn != nil {
		a.SMPPTLS = s.smppTLSLn.Addr().String()
	}
	return a
}

func (s *Server) closeListeners() {
	for _, l := range []net.Listener{s.httpLn, s.smppLn, s.smppTLSLn} {
		if l != nil {
			l.Close()
		}
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
