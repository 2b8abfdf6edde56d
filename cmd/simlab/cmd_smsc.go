package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
	"github.com/simlab-dev/simlab/smsc/store"
)

func init() { register(newSMSCCmd) }

func newSMSCCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "smsc",
		Short: "Run simlab's SMSC on its own (SMPP server + capture API)",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	c.AddCommand(newSMSCServeCmd(a))
	return c
}

// smscFileConfig is the YAML of `simlab smsc serve --config FILE`.
type smscFileConfig struct {
	SMPP              string         `yaml:"smpp"`
	HTTP              string         `yaml:"http"`
	Data              string         `yaml:"data"`
	SystemID          string         `yaml:"system_id"`
	IDFormat          string         `yaml:"id_format"` // decimal (default) or hex
	ReceiptPerMessage bool           `yaml:"receipt_per_message"`
	Accounts          []smsc.Account `yaml:"accounts"`
	OTPPattern        string         `yaml:"otp_pattern"`
	FaultSeed         uint64         `yaml:"fault_seed"` // seeds fault injection draws (default 0)
	// APIToken, when set, is required as "Authorization: Bearer TOKEN" by
	// the capture API; listening beyond loopback requires one.
	APIToken string `yaml:"api_token"`
	TLS      struct {
		Addr string `yaml:"addr"` // SMPP over TLS listener
		Cert string `yaml:"cert"`
		Key  string `yaml:"key"`
	} `yaml:"tls"`
	Retention struct {
		MaxMessages int           `yaml:"max_messages"`
		MaxAge      time.Duration `yaml:"max_age"`
	} `yaml:"retention"`
}

// smscReady is printed (one JSON line) by `simlab smsc serve --json` once
// both listeners accept connections.
type smscReady struct {
	SMPP    string `json:"smpp"`
	SMPPTLS string `json:"smpp_tls,omitempty"`
	HTTP    string `json:"http"`
	Data    string `json:"data,omitempty"`
}

func newSMSCServeCmd(a *app) *cobra.Command {
	var (
		cfgFile string
		fc      smscFileConfig
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve SMPP and the HTTP capture API until interrupted",
		Long: `Starts the SMSC: an SMPP 3.4 server (default 127.0.0.1:2775) and the HTTP
capture API under /api/v1 (default 127.0.0.1:8775; OpenAPI at
/api/v1/openapi.json, health at /healthz).

Messages are kept in memory unless --data DIR names a directory for the
durable store (bbolt): then every submit is answered only once it is on disk,
and queued messages survive a restart.

On loopback with no accounts configured any credentials bind (a CI
convenience). To listen beyond loopback, configure accounts in --config:

  smpp: 0.0.0.0:2775
  accounts:
    - system_id: sut
      password: secret
      throughput: 500       # submits/s, beyond it ESME_RTHROTTLED
      mo_ranges: ["12345"]  # MO to these numbers goes to this account's binds
  retention: {max_messages: 500000, max_age: 168h}

Flags win over the file.`,
		Example: `  simlab smsc serve
  simlab smsc serve --smpp 127.0.0.1:0 --http 127.0.0.1:0 --json
  simlab smsc serve --data /var/lib/simlab --config smsc.yaml`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := smscFileConfig{}
			if cfgFile != "" {
				if err := readYAMLConfig(cfgFile, &file); err != nil {
					return err
				}
			}
			fl := cmd.Flags()
			if fl.Changed("smpp") || file.SMPP == "" {
				file.SMPP = fc.SMPP
			}
			if fl.Changed("http") || file.HTTP == "" {
				file.HTTP = fc.HTTP
			}
			if fl.Changed("data") {
				file.Data = fc.Data
			}
			return runSMSC(cmd.Context(), a, &file, asJSON)
		},
	}
	fl := c.Flags()
	fl.StringVar(&cfgFile, "config", "", "YAML configuration file (accounts, retention, TLS)")
	fl.StringVar(&fc.SMPP, "smpp", "127.0.0.1:2775", "SMPP listen address")
	fl.StringVar(&fc.HTTP, "http", "127.0.0.1:8775", "HTTP listen address for the capture API (empty: none)")
	fl.StringVar(&fc.Data, "data", "", "directory of the durable message store (default: in memory)")
	fl.BoolVar(&asJSON, "json", false, "print the bound addresses as one JSON line when ready")
	return c
}

