package load

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Report is the result of a run. Its JSON form is what `simlab load --json`
// prints and docs/load.md documents.
type Report struct {
	Sent      int64 `json:"sent"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	TimedOut  int64 `json:"timed_out"`
	// Outcomes counts completed challenges by outcome.
	Outcomes map[string]int64 `json:"outcomes"`
	// Verified counts completed challenges whose answer's signature the
	// generator checked and found valid: every answer from a card unless
	// --verify-every or --no-verify; none for outcomes the network gave
	// (not_delivered, sim_error), texts and OTPs.
	Verified int64 `json:"signatures_verified"`
	// Errors counts failed challenges by error message.
	Errors map[string]int64 `json:"errors,omitempty"`
	// Latency is the end-to-end latency of completed challenges, from the
	// intended send time to the verified reply, in milliseconds.
	Latency Percentiles `json:"latency_ms"`
	// SubmitLatency is submit_sm → submit_sm_resp; ReceiptLatency is
	// submit → delivery receipt (when the load asked for receipts).
	SubmitLatency  *Percentiles `json:"submit_latency_ms,omitempty"`
	ReceiptLatency *Percentiles `json:"receipt_latency_ms,omitempty"`
	// Rate is the send rate achieved over the arrival schedule, per second;
	// TargetRate what was asked.
	Rate       float64 `json:"rate"`
	TargetRate float64 `json:"target_rate"`
	DurationS  float64 `json:"duration_s"`
	// Interrupted is true when the run was stopped before its schedule
	// ended.
	Interrupted bool `json:"interrupted,omitempty"`
	// Unit is what the run sent: "challenges", "messages" (--loa text) or
	// "OTPs" (the target's Unit; empty reads as challenges).
	Unit string `json:"unit,omitempty"`
	// Series has one entry per second of the run.
	Series []Second `json:"series"`
	// Distribution samples the latency percentile curve.
	Distribution []Point `json:"distribution"`
	// Kind is what was sent (--loa: 2, 3, 3,2, otp, text), when the
	// caller says.
	Kind string `json:"kind,omitempty"`
	// Schedule is the arrival schedule the run followed, or the part of
	// it a shard did.
	Schedule Schedule `json:"schedule"`
	// Parts, in a report merged from shards (Merge), sums up each shard's
	// own figures, by shard index.
	Parts []Part `json:"parts,omitempty"`
}

// Schedule is a run's arrival schedule: the whole of it (Rate, DurationS,
// RampS, Arrivals, from Start) and which part this run did (shard Shard of
// Shards; 0 of 1 for the whole). A report merged from shards has Shards
// set and Merged true.
type Schedule struct {
	Start     time.Time `json:"start"`
	Rate      float64   `json:"rate"`
	DurationS float64   `json:"duration_s"`
	RampS     float64   `json:"ramp_s,omitempty"`
	Arrivals  int       `json:"arrivals"`
	Shard     int       `json:"shard"`
	Shards    int       `json:"shards"`
	Merged    bool      `json:"merged,omitempty"`
}

// describe is the schedule in a line, for the histogram log's header.
func (s Schedule) describe() string {
	what := "whole schedule"
	switch {
	case s.Merged:
		what = fmt.Sprintf("merged from %d shards", s.Shards)
	case s.Shards > 1:
		what = fmt.Sprintf("shard %d/%d", s.Shard, s.Shards)
	}
	return fmt.Sprintf("simlab load: %s of %d arrivals at %g/s over %gs (ramp %gs) from %s",
		what, s.Arrivals, s.Rate, s.DurationS, s.RampS, s.Start.UTC().Format(time.RFC3339Nano))
}

// Part is one shard's own figures in a merged report.
type Part struct {
	Shard     int         `json:"shard"`
	Sent      int64       `json:"sent"`
	Completed int64       `json:"completed"`
	Failed    int64       `json:"failed"`
	TimedOut  int64       `json:"timed_out"`
	Rate      float64     `json:"rate"`
	DurationS float64     `json:"duration_s"`
	Latency   Percentiles `json:"latency_ms"`
}

// Percentiles of a latency distribution, in milliseconds.
type Percentiles struct {
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	Count int64   `json:"count"`
}

// Second is one second of a run: arrivals sent in it, challenges finished in
// it, and the latency of those completed in it (ms).
type Second struct {
	T         int     `json:"t"`
	Sent      int64   `json:"sent"`
	Completed int64   `json:"completed"`
	Failed    int64   `json:"failed"`
	TimedOut  int64   `json:"timed_out"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
}

// Point is one point of the percentile distribution.
type Point struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

// Accounted reports whether every challenge sent is accounted for.
func (r *Report) Accounted() bool { return r.Sent == r.Completed+r.Failed+r.TimedOut }

// WriteText writes the human summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "duration   %.1fs   target %.0f/s   achieved %.1f/s", r.DurationS, r.TargetRate, r.Rate)
	if r.Interrupted {
		b.WriteString("   (interrupted)")
	}
	switch sc := r.Schedule; {
	case sc.Merged:
		fmt.Fprintf(&b, "   (%d shards merged)", sc.Shards)
	case sc.Shards > 1:
		fmt.Fprintf(&b, "   (shard %d/%d of %.0f/s)", sc.Shard, sc.Shards, sc.Rate)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "%s sent %d = completed %d + failed %d + timed out %d\n", r.unit(), r.Sent, r.Completed, r.Failed, r.TimedOut)
	if len(r.Outcomes) > 0 {
		b.WriteString("outcomes  ")
		for _, k := range sortedByCount(r.Outcomes) {
			fmt.Fprintf(&b, " %s=%d", k, r.Outcomes[k])
		}
		b.WriteString("\n")
	}
	if r.Verified > 0 {
		fmt.Fprintf(&b, "signatures verified %d of %d answers\n", r.Verified, r.Completed)
	}
	writeP := func(name string, p Percentiles) {
		if p.Count == 0 { // no figures: not a latency of 0
			fmt.Fprintf(&b, "%-10s none: no %s completed\n", name, r.unit())
			return
		}
		fmt.Fprintf(&b, "%-10s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (n=%d)\n", name,
			fmtMs(p.P50), fmtMs(p.P90), fmtMs(p.P99), fmtMs(p.P999), fmtMs(p.Max), p.Count)
	}
	writeP("latency", r.Latency)
	if r.SubmitLatency != nil {
		writeP("submit", *r.SubmitLatency)
	}
	if r.ReceiptLatency != nil {
		writeP("receipt", *r.ReceiptLatency)
	}
	if len(r.Parts) > 0 {
		b.WriteString("shards\n")
		for _, p := range r.Parts {
			fmt.Fprintf(&b, "  %3d  sent %d = completed %d + failed %d + timed out %d   %.1f/s   p99 %s\n",
				p.Shard, p.Sent, p.Completed, p.Failed, p.TimedOut, p.Rate, fmtMs(p.Latency.P99))
		}
	}
	if len(r.Errors) > 0 {
		b.WriteString("errors\n")
		for i, k := range sortedByCount(r.Errors) {
			if i == 10 {
				fmt.Fprintf(&b, "  … %d more kinds\n", len(r.Errors)-10)
				break
			}
			fmt.Fprintf(&b, "  %6d  %s\n", r.Errors[k], k)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// unit is what the run sent, for labels.
func (r *Report) unit() string {
	switch {
	case r.Unit != "":
		return r.Unit
	case r.Kind == KindText:
		return "messages"
	case r.Kind == KindOTP:
		return "OTPs"
	}
	return "challenges"
}

func fmtMs(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.3fms", v)
	}
}

func sortedByCount(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
