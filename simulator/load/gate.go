package load

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Gate is what a CI pipeline asks of a run (`simlab load --min-completed
// --max-p99`, docs/load.md): Check fails the run when it is not met. The
// zero Gate asks nothing.
type Gate struct {
	// MinCompleted is the share of the challenges sent (0 to 1) that must
	// complete: an answer or a network outcome came, whatever it said.
	// Failed and timed-out challenges count against it; a run that sent
	// nothing fails any MinCompleted above 0.
	MinCompleted float64
	// MaxP99 bounds the end-to-end p99 latency of completed challenges;
	// 0 means no bound.
	MaxP99 time.Duration
}

// ErrGate is wrapped by Check's error.
var ErrGate = errors.New("load: the run did not pass")

// Check returns nil when r meets g, else an error wrapping ErrGate that
// says each requirement missed. A run stopped before its schedule ended
// (Interrupted) fails any gate but the zero one.
func (r *Report) Check(g Gate) error {
	var miss []string
	if r.Interrupted && g != (Gate{}) {
		miss = append(miss, "the run was stopped before its schedule ended")
	}
	if g.MinCompleted > 0 {
		switch {
		case r.Sent == 0:
			miss = append(miss, "no "+strings.TrimSuffix(r.unit(), "s")+" was sent")
		case float64(r.Completed) < g.MinCompleted*float64(r.Sent):
			miss = append(miss, fmt.Sprintf("%d of %d %s completed (%s), below the %s asked (%d failed, %d timed out)",
				r.Completed, r.Sent, r.unit(), percent(float64(r.Completed)/float64(r.Sent)), percent(g.MinCompleted), r.Failed, r.TimedOut))
		}
	}
	if g.MaxP99 > 0 && r.Latency.P99 > ms(int64(g.MaxP99)) {
		miss = append(miss, fmt.Sprintf("p99 latency %s above the %s allowed", fmtMs(r.Latency.P99), fmtMs(ms(int64(g.MaxP99)))))
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrGate, strings.Join(miss, "; "))
}

// percent formats a share as a percentage with up to one decimal, rounded
// down: 9,999 of 10,000 is 99.9 %, not 100 %.
func percent(v float64) string {
	s := fmt.Sprintf("%.1f", math.Floor(v*1000)/10)
	return strings.TrimSuffix(s, ".0") + "%"
}
