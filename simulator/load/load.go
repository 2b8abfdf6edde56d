// Package load is simlab's open-loop load generator: challenges arrive on a
// fixed schedule whatever the system under test does, and every latency is
// measured from the challenge's intended send time, so a stalled system shows
// up in the figures instead of silently slowing the generator down (no
// coordinated omission, as in wrk2 and vegeta).
//
// The engine knows nothing of SMPP or SIM cards: a Target performs one
// challenge. Every challenge issued is accounted for:
// sent = completed + failed + timed_out.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Target performs challenge number i (0-based) and reports what happened.
// It must honour ctx: when ctx is done (the per-challenge timeout or the end
// of the run) it returns promptly with ctx's error.
type Target interface {
	Do(ctx context.Context, i int) Result
}

// TargetFunc adapts a function to Target.
type TargetFunc func(ctx context.Context, i int) Result

// Do calls f.
func (f TargetFunc) Do(ctx context.Context, i int) Result { return f(ctx, i) }

// Result is the outcome of one challenge.
type Result struct {
	// Outcome names what the phone answered (approved, cancelled,
	// wrong_pin, …) or, for plain SMS loads, "delivered". Completed
	// challenges are counted per outcome.
	Outcome string
	// Err marks the challenge failed (submit rejected, reply not
	// verifiable, …). A context deadline error counts as timed out.
	Err error
	// Submit is the submit_sm → submit_sm_resp latency, when known.
	Submit time.Duration
	// Receipt is the submit → delivery receipt latency, when known.
	Receipt time.Duration
	// Verified is true when the answer's signature was checked and valid.
	Verified bool
}

// Config sets the shape of a run.
type Config struct {
	// Rate is the arrival rate at full speed, in challenges per second.
	Rate float64
	// Duration is the length of the arrival schedule, ramp included.
	Duration time.Duration
	// Ramp grows the rate linearly from 0 to Rate over its length.
	Ramp time.Duration
	// Timeout bounds each challenge from its actual start (default 30 s).
	Timeout time.Duration
	// MaxInFlight bounds the challenges under way (default: enough for
	// Rate × Timeout, at least 1, at most 100,000). When the bound is
	// reached arrivals wait; their latency still counts from their
	// intended time.
	MaxInFlight int
	// Progress, when set, is called every ProgressEvery (default 1 s) with
	// the figures so far.
	Progress      func(Progress)
	ProgressEvery time.Duration

	// Shard, with a Count above 1, runs one part of the schedule that
	// Rate, Duration and Ramp describe as a whole: the arrivals i with
	// i % Count == Index, each at its intended time on the whole
	// schedule (docs/load-distributed.md). Its share of the rate is
	// Rate / Count.
	Shard Shard
	// Start is when the schedule begins; the zero time means now. Shards
	// of one run share it (--start-at, AwaitBarrier) so that their
	// schedules line up. A Start in the future is waited for; one in the
	// past sends the arrivals already due at once, each charged from its
	// intended time; one more than MaxLate ago is refused (ErrConfig).
	Start time.Time
	// HistogramLog, when set, receives the run's latency histograms as an
	// HdrHistogram interval log (one histogram per second of the run and
	// per tag: e2e, submit, receipt), as the run goes; `simlab load
	// merge` adds them up (ReadHistogramLog).
	HistogramLog io.Writer
}

// Progress is a live view of a run.
type Progress struct {
	Elapsed   time.Duration
	Sent      int64
	InFlight  int64
	Completed int64
	Failed    int64
	TimedOut  int64
	// Rate is the send rate over the last interval, per second.
	Rate float64
	// P50 and P99 are end-to-end latencies so far.
	P50, P99 time.Duration
}

// Errors returned by Run for a bad configuration.
var ErrConfig = errors.New("load: bad configuration")

const (
	histMin = int64(time.Microsecond)
	histMax = int64(10 * time.Minute)
	sigFigs = 3
)

// MaxLate is how far in the past a Start may lie: the latency histograms
// hold up to 10 minutes, and every arrival of a run that starts later than
// that would be charged more (a start years ago, a typo, also built a
// per-second series over the whole gap until the process ran out of
// memory).
const MaxLate = time.Duration(histMax)

