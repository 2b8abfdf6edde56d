package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestParseShard(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]Shard{"0/1": {0, 1}, "2/3": {2, 3}, " 0 / 2 ": {0, 2}} {
		if got, err := ParseShard(s); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "1", "3/3", "-1/2", "0/0", "a/b", "1/2/3", "0/10001"} {
		if _, err := ParseShard(s); !errors.Is(err, ErrShard) {
			t.Errorf("ParseShard(%q) = %v, want ErrShard", s, err)
		}
	}
}

// TestNumbersShard: the shards' parts are disjoint and cover the numbers;
// when the count divides them, every arrival goes to the number it goes
// to in the whole run.
func TestNumbersShard(t *testing.T) {
	t.Parallel()
	whole, err := ParseRange("99901000000-99901000011") // 12 numbers
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 4, 5, 7, 12} {
		owner := map[string]int{}
		for i := 0; i < n; i++ {
			part, err := whole.Shard(Shard{i, n})
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; j < part.Len(); j++ {
				m := part.Distinct(j)
				if o, dup := owner[m]; dup {
					t.Fatalf("%d shards: %s in shards %d and %d", n, m, o, i)
				}
				owner[m] = i
			}
			for a := i; a < 100; a += n {
				m := part.At(a)
				if owner[m] != i {
					t.Fatalf("%d shards: arrival %d of shard %d goes to %s of shard %d", n, a, i, m, owner[m])
				}
				if 12%n == 0 && m != whole.At(a) {
					t.Fatalf("%d shards: arrival %d goes to %s, the whole run sends it to %s", n, a, m, whole.At(a))
				}
			}
		}
		if len(owner) != 12 {
			t.Errorf("%d shards cover %d of 12 numbers", n, len(owner))
		}
	}
	if _, err := whole.Shard(Shard{0, 13}); !errors.Is(err, ErrNumbers) {
		t.Errorf("13 shards of 12 numbers: %v, want ErrNumbers", err)
	}
}

// arrival is what a target saw of one challenge: its index and when it
// came, from the schedule's start.
type arrival struct {
	i  int
	at time.Duration
}

// slowTarget answers challenge i after (i*7)%23 ms and records arrivals.
type slowTarget struct {
	start time.Time
	mu    sync.Mutex
	seen  []arrival
}

func (s *slowTarget) Do(ctx context.Context, i int) Result {
	s.mu.Lock()
	s.seen = append(s.seen, arrival{i, time.Since(s.start)})
	s.mu.Unlock()
	time.Sleep(time.Duration((i*7)%23) * time.Millisecond)
	if i%50 == 49 {
		return Result{Err: errors.New("refused")}
	}
	return Result{Outcome: "approved", Submit: time.Duration(100+i%300) * time.Microsecond, Verified: true}
}

