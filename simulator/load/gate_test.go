package load

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	t.Parallel()
	all := &Report{Sent: 200, Completed: 200, Latency: Percentiles{P99: 12.5}}
	some := &Report{Sent: 10_000, Completed: 9_999, TimedOut: 1, Latency: Percentiles{P99: 812}}
	none := &Report{Sent: 200, TimedOut: 200}
	for _, c := range []struct {
		r    *Report
		g    Gate
		want string // "" passes
	}{
		{all, Gate{MinCompleted: 1}, ""},
		{all, Gate{MinCompleted: 1, MaxP99: 20 * time.Millisecond}, ""},
		{all, Gate{MaxP99: 10 * time.Millisecond}, "p99 latency 12.5ms above the 10.0ms allowed"},
		{some, Gate{MinCompleted: 1}, "9999 of 10000 challenges completed (99.9%), below the 100% asked (0 failed, 1 timed out)"},
		{some, Gate{MinCompleted: 0.999}, ""},
		{some, Gate{MinCompleted: 0.999, MaxP99: 500 * time.Millisecond}, "p99 latency 812.0ms above the 500.0ms allowed"},
		{none, Gate{MinCompleted: 0.5}, "0 of 200 challenges completed (0%), below the 50% asked (0 failed, 200 timed out)"},
		{none, Gate{}, ""},
		{&Report{}, Gate{MinCompleted: 1}, "no challenge was sent"},
		{&Report{Sent: 5, Completed: 5, Interrupted: true}, Gate{MinCompleted: 0.5}, "stopped before its schedule ended"},
		{&Report{Sent: 5, Completed: 5, Interrupted: true}, Gate{}, ""},
	} {
		err := c.r.Check(c.g)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v with %+v: %v, want a pass", c.r, c.g, err)
		case c.want != "" && (!errors.Is(err, ErrGate) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v with %+v: %v, want %q", c.r, c.g, err, c.want)
		}
	}
}
