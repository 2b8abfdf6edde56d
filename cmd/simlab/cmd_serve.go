package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator"
)

func init() { register(newServeCmd) }

func newServeCmd(a *app) *cobra.Command {
	var (
		configFile, tokenFile, logLevel, logFormat, cpuProfile string
		flagCfg                                                simulator.Config
		bearers, attach, interactive                           []string
	)
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the SMSC, the emulated fleet and the HTTP API (the main job)",
		Long: `serve runs simlab's main job on loopback by default:
  SMPP on 127.0.0.1:2775, HTTP (API, /healthz, /metrics) on 127.0.0.1:8775,
  everything in memory unless --data DIR is given.

Settings come from --config FILE (YAML), then flags. Listening beyond loopback
requires an API token (--api-token-file FILE or SIMLAB_API_TOKEN). SIGINT or
SIGTERM shuts down gracefully and exits 0.

serve runs the Go collector with GOGC=200 unless GOGC is set in the
environment (GOGC=100 is Go's default: less memory, more CPU).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg simulator.Config
			if configFile != "" {
				if err := readYAMLConfig(configFile, &cfg); err != nil {
					return err
				}
			}
			fl := cmd.Flags()
			if fl.Changed("smpp") {
				cfg.SMPPAddr = flagCfg.SMPPAddr
			}
			if fl.Changed("http") {
				cfg.HTTPAddr = flagCfg.HTTPAddr
			}
			if fl.Changed("data") {
				cfg.DataDir = flagCfg.DataDir
			}
			cfg.Repair = flagCfg.Repair
			if fl.Changed("prompt-timeout") {
				cfg.PromptTimeout = flagCfg.PromptTimeout
			}
			if fl.Changed("bearer-mo-dest") {
				cfg.Lab.MODest = flagCfg.Lab.MODest
			}
			if fl.Changed("fleet") {
				cfg.Fleet = flagCfg.Fleet
			}
			cfg.Interactive = append(cfg.Interactive, interactive...)
			cfg.InteractiveIn, cfg.InteractiveOut = a.stdin, a.stderr
			cfg.Lab.Bearers = append(cfg.Lab.Bearers, bearers...)
			for _, a := range attach {
				r, err := simulator.ParseAttach(a)
				if err != nil {
					return usageError{err}
				}
				cfg.Lab.Attach = append(cfg.Lab.Attach, r)
			}
			if tok := os.Getenv(apiTokenEnv); tok != "" {
				cfg.APIToken = tok
			}
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return err
				}
				cfg.APIToken = strings.TrimSpace(string(b))
			}
			logger, err := newLogger(a, logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			cfg.Ready = func(addrs simulator.Addrs) {
				fmt.Fprintf(a.stderr, "simlab: ready smpp=%s http=%s\n", orOff(addrs.SMPP), orOff(addrs.HTTP))
			}
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			if os.Getenv("GOGC") == "" {
				// Half the collector's CPU for up to three times the live
				// heap: under load the collector was a seventh of serve's
				// CPU (docs/benchmarks.md (i)). GOGC=100 restores Go's default.
				debug.SetGCPercent(serveGCPercent)
			}
			return simulator.Run(cmd.Context(), cfg)
		},
	}
	f := c.Flags()
	f.StringVar(&configFile, "config", "", "YAML configuration file")
	f.StringVar(&flagCfg.SMPPAddr, "smpp", simulator.DefaultSMPPAddr, `SMPP listen address ("off" to disable)`)
	f.StringVar(&flagCfg.HTTPAddr, "http", simulator.DefaultHTTPAddr, `HTTP listen address for the API, /healthz and /metrics ("off" to disable)`)
	f.StringVar(&flagCfg.DataDir, "data", "", "directory for durable state (default: in memory)")
	f.BoolVar(&flagCfg.Repair, "repair", false, "move a damaged message store in --data aside and start with what can still be read")
	f.StringVar(&tokenFile, "api-token-file", "", "file holding the API bearer token (required beyond loopback)")
	f.DurationVar(&flagCfg.PromptTimeout, "prompt-timeout", 0, "handsets' toolkit timeout for prompts without their own (default 60s)")
	f.StringVar(&flagCfg.Fleet, "fleet", "", "fleet file: number ranges, card profiles, defaults (docs/fleet.md); default: the embedded plan")
	f.StringArrayVar(&interactive, "interactive", nil, "answer this number's prompts yourself at the terminal (repeatable)")
	f.StringArrayVar(&bearers, "bearer", nil, "route numbers outside the plan to a real network: smpp://user:pass@host:port, smpps://…, modem:/dev/ttyUSB2 (repeatable)")
	f.StringVar(&flagCfg.Lab.MODest, "bearer-mo-dest", "", "destination for messages bearers receive that name none")
	f.StringArrayVar(&attach, "attach", nil, `attach the card in a PC/SC reader as a phone: "READER=MSISDN" (repeatable)`)
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run, until shutdown, to FILE (go tool pprof -top FILE)")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	return c
}

func orOff(s string) string {
	if s == "" {
		return "off"
	}
	return s
}

// newLogger builds the operational logger that writes to stderr.
func newLogger(a *app, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

// serveGCPercent is serve's GOGC when the environment sets none.
const serveGCPercent = 200
