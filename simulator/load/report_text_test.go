package load

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestReportSaysWhatWasSent: a text or OTP run is reported in messages or
// OTPs, and a run without completions shows no latency figures (not a
// p50 of 0 ms over n=0).
func TestReportSaysWhatWasSent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		target Target
		unit   string
	}{
		{&Texts{}, "messages"},
		{&Texts{OTP: true}, "OTPs"},
		{&Challenges{}, "challenges"},
		{&Dialed{Target: &Texts{OTP: true}}, "OTPs"},
		{&Dialed{Target: &Challenges{}}, "challenges"},
	} {
		var rep *Report
		if u, ok := tc.target.(interface{ Unit() string }); ok {
			rep = &Report{Unit: u.Unit(), Sent: 3, Failed: 1, TimedOut: 2}
		} else {
			t.Fatalf("%T has no Unit", tc.target)
		}
		var b strings.Builder
		if err := rep.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, tc.unit+" sent 3 = completed 0") || !strings.Contains(out, "latency    none: no "+tc.unit+" completed") ||
			strings.Contains(out, "0.000ms") || strings.Contains(out, "n=0") {
			t.Errorf("%T report:\n%s", tc.target, out)
		}
		if err := rep.Check(Gate{MinCompleted: 1}); err == nil || !strings.Contains(err.Error(), "0 of 3 "+tc.unit+" completed") {
			t.Errorf("%T gate: %v", tc.target, err)
		}
	}
	// Run labels the report with its target's unit.
	fail := TargetFunc(func(context.Context, int) Result { return Result{Err: context.DeadlineExceeded} })
	rep, err := Run(context.Background(), Config{Rate: 1000, Duration: time.Millisecond, Timeout: time.Second}, &unitTarget{fail, "messages"})
	if err != nil || rep.Unit != "messages" {
		t.Errorf("Run: unit %q, %v", rep.Unit, err)
	}
}

type unitTarget struct {
	Target
	unit string
}

func (u *unitTarget) Unit() string { return u.unit }
