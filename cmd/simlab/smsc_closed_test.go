package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/testlog"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// startDroppable starts a simlab serve in this process that the test can
// stop while a command waits on it.
func startDroppable(t *testing.T) *simulator.Server {
	t.Helper()
	s, err := simulator.Start(simulator.Config{SMPPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

// awaitMessageTo blocks until the server's capture holds a message to n
// (the capture API's long poll, with since: one already there counts).
func awaitMessageTo(t *testing.T, s *simulator.Server, n string) {
	t.Helper()
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	u := "http://" + s.Addrs().HTTP + "/api/v1/messages/wait?timeout=30s&since=" + since + "&to=" + url.QueryEscape(n)
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("no message to %s: %s", n, resp.Status)
	}
}

type cliResult struct {
	code        int
	out, stderr string
	took        time.Duration
}

func runCLIAsync(t *testing.T, args ...string) <-chan cliResult {
	done := make(chan cliResult, 1)
	go func() {
		start := time.Now()
		var out, errb bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
		done <- cliResult{code, out.String(), errb.String(), time.Since(start)}
	}()
	return done
}

// TestPushNoticesSMSCClosed: the SMSC going away while push waits for an
// answer is exit 1 "the SMSC closed the connection", at once — not a
// timeout outcome with exit 0.
func TestPushNoticesSMSCClosed(t *testing.T) {
	t.Parallel()
	s := startDroppable(t)
	n := "+" + simtest.Number(t, "ignore", 9601)
	done := runCLIAsync(t, append([]string{"push", "--smpp", s.Addrs().SMPP, "--to", n, "--loa", "2", "--timeout", "60s"}, binding()...)...)
	awaitMessageTo(t, s, n)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != exitFailure || !strings.Contains(r.stderr, "the SMSC closed the connection") || strings.Contains(r.out, "timeout") || r.took > 30*time.Second {
		t.Errorf("push with the SMSC gone: exit %d after %v\nstdout %s\nstderr %s", r.code, r.took, r.out, r.stderr)
	}
}

// TestLoadNoticesSMSCClosed: a load run whose SMSC goes away stops at
// once with exit 1 "the SMSC closed the connection", the report of what
// was sent still printed.
func TestLoadNoticesSMSCClosed(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"2", "text"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := startDroppable(t)
			first, last := simtest.Number(t, "ignore", 9610), simtest.Number(t, "ignore", 9619)
			done := runCLIAsync(t, "load", "--smpp", s.Addrs().SMPP, "--system-id", "drop"+kind, "--to", first+"-"+last, "--loa", kind,
				"--rate", "2", "--duration", "60s", "--timeout", "30s", "--binds", "1", "--progress", "never")
			awaitMessageTo(t, s, first)
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.code != exitFailure || !strings.Contains(r.stderr, "the SMSC closed the connection") || !strings.Contains(r.out, "sent") || r.took > 45*time.Second {
				t.Errorf("load --loa %s with the SMSC gone: exit %d after %v\nstdout %s\nstderr %s", kind, r.code, r.took, r.out, r.stderr)
			}
		})
	}
}

// notifyWriter is a testlog.Buffer that signals each write.
type notifyWriter struct {
	testlog.Buffer
	wrote chan struct{}
}

func newNotifyWriter() *notifyWriter { return &notifyWriter{wrote: make(chan struct{}, 1)} }

func (w *notifyWriter) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return n, err
}

// TestWaitingProgress: on no terminal a plain line now and then, each
// with the time left; nothing after stop. On a terminal a spinner redrawn
// on one line and wiped when done.
func TestWaitingProgress(t *testing.T) {
	t.Parallel()
	buf := newNotifyWriter()
	w := &waiting{w: buf, what: "waiting for the answer of +99901000042", limit: time.Minute, every: 5 * time.Millisecond}
	stop := w.start()
	<-buf.wrote
	<-buf.wrote
	stop()
	got := buf.String()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) < 2 {
		t.Errorf("want two lines at least: %q", got)
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "simlab: waiting for the answer of +99901000042: ") || !strings.Contains(line, " so far, ") || !strings.HasSuffix(line, " left") || strings.ContainsAny(line, "\r\x1b") {
			t.Errorf("progress line %q", line)
		}
	}
	tty := newNotifyWriter()
	w = &waiting{w: tty, tty: true, what: "waiting", limit: time.Minute, spin: 5 * time.Millisecond}
	stop = w.start()
	<-tty.wrote
	stop()
	if s := tty.String(); strings.Contains(s, "\n") || !strings.HasPrefix(s, "\r") || !strings.HasSuffix(s, "\r\x1b[K") || !strings.Contains(s, "left") {
		t.Errorf("spinner output %q", s)
	}
	// The default for a CI log: a line every few seconds, not more.
	if d := newWaiting(buf, "x", time.Minute); d.tty || d.every < 2*time.Second {
		t.Errorf("not a terminal: every %v", d.every)
	}
}
