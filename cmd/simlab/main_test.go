package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test re-execute this test binary as the simlab command
// itself (SIMLAB_TEST_MAIN=1), so signal handling and exit codes are tested
// on a real process.
func TestMain(m *testing.M) {
	if os.Getenv("SIMLAB_TEST_MAIN") == "1" {
		if os.Getenv(docsAddrsEnv) != "" { // docs_examples_test.go
			os.Exit(runDocsCommand())
		}
		main()
		return
	}
	os.Exit(m.Run())
}

// runCLI runs the CLI in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpAndUsageExitCodes(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "--help")
	if code != exitOK || !strings.Contains(out, "serve") || !strings.Contains(out, "doctor") || !strings.Contains(out, "Exit codes") {
		t.Fatalf("--help: code %d, output lacks subcommands or exit codes:\n%s", code, out)
	}
	for _, args := range [][]string{{"no-such-command"}, {"version", "--no-such-flag"}, {"version", "extra"}, {"serve", "--log-level", "loud"}} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "version", "--json")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version --json is not JSON: %v\n%s", err, out)
	}
	if v.Module != "github.com/simlab-dev/simlab" || !strings.HasPrefix(v.GoVersion, "go") || v.CGO != cgoEnabled {
		t.Errorf("version = %+v", v)
	}
	for _, f := range []string{"pcsc", "usb", "pkcs11"} {
		if _, ok := v.Features[f]; !ok {
			t.Errorf("features lacks %q: %v", f, v.Features)
		}
	}
}

func TestDoctorJSON(t *testing.T) {
	t.Parallel()
	code, out, stderr := runCLI(t, "doctor", "--json")
	if code != exitOK {
		t.Fatalf("doctor exit %d: %s", code, stderr)
	}
	var rep struct {
		Checks []struct{ Area, Name, Status, Fix string }
		CoreOK bool `json:"core_ok"`
		LabOK  bool `json:"lab_ok"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	areas := map[string]bool{}
	for _, c := range rep.Checks {
		areas[c.Area] = true
		if c.Status != "ok" && c.Status != "warn" && c.Status != "missing" {
			t.Errorf("check %s/%s has status %q", c.Area, c.Name, c.Status)
		}
		if c.Status == "missing" && c.Fix == "" {
			t.Errorf("check %s/%s is missing but gives no fix", c.Area, c.Name)
		}
	}
	for _, a := range []string{"core", "pcsc", "usb", "serial", "pkcs11"} {
		if !areas[a] {
			t.Errorf("doctor has no %q checks", a)
		}
	}
	if !rep.CoreOK {
		t.Error("core_ok is false on the test machine")
	}
	// --strict exits 1 exactly when a lab feature is missing.
	code, _, _ = runCLI(t, "doctor", "--strict")
	if want := map[bool]int{true: exitOK, false: exitFailure}[rep.LabOK]; code != want {
		t.Errorf("doctor --strict exit %d, want %d (lab_ok %v)", code, want, rep.LabOK)
	}
}

// TestServeSIGTERM runs `simlab serve` as a real process: /healthz answers
// 200 once it says it is ready, and SIGTERM makes it exit 0 with its ports
// closed and its --cpuprofile written.
func TestServeSIGTERM(t *testing.T) {
	t.Parallel()
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	cmd := exec.Command(os.Args[0], "serve", "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--cpuprofile", prof)
	cmd.Env = append(os.Environ(), "SIMLAB_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var smpp, httpAddr string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "simlab: ready "); ok {
			for _, f := range strings.Fields(rest) {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "smpp":
					smpp = v
				case "http":
					httpAddr = v
				}
			}
			break
		}
	}
	if httpAddr == "" || smpp == "" {
		t.Fatalf("serve never said it was ready (scan err %v)", sc.Err())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	resp, err := http.Get("http://" + httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}
	t.Logf("ready and healthy %v after start", time.Since(start))
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v, want exit 0", err)
	}
	for _, a := range []string{smpp, httpAddr} {
		if c, err := net.Dial("tcp", a); err == nil {
			c.Close()
			t.Errorf("%s still open after exit", a)
		}
	}
	// A pprof profile is gzip-compressed protobuf (magic 1F 8B).
	if b, err := os.ReadFile(prof); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("--cpuprofile %s: %d bytes, %v; want a gzip-compressed profile", prof, len(b), err)
	}
}

// TestServeConfigErrors: a --config with a misspelt key, invalid YAML or no
// file is a usage error, before anything listens.
func TestServeConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(typo, []byte("smpp: 127.0.0.1:0\nsmpp_acounts:\n  - system_id: a\n"), 0o600)
	os.WriteFile(bad, []byte("smpp: [\n"), 0o600)
	for _, f := range []string{typo, bad, filepath.Join(dir, "missing.yaml")} {
		code, _, errb := runCLI(t, "serve", "--config", f, "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0")
		if code != exitUsage {
			t.Errorf("%s: exit %d (%s), want %d", filepath.Base(f), code, errb, exitUsage)
		}
	}
	_, _, errb := runCLI(t, "serve", "--config", typo)
	if !strings.Contains(errb, "smpp_acounts") {
		t.Errorf("the error does not name the unknown key: %s", errb)
	}
}
