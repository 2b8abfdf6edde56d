package simulator

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/simlab-dev/simlab/internal/secretfile"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/smsc"
)

// Default listen addresses (DESIGN.md, "Defaults a newcomer gets").
const (
	DefaultSMPPAddr = "127.0.0.1:2775"
	DefaultHTTPAddr = "127.0.0.1:8775"
)

// Minimum secret lengths for a server that listens beyond loopback: anyone
// on the network can try them. SMPP 3.4 §5.2.2 caps a bind password at 8
// octets, so 6 is as strong as the protocol allows with some room.
const (
	MinAPITokenLen     = 16
	MinSMPPPasswordLen = 6
	MaxSMPPPasswordLen = 8
)

// Config is everything `simlab serve` needs: one type and one YAML schema
// (docs/cli.md) for the whole server, with or without the fleet. The zero
// value plus the defaults of WithDefaults is a working configuration.
type Config struct {
	// SMPPAddr and HTTPAddr are the listen addresses ("" = default;
	// "off" disables the listener).
	SMPPAddr string `yaml:"smpp" json:"smpp"`
	HTTPAddr string `yaml:"http" json:"http"`
	// SMPPTLS adds an SMPP-over-TLS listener.
	SMPPTLS TLSListener `yaml:"smpp_tls" json:"smpp_tls,omitzero"`
	// HTTPS serves the HTTP listener over TLS (https.go).
	HTTPS HTTPS `yaml:"https" json:"https,omitzero"`
	// DataDir makes state durable; empty keeps everything in memory.
	DataDir string `yaml:"data" json:"data,omitempty"`
	// Repair moves a damaged message store in DataDir aside and starts
	// with what can still be read from it (serve --repair).
	Repair bool `yaml:"-" json:"-"`
	// APIToken is required from API clients when set, and must be set
	// (MinAPITokenLen characters at least) when HTTPAddr is not loopback.
	APIToken string `yaml:"api_token" json:"-"`
	// AllowedHosts are the host names, besides localhost, IP addresses,
	// the HTTP listen host and the Mobile Connect issuer's host, that the
	// HTTP listener answers in the Host header; any other is answered 421
	// (DNS rebinding, http_host.go). Needed behind a proxy or a DNS name
	// (a Kubernetes service): "simlab.example.com", "*.example.com" for
	// subdomains, "*" for any (only with an API token).
	AllowedHosts []string `yaml:"allowed_hosts" json:"allowed_hosts,omitempty"`
	// Accounts are the SMPP accounts; with none, any credentials bind on
	// a loopback listener (required beyond loopback).
	Accounts []smsc.Account `yaml:"smpp_accounts" json:"smpp_accounts,omitempty"`
	// SystemID is the SMSC's system_id in bind responses (default
	// "simlab").
	SystemID string `yaml:"system_id" json:"system_id,omitempty"`
	// IDFormat writes message ids in "decimal" (default) or "hex".
	IDFormat string `yaml:"id_format" json:"id_format,omitempty"`
	// ReceiptPerMessage sends one receipt per concatenated message instead
	// of one per part.
	ReceiptPerMessage bool `yaml:"receipt_per_message" json:"receipt_per_message,omitempty"`
	// OTPPattern overrides the capture API's one-time-password pattern
	// (a regular expression; its first group is the code).
	OTPPattern string `yaml:"otp_pattern" json:"otp_pattern,omitempty"`
	// Retention bounds the message store.
	Retention Retention `yaml:"retention" json:"retention,omitzero"`
	// PromptTimeout is the handsets' toolkit timeout when a prompt has no
	// duration of its own (default 60 s).
	PromptTimeout time.Duration `yaml:"prompt_timeout" json:"prompt_timeout,omitempty"`
	// RetryMin is the SMSC's first retry delay for absent or busy phones
	// (default 5 s; it doubles up to a minute).
	RetryMin time.Duration `yaml:"retry_min" json:"retry_min,omitempty"`
	// Seed seeds injected faults and behaviours, for reproducible runs.
	Seed uint64 `yaml:"seed" json:"seed,omitempty"`
	// NoFleet runs the SMSC without emulated phones (what `simlab smsc
	// serve` was): messages to numbers no bearer or attached card takes
	// are captured and reported delivered.
	NoFleet bool `yaml:"no_fleet" json:"no_fleet,omitempty"`
	// Fleet is a fleet file (docs/fleet.md); empty uses the embedded plan.
	Fleet string `yaml:"fleet" json:"fleet,omitempty"`
	// Interactive are numbers whose prompts a human answers at the
	// terminal (InteractiveIn/Out, default stdin and stderr).
	Interactive    []string  `yaml:"interactive" json:"interactive,omitempty"`
	InteractiveIn  io.Reader `yaml:"-" json:"-"`
	InteractiveOut io.Writer `yaml:"-" json:"-"`
	// Lab adds real bearers and cards in readers (docs/lab.md).
	Lab LabConfig `yaml:",inline" json:"lab"`
	// Trace records every SMPP session and every phone's APDUs for
	// Wireshark (docs/lab.md, "Traces"): a pcap file and/or live GSMTAP.
	Trace TraceConfig `yaml:"trace" json:"trace,omitzero"`
	// MobileConnect configures the Mobile Connect gateway at /mc
	// (docs/mobile-connect.md).
	MobileConnect mobileconnect.Config `yaml:"mobile_connect" json:"mobile_connect"`
	// Routes hand number ranges to SMSCs of their own, such as simlab
	// fleet processes behind this one (docs/smsc.md, "Routes").
	Routes []Route `yaml:"routes" json:"routes,omitempty"`
	// HTTPLimits are the HTTP listener's timeouts and connection caps.
	HTTPLimits HTTPLimits `yaml:"http_limits" json:"http_limits,omitzero"`
	// SMPPLimits cap the SMPP listeners' connections.
	SMPPLimits ConnLimits `yaml:"smpp_limits" json:"smpp_limits,omitzero"`

	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger `yaml:"-" json:"-"`
	// Ready, when set, is called once every listener is up, with the
	// addresses actually bound (useful with port 0).
	Ready func(Addrs) `yaml:"-" json:"-"`
	// ShutdownTimeout bounds graceful shutdown (default 5 s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"`

	// httpsRoots trusts the HTTP listener's own certificate; Start sets
	// it when the listener speaks HTTPS, for the phones' link opener.
	httpsRoots *x509.CertPool
}

