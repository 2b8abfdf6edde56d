package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
	"github.com/simlab-dev/simlab/smsc/store"
)

// TestServeRefusesLongPassword: an SMPP account password over the 8 octets
// SMPP 3.4 carries is refused when the config is read, with the line and
// without the password, before anything listens.
func TestServeRefusesLongPassword(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "simlab.yaml")
	if err := os.WriteFile(cfg, []byte("smpp_accounts:\n  - system_id: sut\n    password: much-too-long\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "serve", "--config", cfg, "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0")
	if code == exitOK || !strings.Contains(stderr, "at most 8") || !strings.Contains(stderr, "line 2") || strings.Contains(stderr, "much-too-long") {
		t.Fatalf("exit %d, stderr %q: want a refusal naming the limit and line 2, not the password", code, stderr)
	}
}

// startLimited starts `simlab serve` (this test binary as the CLI) under
// `ulimit -n files` and returns the process, its addresses and a channel
// of its stderr lines.
func startLimited(t *testing.T, files int, args ...string) (*exec.Cmd, string, string, <-chan string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("ulimit -n in a subprocess: Linux only")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, files)
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, exe, "serve", "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "SIMLAB_TEST_MAIN=1")
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // the test reads only what it waits for
			}
		}
	}()
	var smpp, http string
	for l := range lines {
		if rest, ok := strings.CutPrefix(l, "simlab: ready "); ok {
			for _, f := range strings.Fields(rest) {
				if v, ok := strings.CutPrefix(f, "smpp="); ok {
					smpp = v
				}
				if v, ok := strings.CutPrefix(f, "http="); ok {
					http = v
				}
			}
			return cmd, smpp, http, lines
		}
	}
	t.Fatal("simlab serve exited before its ready line")
	return nil, "", "", nil
}

// awaitLine waits for a stderr line containing s.
func awaitLine(t *testing.T, lines <-chan string, s string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("simlab serve exited before logging %q", s)
			}
			if strings.Contains(l, s) {
				return
			}
		case <-timeout:
			t.Fatalf("no log line with %q in 30 s", s)
		}
	}
}

// smppBind dials addr and binds; it returns the bind_resp status.
func smppBind(t *testing.T, addr string) pdu.Status {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(pdu.Append(nil, pdu.CmdBindTransceiver, 0, 1, &pdu.Bind{SystemID: []byte("after"), Password: []byte("x"), InterfaceVersion: 0x34})); err != nil {
		t.Fatal(err)
	}
	var hb [pdu.HeaderLen]byte
	if _, err := io.ReadFull(c, hb[:]); err != nil {
		t.Fatalf("bind after the flood: %v", err)
	}
	h, _ := pdu.DecodeHeader(hb[:])
	return h.Status
}

// TestSMPPFloodRecovers: a connection flood beyond the process's file
// limit (here ulimit -n 64) made Accept fail with EMFILE, which stopped
// SMPP for good (serve kept running with /healthz 503; smsc serve exited).
// Now the server backs off and, once the flood ends, binds work again and
// /healthz is ok.
func TestSMPPFloodRecovers(t *testing.T) {
	t.Parallel()
	cmd, smpp, httpAddr, lines := startLimited(t, 64)
	var flood []net.Conn
	for range 200 {
		c, err := net.DialTimeout("tcp", smpp, 5*time.Second)
		if err != nil {
			break // the backlog is full: flooded enough
		}
		flood = append(flood, c)
	}
	awaitLine(t, lines, "accept failed, backing off")
	for _, c := range flood {
		c.Close()
	}
	if st := smppBind(t, smpp); st != pdu.StatusOK {
		t.Fatalf("bind after the flood: %v", st)
	}
	resp, err := http.Get("http://" + httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz after the flood: %s", resp.Status)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after the flood, SIGTERM: %v", err)
	}
}

// TestServeDamagedStore: a truncated store file made serve die with a Go
// panic or SIGBUS and exit status 2 (the usage-error code). Now it exits 1
// with a message saying what is wrong and what to do; --repair moves the
// file aside and serves.
func TestServeDamagedStore(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	dir := filepath.Join(data, "smsc")
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*smsc.Message
	for i := range 3000 {
		msgs = append(msgs, &smsc.Message{ID: fmt.Sprint(i), Body: []byte(strings.Repeat("x", 200)), State: smsc.Delivered, SubmitTime: time.Now()})
	}
	if err := st.Append(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
	st.Close()
	path := filepath.Join(dir, store.FileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "serve", "--data", data, "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SIMLAB_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
		t.Fatalf("serve on a truncated store: %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "damaged") || !strings.Contains(string(out), "--repair") || strings.Contains(string(out), "goroutine ") {
		t.Errorf("serve on a truncated store said:\n%s", out)
	}
	cmd, _, _, _ = startLimited(t, 1024, "--data", data, "--repair")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve --repair: %v", err)
	}
	if aside, _ := filepath.Glob(path + ".damaged-*"); len(aside) != 1 {
		t.Errorf("damaged file not moved aside: %v", aside)
	}
}
