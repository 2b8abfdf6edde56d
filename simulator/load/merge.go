package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ReportName is the file `simlab load --out DIR` writes the JSON report
// to; it is written last, so a directory holding it holds a finished run.
const ReportName = "report.json"

// Limits on what ReadShard reads.
const (
	maxReportBytes = 64 << 20
	maxLogBytes    = 1 << 30
)

// ErrMerge is wrapped by errors reading or merging shard reports.
var ErrMerge = errors.New("load: merge")

// ShardReport is what one run wrote to its --out directory: the report and
// the histograms of its interval log.
type ShardReport struct {
	Dir    string
	Report *Report
	Hist   *Histograms
}

// ReadReport reads the report.json in dir, which must say which part of
// which schedule it is.
func ReadReport(dir string) (*Report, error) {
	b, err := readLimited(filepath.Join(dir, ReportName), maxReportBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMerge, err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMerge, filepath.Join(dir, ReportName), err)
	}
	sc := rep.Schedule
	if sc.Shards < 1 || sc.Start.IsZero() || sc.Shard < 0 || sc.Shard >= sc.Shards || !(sc.Rate > 0) {
		return nil, fmt.Errorf("%w: %s: no schedule (written by a simlab older than load merge?)", ErrMerge, filepath.Join(dir, ReportName))
	}
	return &rep, nil
}

// ReadShard reads the report and the histogram log in dir.
func ReadShard(dir string) (*ShardReport, error) {
	rep, err := ReadReport(dir)
	if err != nil {
		return nil, err
	}
	sc := rep.Schedule
	f, err := os.Open(filepath.Join(dir, HistogramLogName))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMerge, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxLogBytes {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrMerge, f.Name(), int64(maxLogBytes))
	}
	h, err := ReadHistogramLog(f, sc.Start)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMerge, f.Name(), err)
	}
	return &ShardReport{Dir: dir, Report: rep, Hist: h}, nil
}