func runSMSC(ctx context.Context, a *app, fc *smscFileConfig, asJSON bool) error {
	logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := &smsc.Server{SystemID: fc.SystemID, Accounts: fc.Accounts, ReceiptPerMessage: fc.ReceiptPerMessage, Logger: logger}
	switch fc.IDFormat {
	case "", "decimal":
	case "hex":
		srv.IDFormat = smsc.IDHex
	default:
		return usagef("id_format: want decimal or hex, got %q", fc.IDFormat)
	}
	api := &capture.API{Token: fc.APIToken}
	if api.Token == "" {
		api.Token = os.Getenv(apiTokenEnv)
	}
	if fc.OTPPattern != "" {
		re, err := regexp.Compile(fc.OTPPattern)
		if err != nil {
			return usagef("otp_pattern: %v", err)
		}
		api.OTPPattern = re
	}
	if fc.Data != "" {
		st, err := store.Open(fc.Data, store.Options{MaxMessages: fc.Retention.MaxMessages, MaxAge: fc.Retention.MaxAge})
		if err != nil {
			return err
		}
		defer st.Close()
		srv.Store = st
	} else {
		srv.Store = smsc.NewMemStore(fc.Retention.MaxMessages)
	}
	srv.Faults = smsc.NewFaults(fc.FaultSeed)
	api.Store, api.Faults = srv.Store, srv.Faults
	srv.OnEvent, srv.WantEvents = api.Publish, api.Subscribed

	var cert tls.Certificate
	if fc.TLS.Addr != "" {
		var err error
		if cert, err = tls.LoadX509KeyPair(fc.TLS.Cert, fc.TLS.Key); err != nil {
			return usagef("tls: %v", err)
		}
	}
	// Listen on everything first, so a bad address leaves nothing running.
	var closers []io.Closer
	fail := func(err error) error {
		for _, c := range closers {
			c.Close()
		}
		return err
	}
	lis, err := net.Listen("tcp", fc.SMPP)
	if err != nil {
		return fmt.Errorf("smsc: %w", err)
	}
	closers = append(closers, lis)
	if len(fc.Accounts) == 0 && !lis.Addr().(*net.TCPAddr).IP.IsLoopback() {
		return fail(usagef("SMPP listens beyond loopback (%s): configure accounts in --config (any credentials bind only on loopback)", lis.Addr()))
	}
	var tl, hl net.Listener
	if fc.TLS.Addr != "" {
		if tl, err = net.Listen("tcp", fc.TLS.Addr); err != nil {
			return fail(fmt.Errorf("smsc: tls: %w", err))
		}
		closers = append(closers, tl)
		if len(fc.Accounts) == 0 && !tl.Addr().(*net.TCPAddr).IP.IsLoopback() {
			return fail(usagef("SMPP/TLS listens beyond loopback (%s): configure accounts in --config", tl.Addr()))
		}
	}
	if fc.HTTP != "" {
		if hl, err = net.Listen("tcp", fc.HTTP); err != nil {
			return fail(fmt.Errorf("smsc: http: %w", err))
		}
		closers = append(closers, hl)
		if api.Token == "" && !hl.Addr().(*net.TCPAddr).IP.IsLoopback() {
			return fail(usagef("the capture API listens beyond loopback (%s): set api_token in --config or SIMLAB_API_TOKEN", hl.Addr()))
		}
	}
	ready := smscReady{SMPP: lis.Addr().String(), Data: fc.Data}
	errc := make(chan error, 3)
	go func() { errc <- srv.Serve(lis) }()
	if tl != nil {
		ready.SMPPTLS = tl.Addr().String()
		go func() {
			errc <- srv.Serve(tls.NewListener(tl, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
		}()
	}
	var hs *http.Server
	if hl != nil {
		ready.HTTP = "http://" + hl.Addr().String()
		mux := http.NewServeMux()
		mux.Handle("/api/", api.Handler())
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
		hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		hs.RegisterOnShutdown(api.Close)
		go func() { errc <- hs.Serve(hl) }()
	}
	if asJSON {
		// One line, so scripts can read it with a line reader.
		if err := json.NewEncoder(a.stdout).Encode(ready); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "simlab smsc: SMPP on %s", ready.SMPP)
		if ready.SMPPTLS != "" {
			fmt.Fprintf(a.stdout, ", SMPP/TLS on %s", ready.SMPPTLS)
		}
		if ready.HTTP != "" {
			fmt.Fprintf(a.stdout, ", capture API on %s/api/v1", ready.HTTP)
		}
		fmt.Fprintln(a.stdout)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if hs != nil {
		hs.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if serveErr != nil && !errors.Is(serveErr, smsc.ErrServerClosed) && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}
