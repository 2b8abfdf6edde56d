package simulator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
)

// TestOldConfigsLoad: the example files of both former servers load into
// the one Config, `smsc serve`'s old key names with a warning naming the
// new key.
func TestOldConfigsLoad(t *testing.T) {
	t.Parallel()
	// git checks the files out 0644; they hold secrets (LoadConfig).
	old := private(t, "testdata/config/smsc-serve-old.yaml")
	cfg, warn, err := LoadConfig(old)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"fault_seed" is deprecated, use "seed"`, `"accounts" is deprecated, use "smpp_accounts"`, `"tls" is deprecated, use "smpp_tls"`} {
		if !strings.Contains(strings.Join(warn, "\n"), want) {
			t.Errorf("warnings %q lack %q", warn, want)
		}
	}
	if len(warn) != 3 || !strings.HasPrefix(warn[0], "config "+old+": line ") {
		t.Errorf("warnings %q: want 3, each naming the file and line", warn)
	}
	want := Config{SMPPAddr: "0.0.0.0:2775", HTTPAddr: "127.0.0.1:8775", DataDir: "/var/lib/simlab", IDFormat: "decimal",
		OTPPattern: `(\d{6})`, Seed: 42, APIToken: "change-me",
		SMPPTLS:   TLSListener{Addr: "0.0.0.0:3550", Cert: "smsc.crt", Key: "smsc.key"},
		Retention: Retention{MaxMessages: 500000, MaxAge: 168 * time.Hour}}
	acc := smsc.Account{SystemID: "sut", Password: "secret", Throughput: 500, Window: 50,
		MORanges: []string{"12345", "99900000000-99900009999"}, Namespace: "sut"}
	if len(cfg.Accounts) != 1 || !equalAccount(cfg.Accounts[0], acc) {
		t.Errorf("accounts %+v, want %+v", cfg.Accounts, acc)
	}
	cfg.Accounts = nil
	if !equalConfig(cfg, want) {
		t.Errorf("config\n%+v\nwant\n%+v", cfg, want)
	}
	if err := cfg.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "configure accounts") {
		t.Errorf("SMPP beyond loopback without its accounts: Validate = %v", err)
	}

	cfg, warn, err = LoadConfig(private(t, "testdata/config/serve-old.yaml"))
	if err != nil || len(warn) != 0 {
		t.Fatalf("serve config: %v, warnings %q", err, warn)
	}
	if cfg.PromptTimeout != 30*time.Second || cfg.RetryMin != 2*time.Second || cfg.Seed != 7 || len(cfg.Interactive) != 1 ||
		len(cfg.Accounts) != 1 || !cfg.Accounts[0].DefaultMO || cfg.Accounts[0].Window != 200 ||
		len(cfg.Lab.Bearers) != 2 || cfg.Lab.ReceiptTimeout != 30*time.Second || cfg.Lab.MODest != "99955500" ||
		len(cfg.Lab.Attach) != 1 || cfg.Lab.Attach[0].Reader != "Virtual PCD 00 00" || cfg.ShutdownTimeout != 10*time.Second {
		t.Errorf("serve config %+v", cfg)
	}
	if err := cfg.WithDefaults().Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func equalAccount(a, b smsc.Account) bool {
	return a.SystemID == b.SystemID && a.Password == b.Password && a.Throughput == b.Throughput && a.Window == b.Window &&
		strings.Join(a.MORanges, ",") == strings.Join(b.MORanges, ",") && a.Namespace == b.Namespace
}

func equalConfig(a, b Config) bool {
	return a.SMPPAddr == b.SMPPAddr && a.HTTPAddr == b.HTTPAddr && a.DataDir == b.DataDir && a.IDFormat == b.IDFormat &&
		a.OTPPattern == b.OTPPattern && a.Seed == b.Seed && a.APIToken == b.APIToken && a.SMPPTLS == b.SMPPTLS &&
		a.Retention == b.Retention && a.ReceiptPerMessage == b.ReceiptPerMessage && a.SystemID == b.SystemID
}

// TestConfigErrors: what is wrong in a config file is said in the file's
// terms (key, line, what the value should be), never with Go type names.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"smpp_acounts: []\n", `line 1: unknown key "smpp_acounts"`},
		{"smpp: 127.0.0.1:0\nretention:\n  max_mesages: 5\n", `line 3: unknown key "max_mesages"`},
		{"smpp_accounts:\n  - system_id: a\n    pasword: x\n", `line 3: unknown key "pasword"`},
		{"prompt_timeout: soon\n", `line 1: "soon" is not a duration such as 30s`},
		{"seed: -1\n", `line 1: "-1" is not a whole number`},
		{"no_fleet: perhaps\n", `line 1: "perhaps" is not true or false`},
		{"smpp_accounts: {system_id: a}\n", `line 1: a mapping is not a list`},
		{"retention: 5\n", `line 1: "5" is not a mapping of settings`},
		{"accounts: []\nsmpp_accounts: []\n", `line 2: "smpp_accounts" is set twice (also line 1`},
		{"- a\n- b\n", "line 1: want a mapping of settings"},
		{"smpp: [\n", "did not find expected node content"},
		{"smpp_accounts:\n  - {system_id: a, bind_types: sideways}\n", "unknown bind type"},
	} {
		_, _, err := ParseConfig([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.yaml, err, tc.want)
			continue
		}
		for _, goName := range []string{"simulator.", "smsc.", "time.Duration", "uint64", "[]", "struct"} {
			if strings.Contains(err.Error(), goName) {
				t.Errorf("%q: error %q names a Go type (%s)", tc.yaml, err, goName)
			}
		}
	}
	if cfg, warn, err := ParseConfig([]byte("# nothing\n")); err != nil || len(warn) != 0 || cfg.SMPPAddr != "" {
		t.Errorf("empty config: %+v %q %v", cfg, warn, err)
	}
}

// TestValidateSecrets: beyond loopback, short secrets are refused; a
// password SMPP cannot carry is refused everywhere.
func TestValidateSecrets(t *testing.T) {
	t.Parallel()
	strong := strings.Repeat("k", MinAPITokenLen)
	for _, tc := range []struct {
		cfg  Config
		want string // "" = valid
	}{
		{Config{HTTPAddr: "0.0.0.0:8775", SMPPAddr: "off"}, "set an API token"},
		{Config{HTTPAddr: "0.0.0.0:8775", SMPPAddr: "off", APIToken: "x"}, "the API token has 1 characters, it needs 16"},
		{Config{HTTPAddr: "0.0.0.0:8775", SMPPAddr: "off", APIToken: strong}, ""},
		{Config{HTTPAddr: "127.0.0.1:8775", SMPPAddr: "off", APIToken: "x"}, ""},
		{Config{HTTPAddr: "off", SMPPAddr: "0.0.0.0:2775"}, "configure accounts"},
		{Config{HTTPAddr: "off", SMPPAddr: "0.0.0.0:2775", Accounts: []smsc.Account{{SystemID: "a"}}}, "password has 0 characters, it needs 6"},
		{Config{HTTPAddr: "off", SMPPAddr: "0.0.0.0:2775", Accounts: []smsc.Account{{SystemID: "a", Password: "abcdef"}}}, ""},
		{Config{HTTPAddr: "off", SMPPAddr: "127.0.0.1:2775", Accounts: []smsc.Account{{SystemID: "a", Password: "x"}}}, ""},
		{Config{HTTPAddr: "off", SMPPAddr: "127.0.0.1:2775", Accounts: []smsc.Account{{SystemID: "a", Password: "123456789"}}}, "could never bind"},
		{Config{HTTPAddr: "off", SMPPAddr: "off", SMPPTLS: TLSListener{Addr: "0.0.0.0:3550", Cert: "c", Key: "k"}}, "configure accounts"},
		{Config{HTTPAddr: "off", SMPPAddr: "off", IDFormat: "octal"}, "id_format"},
		{Config{HTTPAddr: "off", SMPPAddr: "off", OTPPattern: "("}, "otp_pattern"},
		{Config{HTTPAddr: "off", SMPPAddr: "off", NoFleet: true, Fleet: "f.yaml"}, "no_fleet"},
		// Review 1, L4: net/http takes a negative timeout as none.
		{Config{HTTPAddr: "off", SMPPAddr: "off", HTTPLimits: HTTPLimits{ReadTimeout: -time.Second}}, "http_limits.read_timeout -1s: want a duration above 0"},
		{Config{HTTPAddr: "off", SMPPAddr: "off", HTTPLimits: HTTPLimits{ReadHeaderTimeout: -1}}, "http_limits.read_header_timeout"},
		{Config{HTTPAddr: "off", SMPPAddr: "off", HTTPLimits: HTTPLimits{IdleTimeout: -time.Hour}}, "http_limits.idle_timeout"},
		// trace.apdu_sessions: -1 keeps none, 0 the default; the error
		// names what is allowed.
		{Config{HTTPAddr: "off", SMPPAddr: "off", Trace: TraceConfig{APDUSessions: -1}}, ""},
		{Config{HTTPAddr: "off", SMPPAddr: "off", Trace: TraceConfig{APDUSessions: MaxAPDUSessions}}, ""},
		{Config{HTTPAddr: "off", SMPPAddr: "off", Trace: TraceConfig{APDUSessions: -2}}, "serve: trace.apdu_sessions -2: want -1 (keep none), 0 or left out (the default, 10000) or a count up to 1000000"},
		{Config{HTTPAddr: "off", SMPPAddr: "off", Trace: TraceConfig{APDUSessions: MaxAPDUSessions + 1}}, "trace.apdu_sessions 1000001: want -1"},
	} {
		err := tc.cfg.WithDefaults().Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: Validate = %v, want %q", tc.cfg, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), strong) || tc.cfg.APIToken == "x" && strings.Contains(err.Error(), `"x"`)) {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}

// private copies a config file into a temporary directory, readable by
// its owner only, and returns the copy's path.
func private(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigFileModes: a config file group or others may read is refused
// when it holds the API token (a token file is), and warned about when it
// holds other secrets; the error and the warning show no secret (review 1,
// L3).
func TestConfigFileModes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		doc     string
		mode    os.FileMode
		err     string
		warning string
	}{
		{"api_token: abcdefghijklmnopq\n", 0o644, "holds api_token and is accessible to group or others (mode 0644)", ""},
		{"api_token: abcdefghijklmnopq\n", 0o660, "mode 0660", ""},
		{"api_token: abcdefghijklmnopq\n", 0o640, map[bool]string{true: "", false: "mode 0640"}[os.Getuid() == 0], ""}, // root's own: group read is fine (secretfile)
		{"smpp_accounts: [{system_id: ci, password: s3cret}]\n", 0o440, "", map[bool]string{true: "", false: "mode 0440"}[os.Getuid() == 0]},
		{"api_token: abcdefghijklmnopq\n", 0o600, "", ""},
		{"smpp_accounts: [{system_id: ci, password: s3cret}]\n", 0o644, "", "holds smpp_accounts passwords and is accessible"},
		{"mobile_connect: {smpp_password: s3cret}\n", 0o604, "", "mobile_connect.smpp_password"},
		{"smpp_accounts: [{system_id: ci, password: s3cret}]\n", 0o600, "", ""},
		{"seed: 7\n", 0o644, "", ""},
	} {
		p := filepath.Join(dir, "c.yaml")
		os.Remove(p)
		if err := os.WriteFile(p, []byte(tc.doc), tc.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, tc.mode) // whatever the umask
		_, warn, err := LoadConfig(p)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q %04o: %v, want an error with %q", tc.doc, tc.mode, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q %04o: %v", tc.doc, tc.mode, err)
		case tc.warning == "" && len(warn) != 0:
			t.Errorf("%q %04o: warnings %q", tc.doc, tc.mode, warn)
		case tc.warning != "" && (len(warn) != 1 || !strings.Contains(warn[0], tc.warning)):
			t.Errorf("%q %04o: warnings %q, want %q", tc.doc, tc.mode, warn, tc.warning)
		}
		if err != nil && strings.Contains(err.Error(), "abcdefghijklmnopq") || strings.Contains(strings.Join(warn, ""), "s3cret") {
			t.Errorf("%q: the error or warning shows the secret", tc.doc)
		}
	}
}

// TestExplicitTimeoutsAbove0: an http_limits timeout written as 0 or
// below is refused with its line (it would turn the timeout off); left
// out, it takes the default (review 1, L4).
func TestExplicitTimeoutsAbove0(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, want string }{
		{"http_limits:\n  read_timeout: 0s\n", "line 2: http_limits.read_timeout: want a duration above 0"},
		{"http_limits:\n  max_conns: 10\n  idle_timeout: -5s\n", "line 3: http_limits.idle_timeout"},
		{"http_limits: {read_header_timeout: 0s}\n", "http_limits.read_header_timeout"},
		{"http_limits:\n  read_timeout: 30s\n", ""},
		{"http_limits: {max_conns: 10}\n", ""},
	} {
		cfg, _, err := ParseConfig([]byte(tc.doc))
		if tc.want == "" {
			if err != nil || cfg.WithDefaults().HTTPLimits.ReadHeaderTimeout != DefaultReadHeaderTimeout {
				t.Errorf("%q: %v", tc.doc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.doc, err, tc.want)
		}
	}
}

// TestReadTokenFile: a token file others may read is refused, like ssh
// refuses such a key.
func TestReadTokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	open := filepath.Join(dir, "open")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(good, []byte("  0123456789abcdef\n"), 0o600)
	os.WriteFile(open, []byte("0123456789abcdef\n"), 0o644)
	os.WriteFile(empty, []byte("\n"), 0o600)
	os.Chmod(open, 0o644) // whatever the umask
	if tok, err := ReadTokenFile(good); err != nil || tok != "0123456789abcdef" {
		t.Errorf("good file: %q %v", tok, err)
	}
	if _, err := ReadTokenFile(open); err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), "0123456789abcdef") {
		t.Errorf("group/others-readable file: %v", err)
	}
	if _, err := ReadTokenFile(empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := ReadTokenFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

// FuzzParseConfig: any bytes give a config or an error, never a panic, and
// no error mentions a Go type.
func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"smsc-serve-old.yaml", "serve-old.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata/config", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("accounts: []\nsmpp_accounts: []\n"))
	f.Add([]byte("retention: {max_age: 1h}\nhttp_limits: {idle_timeout: 1s, max_conns: 3}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, err := ParseConfig(b)
		if err != nil && (strings.Contains(err.Error(), "simulator.") || strings.Contains(err.Error(), "smsc.Account")) {
			t.Errorf("error names a Go type: %v", err)
		}
	})
}
