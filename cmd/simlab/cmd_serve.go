package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator"
)

func init() { register(newServeCmd) }

// serveFlags are serve's flags beyond the Config fields they set.
type serveFlags struct {
	configFile, tokenFile, logLevel, logFormat, cpuProfile string
	asJSON                                                 bool
	bearers, attach, interactive                           []string
}

func newServeCmd(a *app) *cobra.Command {
	var (
		sf      serveFlags
		flagCfg simulator.Config
	)
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the SMSC, the emulated fleet and the HTTP API (the main job)",
		Long: `serve runs simlab's main job on loopback by default:
  SMPP on 127.0.0.1:2775, HTTP (API, /healthz, /metrics) on 127.0.0.1:8775,
  everything in memory unless --data DIR is given. --no-fleet runs the SMSC
  without emulated phones (what "simlab smsc serve" was), and so without
  the Mobile Connect gateway.

Settings come from --config FILE (YAML, docs/cli.md), then flags. Listening
beyond loopback requires credentials: an API token of 16 characters or more
(--api-token-file FILE, mode 600, or SIMLAB_API_TOKEN) for HTTP, and
smpp_accounts with passwords of 6 to 8 characters for SMPP. SIGINT or SIGTERM
shuts down gracefully and exits 0.

When every listener is up, serve prints one line on stderr, or with --json
one JSON line on stdout: {"smpp":HOST:PORT,"smpp_tls":…,"http":URL,"data":…}.

serve runs the Go collector with GOGC=200 unless GOGC is set in the
environment (GOGC=100 is Go's default: less memory, more CPU).`,
		Example: `  simlab serve
  simlab serve --smpp 127.0.0.1:0 --http 127.0.0.1:0 --json
  simlab serve --no-fleet --data /var/lib/simlab --config smsc.yaml`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd, a, &sf, &flagCfg)
		},
	}
	f := c.Flags()
	f.StringVar(&sf.configFile, "config", "", "YAML configuration file (docs/cli.md)")
	f.StringVar(&flagCfg.SMPPAddr, "smpp", simulator.DefaultSMPPAddr, `SMPP listen address ("off" to disable)`)
	f.StringVar(&flagCfg.HTTPAddr, "http", simulator.DefaultHTTPAddr, `HTTP listen address for the API, /healthz and /metrics ("off" to disable)`)
	f.StringVar(&flagCfg.DataDir, "data", "", "directory for durable state: SMSC messages; phones' settings, scripts, PIN tries and OTA counters; readers attached over the API (docs/fleet.md \"What is kept\"; default: in memory)")
	f.BoolVar(&flagCfg.Repair, "repair", false, "move a damaged message store in --data aside and start with what can still be read")
	f.BoolVar(&flagCfg.NoFleet, "no-fleet", false, "run the SMSC without emulated phones: messages no bearer takes are captured and reported delivered")
	f.StringVar(&sf.tokenFile, "api-token-file", "", "file holding the API bearer token, mode 600 (required beyond loopback, 16 characters at least)")
	f.DurationVar(&flagCfg.PromptTimeout, "prompt-timeout", 0, "handsets' toolkit timeout for prompts without their own (default 60s)")
	f.StringVar(&flagCfg.Fleet, "fleet", "", "fleet file: number ranges, card profiles, defaults (docs/fleet.md); default: the embedded plan")
	f.StringArrayVar(&sf.interactive, "interactive", nil, "answer this number's prompts yourself at the terminal (repeatable)")
	f.StringArrayVar(&sf.bearers, "bearer", nil, "route numbers outside the plan to a real network: smpp://user:pass@host:port, smpps://…, modem:/dev/ttyUSB2 (repeatable)")
	f.StringVar(&flagCfg.Lab.MODest, "bearer-mo-dest", "", "destination for messages bearers receive that name none")
	f.StringArrayVar(&sf.attach, "attach", nil, `attach the card in a PC/SC reader as a phone: "READER=MSISDN" (repeatable)`)
	f.BoolVar(&sf.asJSON, "json", false, "print the bound addresses as one JSON line on stdout when ready")
	f.StringVar(&flagCfg.Trace.PCAP, "pcap", "", "write every SMPP PDU and every phone's APDU to this pcap file (docs/lab.md)")
	f.StringVar(&flagCfg.Trace.GSMTAP, "gsmtap", "", "send them live: APDUs as GSMTAP to this UDP address (e.g. 127.0.0.1:4729), SMPP as VXLAN to its port 4789")
	f.StringVar(&sf.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&sf.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run, until shutdown, to FILE (go tool pprof -top FILE)")
	f.StringVar(&sf.logFormat, "log-format", "text", "log format: text or json")
	addMCFlags(f, &flagCfg.MobileConnect)
	addHTTPSFlags(f, &flagCfg.HTTPS)
	return c
}

// readyLine is what serve prints with --json once every listener is up:
// SMPP addresses as host:port, HTTP as the API's base URL (as `simlab smsc
// serve` printed it).
type readyLine struct {
	SMPP    string `json:"smpp,omitempty"`
	SMPPTLS string `json:"smpp_tls,omitempty"`
	HTTP    string `json:"http,omitempty"` // http://host:port
	Page    string `json:"page,omitempty"` // the web page, http://host:port/
	API     string `json:"api,omitempty"`  // the HTTP API's base, http://host:port/api/v1/
	Data    string `json:"data,omitempty"`
}

