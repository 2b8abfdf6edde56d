package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// loadProcess runs `simlab load` as a process of its own (this test binary
// re-executed as the simlab command) and returns its exit code and output.
func loadProcess(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"load"}, args...)...)
	cmd.Env = append(os.Environ(), "SIMLAB_TEST_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func readReport(t *testing.T, path string) *load.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r load.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

// hdrTotals reads interval logs with hdrhistogram-go's own log reader and
// merges them, per tag: what the merged report's percentiles must equal.
func hdrTotals(t *testing.T, paths ...string) map[string]*hdr.Histogram {
	t.Helper()
	out := map[string]*hdr.Histogram{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		r := hdr.NewHistogramLogReader(f)
		for {
			h, err := r.NextIntervalHistogram()
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if h == nil {
				break
			}
			if out[h.Tag()] == nil {
				out[h.Tag()] = hdr.New(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
			}
			out[h.Tag()].Merge(h)
		}
		f.Close()
	}
	return out
}

func msOf(v int64) float64 { return float64(v) / float64(time.Millisecond) }

// TestLoadShardsAsProcesses: one process, then two shards started at one
// --start-at, then three shards lined up by --barrier, each a real process,
// run the same schedule against one `simlab serve`. The shards together send
// what the one process sent, every challenge completes, and `load merge`
// reports exactly the percentiles of the shards' histograms merged here
// with hdrhistogram-go's own log reader.
func TestLoadShardsAsProcesses(t *testing.T) {
	t.Parallel()
	srv := startServe(t)
	const rate, dur = 300, "2s"
	common := []string{"--smpp", srv.smpp, "--loa", "3", "--rate", fmt.Sprint(rate), "--duration", dur,
		"--binds", "2", "--timeout", "20s", "--progress", "never", "--json"}
	base := t.TempDir()

	code, out, errb := loadProcess(t, append(common, "--to", "99901020000-99901020599", "--out", filepath.Join(base, "one"))...)
	if code != 0 {
		t.Fatalf("one process: exit %d: %s", code, errb)
	}
	var one load.Report
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatal(err)
	}
	if one.Sent != 600 || one.Completed != one.Sent {
		t.Fatalf("one process: sent %d completed %d", one.Sent, one.Completed)
	}

	for _, n := range []int{2, 3} {
		run := filepath.Join(base, fmt.Sprintf("run%d", n))
		to := fmt.Sprintf("99901%d21000-99901%d21599", n, n)
		var sync1 []string
		if n == 2 {
			sync1 = []string{"--start-at", time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339Nano)}
		} else {
			sync1 = []string{"--barrier", filepath.Join(run, "barrier"), "--barrier-lead", "1s"}
			// A run that died before its shards passed the barrier left
			// the ready files of two: they must not start this one.
			if err := os.MkdirAll(filepath.Join(run, "barrier"), 0o755); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				old := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano) + "\n3\n"
				if err := os.WriteFile(filepath.Join(run, "barrier", fmt.Sprintf("shard-%d-of-3.ready", i)), []byte(old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		began := time.Now()
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Go(func() {
				args := append(append([]string{}, common...), "--to", to, "--shard", fmt.Sprintf("%d/%d", i, n),
					"--out", filepath.Join(run, fmt.Sprintf("shard-%d", i)))
				if code, _, errb := loadProcess(t, append(args, sync1...)...); code != 0 {
					t.Errorf("shard %d/%d: exit %d: %s", i, n, code, errb)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		var sent, completed int64
		var logs []string
		var start time.Time
		for i := 0; i < n; i++ {
			dir := filepath.Join(run, fmt.Sprintf("shard-%d", i))
			r := readReport(t, filepath.Join(dir, "report.json"))
			if r.Schedule.Shard != i || r.Schedule.Shards != n || r.TargetRate != float64(rate)/float64(n) {
				t.Errorf("shard %d/%d: schedule %+v target %v", i, n, r.Schedule, r.TargetRate)
			}
			if i == 0 {
				start = r.Schedule.Start
			}
			if !r.Schedule.Start.Equal(start) || r.Schedule.Start.Before(began) {
				t.Errorf("shard %d/%d starts %v, shard 0 %v: want one start, after the run began (%v)", i, n, r.Schedule.Start, start, began)
			}
			sent += r.Sent
			completed += r.Completed
			logs = append(logs, filepath.Join(dir, load.HistogramLogName))
		}
		if math.Abs(float64(sent-one.Sent)) > 0.01*float64(one.Sent) || completed != sent {
			t.Errorf("%d shards sent %d (completed %d), one process %d", n, sent, completed, one.Sent)
		}

		merged := filepath.Join(run, "merged")
		var mout, merr bytes.Buffer
		if code := runArgs([]string{"load", "merge", "--json", "--out", merged, run}, &mout, &merr); code != 0 {
			t.Fatalf("%d shards: merge exit %d: %s", n, code, merr.String())
		}
		var m load.Report
		if err := json.Unmarshal(mout.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m.Sent != sent || m.Completed != completed || m.Outcomes["approved"] != completed || m.Verified != completed ||
			!m.Schedule.Merged || m.Schedule.Shards != n || m.TargetRate != rate {
			t.Errorf("%d shards: merged sent %d completed %d outcomes %v verified %d schedule %+v", n, m.Sent, m.Completed, m.Outcomes, m.Verified, m.Schedule)
		}
		tot := hdrTotals(t, logs...)
		for tag, p := range map[string]*load.Percentiles{"e2e": &m.Latency, "submit": m.SubmitLatency} {
			h := tot[tag]
			if h == nil || p == nil {
				t.Fatalf("%d shards: no %s histogram (%v) or percentiles", n, tag, h)
			}
			want := load.Percentiles{P50: msOf(h.ValueAtQuantile(50)), P90: msOf(h.ValueAtQuantile(90)), P99: msOf(h.ValueAtQuantile(99)),
				P999: msOf(h.ValueAtQuantile(99.9)), Max: msOf(h.Max()), Mean: h.Mean() / float64(time.Millisecond), Count: h.TotalCount()}
			if *p != want {
				t.Errorf("%d shards: merged %s %+v, the shards' histograms merged give %+v", n, tag, *p, want)
			}
		}
		if again := readReport(t, filepath.Join(merged, "report.json")); again.Latency != m.Latency {
			t.Errorf("report.json %+v differs from the printed %+v", again.Latency, m.Latency)
		}
		html, _ := os.ReadFile(filepath.Join(merged, "report.html"))
		if strings.Count(string(html), "<svg") != 3 {
			t.Errorf("%d shards: merged report.html has %d plots, want 3", n, strings.Count(string(html), "<svg"))
		}
		if n == 3 {
			// A shard re-run in the barrier directory of this run would
			// take its ready files and start alone: it is refused.
			args := append(append([]string{}, common...), "--to", to, "--shard", "0/3", "--out", filepath.Join(run, "rerun-0"), "--barrier", filepath.Join(run, "barrier"))
			if code, _, errb := loadProcess(t, args...); code != exitFailure || !strings.Contains(errb, "earlier run") || !strings.Contains(errb, "directory of its own") {
				t.Errorf("a shard re-run in the barrier directory: exit %d: %s", code, errb)
			}
		}
		t.Logf("%d shards: sent %d, p50 %.3f ms p99 %.3f ms; one process p50 %.3f ms p99 %.3f ms",
			n, m.Sent, m.Latency.P50, m.Latency.P99, one.Latency.P50, one.Latency.P99)
	}
}

// runArgs runs the CLI in-process.
func runArgs(args []string, stdout, stderr *bytes.Buffer) int {
	return run(context.Background(), args, strings.NewReader(""), stdout, stderr)
}

// TestLoadThroughFrontToFleetProcesses: two `simlab serve` fleet processes,
// each serving half of a range by its fleet file, behind a front `simlab
// serve --no-fleet` whose routes hand each half to its process; `simlab
// load` through the front completes every challenge to both halves,
// verified, and the front's capture API holds each challenge delivered.
func TestLoadThroughFrontToFleetProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f0 := startServe(t, "--fleet", write("fleet-0.yaml", "ranges:\n  - {from: \"99901030000\", to: \"99901030199\", card_index: 30000}\n"))
	f1 := startServe(t, "--fleet", write("fleet-1.yaml", "ranges:\n  - {from: \"99901030200\", to: \"99901030399\", card_index: 30200}\n"))
	front := startServe(t, "--no-fleet", "--config", write("front.yaml", fmt.Sprintf(`routes:
  - numbers: ["99901030000-99901030199"]
    to: smpp://front:secret1@%s
  - numbers: ["99901030200-99901030399"]
    to: smpp://front:secret1@%s
`, f0.smpp, f1.smpp)))
	code, out, errb := loadProcess(t, "--smpp", front.smpp, "--to", "99901030000-99901030399", "--loa", "3",
		"--rate", "200", "--duration", "2s", "--binds", "2", "--timeout", "20s", "--progress", "never", "--json")
	if code != 0 {
		t.Fatalf("load through the front: exit %d: %s\n%s", code, errb, out)
	}
	var rep load.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 400 || rep.Outcomes["approved"] != 400 || rep.Verified != 400 {
		t.Errorf("sent %d outcomes %v verified %d errors %v", rep.Sent, rep.Outcomes, rep.Verified, rep.Errors)
	}
	for _, n := range []string{"99901030000", "99901030399"} {
		resp, err := http.Get("http://" + front.http + "/api/v1/messages/latest?direction=MT&to=" + n)
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ State string }
		json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if m.State != "DELIVERED" {
			t.Errorf("front's capture API: challenge to %s is %q, want DELIVERED", n, m.State)
		}
	}
	t.Logf("through the front: p50 %.3f ms p99 %.3f ms", rep.Latency.P50, rep.Latency.P99)
}

// TestLoadDistributedDocExample runs docs/load-distributed.md's "On one
// machine" block as written, against `simlab serve` (the block's
// /tmp/run-1 becomes a directory of the test's): the shards in parallel,
// then the merge, which must account for every arrival of the schedule.
func TestLoadDistributedDocExample(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "load-distributed.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n### On one machine\n")
	if !ok {
		t.Fatal(`docs/load-distributed.md has no "### On one machine"`)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatal(`"On one machine" has no sh block`)
	}
	block, _, _ := strings.Cut(rest, "```")
	srv := startServe(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	ran := 0
	var again []string // the first shard's, run again after the block
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		line = strings.ReplaceAll(strings.TrimSpace(line), "/tmp/run-1", dir)
		w := words(strings.TrimSuffix(line, " &"))
		switch {
		case line == "wait":
			wg.Wait()
		case len(w) > 2 && w[0] == "simlab" && w[1] == "load" && w[2] == "merge":
			var out, errb bytes.Buffer
			if code := runArgs(w[1:], &out, &errb); code != 0 {
				t.Fatalf("%s: exit %d: %s", line, code, errb.String())
			}
			if !strings.Contains(out.String(), "challenges sent 300 = completed 300 + failed 0 + timed out 0") ||
				!strings.Contains(out.String(), "(3 shards merged)") {
				t.Errorf("%s:\n%s", line, out.String())
			}
		case len(w) > 1 && w[0] == "simlab" && w[1] == "load" && strings.HasSuffix(line, "&"):
			args := append([]string{"--smpp", srv.smpp}, w[2:]...)
			if again == nil {
				again = args
			}
			wg.Go(func() {
				if code, out, errb := loadProcess(t, args...); code != 0 {
					t.Errorf("%s: exit %d: %s\n%s", line, code, errb, out)
				}
			})
		default:
			t.Fatalf("the block runs %q, which this test does not know how to run: teach it", line)
		}
		ran++
	}
	if ran != 5 {
		t.Errorf("ran %d lines, the block has 3 shards, wait and merge", ran)
	}
	// "To run it again, use a new directory": the page's error, as written.
	want := "simlab: load: start barrier: " + filepath.Join(dir, "barrier") + " is an earlier run's barrier"
	if _, rest, ok := strings.Cut(string(b), "the shards refuse a barrier directory whose run already started\n(`simlab: load: start barrier: /tmp/run-1/barrier is an earlier run's barrier …`)"); !ok || rest == "" {
		t.Fatal("docs/load-distributed.md no longer says what a re-run in a started run's directory gets: update this test")
	}
	if code, out, errb := loadProcess(t, again...); code == 0 || !strings.Contains(errb, want) {
		t.Errorf("the first shard again in the same directory: exit %d, stderr %q, want it refused with %q\n%s", code, errb, want, out)
	}
}

// TestLoadMergeWaitAndErrors: merge --wait, started before the shards,
// merges once both have finished; without --wait a missing shard is an
// error naming it; shard flags without what they need are usage errors.
func TestLoadMergeWaitAndErrors(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	dir := t.TempDir()
	type result struct {
		code     int
		out, err string
	}
	merged := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := runArgs([]string{"load", "merge", "--wait", "60s", "--json", dir}, &out, &errb)
		merged <- result{code, out.String(), errb.String()}
	}()
	start := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	for i := 0; i < 2; i++ {
		code, _, errb := runCLI(t, "load", "--smpp", srv.SMPPAddr, "--to", "99901050000-99901050099", "--loa", "2",
			"--rate", "100", "--duration", "1s", "--shard", fmt.Sprintf("%d/2", i), "--start-at", start,
			"--out", filepath.Join(dir, fmt.Sprintf("s%d", i)))
		if code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, code, errb)
		}
		if i == 0 {
			// Merge without waiting: shard 1 is missing.
			code, _, errb := runCLI(t, "load", "merge", dir)
			if code != exitFailure || !strings.Contains(errb, "shards 1 of 2 missing") {
				t.Errorf("merge with a shard missing: exit %d: %s", code, errb)
			}
		}
	}
	r := <-merged
	var m load.Report
	if r.code != 0 || json.Unmarshal([]byte(r.out), &m) != nil || m.Sent != 100 || m.Completed != 100 || m.Schedule.Shards != 2 {
		t.Errorf("merge --wait: exit %d sent %d completed %d: %s", r.code, m.Sent, m.Completed, r.err)
	}
	for _, args := range [][]string{
		{"load", "merge"},
		{"load", "--to", "99901050000-99901050099", "--shard", "0/2", "--start-at", start},  // no --out
		{"load", "--to", "99901050000-99901050099", "--shard", "0/2", "--out", t.TempDir()}, // no start
		{"load", "--to", "99901050000-99901050099", "--shard", "2/2", "--out", t.TempDir(), "--start-at", start},
		{"load", "--to", "99901050000", "--shard", "0/2", "--out", t.TempDir(), "--start-at", start}, // one number, two shards
		{"load", "--to", "99901050000-99901050099", "--start-at", "tomorrow"},
		{"load", "--to", "99901050000-99901050099", "--start-at", start, "--barrier", t.TempDir()},
		{"load", "--to", "99901050000-99901050099", "--start-at", "2020-01-01T00:00:00Z"}, // years ago: was killed for its memory
	} {
		if code, _, errb := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, errb, exitUsage)
		}
	}
	// An --out that cannot be a directory fails the run before it binds
	// (the SMSC address here refuses: the error must be --out's).
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errb := runCLI(t, "load", "--to", "99901050000-99901050099", "--smpp", "127.0.0.1:1", "--out", file); code != exitFailure || !strings.Contains(errb, "--out: ") {
		t.Errorf("--out a file: exit %d: %s, want %d naming --out", code, errb, exitFailure)
	}
}