func (c Config) validate() (Config, error) {
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		return c, fmt.Errorf("%w: rate must be positive, got %v", ErrConfig, c.Rate)
	}
	if c.Duration <= 0 {
		return c, fmt.Errorf("%w: duration must be positive", ErrConfig)
	}
	if c.Ramp < 0 || c.Ramp > c.Duration {
		return c, fmt.Errorf("%w: ramp must be between 0 and the duration", ErrConfig)
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Shard.Count > 1 {
		if err := c.Shard.check(); err != nil {
			return c, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	if c.MaxInFlight <= 0 {
		n := c.Rate / float64(c.Shard.step()) * c.Timeout.Seconds()
		c.MaxInFlight = int(math.Min(math.Max(n, 1), 100000))
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = time.Second
	}
	return c, nil
}

// schedule gives the offset from the start at which arrival i is due, for a
// rate that ramps linearly from 0 to rate over ramp and stays there.
func schedule(i int, rate float64, ramp time.Duration) time.Duration {
	r := ramp.Seconds()
	rampArrivals := rate * r / 2
	x := float64(i)
	var s float64
	if x < rampArrivals {
		s = math.Sqrt(2 * x * r / rate)
	} else {
		s = r + (x-rampArrivals)/rate
	}
	return time.Duration(s * float64(time.Second))
}

// arrivals is the number of arrivals due in a run of duration d.
func arrivals(rate float64, d, ramp time.Duration) int {
	r := ramp.Seconds()
	n := rate*r/2 + rate*(d.Seconds()-r)
	return int(math.Floor(n + 1e-9))
}

// recorder collects results; all fields are guarded by mu.
type recorder struct {
	mu        sync.Mutex
	start     time.Time
	e2e       *hdr.Histogram
	submit    *hdr.Histogram
	receipt   *hdr.Histogram
	sent      int64
	inFlight  int64
	completed int64
	failed    int64
	timedOut  int64
	verified  int64 // completed answers whose signature was checked
	outcomes  map[string]int64
	errs      map[string]int64
	series    []Second
	// cur holds the latencies of the challenges completed in the
	// current second, by tag (tagE2E, tagSubmit, tagReceipt).
	cur    [3]*hdr.Histogram
	curSec int
	log    *intervalLog // nil: no histogram log
}

func newRecorder(start time.Time, log io.Writer, comment string) *recorder {
	r := &recorder{
		start:    start,
		e2e:      newHist(),
		submit:   newHist(),
		receipt:  newHist(),
		outcomes: map[string]int64{},
		errs:     map[string]int64{},
	}
	for i := range r.cur {
		r.cur[i] = newHist()
	}
	if log != nil {
		r.log = newIntervalLog(log, start, comment)
	}
	return r
}

// newHist is a latency histogram of the range and precision every
// histogram of a run and of its shards has, so that they add up exactly.
func newHist() *hdr.Histogram { return hdr.New(histMin, histMax, sigFigs) }

// second returns the series entry for second s, flushing the per-second
// histograms when time has moved on. Callers hold mu. They read the clock
// before taking it, so an event stamped just before a second's end can
// come after the next second began: it counts in the current second, so
// that each second is flushed once and the histogram log holds it whole.
func (r *recorder) second(s int) *Second {
	s = max(s, r.curSec)
	for len(r.series) <= s {
		r.series = append(r.series, Second{T: len(r.series)})
	}
	if s != r.curSec {
		r.flushSecond()
		r.curSec = s
	}
	return &r.series[s]
}

func (r *recorder) flushSecond() {
	if c := r.cur[tagE2E]; c.TotalCount() > 0 && r.curSec < len(r.series) {
		r.series[r.curSec].setLatency(c)
	}
	if r.log != nil {
		r.log.second(r.curSec, r.cur[:])
	}
	for _, c := range r.cur {
		c.Reset()
	}
}

// setLatency sets the second's percentiles from the histogram of the
// challenges completed in it.
func (s *Second) setLatency(h *hdr.Histogram) {
	s.P50 = ms(h.ValueAtQuantile(50))
	s.P99 = ms(h.ValueAtQuantile(99))
	s.Max = ms(h.Max())
}

func (r *recorder) issued(now time.Time) {
	r.mu.Lock()
	r.sent++
	r.inFlight++
	r.second(int(now.Sub(r.start)/time.Second)).Sent++
	r.mu.Unlock()
}

func (r *recorder) done(now, intended time.Time, res Result, ctxErr error) {
	lat := now.Sub(intended)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight--
	sec := r.second(int(now.Sub(r.start) / time.Second))
	switch {
	case errors.Is(res.Err, context.DeadlineExceeded) || (res.Err == nil && errors.Is(ctxErr, context.DeadlineExceeded) && res.Outcome == ""):
		r.timedOut++
		sec.TimedOut++
	case res.Err != nil:
		r.failed++
		r.errs[errorClass(res.Err)]++
		sec.Failed++
	default:
		r.completed++
		sec.Completed++
		out := res.Outcome
		if out == "" {
			out = "ok"
		}
		r.outcomes[out]++
		if res.Verified {
			r.verified++
		}
		_ = r.e2e.RecordValue(clamp(int64(lat)))
		_ = r.cur[tagE2E].RecordValue(clamp(int64(lat)))
		if res.Submit > 0 {
			_ = r.submit.RecordValue(clamp(int64(res.Submit)))
			_ = r.cur[tagSubmit].RecordValue(clamp(int64(res.Submit)))
		}
		if res.Receipt > 0 {
			_ = r.receipt.RecordValue(clamp(int64(res.Receipt)))
			_ = r.cur[tagReceipt].RecordValue(clamp(int64(res.Receipt)))
		}
	}
}

func clamp(v int64) int64 {
	if v < histMin {
		return histMin
	}
	if v > histMax {
		return histMax
	}
	return v
}

// errorClass is the key failed challenges are counted under: the error's
// message, cut at 200 characters.
func errorClass(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func (r *recorder) progress(now time.Time, lastSent int64, interval time.Duration) Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Progress{
		Elapsed: now.Sub(r.start), Sent: r.sent, InFlight: r.inFlight,
		Completed: r.completed, Failed: r.failed, TimedOut: r.timedOut,
	}
	if interval > 0 {
		p.Rate = float64(r.sent-lastSent) / interval.Seconds()
	}
	if r.e2e.TotalCount() > 0 {
		p.P50 = time.Duration(r.e2e.ValueAtQuantile(50))
		p.P99 = time.Duration(r.e2e.ValueAtQuantile(99))
	}
	return p
}

// Run executes the arrival schedule against t and returns the report once
// every challenge issued has completed, failed or timed out. Cancelling ctx
// stops new arrivals; challenges under way are cancelled and counted as
// failed, so the accounting still adds up.
func Run(ctx context.Context, cfg Config, t Target) (*Report, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	start := cfg.Start
	if start.IsZero() {
		start = time.Now()
	}
	if late := time.Since(start); late > MaxLate {
		return nil, fmt.Errorf("%w: the start %s was %s ago, more than the %s a latency can be", ErrConfig,
			start.UTC().Format(time.RFC3339), late.Round(time.Second), MaxLate)
	}
	sh := cfg.Shard
	if sh.Count <= 1 {
		sh = Shard{Count: 1}
	}
	total := arrivals(cfg.Rate, cfg.Duration, cfg.Ramp)
	sched := Schedule{Start: start.UTC(), Rate: cfg.Rate, DurationS: cfg.Duration.Seconds(), RampS: cfg.Ramp.Seconds(),
		Arrivals: total, Shard: sh.Index, Shards: sh.Count}
	rec := newRecorder(start, cfg.HistogramLog, sched.describe())
	slots := make(chan struct{}, cfg.MaxInFlight)
	var wg sync.WaitGroup
	interrupted := false
	if d := time.Until(start); d > 0 {
		// A shared start in the future: wait for it.
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			interrupted = true
		case <-t.C:
		}
		t.Stop()
	}

	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	if cfg.Progress != nil {
		progressDone.Add(1)
		go func() {
			defer progressDone.Done()
			tick := time.NewTicker(cfg.ProgressEvery)
			defer tick.Stop()
			var last int64
			for {
				select {
				case <-stopProgress:
					return
				case now := <-tick.C:
					p := rec.progress(now, last, cfg.ProgressEvery)
					last = p.Sent
					cfg.Progress(p)
				}
			}
		}()
	}

	timer := time.NewTimer(0)
	<-timer.C
	first := sh.Index
	if interrupted {
		first = total
	}
issue:
	for i := first; i < total; i += sh.step() {
		intended := start.Add(schedule(i, cfg.Rate, cfg.Ramp))
		if d := time.Until(intended); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				timer.Stop()
				interrupted = true
				break issue
			case <-timer.C:
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			interrupted = true
			break issue
		}
		rec.issued(time.Now())
		wg.Add(1)
		go func(i int, intended time.Time) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			res := t.Do(cctx, i)
			rec.done(time.Now(), intended, res, cctx.Err())
			cancel()
			<-slots
		}(i, intended)
	}
	wg.Wait()
	close(stopProgress)
	progressDone.Wait()
	end := time.Now()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.flushSecond()
	if rec.log != nil && rec.log.err != nil {
		return nil, fmt.Errorf("load: histogram log: %w", rec.log.err)
	}
	rep := &Report{
		Sent: rec.sent, Completed: rec.completed, Failed: rec.failed, TimedOut: rec.timedOut,
		Outcomes:     rec.outcomes,
		Verified:     rec.verified,
		Errors:       rec.errs,
		TargetRate:   cfg.Rate / float64(sh.Count),
		DurationS:    max(end.Sub(start), 0).Seconds(), // 0 when stopped while waiting for a start to come
		Interrupted:  interrupted,
		Latency:      percentiles(rec.e2e),
		Series:       rec.series,
		Distribution: distribution(rec.e2e),
		Schedule:     sched,
	}
	if u, ok := t.(interface{ Unit() string }); ok {
		rep.Unit = u.Unit()
	}
	rep.Rate = achievedRate(rec.sent, sched, sh, interrupted, rep.DurationS)
	if rec.submit.TotalCount() > 0 {
		p := percentiles(rec.submit)
		rep.SubmitLatency = &p
	}
	if rec.receipt.TotalCount() > 0 {
		p := percentiles(rec.receipt)
		rep.ReceiptLatency = &p
	}
	return rep, nil
}

