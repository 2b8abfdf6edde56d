package load

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// FuzzParseRange: any input either fails with ErrNumbers or gives a range
// whose numbers are digit strings of the ends' width, in order, wrapping.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"9990001000-9990001999", "+99901000000-+99901000999", "99901000007", "0012-0014", "9-0", "-", "+-+", "1-", "999999999999999999-999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := ParseRange(s)
		if err != nil {
			if ns.Len() != 0 {
				t.Fatalf("error %v with %d numbers", err, ns.Len())
			}
			return
		}
		n := ns.Len()
		if n <= 0 {
			t.Fatalf("%q: %d numbers", s, n)
		}
		first, last := ns.At(0), ns.At(n-1)
		if len(first) != len(last) || ns.At(n) != first {
			t.Fatalf("%q: first %s last %s wrap %s", s, first, last, ns.At(n))
		}
		a, err1 := strconv.ParseUint(first, 10, 64)
		b, err2 := strconv.ParseUint(last, 10, 64)
		if err1 != nil || err2 != nil || b-a+1 != uint64(n) {
			t.Fatalf("%q: %s..%s is not %d numbers", s, first, last, n)
		}
	})
}

// FuzzReadNumbers: a list either fails with ErrNumbers or holds only digit
// strings, one per non-comment line.
func FuzzReadNumbers(f *testing.F) {
	for _, s := range []string{"+99901000001\n99901000002\n", "# c\n\n0099901000003\r\n", "", "abc\n", "+\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := ReadNumbers(strings.NewReader(s))
		if err != nil {
			return
		}
		for i := 0; i < ns.Len(); i++ {
			if m := ns.At(i); m == "" || strings.Trim(m, "0123456789") != "" {
				t.Fatalf("%q: number %d is %q", s, i, m)
			}
		}
	})
}

// sampleLog is an interval log of two seconds and two tags, as a run
// writes it.
func sampleLog(start time.Time) []byte {
	var b bytes.Buffer
	l := newIntervalLog(&b, start, "sample")
	for sec := 0; sec < 2; sec++ {
		var hs [numTags]*hdr.Histogram
		for tag := range hs {
			hs[tag] = newHist()
		}
		for v := 1; v <= 50; v++ {
			_ = hs[tagE2E].RecordValue(int64(v*(sec+1)) * int64(time.Millisecond))
			_ = hs[tagSubmit].RecordValue(int64(v) * int64(time.Microsecond))
		}
		l.second(sec, hs[:])
	}
	return b.Bytes()
}

// TestHistogramLogForeign: a histogram of another range or precision is
// refused before it is decoded; another tag is skipped.
func TestHistogramLogForeign(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	var b bytes.Buffer
	w := hdr.NewHistogramLogWriter(&b)
	h := hdr.New(1, math.MaxInt64/2, 5)
	h.SetStartTimeMs(start.UnixMilli())
	h.SetEndTimeMs(start.UnixMilli() + 1000)
	h.SetTag("e2e")
	_ = h.RecordValue(42)
	if err := w.OutputIntervalHistogram(h); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadHistogramLog(&b, start); !errors.Is(err, ErrHistogramLog) || !strings.Contains(err.Error(), "significant digits") {
		t.Errorf("foreign geometry: %v", err)
	}
	other := bytes.ReplaceAll(sampleLog(start), []byte("Tag=submit"), []byte("Tag=other"))
	got, err := ReadHistogramLog(bytes.NewReader(other), start)
	if err != nil || got.total(tagSubmit).TotalCount() != 0 || got.total(tagE2E).TotalCount() != 100 {
		t.Errorf("another tag: %v", err)
	}
}

// FuzzReadHistogramLog: any input fails with ErrHistogramLog or gives
// histograms of simlab's geometry.
func FuzzReadHistogramLog(f *testing.F) {
	start := time.Unix(1_700_000_000, 0)
	f.Add(sampleLog(start))
	f.Add([]byte("Tag=e2e,1700000000.000,1.000,0.050,HISTFAAAAB\n"))
	f.Add([]byte("#[StartTime: 1700000000 (seconds since epoch)]\n1700000001,1,1,\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadHistogramLog(bytes.NewReader(b), start)
		if err != nil {
			if !errors.Is(err, ErrHistogramLog) {
				t.Fatalf("error %v does not wrap ErrHistogramLog", err)
			}
			return
		}
		for tag := 0; tag < numTags; tag++ {
			tot := h.total(tag)
			if tot.LowestTrackableValue() != histMin || tot.SignificantFigures() != sigFigs {
				t.Fatalf("tag %d: geometry %d/%d", tag, tot.LowestTrackableValue(), tot.SignificantFigures())
			}
		}
	})
}

// FuzzParseShard: any input fails with ErrShard or gives a shard whose
// index is below its count, which prints back as it parses.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "2/3", " 1 / 2 ", "3/3", "-1/2", "0/0", "a/b", "1/2/3", "9999/10000", "0/10001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			if !errors.Is(err, ErrShard) {
				t.Fatalf("%q: error %v does not wrap ErrShard", s, err)
			}
			return
		}
		if sh.Index < 0 || sh.Index >= sh.Count || sh.Count > MaxShards {
			t.Fatalf("%q: %+v", s, sh)
		}
		if again, err := ParseShard(sh.String()); err != nil || again != sh {
			t.Fatalf("%q: %v prints as %q, which parses as %v, %v", s, sh, sh.String(), again, err)
		}
	})
}