// FindShards returns the run directories under dirs: each dir that holds a
// report.json, else its subdirectories that do (one level down). Merged
// reports are left out. Each directory appears once, in name order.
func FindShards(dirs []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	addIf := func(d string) bool {
		b, err := readLimited(filepath.Join(d, ReportName), maxReportBytes)
		if err != nil {
			return false
		}
		var head struct {
			Schedule Schedule `json:"schedule"`
		}
		if json.Unmarshal(b, &head) == nil && head.Schedule.Merged {
			return true // a merge's output: neither a shard nor a folder of them
		}
		if abs, err := filepath.Abs(d); err == nil && !seen[abs] {
			seen[abs] = true
			out = append(out, d)
		}
		return true
	}
	for _, d := range dirs {
		if addIf(d) {
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMerge, err)
		}
		for _, e := range ents {
			if e.IsDir() {
				addIf(filepath.Join(d, e.Name()))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// Missing returns the shard indexes of the run that none of parts is, and
// how many shards the run has (0 when parts is empty).
func Missing(parts []*ShardReport) (missing []int, count int) {
	if len(parts) == 0 {
		return nil, 0
	}
	count = parts[0].Report.Schedule.Shards
	have := map[int]bool{}
	for _, p := range parts {
		have[p.Report.Schedule.Shard] = true
	}
	for i := 0; i < count; i++ {
		if !have[i] {
			missing = append(missing, i)
		}
	}
	return missing, count
}

// Merge adds up the shards of one run into the report one process running
// the whole schedule would have written: counts summed, histograms merged
// bucket by bucket (never percentiles averaged), series aligned by second
// of the shared start, the percentile plots drawn from the merged
// histograms. Every shard of the run must be there exactly once, all of the
// same schedule.
func Merge(parts []*ShardReport) (*Report, *Histograms, error) {
	if len(parts) == 0 {
		return nil, nil, fmt.Errorf("%w: no shard reports", ErrMerge)
	}
	first := parts[0].Report
	sc := first.Schedule
	byShard := map[int]*ShardReport{}
	for _, p := range parts {
		r := p.Report
		if err := sameRun(first, r); err != nil {
			return nil, nil, fmt.Errorf("%w: %s and %s are not shards of one run: %v", ErrMerge, parts[0].Dir, p.Dir, err)
		}
		if q, dup := byShard[r.Schedule.Shard]; dup {
			return nil, nil, fmt.Errorf("%w: shard %d/%d twice: %s and %s", ErrMerge, r.Schedule.Shard, sc.Shards, q.Dir, p.Dir)
		}
		byShard[r.Schedule.Shard] = p
	}
	if missing, n := Missing(parts); len(missing) > 0 {
		return nil, nil, fmt.Errorf("%w: shards %s of %d missing", ErrMerge, joinInts(missing), n)
	}
	rep := &Report{
		Outcomes: map[string]int64{}, Errors: map[string]int64{},
		TargetRate: sc.Rate, Kind: first.Kind, Unit: first.Unit,
	}
	rep.Schedule = sc
	rep.Schedule.Shard, rep.Schedule.Merged = 0, true
	hist := &Histograms{Start: sc.Start}
	for i := 0; i < sc.Shards; i++ {
		p := byShard[i]
		r := p.Report
		rep.Sent += r.Sent
		rep.Completed += r.Completed
		rep.Failed += r.Failed
		rep.TimedOut += r.TimedOut
		rep.Verified += r.Verified
		for k, v := range r.Outcomes {
			rep.Outcomes[k] += v
		}
		for k, v := range r.Errors {
			rep.Errors[k] += v
		}
		rep.DurationS = max(rep.DurationS, r.DurationS)
		rep.Interrupted = rep.Interrupted || r.Interrupted
		for _, s := range r.Series {
			if s.T < 0 || s.T >= maxLogSeconds {
				return nil, nil, fmt.Errorf("%w: %s: series second %d", ErrMerge, p.Dir, s.T)
			}
			for len(rep.Series) <= s.T {
				rep.Series = append(rep.Series, Second{T: len(rep.Series)})
			}
			m := &rep.Series[s.T]
			m.Sent += s.Sent
			m.Completed += s.Completed
			m.Failed += s.Failed
			m.TimedOut += s.TimedOut
		}
		hist.Add(p.Hist)
		rep.Parts = append(rep.Parts, Part{Shard: i, Sent: r.Sent, Completed: r.Completed, Failed: r.Failed,
			TimedOut: r.TimedOut, Rate: r.Rate, DurationS: r.DurationS, Latency: r.Latency})
	}
	if len(rep.Errors) == 0 {
		rep.Errors = nil
	}
	for sec := range rep.Series {
		if h := hist.at(tagE2E, sec); h != nil && h.TotalCount() > 0 {
			rep.Series[sec].setLatency(h)
		}
	}
	e2e := hist.total(tagE2E)
	rep.Latency = percentiles(e2e)
	rep.Distribution = distribution(e2e)
	if h := hist.total(tagSubmit); h.TotalCount() > 0 {
		p := percentiles(h)
		rep.SubmitLatency = &p
	}
	if h := hist.total(tagReceipt); h.TotalCount() > 0 {
		p := percentiles(h)
		rep.ReceiptLatency = &p
	}
	rep.Rate = achievedRate(rep.Sent, sc, Shard{Count: 1}, rep.Interrupted, rep.DurationS)
	return rep, hist, nil
}

// sameRun says how b's schedule differs from a's, or nil when they are
// shards of one run.
func sameRun(a, b *Report) error {
	x, y := a.Schedule, b.Schedule
	var diff []string
	if x.Merged || y.Merged {
		diff = append(diff, "a merged report is not a shard")
	}
	if x.Shards != y.Shards {
		diff = append(diff, fmt.Sprintf("%d and %d shards", x.Shards, y.Shards))
	}
	if !x.Start.Equal(y.Start) {
		diff = append(diff, fmt.Sprintf("start %s and %s", x.Start.Format(time.RFC3339Nano), y.Start.Format(time.RFC3339Nano)))
	}
	if x.Rate != y.Rate || x.DurationS != y.DurationS || x.RampS != y.RampS || x.Arrivals != y.Arrivals {
		diff = append(diff, fmt.Sprintf("schedules %g/s %gs ramp %gs and %g/s %gs ramp %gs", x.Rate, x.DurationS, x.RampS, y.Rate, y.DurationS, y.RampS))
	}
	if a.Kind != b.Kind {
		diff = append(diff, fmt.Sprintf("loads of kind %q and %q", a.Kind, b.Kind))
	}
	if len(diff) == 0 {
		return nil
	}
	return errors.New(strings.Join(diff, "; "))
}

func joinInts(v []int) string {
	var b bytes.Buffer
	for i, n := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, n)
	}
	return b.String()
}
