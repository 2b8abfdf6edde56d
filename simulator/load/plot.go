package load

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// xy is one point of a plotted series.
type xy struct{ X, Y float64 }

type series struct {
	Name  string
	Color string
	Pts   []xy
}

type tick struct {
	V     float64
	Label string
}

// chart is a line chart rendered as a self-contained SVG.
type chart struct {
	Title, XLabel, YLabel string
	Series                []series
	XTicks                []tick // nil: computed
}

const (
	chartW, chartH         = 860, 320
	padL, padR, padT, padB = 70, 150, 36, 48
	plotW                  = chartW - padL - padR
	plotH                  = chartH - padT - padB
)

// niceTicks returns about n round tick values covering [0, max].
func niceTicks(maxV float64, n int) []tick {
	if maxV <= 0 {
		maxV = 1
	}
	raw := maxV / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []tick
	for v := 0.0; v <= maxV+step/2; v += step {
		ts = append(ts, tick{V: v, Label: trimFloat(v)})
	}
	return ts
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func (c chart) svg() string {
	var xmax, ymax float64
	for _, s := range c.Series {
		for _, p := range s.Pts {
			xmax = math.Max(xmax, p.X)
			ymax = math.Max(ymax, p.Y)
		}
	}
	xt := c.XTicks
	if xt == nil {
		xt = niceTicks(xmax, 8)
	}
	for _, t := range xt {
		xmax = math.Max(xmax, t.V)
	}
	yt := niceTicks(ymax, 5)
	ymax = math.Max(ymax, yt[len(yt)-1].V)
	if xmax == 0 {
		xmax = 1
	}
	if ymax == 0 {
		ymax = 1
	}
	px := func(x float64) float64 { return padL + x/xmax*plotW }
	py := func(y float64) float64 { return padT + plotH - y/ymax*plotH }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="15" font-weight="bold">%s</text>`, padL, html.EscapeString(c.Title))
	for _, t := range yt {
		y := py(t.V)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, padL, padL+plotW, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, t.Label)
	}
	for _, t := range xt {
		x := px(t.V)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#eee"/>`, x, x, padT, padT+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, x, padT+plotH+16, html.EscapeString(t.Label))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`, padL, padT, plotW, plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, padL+plotW/2, chartH-8, html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text x="16" y="%d" text-anchor="middle" transform="rotate(-90 16 %d)">%s</text>`, padT+plotH/2, padT+plotH/2, html.EscapeString(c.YLabel))
	for i, s := range c.Series {
		if len(s.Pts) == 0 {
			continue
		}
		var pts []string
		for _, p := range s.Pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.X), py(p.Y)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"><title>%s</title></polyline>`, s.Color, strings.Join(pts, " "), html.EscapeString(s.Name))
		ly := padT + 14 + i*18
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"/>`, padL+plotW+12, padL+plotW+32, ly-4, ly-4, s.Color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, padL+plotW+38, ly, html.EscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// latencyChart plots p50, p99 and max latency per second.
func (r *Report) latencyChart() chart {
	var p50, p99, mx []xy
	for _, s := range r.Series {
		if s.Completed == 0 {
			continue
		}
		x := float64(s.T) + 0.5
		p50 = append(p50, xy{x, s.P50})
		p99 = append(p99, xy{x, s.P99})
		mx = append(mx, xy{x, s.Max})
	}
	return chart{Title: "Latency over time (completed in each second)", XLabel: "seconds since start", YLabel: "latency (ms)",
		Series: []series{{"max", "#d62728", mx}, {"p99", "#ff7f0e", p99}, {"p50", "#1f77b4", p50}}}
}

// distributionChart plots the percentile curve on HdrHistogram's
// 1/(1-p) axis, so the tail gets room.
func (r *Report) distributionChart() chart {
	x := func(p float64) float64 {
		if p >= 100 {
			p = 99.9999
		}
		return math.Log10(1 / (1 - p/100))
	}
	var pts []xy
	for _, p := range r.Distribution {
		pts = append(pts, xy{x(p.Percentile), p.Ms})
	}
	var ticks []tick
	for _, t := range []struct {
		p float64
		l string
	}{{0, "0%"}, {90, "90%"}, {99, "99%"}, {99.9, "99.9%"}, {99.99, "99.99%"}, {99.999, "99.999%"}} {
		ticks = append(ticks, tick{x(t.p), t.l})
	}
	return chart{Title: "Latency by percentile", XLabel: "percentile", YLabel: "latency (ms)", XTicks: ticks,
		Series: []series{{"end to end", "#1f77b4", pts}}}
}

// throughputChart plots arrivals and completions per second.
func (r *Report) throughputChart() chart {
	var sent, done, bad []xy
	for _, s := range r.Series {
		x := float64(s.T) + 0.5
		sent = append(sent, xy{x, float64(s.Sent)})
		done = append(done, xy{x, float64(s.Completed)})
		bad = append(bad, xy{x, float64(s.Failed + s.TimedOut)})
	}
	return chart{Title: "Throughput", XLabel: "seconds since start", YLabel: r.unit() + " per second",
		Series: []series{{"sent", "#7f7f7f", sent}, {"completed", "#2ca02c", done}, {"failed + timed out", "#d62728", bad}}}
}

// WriteHTML writes a self-contained page (inline SVG, no scripts, no
// network) with the summary and the three plots.
func (r *Report) WriteHTML(w io.Writer, title string) error {
	var sum strings.Builder
	if err := r.WriteText(&sum); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", html.EscapeString(title))
	b.WriteString("<style>body{font-family:sans-serif;margin:24px;color:#222}pre{background:#f6f6f6;padding:12px}</style></head><body>\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n<pre>%s</pre>\n", html.EscapeString(title), html.EscapeString(sum.String()))
	for _, c := range []chart{r.latencyChart(), r.distributionChart(), r.throughputChart()} {
		b.WriteString("<div>")
		b.WriteString(c.svg())
		b.WriteString("</div>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
