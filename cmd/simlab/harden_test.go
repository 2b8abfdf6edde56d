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

// rssKB reads a process's resident set (VmRSS) and its peak (VmHWM), KiB.
func rssKB(t *testing.T, pid int) (rss, peak int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "VmRSS:" {
			fmt.Sscan(f[1], &rss)
		}
		if len(f) >= 2 && f[0] == "VmHWM:" {
			fmt.Sscan(f[1], &peak)
		}
	}
	return rss, peak
}

// TestPayloadAttackRSS replays the campaign's payload attack on a real
// `simlab serve`: 21 submit_multi of a 64 KiB message_payload to 254
// destinations each (1.4 MB on the wire) took RSS to 341 MB, each
// destination holding its own copy. Now the destinations share one copy
// and the store is bounded in bytes; the test logs the figures
// (docs/reliability.md) and bounds the peak.
func TestPayloadAttackRSS(t *testing.T) {
	t.Parallel()
	cmd, smpp, httpAddr, _ := startLimited(t, 1024)
	pid := cmd.Process.Pid
	rss0, _ := rssKB(t, pid)
	c, err := net.Dial("tcp", smpp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	seq := uint32(0)
	call := func(id pdu.CommandID, body pdu.Body) pdu.Status {
		seq++
		c.SetDeadline(time.Now().Add(60 * time.Second))
		if _, err := c.Write(pdu.Append(nil, id, 0, seq, body)); err != nil {
			t.Fatal(err)
		}
		var hb [pdu.HeaderLen]byte
		if _, err := io.ReadFull(br, hb[:]); err != nil {
			t.Fatal(err)
		}
		h, _ := pdu.DecodeHeader(hb[:])
		br.Discard(int(h.Length) - pdu.HeaderLen)
		return h.Status
	}
	if st := call(pdu.CmdBindTransmitter, &pdu.Bind{SystemID: []byte("attack"), Password: []byte("x"), InterfaceVersion: 0x34}); st != pdu.StatusOK {
		t.Fatal(st)
	}
	payload := pdu.TLVs{{Tag: pdu.TagMessagePayload, Value: make([]byte, 65535)}} // the most a TLV carries
	var dests []pdu.MultiDest
	for i := range 254 {
		dests = append(dests, pdu.MultiDest{Flag: pdu.DestSMEAddress, Addr: pdu.Addr{TON: 1, NPI: 1, Addr: fmt.Appendf(nil, "49151%08d", i)}})
	}
	wire := 0
	for range 21 {
		body := &pdu.SubmitMulti{Source: pdu.Addr{TON: 5, Addr: []byte("Attack")}, Dests: dests, DataCoding: 4, TLVs: payload}
		wire += len(pdu.Append(nil, pdu.CmdSubmitMulti, 0, 0, body))
		if st := call(pdu.CmdSubmitMulti, body); st != pdu.StatusOK {
			t.Fatalf("submit_multi: %v", st)
		}
	}
	rss1, _ := rssKB(t, pid)
	// One listing of a thousand of them (0.7 GB in the campaign).
	resp, err := http.Get("http://" + httpAddr + "/api/v1/messages?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	rss2, peak := rssKB(t, pid)
	t.Logf("RSS %d MB at start; %d MB after %d submit_multi × 254 × 64 KiB (%.1f MB on the wire); %d MB after GET ?limit=1000 (%d MB answered); peak %d MB",
		rss0>>10, rss1>>10, 21, float64(wire)/1e6, rss2>>10, n>>20, peak>>10)
	if peak > rssScale*150<<10 {
		t.Errorf("peak RSS %d MB under the payload attack, want under %d MB", peak>>10, rssScale*150)
	}
}

// TestUnboundFloodRSS replays the campaign's slow flood on a real `simlab
// serve`: 3,000 connections that never bind, each sending 60 KB of a PDU
// announcing 70,000 octets (the campaign: 440 MB of RSS, every connection
// held until the bind timeout). Now a PDU that large before
// bind is refused with a generic_nack and the connection closed, and no
// more than MaxUnbound connections wait unbound; the test logs how many
// were still held and the RSS (docs/reliability.md).
func TestUnboundFloodRSS(t *testing.T) {
	t.Parallel()
	const n = 3000
	cmd, smpp, _, _ := startLimited(t, 8192)
	pid := cmd.Process.Pid
	rss0, _ := rssKB(t, pid)
	partial := make([]byte, 60<<10)
	copy(partial, []byte{0, 1, 0x11, 0x70, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.DialTimeout("tcp", smpp, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
		c.Write(partial)
	}
	// A connection is held if, a second after the last was opened, the
	// server has neither answered nor closed it.
	held := 0
	deadline := time.Now().Add(time.Second)
	for _, c := range conns {
		c.SetReadDeadline(deadline)
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				held++
			}
		}
		deadline = time.Now().Add(time.Millisecond)
	}
	rss1, peak := rssKB(t, pid)
	t.Logf("%d unbound connections with a partial 70 KB PDU: %d held after 1 s; RSS %d MB → %d MB (peak %d MB)", n, held, rss0>>10, rss1>>10, peak>>10)
	if held > 256 {
		t.Errorf("%d unbound connections held, want at most MaxUnbound (256)", held)
	}
	if peak > rssScale*150<<10 {
		t.Errorf("peak RSS %d MB, want under %d MB", peak>>10, rssScale*150)
	}
	// A client on another address binds while the flood's connections
	// are still open (the flood's own address has used its share).
	c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}).Dial("tcp", smpp)
	if err != nil {
		t.Skipf("no 127.0.0.2 to dial from: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(pdu.Append(nil, pdu.CmdBindTransceiver, 0, 1, &pdu.Bind{SystemID: []byte("other"), Password: []byte("x"), InterfaceVersion: 0x34}))
	var hb [pdu.HeaderLen]byte
	if _, err := io.ReadFull(c, hb[:]); err != nil {
		t.Fatalf("bind from another address during the flood: %v", err)
	}
	if h, _ := pdu.DecodeHeader(hb[:]); h.Status != pdu.StatusOK {
		t.Errorf("bind from another address during the flood: %v", h.Status)
	}
}

// TestBindGuessRate measures how many wrong passwords a real `simlab
// serve` with an account answers in 10 s to one client that pipelines
// 20,000 binds per connection and reconnects whenever it is closed (the
// campaign: 20,000 in 0.07 s, then the right password bound on the same
// connection). The figure is logged (docs/reliability.md); TestBindBruteForce
// in smsc checks the schedule exactly in fake time.
func TestBindGuessRate(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "simlab.yaml")
	if err := os.WriteFile(cfg, []byte("smpp_accounts:\n  - system_id: sut\n    password: s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, smpp, _, _ := startLimited(t, 1024, "--config", cfg)
	var burst []byte
	for i := range 20_000 {
		burst = append(burst, pdu.Append(nil, pdu.CmdBindTransmitter, 0, uint32(i+1), &pdu.Bind{SystemID: []byte("sut"), Password: []byte(fmt.Sprintf("%06d", i))})...)
	}
	burst = append(burst, pdu.Append(nil, pdu.CmdBindTransmitter, 0, 20_001, &pdu.Bind{SystemID: []byte("sut"), Password: []byte("s3cret")})...)
	const window = 10 * time.Second
	start := time.Now()
	end := start.Add(window)
	answered, conns, ok := 0, 0, 0
	var last time.Time
	for time.Now().Before(end) && ok == 0 {
		c, err := net.Dial("tcp", smpp)
		if err != nil {
			t.Fatal(err)
		}
		conns++
		go c.Write(burst)
		c.SetReadDeadline(end)
		br := bufio.NewReader(c)
		for {
			var hb [pdu.HeaderLen]byte
			if _, err := io.ReadFull(br, hb[:]); err != nil {
				break
			}
			h, _ := pdu.DecodeHeader(hb[:])
			br.Discard(int(h.Length) - pdu.HeaderLen)
			answered++
			last = time.Now()
			if h.Status == pdu.StatusOK {
				ok++
			}
		}
		c.Close()
	}
	t.Logf("%d binds answered over %d connections in %v, the last after %v (%.1f guesses/s); the right password bound: %v",
		answered, conns, window, last.Sub(start).Round(time.Millisecond), float64(answered)/last.Sub(start).Seconds(), ok > 0)
	if ok != 0 {
		t.Errorf("the right password bound after %d wrong ones", answered-1)
	}
	if answered > 100 {
		t.Errorf("%d guesses answered in %v", answered, window)
	}
}
