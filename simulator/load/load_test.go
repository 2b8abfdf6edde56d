package load

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// The tests run in a synctest bubble: time is virtual, so a target that
// "takes 10 ms" takes exactly 10 ms of fake time and the figures are exact.

func TestAccountingAndLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := TargetFunc(func(ctx context.Context, i int) Result {
			time.Sleep(10 * time.Millisecond)
			return Result{Outcome: "approved", Submit: time.Millisecond}
		})
		rep, err := Run(t.Context(), Config{Rate: 100, Duration: 2 * time.Second}, target)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sent != 200 || rep.Completed != 200 || !rep.Accounted() {
			t.Fatalf("sent %d completed %d failed %d timed out %d, want 200 all completed", rep.Sent, rep.Completed, rep.Failed, rep.TimedOut)
		}
		if rep.Outcomes["approved"] != 200 {
			t.Errorf("outcomes = %v", rep.Outcomes)
		}
		for name, v := range map[string]float64{"p50": rep.Latency.P50, "p99": rep.Latency.P99, "max": rep.Latency.Max} {
			if v < 9.99 || v > 10.02 {
				t.Errorf("%s = %v ms, want 10 ms", name, v)
			}
		}
		if rep.SubmitLatency == nil || rep.SubmitLatency.P50 < 0.99 || rep.SubmitLatency.P50 > 1.01 {
			t.Errorf("submit latency = %+v, want 1 ms", rep.SubmitLatency)
		}
		if rep.Rate < 99.9 || rep.Rate > 100.1 {
			t.Errorf("achieved rate %v, want 100", rep.Rate)
		}
		if len(rep.Series) < 2 || rep.Series[0].Sent != 100 || rep.Series[1].Sent != 100 {
			t.Errorf("series = %+v, want 100 sent in each of 2 seconds", rep.Series)
		}
	})
}

// TestNoCoordinatedOmission: one stall of 1 s with a single slot in flight
// holds back the arrivals behind it. Measured from their intended send
// times, about a hundred challenges are slow, so p99 shows the stall. A
// closed-loop generator would report one slow sample and a clean p99.
func TestNoCoordinatedOmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := TargetFunc(func(ctx context.Context, i int) Result {
			if i == 50 {
				time.Sleep(time.Second)
			}
			return Result{Outcome: "approved"}
		})
		rep, err := Run(t.Context(), Config{Rate: 100, Duration: 10 * time.Second, MaxInFlight: 1}, target)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Accounted() || rep.Completed != 1000 {
			t.Fatalf("completed %d of %d", rep.Completed, rep.Sent)
		}
		if rep.Latency.P99 < 800 {
			t.Errorf("p99 = %v ms: the 1 s stall is hidden (coordinated omission)", rep.Latency.P99)
		}
		if rep.Latency.P50 > 1 {
			t.Errorf("p50 = %v ms, want ~0: most challenges were not delayed", rep.Latency.P50)
		}
	})
}

func TestTimeoutsFailuresAndCancelAddUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errSubmit := errors.New("submit_sm: ESME_RTHROTTLED")
		target := TargetFunc(func(ctx context.Context, i int) Result {
			switch i % 4 {
			case 0:
				<-ctx.Done() // never answers
				return Result{Err: ctx.Err()}
			case 1:
				return Result{Err: errSubmit}
			default:
				return Result{Outcome: "approved"}
			}
		})
		rep, err := Run(t.Context(), Config{Rate: 40, Duration: time.Second, Timeout: 200 * time.Millisecond}, target)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sent != 40 || rep.TimedOut != 10 || rep.Failed != 10 || rep.Completed != 20 || !rep.Accounted() {
			t.Fatalf("sent %d completed %d failed %d timed out %d", rep.Sent, rep.Completed, rep.Failed, rep.TimedOut)
		}
		if rep.Errors[errSubmit.Error()] != 10 {
			t.Errorf("errors = %v", rep.Errors)
		}
	})
}

func TestInterruptAccountsForInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var started atomic.Int64
		target := TargetFunc(func(ctx context.Context, i int) Result {
			if started.Add(1) == 30 {
				cancel()
			}
			select {
			case <-ctx.Done():
				return Result{Err: ctx.Err()}
			case <-time.After(50 * time.Millisecond):
				return Result{Outcome: "approved"}
			}
		})
		rep, err := Run(ctx, Config{Rate: 100, Duration: 10 * time.Second}, target)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Interrupted || rep.Sent != 30 || !rep.Accounted() {
			t.Fatalf("interrupted %v sent %d completed %d failed %d timed out %d", rep.Interrupted, rep.Sent, rep.Completed, rep.Failed, rep.TimedOut)
		}
	})
}

func TestRampSchedule(t *testing.T) {
	t.Parallel()
	if n := arrivals(100, 10*time.Second, 4*time.Second); n != 800 {
		t.Errorf("arrivals with a 4 s ramp = %d, want 100*4/2 + 100*6 = 800", n)
	}
	// The schedule is increasing and reaches the ramp's end at arrival 200.
	prev := time.Duration(-1)
	for i := 0; i < 800; i++ {
		d := schedule(i, 100, 4*time.Second)
		if d <= prev {
			t.Fatalf("schedule(%d) = %v not after %v", i, d, prev)
		}
		prev = d
	}
	if d := schedule(200, 100, 4*time.Second); d != 4*time.Second {
		t.Errorf("schedule(200) = %v, want 4s", d)
	}
	if d := schedule(300, 100, 4*time.Second); d != 5*time.Second {
		t.Errorf("schedule(300) = %v, want 5s", d)
	}
}

func TestProgressReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []Progress
		target := TargetFunc(func(ctx context.Context, i int) Result { return Result{Outcome: "approved"} })
		_, err := Run(t.Context(), Config{Rate: 50, Duration: 3 * time.Second, Progress: func(p Progress) { got = append(got, p) }}, target)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 2 {
			t.Fatalf("progress called %d times in 3 s", len(got))
		}
		if p := got[1]; p.Sent < 99 || p.Sent > 101 || p.Rate < 49 || p.Rate > 51 {
			t.Errorf("progress at 2 s = %+v", p)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	noop := TargetFunc(func(ctx context.Context, i int) Result { return Result{} })
	for _, c := range []Config{{Rate: 0, Duration: time.Second}, {Rate: 1}, {Rate: 1, Duration: time.Second, Ramp: 2 * time.Second}} {
		if _, err := Run(context.Background(), c, noop); !errors.Is(err, ErrConfig) {
			t.Errorf("Run(%+v) err = %v, want ErrConfig", c, err)
		}
	}
}

func TestHTMLReportIsSelfContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := TargetFunc(func(ctx context.Context, i int) Result {
			time.Sleep(time.Duration(i%7) * time.Millisecond)
			return Result{Outcome: "approved"}
		})
		rep, err := Run(t.Context(), Config{Rate: 200, Duration: 3 * time.Second}, target)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := rep.WriteHTML(&b, "test <run>"); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if strings.Count(page, "<svg ") != 3 || strings.Contains(page, "<script") || strings.Contains(page, "http://") && !strings.Contains(page, "http://www.w3.org/2000/svg") {
			t.Fatalf("page is not three inline SVG plots without scripts or links")
		}
		if !strings.Contains(page, "test &lt;run&gt;") {
			t.Error("title not escaped")
		}
		// Every SVG must be well-formed XML.
		for _, part := range strings.Split(page, "<svg ")[1:] {
			svg := "<svg " + part[:strings.Index(part, "</svg>")] + "</svg>"
			d := xml.NewDecoder(strings.NewReader(svg))
			for {
				if _, err := d.Token(); err != nil {
					if err.Error() != "EOF" {
						t.Fatalf("SVG is not well-formed: %v", err)
					}
					break
				}
			}
			if !strings.Contains(svg, "<polyline") {
				t.Error("an SVG has no data line")
			}
		}
		var txt bytes.Buffer
		rep.WriteText(&txt)
		if !strings.Contains(txt.String(), "challenges sent 600 = completed 600 + failed 0 + timed out 0") {
			t.Errorf("text summary:\n%s", txt.String())
		}
	})
}