// runLogged runs cfg against a fresh slowTarget and reads its histogram log
// back.
func runLogged(t *testing.T, cfg Config) (*ShardReport, []arrival) {
	t.Helper()
	var log bytes.Buffer
	cfg.HistogramLog = &log
	tg := &slowTarget{start: cfg.Start}
	rep, err := Run(t.Context(), cfg, tg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadHistogramLog(&log, cfg.Start)
	if err != nil {
		t.Fatalf("reading the log back: %v\n%s", err, log.String())
	}
	return &ShardReport{Dir: cfg.Shard.String(), Report: rep, Hist: h}, tg.seen
}

// TestShardsMergeToTheWholeRun: in fake time, three shards of a ramped
// schedule started together send exactly the arrivals of the whole run at
// the same intended times, and their merged report equals the whole run's:
// counts, outcomes, the percentiles of every histogram, the distribution
// and every second of the series.
func TestShardsMergeToTheWholeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now().Add(time.Second)
		cfg := Config{Rate: 300, Duration: 3 * time.Second, Ramp: time.Second, Start: start, Timeout: 5 * time.Second}
		whole, wholeSeen := runLogged(t, cfg)
		if whole.Report.Sent != int64(arrivals(300, 3*time.Second, time.Second)) || !whole.Report.Accounted() {
			t.Fatalf("whole run sent %d", whole.Report.Sent)
		}
		// A whole run is shard 0 of 1: merged alone, it is itself.
		self, _, err := Merge([]*ShardReport{whole})
		if err != nil {
			t.Fatal(err)
		}
		if self.Latency != whole.Report.Latency || !reflect.DeepEqual(self.Series, whole.Report.Series) || self.Rate != whole.Report.Rate {
			t.Errorf("the whole run merged alone: %+v, itself %+v", self.Latency, whole.Report.Latency)
		}
		for _, n := range []int{2, 3} {
			var parts []*ShardReport
			var seen []arrival
			var wg sync.WaitGroup
			var mu sync.Mutex
			shared := time.Now().Add(time.Second)
			for i := 0; i < n; i++ {
				wg.Go(func() {
					c := cfg
					c.Start = shared
					c.Shard = Shard{i, n}
					p, s := runLogged(t, c)
					mu.Lock()
					parts = append(parts, p)
					seen = append(seen, s...)
					mu.Unlock()
				})
			}
			wg.Wait()
			sortArrivals(seen)
			sortArrivals(wholeSeen)
			if !reflect.DeepEqual(seen, wholeSeen) {
				t.Fatalf("%d shards: arrivals differ from the whole run's (%d against %d)", n, len(seen), len(wholeSeen))
			}
			merged, hist, err := Merge(parts)
			if err != nil {
				t.Fatal(err)
			}
			w := whole.Report
			if merged.Sent != w.Sent || merged.Completed != w.Completed || merged.Failed != w.Failed || merged.Verified != w.Verified ||
				!reflect.DeepEqual(merged.Outcomes, w.Outcomes) || !reflect.DeepEqual(merged.Errors, w.Errors) {
				t.Errorf("%d shards: merged counts %+v, whole %+v", n, merged, w)
			}
			if merged.Latency != w.Latency || *merged.SubmitLatency != *w.SubmitLatency || !reflect.DeepEqual(merged.Distribution, w.Distribution) {
				t.Errorf("%d shards: merged latency %+v submit %+v, whole %+v submit %+v", n, merged.Latency, *merged.SubmitLatency, w.Latency, *w.SubmitLatency)
			}
			if !reflect.DeepEqual(merged.Series, w.Series) {
				t.Errorf("%d shards: series\n%+v\nwhole\n%+v", n, merged.Series, w.Series)
			}
			if merged.Rate != w.Rate || merged.TargetRate != 300 || !merged.Schedule.Merged || merged.Schedule.Shards != n || len(merged.Parts) != n {
				t.Errorf("%d shards: rate %v target %v schedule %+v parts %d; whole rate %v", n, merged.Rate, merged.TargetRate, merged.Schedule, len(merged.Parts), w.Rate)
			}
			// The merged log reads back to the same figures.
			var buf bytes.Buffer
			if err := hist.WriteLog(&buf, "merged"); err != nil {
				t.Fatal(err)
			}
			back, err := ReadHistogramLog(&buf, merged.Schedule.Start)
			if err != nil {
				t.Fatal(err)
			}
			if percentiles(back.total(tagE2E)) != merged.Latency {
				t.Errorf("the merged log reads back to %+v, want %+v", percentiles(back.total(tagE2E)), merged.Latency)
			}
		}
	})
}

func sortArrivals(a []arrival) { sort.Slice(a, func(i, j int) bool { return a[i].i < a[j].i }) }

// TestMergeRefuses: a missing shard, a shard twice, shards of another run.
func TestMergeRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		cfg := Config{Rate: 100, Duration: time.Second, Start: start}
		var parts []*ShardReport
		for i := 0; i < 3; i++ {
			c := cfg
			c.Shard = Shard{i, 3}
			p, _ := runLogged(t, c)
			parts = append(parts, p)
		}
		if _, _, err := Merge(parts[:2]); !errors.Is(err, ErrMerge) || !bytes.Contains([]byte(err.Error()), []byte("shards 2 of 3 missing")) {
			t.Errorf("missing shard: %v", err)
		}
		if _, _, err := Merge([]*ShardReport{parts[0], parts[1], parts[1]}); !errors.Is(err, ErrMerge) {
			t.Errorf("a shard twice: %v", err)
		}
		c := cfg
		c.Start = start.Add(time.Millisecond)
		c.Shard = Shard{2, 3}
		other, _ := runLogged(t, c)
		if _, _, err := Merge([]*ShardReport{parts[0], parts[1], other}); !errors.Is(err, ErrMerge) {
			t.Errorf("a shard of another start: %v", err)
		}
		if _, _, err := Merge(nil); !errors.Is(err, ErrMerge) {
			t.Errorf("nothing: %v", err)
		}
	})
}

