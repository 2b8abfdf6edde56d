package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
)

// runLoad runs `simlab load` with args against srv and decodes its --json
// report.
func runLoad(t *testing.T, srv *simtest.Server, args ...string) (*load.Report, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"load", "--smpp", srv.SMPPAddr, "--system-id", "cli-load", "--json"}, args...)
	if code := run(context.Background(), args, nil, &out, &errb); code != 0 {
		t.Fatalf("simlab %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	var rep load.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	return &rep, errb.String()
}

// TestLoadLoA3AgainstFleet pushes 300 LoA3 challenges (200/s for 1.5 s)
// through simlab's SMSC to the emulated fleet over 2 binds: every one is
// accounted for and, the fleet's phones approving, completes approved with
// a verified signature.
func TestLoadLoA3AgainstFleet(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	out := t.TempDir()
	rep, stderr := runLoad(t, srv, "--to", "+99901000000-+99901000499", "--loa", "3", "--rate", "200",
		"--duration", "1.5s", "--binds", "2", "--window", "20", "--timeout", "20s", "--out", out)
	if rep.Sent != 300 || !rep.Accounted() {
		t.Fatalf("sent %d = completed %d + failed %d + timed out %d, want 300 accounted", rep.Sent, rep.Completed, rep.Failed, rep.TimedOut)
	}
	if rep.Completed != 300 || rep.Outcomes["approved"] != 300 {
		t.Errorf("completed %d outcomes %v errors %v, want 300 approved", rep.Completed, rep.Outcomes, rep.Errors)
	}
	if rep.Verified != 300 {
		t.Errorf("%d signatures verified, want all 300", rep.Verified)
	}
	l := rep.Latency
	if l.Count != 300 || !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("latency percentiles %+v", l)
	}
	if rep.SubmitLatency == nil || rep.SubmitLatency.P50 > l.P50 {
		t.Errorf("submit latency %+v against end to end %+v", rep.SubmitLatency, l)
	}
	// stderr is no terminal: at most a plain progress line every few
	// seconds (a CI log), never the live line's \r and escapes.
	for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		if line != "" && (!strings.HasPrefix(line, "simlab load: ") || strings.ContainsAny(line, "\r\x1b")) {
			t.Errorf("stderr is not a terminal but got %q", stderr)
		}
	}
	for _, name := range []string{"report.json", "report.txt", "report.html"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", name, err, len(b))
		}
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !bytes.Contains(html, []byte("<svg")) {
		t.Error("report.html has no plot")
	}
	txt, _ := os.ReadFile(filepath.Join(out, "report.txt"))
	if !bytes.Contains(txt, []byte("challenges sent 300 = completed 300")) || !bytes.Contains(txt, []byte("signatures verified 300 of 300 answers")) {
		t.Errorf("report.txt:\n%s", txt)
	}
}

// TestLoadTextAndOTP: plain texts complete on their receipts; OTPs are read
// back from the capture API and must match; progress is drawn when asked.
func TestLoadTextAndOTP(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	rep, stderr := runLoad(t, srv, "--to", "99901001000-99901001099", "--loa", "text", "--rate", "300",
		"--duration", "1s", "--timeout", "10s", "--progress", "always")
	if rep.Sent != 300 || rep.Outcomes["delivered"] != 300 || rep.ReceiptLatency == nil {
		t.Errorf("text: sent %d outcomes %v errors %v receipt %+v", rep.Sent, rep.Outcomes, rep.Errors, rep.ReceiptLatency)
	}
	if !strings.Contains(stderr, "p50/p99") || !strings.Contains(stderr, "in flight") {
		t.Errorf("--progress always drew nothing: %q", stderr)
	}

	rep, _ = runLoad(t, srv, "--to", "99901002000-99901002049", "--loa", "otp", "--api", srv.URL,
		"--rate", "100", "--duration", "1s", "--timeout", "15s")
	if rep.Sent != 100 || rep.Outcomes["delivered"] != 100 || !rep.Accounted() {
		t.Errorf("otp: sent %d outcomes %v errors %v timed out %d", rep.Sent, rep.Outcomes, rep.Errors, rep.TimedOut)
	}
}

