package load

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The histogram tags of a run's interval log.
const (
	tagE2E = iota
	tagSubmit
	tagReceipt
	numTags
)

// tagNames are the tags as the log writes them.
var tagNames = [numTags]string{"e2e", "submit", "receipt"}

// HistogramLogName is the file `simlab load --out DIR` writes the run's
// HdrHistogram interval log to, beside report.json.
const HistogramLogName = "latency.hlog"

// intervalLog writes a run's per-second histograms with hdrhistogram-go's
// log writer: HdrHistogram's interval log format (version 1.3), readable by
// HdrHistogram's own tools (HistogramLogProcessor, HistogramLogAnalyzer).
// Values are nanoseconds; each interval starts at its absolute time in
// seconds since the epoch. The first error sticks in err.
type intervalLog struct {
	w     *hdr.HistogramLogWriter
	start time.Time
	err   error
}

func newIntervalLog(w io.Writer, start time.Time, comment string) *intervalLog {
	l := &intervalLog{w: hdr.NewHistogramLogWriter(w), start: start}
	l.err = errors.Join(
		l.w.OutputLogFormatVersion(),
		l.w.OutputComment("["+comment+"]"),
		l.w.OutputComment("[values in nanoseconds; tags: e2e (intended send time to answer), submit (submit_sm to its response), receipt (submit_sm to the delivery receipt)]"),
		l.w.OutputStartTime(start.UnixMilli()),
		l.w.OutputLegend(),
	)
	return l
}

// second writes the non-empty histograms of second sec of the run, by tag.
func (l *intervalLog) second(sec int, hs []*hdr.Histogram) {
	for tag, h := range hs {
		if l.err != nil || h == nil || h.TotalCount() == 0 {
			continue
		}
		at := l.start.UnixMilli() + int64(sec)*1000
		h.SetStartTimeMs(at)
		h.SetEndTimeMs(at + 1000)
		h.SetTag(tagNames[tag])
		l.err = l.w.OutputIntervalHistogram(h)
	}
}

// Histograms are a run's latency histograms by tag and by second of the
// run (from its start), as its interval log holds them. Histograms of
// shards of one run add up bucket by bucket (Add): exactly what one
// process would have recorded.
type Histograms struct {
	Start time.Time
	by    [numTags][]*hdr.Histogram
}

// Limits of ReadHistogramLog: a longer line or a later second is an error.
const (
	maxLogLine    = 1 << 20
	maxLogSeconds = 1 << 20 // about 12 days
)

// ErrHistogramLog is wrapped by errors reading a histogram log.
var ErrHistogramLog = errors.New("load: histogram log")

// ReadHistogramLog reads an interval log that a run starting at start wrote
// (Config.HistogramLog). Every histogram must have the range and precision
// simlab records with (1 µs to 10 min, 3 significant digits), so that
// histograms of shards add up exactly; lines of another tag are skipped.
//
// The lines are parsed here rather than by hdrhistogram-go's log reader,
// which decodes a histogram of whatever range a line declares (tens of
// megabytes for the widest) before the caller can look at it: here the
// histogram's header is checked first, and then hdrhistogram-go decodes it.
func ReadHistogramLog(r io.Reader, start time.Time) (*Histograms, error) {
	h := &Histograms{Start: start}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLogLine)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' || s[0] == '"' {
			continue // comments, the start time and the legend
		}
		tag, sec, hist, err := parseLogLine(s, start)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrHistogramLog, line, err)
		}
		if tag < 0 {
			continue
		}
		h.add(tag, sec, hist)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %v", ErrHistogramLog, line+1, err)
	}
	return h, nil
}

