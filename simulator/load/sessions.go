package load

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// SessionBuckets are the upper bounds, in seconds, of the Prometheus
// histogram SessionLatency exposes: from 1 ms (an emulated card) to 60 s
// (a person who takes their time).
var SessionBuckets = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60}

// SessionLatency is the fleet's side of a load that the user's own service
// sends: for each challenge a phone handled, the time from the SMS-PP
// download reaching the phone to the phone's answer leaving it (its SEND
// SHORT MESSAGE handed to the network), by outcome. It is what the phones
// saw, independent of the sender's clock and of the SMSC's queues. It keeps
// an HDR histogram per outcome (for exact percentiles in the API) and
// cumulative bucket counts (for a Prometheus histogram). Safe for
// concurrent use; the zero value is ready.
type SessionLatency struct {
	mu sync.Mutex
	by map[string]*sessionHist
}

type sessionHist struct {
	h       *hdr.Histogram
	buckets []uint64 // per SessionBuckets, not cumulative
	sum     float64  // seconds
	count   uint64
}

// Observe records one session that ended with outcome after d.
func (s *SessionLatency) Observe(outcome string, d time.Duration) {
	if outcome == "" {
		outcome = "unknown"
	}
	sec := d.Seconds()
	i := sort.SearchFloat64s(SessionBuckets, sec) // first bound >= sec
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by == nil {
		s.by = map[string]*sessionHist{}
	}
	h := s.by[outcome]
	if h == nil {
		h = &sessionHist{h: hdr.New(histMin, histMax, sigFigs), buckets: make([]uint64, len(SessionBuckets))}
		s.by[outcome] = h
	}
	_ = h.h.RecordValue(clamp(int64(d)))
	if i < len(h.buckets) {
		h.buckets[i]++
	}
	h.sum += sec
	h.count++
}

// Snapshot returns the percentiles (ms) per outcome, plus "all".
func (s *SessionLatency) Snapshot() map[string]Percentiles {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Percentiles{}
	all := hdr.New(histMin, histMax, sigFigs)
	for k, h := range s.by {
		out[k] = percentiles(h.h)
		all.Merge(h.h)
	}
	if all.TotalCount() > 0 {
		out["all"] = percentiles(all)
	}
	return out
}

// Reset forgets every observation (between two runs).
func (s *SessionLatency) Reset() {
	s.mu.Lock()
	s.by = nil
	s.mu.Unlock()
}

// WritePrometheus writes the histogram in Prometheus text exposition format
// 0.0.4 as metric name (e.g. "simlab_phone_session_seconds"), one series
// per outcome label: name_bucket{outcome,le}, name_sum, name_count.
func (s *SessionLatency) WritePrometheus(w io.Writer, name string) error {
	s.mu.Lock()
	keys := make([]string, 0, len(s.by))
	for k := range s.by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP %s Time from the SMS-PP download reaching a phone to its answer leaving it, by outcome.\n# TYPE %s histogram\n", name, name)
	for _, k := range keys {
		h := s.by[k]
		var cum uint64
		for i, le := range SessionBuckets {
			cum += h.buckets[i]
			fmt.Fprintf(&b, "%s_bucket{outcome=%q,le=%q} %d\n", name, k, formatLe(le), cum)
		}
		fmt.Fprintf(&b, "%s_bucket{outcome=%q,le=\"+Inf\"} %d\n", name, k, h.count)
		fmt.Fprintf(&b, "%s_sum{outcome=%q} %g\n", name, k, h.sum)
		fmt.Fprintf(&b, "%s_count{outcome=%q} %d\n", name, k, h.count)
	}
	s.mu.Unlock()
	_, err := io.WriteString(w, b.String())
	return err
}

func formatLe(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", v)
}