// TLSListener is an SMPP-over-TLS listener: its address and the PEM
// certificate and key files it presents.
type TLSListener struct {
	Addr string `yaml:"addr" json:"addr,omitempty"`
	Cert string `yaml:"cert" json:"cert,omitempty"`
	Key  string `yaml:"key" json:"key,omitempty"`
}

// Retention bounds the message store: the oldest messages in a final state
// go first beyond MaxMessages (default 500,000) or MaxBytes (default 256
// MiB, smsc.MessageSize); with a durable store, messages older than MaxAge
// are dropped too (default 7 days). Messages still owed delivery or a
// receipt are kept: when they fill a limit, submits get ESME_RMSGQFUL.
type Retention struct {
	MaxMessages int           `yaml:"max_messages" json:"max_messages,omitempty"`
	MaxBytes    int64         `yaml:"max_bytes" json:"max_bytes,omitempty"`
	MaxAge      time.Duration `yaml:"max_age" json:"max_age,omitempty"`
}

// ConnLimits cap a listener's concurrent connections, in all and from one
// source address. A connection beyond a cap is closed at once (HTTP:
// answered 503 first). 0 means the default; a negative value, no cap.
type ConnLimits struct {
	MaxConns          int `yaml:"max_conns" json:"max_conns,omitempty"`
	MaxConnsPerSource int `yaml:"max_conns_per_source" json:"max_conns_per_source,omitempty"`
}

// HTTPLimits are the HTTP server's timeouts (0 = default) and connection
// caps. There is no write timeout: long polls and event streams run for
// minutes.
type HTTPLimits struct {
	ConnLimits `yaml:",inline"`
	// ReadHeaderTimeout bounds reading a request's headers (default 10 s).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" json:"read_header_timeout,omitempty"`
	// ReadTimeout bounds reading a whole request, body included (default
	// 60 s).
	ReadTimeout time.Duration `yaml:"read_timeout" json:"read_timeout,omitempty"`
	// IdleTimeout closes a keep-alive connection idle that long (default
	// 120 s).
	IdleTimeout time.Duration `yaml:"idle_timeout" json:"idle_timeout,omitempty"`
}

