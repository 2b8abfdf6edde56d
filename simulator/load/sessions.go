package load

import (
	"sort"
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

// Histogram is one outcome's Prometheus-style histogram: cumulative
// counts per SessionBuckets bound, then the count and sum (seconds) of all.
type Histogram struct {
	Cumulative []uint64
	Count      uint64
	Sum        float64
}

// Histograms returns each outcome's histogram (for /metrics).
func (s *SessionLatency) Histograms() map[string]Histogram {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Histogram, len(s.by))
	for k, h := range s.by {
		c := make([]uint64, len(h.buckets))
		var cum uint64
		for i, n := range h.buckets {
			cum += n
			c[i] = cum
		}
		out[k] = Histogram{Cumulative: c, Count: h.count, Sum: h.sum}
	}
	return out
}