// parseLogLine reads "[Tag=T,]START,LENGTH,MAX,PAYLOAD": the tag's index
// (-1 for a tag simlab does not write), the second of the run the interval
// starts in, and the histogram.
func parseLogLine(s string, start time.Time) (tag, sec int, h *hdr.Histogram, err error) {
	name := ""
	if rest, ok := strings.CutPrefix(s, "Tag="); ok {
		var found bool
		name, s, found = strings.Cut(rest, ",")
		if !found {
			return 0, 0, nil, errors.New("a tag without an interval")
		}
	}
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return 0, 0, nil, fmt.Errorf("%d fields, want START,LENGTH,MAX,HISTOGRAM", len(f))
	}
	at, err := strconv.ParseFloat(f[0], 64)
	if err != nil || math.IsNaN(at) || math.IsInf(at, 0) {
		return 0, 0, nil, fmt.Errorf("start %q is not a time in seconds", f[0])
	}
	tag = -1
	for i, n := range tagNames {
		if n == name {
			tag = i
		}
	}
	if tag < 0 {
		return -1, 0, nil, nil
	}
	off := math.Round(at - float64(start.UnixMilli())/1000)
	if off < 0 || off >= maxLogSeconds {
		return 0, 0, nil, fmt.Errorf("interval at %s is not within the run that started %s", f[0], start.UTC().Format(time.RFC3339))
	}
	if err := checkGeometry(f[3]); err != nil {
		return 0, 0, nil, err
	}
	h, err = hdr.Decode([]byte(f[3]))
	if err != nil {
		return 0, 0, nil, fmt.Errorf("histogram: %v", err)
	}
	return tag, int(off), h, nil
}

// checkGeometry reads the header of an encoded histogram (HdrHistogram's
// V2 compressed encoding: a cookie and a length, then a zlib stream whose
// first 40 bytes are cookie, payload length, normalizing offset,
// significant digits, lowest and highest trackable values and a conversion
// ratio, all big-endian) and refuses a histogram of another range or
// precision than simlab's.
func checkGeometry(b64 string) error {
	if len(b64) < 12 {
		return errors.New("histogram: too short")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return fmt.Errorf("histogram: %v", err)
	}
	if len(raw) < 8 {
		return errors.New("histogram: too short")
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return fmt.Errorf("histogram: %v", err)
	}
	defer z.Close()
	var hd [40]byte
	if _, err := io.ReadFull(z, hd[:]); err != nil {
		return fmt.Errorf("histogram: header: %v", err)
	}
	sig := int32(binary.BigEndian.Uint32(hd[12:]))
	lo := int64(binary.BigEndian.Uint64(hd[16:]))
	hi := int64(binary.BigEndian.Uint64(hd[24:]))
	if sig != sigFigs || lo != histMin || hi != histMax {
		return fmt.Errorf("histogram of %d to %d ns at %d significant digits, want %d to %d at %d: not written by simlab load",
			lo, hi, sig, histMin, histMax, sigFigs)
	}
	return nil
}

// add merges hist into the histogram of tag at second sec.
func (h *Histograms) add(tag, sec int, hist *hdr.Histogram) {
	s := h.by[tag]
	if len(s) <= sec {
		s = append(s, make([]*hdr.Histogram, sec+1-len(s))...)
	}
	if s[sec] == nil {
		s[sec] = newHist()
	}
	s[sec].Merge(hist)
	h.by[tag] = s
}

// Add merges o's histograms into h, second by second (both must be of
// runs with the same start).
func (h *Histograms) Add(o *Histograms) {
	for tag := range o.by {
		for sec, hist := range o.by[tag] {
			if hist != nil {
				h.add(tag, sec, hist)
			}
		}
	}
}

// total is the histogram of tag over the whole run.
func (h *Histograms) total(tag int) *hdr.Histogram {
	t := newHist()
	for _, hist := range h.by[tag] {
		if hist != nil {
			t.Merge(hist)
		}
	}
	return t
}

// at is the histogram of tag in second sec, or nil.
func (h *Histograms) at(tag, sec int) *hdr.Histogram {
	if sec < len(h.by[tag]) {
		return h.by[tag][sec]
	}
	return nil
}

// seconds is how many seconds the histograms cover.
func (h *Histograms) seconds() int {
	n := 0
	for _, s := range h.by {
		n = max(n, len(s))
	}
	return n
}

// WriteLog writes h as an interval log, with comment in its header.
func (h *Histograms) WriteLog(w io.Writer, comment string) error {
	l := newIntervalLog(w, h.Start, comment)
	for sec := 0; sec < h.seconds() && l.err == nil; sec++ {
		var hs [numTags]*hdr.Histogram
		for tag := range hs {
			hs[tag] = h.at(tag, sec)
		}
		l.second(sec, hs[:])
	}
	return l.err
}