// tryFirst is the command the ready line suggests: a challenge to the
// phone that approves, on the SMSC serve runs, bound as its first account
// when it has accounts (the password is left for the person to type: it is
// a secret). Without a fleet no phone would answer, so it suggests none.
func tryFirst(cfg *simulator.Config, smpp string) string {
	if cfg.NoFleet {
		return "bind your service to " + smpp + " over SMPP (--no-fleet: messages are captured, no phone answers)"
	}
	c := "simlab push --to +99900000001 --loa 3"
	if smpp != simulator.DefaultSMPPAddr {
		c += " --smpp " + smpp
	}
	if len(cfg.Accounts) > 0 {
		c += " --system-id " + cfg.Accounts[0].SystemID + " --password PASSWORD"
	}
	return c
}

func runServe(cmd *cobra.Command, a *app, sf *serveFlags, flagCfg *simulator.Config) error {
	var cfg simulator.Config
	if sf.configFile != "" {
		fc, warnings, err := simulator.LoadConfig(sf.configFile)
		for _, w := range warnings {
			fmt.Fprintf(a.stderr, "simlab: warning: %s\n", w)
		}
		if err != nil {
			return usageError{err}
		}
		cfg = fc
	}
	fl := cmd.Flags()
	for _, name := range []string{"smpp", "http"} {
		if v := fl.Lookup(name).Value; fl.Changed(name) && v.String() == "" {
			// The former smsc serve's way of saying off.
			fmt.Fprintf(a.stderr, "simlab: warning: --%s \"\" is deprecated: use --%s off\n", name, name)
			_ = v.Set("off")
		}
	}
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
	if fl.Changed("no-fleet") {
		cfg.NoFleet = flagCfg.NoFleet
	}
	if fl.Changed("prompt-timeout") {
		cfg.PromptTimeout = flagCfg.PromptTimeout
	}
	if fl.Changed("bearer-mo-dest") {
		cfg.Lab.MODest = flagCfg.Lab.MODest
	}
	if fl.Changed("fleet") {
		cfg.Fleet = flagCfg.Fleet
	}
	if fl.Changed("pcap") {
		cfg.Trace.PCAP = flagCfg.Trace.PCAP
	}
	if fl.Changed("gsmtap") {
		cfg.Trace.GSMTAP = flagCfg.Trace.GSMTAP
	}
	mergeMCFlags(fl, &cfg.MobileConnect, flagCfg.MobileConnect)
	mergeHTTPSFlags(fl, &cfg.HTTPS, flagCfg.HTTPS)
	cfg.Interactive = append(cfg.Interactive, sf.interactive...)
	cfg.InteractiveIn, cfg.InteractiveOut = a.stdin, a.stderr
	cfg.Lab.Bearers = append(cfg.Lab.Bearers, sf.bearers...)
	for _, at := range sf.attach {
		r, err := simulator.ParseAttach(at)
		if err != nil {
			return usageError{err}
		}
		cfg.Lab.Attach = append(cfg.Lab.Attach, r)
	}
	if tok := os.Getenv(apiTokenEnv); tok != "" {
		cfg.APIToken = tok
	}
	if sf.tokenFile != "" {
		tok, err := simulator.ReadTokenFile(sf.tokenFile)
		if err != nil {
			return usageError{err}
		}
		cfg.APIToken = tok
	}
	if err := cfg.WithDefaults().Validate(); err != nil {
		return usageError{err}
	}
	logger, err := newLogger(a, sf.logLevel, sf.logFormat)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	cfg.Ready = func(addrs simulator.Addrs) {
		rl := readyLine{SMPP: addrs.SMPP, SMPPTLS: addrs.SMPPTLS, Data: cfg.DataDir}
		if addrs.HTTP != "" {
			rl.HTTP = "http://" + addrs.HTTP
			if addrs.HTTPS {
				rl.HTTP = "https://" + addrs.HTTP
			}
			rl.Page, rl.API = rl.HTTP+"/", rl.HTTP+"/api/v1/"
		}
		if sf.asJSON {
			// One line, so scripts can read it with a line reader.
			b, _ := json.Marshal(rl)
			fmt.Fprintf(a.stdout, "%s\n", b)
			return
		}
		line := fmt.Sprintf("simlab: ready smpp=%s", orOff(rl.SMPP))
		if rl.SMPPTLS != "" {
			line += " smpp_tls=" + rl.SMPPTLS
		}
		fmt.Fprintf(a.stderr, "%s http=%s\n", line, orOff(addrs.HTTP))
		// What to open and try, for a person: below the line scripts read.
		if rl.HTTP != "" {
			fmt.Fprintf(a.stderr, "  page  %s   (every message, phone and challenge, live)\n", rl.Page)
			fmt.Fprintf(a.stderr, "  api   %s   (%sopenapi.json)\n", rl.API, rl.API)
		}
		if rl.SMPP != "" {
			fmt.Fprintf(a.stderr, "  try   %s\n", tryFirst(&cfg, rl.SMPP))
		}
	}
	stop, err := startCPUProfile(sf.cpuProfile)
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