func TestLoadNumbersFile(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	f := filepath.Join(t.TempDir(), "numbers.txt")
	// Ten phones for ten challenges: each phone gets one (a phone that is
	// still busy with a challenge answers the next one "busy").
	list := "# ten phones\n"
	for i := 0; i < 10; i++ {
		list += fmt.Sprintf("+9990100300%d\n", i)
	}
	if err := os.WriteFile(f, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, _ := runLoad(t, srv, "--to", f, "--loa", "2", "--rate", "20", "--duration", "500ms", "--binds", "1")
	if rep.Sent != 10 || !rep.Accounted() || rep.Outcomes["approved"] != 10 {
		t.Errorf("sent %d completed %d failed %d timed out %d outcomes %v errors %v",
			rep.Sent, rep.Completed, rep.Failed, rep.TimedOut, rep.Outcomes, rep.Errors)
	}
}

func TestLoadUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"load", "--rate", "10"},
		{"load", "--to", "999-1000"},
		{"load", "--to", "/nonexistent/numbers.txt"},
		{"load", "--to", "99901000000", "--rate", "0"},
		{"load", "--to", "99901000000", "--duration", "1s", "--ramp", "2s"},
		{"load", "--to", "99901000000", "--binds", "0"},
		{"load", "--to", "99901000000", "--progress", "sometimes"},
		{"load", "--to", "99901000000", "--loa", "4", "--smpp", "127.0.0.1:1"},
		{"load", "extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, errb.String(), exitUsage)
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"load", "--to", "99901000000", "--smpp", "127.0.0.1:1", "--duration", "1s"}, nil, &out, &errb); code != exitFailure {
		t.Errorf("closed port: exit %d, want %d", code, exitFailure)
	}
}

// TestLoadMixedOutcomes: magic numbers (docs/numbers.md) give each outcome;
// the card's own "no answer" (after --prompt-timeout, counted from when the
// prompt is shown) comes back well before the run's timeout, so it is an
// outcome, not a timed-out challenge, even on a busy machine.
func TestLoadMixedOutcomes(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	f := filepath.Join(t.TempDir(), "numbers.txt")
	var list strings.Builder
	for _, o := range []string{"approve", "cancel", "ignore", "wrong-pin"} {
		fmt.Fprintln(&list, simtest.Number(t, o, 7100))
	}
	if err := os.WriteFile(f, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, _ := runLoad(t, srv, "--to", f, "--loa", "3", "--rate", "8", "--duration", "500ms", "--binds", "1",
		"--prompt-timeout", "1s", "--timeout", "6s")
	want := map[string]int64{"approved": 1, "cancelled": 1, "timeout": 1, "wrong_pin": 1}
	if rep.Sent != 4 || rep.Completed != 4 || len(rep.Outcomes) != len(want) {
		t.Fatalf("sent %d completed %d outcomes %v errors %v timed out %d", rep.Sent, rep.Completed, rep.Outcomes, rep.Errors, rep.TimedOut)
	}
	for k, v := range want {
		if rep.Outcomes[k] != v {
			t.Errorf("outcome %s: %d, want %d (all: %v)", k, rep.Outcomes[k], v, rep.Outcomes)
		}
	}
}

// cancelOnWrite cancels a context at the first live progress line.
type cancelOnWrite struct {
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("in flight")) {
		w.cancel()
	}
	return w.buf.Write(p)
}

// TestLoadInterrupted: stopping the run (Ctrl-C) at the first progress line
// still prints a report in which every challenge sent is accounted for; the
// challenges cancelled under way did not complete, so the exit status is 1.
func TestLoadInterrupted(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errw := &cancelOnWrite{cancel: cancel}
	var out bytes.Buffer
	args := []string{"load", "--smpp", srv.SMPPAddr, "--to", "99901004000-99901004999", "--loa", "2",
		"--rate", "50", "--duration", "60s", "--progress", "always", "--json"}
	if code := run(ctx, args, nil, &out, errw); code != exitFailure || !strings.Contains(errw.buf.String(), "did not pass") {
		t.Fatalf("exit %d, want %d and why: %s", code, exitFailure, errw.buf.String())
	}
	var rep load.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	if !rep.Interrupted || !rep.Accounted() || rep.Sent == 0 || rep.Sent >= 3000 {
		t.Errorf("interrupted %v: sent %d = completed %d + failed %d + timed out %d",
			rep.Interrupted, rep.Sent, rep.Completed, rep.Failed, rep.TimedOut)
	}
}