// Connection and timeout defaults (docs/cli.md).
const (
	DefaultMaxConns          = 4096
	DefaultMaxConnsPerSource = 512
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

func (l ConnLimits) withDefaults() ConnLimits {
	if l.MaxConns == 0 {
		l.MaxConns = DefaultMaxConns
	}
	if l.MaxConnsPerSource == 0 {
		l.MaxConnsPerSource = DefaultMaxConnsPerSource
	}
	return l
}

// Addrs are the addresses a running server listens on ("" when off).
type Addrs struct {
	SMPP    string `json:"smpp,omitempty"`
	SMPPTLS string `json:"smpp_tls,omitempty"`
	HTTP    string `json:"http,omitempty"`
	// HTTPS is true when the HTTP listener speaks HTTPS.
	HTTPS bool `json:"https,omitempty"`
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
		c.Logger = slog.New(slog.DiscardHandler)
	}
	h := &c.HTTPLimits
	h.ConnLimits = h.withDefaults()
	if h.ReadHeaderTimeout == 0 {
		h.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if h.ReadTimeout == 0 {
		h.ReadTimeout = DefaultReadTimeout
	}
	if h.IdleTimeout == 0 {
		h.IdleTimeout = DefaultIdleTimeout
	}
	c.SMPPLimits = c.SMPPLimits.withDefaults()
	return c
}

// Validate reports configuration errors. Listening beyond loopback needs
// credentials of a minimum strength: an API token of MinAPITokenLen
// characters for HTTP, accounts whose passwords have MinSMPPPasswordLen for
// SMPP. A password longer than SMPP allows could never bind and is refused
// everywhere.
func (c Config) Validate() error {
	var errs []error
	if err := c.HTTPS.validate(); err != nil {
		errs = append(errs, err)
	}
	for _, l := range []struct{ name, addr string }{{"smpp", c.SMPPAddr}, {"http", c.HTTPAddr}, {"smpp_tls", c.SMPPTLS.Addr}} {
		if l.addr == "" || l.addr == "off" {
			continue
		}
		if _, _, err := net.SplitHostPort(l.addr); err != nil {
			return fmt.Errorf("serve: %s address %q: want host:port, such as 127.0.0.1:0, or off", l.name, l.addr)
		}
	}
	if err := c.Trace.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.PromptTimeout < 0 {
		errs = append(errs, fmt.Errorf("serve: prompt_timeout %v: must not be negative", c.PromptTimeout))
	}
	if c.HTTPAddr != "off" && !IsLoopback(c.HTTPAddr) {
		switch n := utf8.RuneCountInString(c.APIToken); {
		case n == 0:
			errs = append(errs, fmt.Errorf("serve: HTTP address %s is not loopback: set an API token (--api-token-file or SIMLAB_API_TOKEN)", c.HTTPAddr))
		case n < MinAPITokenLen:
			errs = append(errs, fmt.Errorf("serve: HTTP address %s is not loopback: the API token has %d characters, it needs %d at least", c.HTTPAddr, n, MinAPITokenLen))
		}
	}
	beyond := false
	for _, a := range []string{c.SMPPAddr, c.SMPPTLS.Addr} {
		if a != "" && a != "off" && !IsLoopback(a) {
			beyond = true
			if len(c.Accounts) == 0 {
				errs = append(errs, fmt.Errorf("serve: SMPP address %s is not loopback: configure accounts (smpp_accounts in --config)", a))
			}
		}
	}
	for i, a := range c.Accounts {
		switch n := len(a.Password); {
		case n > MaxSMPPPasswordLen:
			errs = append(errs, fmt.Errorf("serve: smpp_accounts[%d] (%s): the password has %d octets, SMPP 3.4 carries %d at most, so it could never bind", i, a.SystemID, n, MaxSMPPPasswordLen))
		case beyond && n < MinSMPPPasswordLen:
			errs = append(errs, fmt.Errorf("serve: smpp_accounts[%d] (%s): SMPP listens beyond loopback and the password has %d characters, it needs %d at least", i, a.SystemID, n, MinSMPPPasswordLen))
		}
	}
	if err := validateAllowedHosts(c.AllowedHosts, c.APIToken); err != nil {
		errs = append(errs, err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read_header_timeout", c.HTTPLimits.ReadHeaderTimeout}, {"read_timeout", c.HTTPLimits.ReadTimeout}, {"idle_timeout", c.HTTPLimits.IdleTimeout}} {
		if d.v < 0 {
			// net/http would take it as no timeout at all.
			errs = append(errs, fmt.Errorf("serve: http_limits.%s %v: want a duration above 0 (0 or left out: the default)", d.name, d.v))
		}
	}
	if c.SMPPTLS.Addr != "" && (c.SMPPTLS.Cert == "" || c.SMPPTLS.Key == "") {
		errs = append(errs, errors.New("serve: smpp_tls needs cert and key files"))
	}
	switch c.IDFormat {
	case "", "decimal", "hex":
	default:
		errs = append(errs, fmt.Errorf("serve: id_format: want decimal or hex, got %q", c.IDFormat))
	}
	if c.OTPPattern != "" {
		if _, err := regexp.Compile(c.OTPPattern); err != nil {
			errs = append(errs, fmt.Errorf("serve: otp_pattern: %v", err))
		}
	}
	if c.NoFleet && (c.Fleet != "" || len(c.Interactive) > 0) {
		errs = append(errs, errors.New("serve: no_fleet excludes fleet and interactive"))
	}
	if err := validateRoutes(c.Routes); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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

// ReadTokenFile reads an API token from path (surrounding white space
// dropped). Like ssh with its keys, it refuses a file that group or others
// may read or write (secretfile.Private: a root-owned file its group may
// read is fine, as a Kubernetes Secret volume with fsGroup makes it): the
// token is a password.
func ReadTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("serve: API token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("serve: API token file: %w", err)
	}
	if perm := fi.Mode().Perm(); !secretfile.Private(fi) {
		return "", fmt.Errorf("serve: API token file %s is accessible to group or others (mode %04o): %s", path, perm, secretfile.Advice)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("serve: API token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("serve: API token file %s is empty", path)
	}
	return tok, nil
}