// achievedRate is the send rate over the part of the schedule the run (or
// shard) covered: sent arrivals over the span from its first to its last
// intended time; for a run stopped early, over its duration.
func achievedRate(sent int64, sc Schedule, sh Shard, interrupted bool, durationS float64) float64 {
	if interrupted {
		if durationS > 0 {
			return float64(sent) / durationS
		}
		return 0
	}
	rate, ramp := sc.Rate, time.Duration(sc.RampS*float64(time.Second))
	last := sh.lastArrival(sc.Arrivals)
	if span := (schedule(max(last, 0), rate, ramp) - schedule(sh.Index, rate, ramp)).Seconds(); sent > 1 && span > 0 {
		return float64(sent-1) / span
	}
	return 0
}

func ms(v int64) float64 { return float64(v) / float64(time.Millisecond) }

func percentiles(h *hdr.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)),
		P99: ms(h.ValueAtQuantile(99)), P999: ms(h.ValueAtQuantile(99.9)),
		Max: ms(h.Max()), Mean: h.Mean() / float64(time.Millisecond), Count: h.TotalCount(),
	}
}

// distribution samples the percentile curve (HdrHistogram's "percentile
// distribution") at points dense towards the tail.
func distribution(h *hdr.Histogram) []Point {
	if h.TotalCount() == 0 {
		return nil
	}
	qs := []float64{0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96.25, 97.5, 98.4375, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 99.999, 100}
	out := make([]Point, 0, len(qs))
	for _, q := range qs {
		out = append(out, Point{Percentile: q, Ms: ms(h.ValueAtQuantile(q))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Percentile < out[j].Percentile })
	return out
}