// TestLoadGate: `simlab load` as a CI gate. Challenges that time out make
// the exit status 1, with the report still printed and written; a lower
// --min-completed lets them pass; --max-p99 fails a run that is too slow.
func TestLoadGate(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	// Half the numbers get their SMS a minute late (an injected delivery
	// latency): their challenges cannot complete within the 1 s timeout.
	f := filepath.Join(t.TempDir(), "numbers.txt")
	var list strings.Builder
	for i := range 4 {
		slow := simtest.Number(t, "approve", 7210+i)
		srv.SMSC().Faults.SetDest(slow, smsc.Fault{Latency: time.Minute})
		fmt.Fprintln(&list, simtest.Number(t, "approve", 7200+i))
		fmt.Fprintln(&list, slow)
	}
	if err := os.WriteFile(f, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	gate := func(extra ...string) (int, *load.Report, string, string) {
		out := t.TempDir()
		args := append([]string{"load", "--smpp", srv.SMPPAddr, "--system-id", "cli-gate", "--json", "--to", f, "--loa", "2",
			"--rate", "16", "--duration", "500ms", "--timeout", "1s", "--out", out}, extra...)
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, nil, &stdout, &stderr)
		var rep load.Report
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("%v: no report on stdout (%v): %s", extra, err, stderr.String())
		}
		if b, err := os.ReadFile(filepath.Join(out, "report.json")); err != nil || len(b) == 0 {
			t.Errorf("%v: report.json not written: %v", extra, err)
		}
		return code, &rep, stderr.String(), out
	}
	code, rep, stderr, _ := gate()
	if code != exitFailure || rep.Sent != 8 || rep.Completed != 4 || rep.TimedOut != 4 ||
		!strings.Contains(stderr, "4 of 8 challenges completed (50%), below the 100% asked (0 failed, 4 timed out)") {
		t.Errorf("default gate: exit %d, sent %d completed %d timed out %d, stderr %q", code, rep.Sent, rep.Completed, rep.TimedOut, stderr)
	}
	if code, _, stderr, _ := gate("--min-completed", "0.5"); code != exitOK {
		t.Errorf("--min-completed 0.5: exit %d: %s", code, stderr)
	}
	if code, _, stderr, _ := gate("--min-completed", "0.5", "--max-p99", "1us"); code != exitFailure || !strings.Contains(stderr, "p99 latency") {
		t.Errorf("--max-p99 1us: exit %d: %s", code, stderr)
	}
	for _, bad := range [][]string{{"--min-completed", "1.5"}, {"--min-completed", "-0.1"}, {"--max-p99", "-1s"}} {
		if code, _, _ := runCLI(t, append([]string{"load", "--to", "99901000000", "--progress", "never"}, bad...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

// TestLoadErrorsAreLoads: a load run that cannot bind or read the fleet
// says so as load ("simlab: load: bind 1: …"), not with the push
// package's prefix it sets up through, and keeps the cause.
func TestLoadErrorsAreLoads(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--loa", "2"}, "simlab: load: bind 1: "},
		{[]string{"--loa", "otp"}, "simlab: load: bind 1: "},
		{[]string{"--loa", "2", "--fleet", "http://127.0.0.1:1"}, "simlab: load: fleet: "},
	} {
		args := append([]string{"load", "--to", "99901050000-99901050099", "--smpp", "127.0.0.1:1", "--duration", "1s"}, c.args...)
		code, _, errb := runCLI(t, args...)
		if code != exitFailure || !strings.HasPrefix(errb, c.want) || strings.Contains(errb, "push:") || !strings.Contains(errb, "connection refused") {
			t.Errorf("%v: exit %d %q, want %d starting %q with the cause and no push:", c.args, code, errb, exitFailure, c.want)
		}
	}
}