// TestStartInThePast: a shared start already gone sends the arrivals due at
// once and charges them from their intended time.
func TestStartInThePast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := TargetFunc(func(ctx context.Context, i int) Result { return Result{Outcome: "ok"} })
		rep, err := Run(t.Context(), Config{Rate: 100, Duration: time.Second, Start: time.Now().Add(-500 * time.Millisecond)}, tg)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sent != 100 || rep.Latency.Max < 499 || rep.Latency.P50 > 1 {
			t.Errorf("sent %d latency %+v: want the first 50 charged up to 500 ms, the rest on time", rep.Sent, rep.Latency)
		}
	})
}

// TestStartTooLongAgo: a start more than MaxLate ago (a wrong year in
// --start-at) is refused before anything is sent; it used to run, charging
// every arrival the histograms' maximum, and a start years ago made the
// per-second series so long that the process was killed for its memory.
func TestStartTooLongAgo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sent atomic.Int64
		tg := TargetFunc(func(ctx context.Context, i int) Result { sent.Add(1); return Result{Outcome: "ok"} })
		for _, ago := range []time.Duration{MaxLate + time.Second, 6 * 365 * 24 * time.Hour} {
			_, err := Run(t.Context(), Config{Rate: 10, Duration: time.Second, Start: time.Now().Add(-ago)}, tg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "ago") {
				t.Errorf("start %v ago: err %v, want ErrConfig saying how long ago", ago, err)
			}
		}
		if _, err := Run(t.Context(), Config{Rate: 10, Duration: time.Second, Start: time.Now().Add(-MaxLate)}, tg); err != nil {
			t.Errorf("a start MaxLate ago: %v", err)
		}
		if sent.Load() != 10 {
			t.Errorf("sent %d, want only the 10 of the run within MaxLate", sent.Load())
		}
	})
}

// TestStoppedBeforeTheStart: a run stopped while it waits for a start
// still to come reports a duration of 0, not the negative time to the
// start.
func TestStoppedBeforeTheStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		tg := TargetFunc(func(ctx context.Context, i int) Result { return Result{Outcome: "ok"} })
		rep, err := Run(ctx, Config{Rate: 10, Duration: time.Second, Start: time.Now().Add(time.Hour)}, tg)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Interrupted || rep.Sent != 0 || rep.DurationS != 0 {
			t.Errorf("interrupted %v sent %d duration %gs, want interrupted, none sent, 0 s", rep.Interrupted, rep.Sent, rep.DurationS)
		}
	})
}

// TestAwaitBarrier: shards arriving at different times all get the same
// start, the last one's ready time plus the lead; a ready file of a run
// with another shard count is refused.
func TestAwaitBarrier(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const n = 3
	starts := make([]time.Time, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := AwaitBarrier(ctx, dir, Shard{i, n}, 2*time.Second)
			if err != nil {
				t.Error(err)
			}
			starts[i] = s
		})
	}
	wg.Wait()
	var latest time.Time
	for i := 0; i < n; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.ready", i, n)))
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		r, err := time.Parse(time.RFC3339Nano, string(line))
		if err != nil {
			t.Fatal(err)
		}
		if r.After(latest) {
			latest = r
		}
	}
	for i, s := range starts {
		if !s.Equal(latest.Add(2 * time.Second)) {
			t.Errorf("shard %d starts %v, want %v", i, s, latest.Add(2*time.Second))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A re-run in the same directory: the earlier run's ready files would
	// start this shard alone; it is refused, saying what to do.
	if _, err := AwaitBarrier(ctx, dir, Shard{1, n}, 2*time.Second); !errors.Is(err, ErrBarrier) || !strings.Contains(err.Error(), "earlier run") || !strings.Contains(err.Error(), "directory of its own") {
		t.Errorf("a re-run in the directory of a run that started: %v", err)
	}
	if _, err := AwaitBarrier(ctx, dir, Shard{0, 2}, 0); !errors.Is(err, ErrBarrier) {
		t.Errorf("a 2-shard run in a 3-shard run's directory: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := AwaitBarrier(ctx, t.TempDir(), Shard{0, 2}, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while alone: %v", err)
	}
}

// TestAwaitBarrierAfterCrash: a run that died before any shard passed the
// barrier left the ready files of shards 0 and 1 of 3. A re-run in the
// same directory is not started by them: its shard 2 alone waits (and
// gives up when its context ends, naming the shards missing), and once
// all three are there they start together, on their own ready times: the
// shard already waiting wakes when the others arrive. On the bubble's
// clock (testing/synctest), so the polls take no time and "still
// waiting" is a fact, not a guess.
func TestAwaitBarrierAfterCrash(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		const n = 3
		crashed := time.Now().Add(-time.Hour).UTC()
		for i, content := range []string{
			crashed.Format(time.RFC3339Nano) + "\n",    // as simlab wrote it before beats
			crashed.Format(time.RFC3339Nano) + "\n7\n", // a shard that waited 7 polls
		} {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.ready", i, n)), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Alone with the dead run's files: 10 polls, and still waiting.
		ctx, cancel := context.WithTimeout(context.Background(), 10*barrierPoll)
		_, err := AwaitBarrier(ctx, dir, Shard{2, n}, time.Second)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "2 of 3 shards never became ready") {
			t.Fatalf("shard 2 alone beside a dead run's ready files: %v, want it still waiting for 2 of 3", err)
		}

		rerun := time.Now()
		starts := make([]time.Time, n)
		var wg sync.WaitGroup
		await := func(i int) {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				s, err := AwaitBarrier(ctx, dir, Shard{i, n}, time.Second)
				if err != nil {
					t.Error(err)
				}
				starts[i] = s
			})
		}
		// Shard 2 first: ten polls of the bubble's clock later it still
		// waits; it passes once 0 and 1 are there.
		await(2)
		passed := make(chan struct{})
		go func() { wg.Wait(); close(passed) }()
		time.Sleep(10 * barrierPoll)
		synctest.Wait()
		select {
		case <-passed:
			t.Fatal("shard 2 passed before shards 0 and 1 of the re-run arrived")
		default:
		}
		await(0)
		await(1)
		<-passed
		for i, s := range starts {
			if !s.Equal(starts[0]) || s.Before(rerun.Add(time.Second)) {
				t.Errorf("shard %d starts %v, want %v for all, after the re-run began (%v) plus the lead", i, s, starts[0], rerun)
			}
		}
	})
}

// TestAwaitBarrierFileReplaced: a ready file that is gone when read
// (listed, then renamed over by its shard's beat; here a dangling
// symlink, as ENOENT) is a shard not seen this poll, not the end of the
// barrier: the shard waiting goes on, names the read error if its
// context ends, and passes once the file can be read.
func TestAwaitBarrierFileReplaced(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		ready0 := filepath.Join(dir, "shard-0-of-2.ready")
		if err := os.Symlink(filepath.Join(dir, "gone"), ready0); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*barrierPoll)
		_, err := AwaitBarrier(ctx, dir, Shard{1, 2}, time.Second)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 of 2 shards never became ready") || !strings.Contains(err.Error(), ready0) {
			t.Fatalf("shard 1 beside an unreadable ready file of shard 0: %v, want it waiting until its context ends, naming the file", err)
		}

		starts := make([]time.Time, 2)
		var wg sync.WaitGroup
		await := func(i int) {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				s, err := AwaitBarrier(ctx, dir, Shard{i, 2}, time.Second)
				if err != nil {
					t.Error(err)
				}
				starts[i] = s
			})
		}
		await(1)
		synctest.Wait() // shard 1 polled, could not read shard 0's file, waits
		if err := os.Remove(ready0); err != nil {
			t.Fatal(err)
		}
		await(0)
		wg.Wait()
		if starts[0].IsZero() || !starts[0].Equal(starts[1]) {
			t.Errorf("starts %v, want one start for both", starts)
		}
	})
}

// TestAwaitBarrierPassedByAnother: a shard that passed the barrier stops
// rewriting its ready file, and may do so before a shard still waiting
// saw that file change; the waiting shard then passes on the passed one's
// marker, with the start written there, and leaves its own.
func TestAwaitBarrierPassedByAnother(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		ready := time.Now().UTC()
		// Shard 0's last beat, as shard 1 will first (and only) see it.
		if err := os.WriteFile(filepath.Join(dir, "shard-0-of-2.ready"), []byte(ready.Format(time.RFC3339Nano)+"\n9\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var got time.Time
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var err error
			got, err = AwaitBarrier(ctx, dir, Shard{1, 2}, time.Second)
			done <- err
		}()
		time.Sleep(10 * barrierPoll)
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("shard 1 passed (%v) on a file it never saw change", err)
		default:
		}
		start := ready.Add(time.Second)
		if err := os.WriteFile(filepath.Join(dir, "shard-0-of-2.started"), []byte(start.Format(time.RFC3339Nano)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil || !got.Equal(start) {
			t.Fatalf("shard 1 after shard 0 passed: %v, %v; want %v", got, err, start)
		}
		b, err := os.ReadFile(filepath.Join(dir, "shard-1-of-2.started"))
		if err != nil || strings.TrimSpace(string(b)) != start.Format(time.RFC3339Nano) {
			t.Errorf("shard 1's marker: %q %v, want %v", b, err, start)
		}
	})
}
