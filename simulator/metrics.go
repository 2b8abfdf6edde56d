package simulator

import (
	"net/http"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
)

// /metrics is served by client_golang from one registry per Server
// (Server.Metrics): the Go runtime and process collectors, the HTTP
// stack's counters (below), the SMSC's collector (smsc.Server.Collector,
// reading its atomics at scrape time) and the fleet's (phones, sessions by
// outcome). docs/api.md lists every metric.

func newRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// httpStats are the HTTP stack's counters.
type httpStats struct {
	refused       *prometheus.CounterVec
	authFailures  prometheus.Counter
	authThrottled prometheus.Counter
}

func newHTTPStats(r *prometheus.Registry) *httpStats {
	st := &httpStats{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simlab_connections_refused_total",
			Help: "Connections closed at accept because a listener's cap was reached, by listener (http, smpp, smpp_tls) and cap (listener, per_source).",
		}, []string{"listener", "cap"}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simlab_http_auth_failures_total",
			Help: "HTTP requests and logins with a wrong API token.",
		}),
		authThrottled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simlab_http_auth_throttled_total",
			Help: "HTTP requests answered 429 because their source address failed authentication too often.",
		}),
	}
	r.MustRegister(st.refused, st.authFailures, st.authThrottled)
	return st
}

// fleetCollector exposes the emulated fleet: phones built, phones by
// condition, and the phones' session latency by outcome.
type fleetCollector struct {
	fleet    *fleet.Fleet
	sessions *load.SessionLatency
}

var (
	descPhones = prometheus.NewDesc("simlab_phones_materialised",
		"Emulated phones in memory (built and not freed, docs/fleet.md).", nil, nil)
	descPhonesBy = prometheus.NewDesc("simlab_phones",
		"Emulated phones by condition (blocked: PIN blocked; absent: switched off).", []string{"condition"}, nil)
	descSession = prometheus.NewDesc("simlab_phone_session_seconds",
		"Time from the SMS-PP download reaching a phone to its answer leaving it, by outcome.", []string{"outcome"}, nil)
)

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPhones
	ch <- descPhonesBy
	ch <- descSession
}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descPhones, prometheus.GaugeValue, float64(c.fleet.Len()))
	var blocked, absent int
	// Settings and PINState, not Info: a scrape must not derive the keys
	// of every phone whose card was put away (Info's public key).
	for _, p := range c.fleet.List() {
		if p.PINState().Blocked {
			blocked++
		}
		if p.Settings().Absent {
			absent++
		}
	}
	ch <- prometheus.MustNewConstMetric(descPhonesBy, prometheus.GaugeValue, float64(blocked), "blocked")
	ch <- prometheus.MustNewConstMetric(descPhonesBy, prometheus.GaugeValue, float64(absent), "absent")
	hs := c.sessions.Histograms()
	outcomes := make([]string, 0, len(hs))
	for k := range hs {
		outcomes = append(outcomes, k)
	}
	sort.Strings(outcomes)
	for _, k := range outcomes {
		h := hs[k]
		buckets := make(map[float64]uint64, len(load.SessionBuckets))
		for i, le := range load.SessionBuckets {
			buckets[le] = h.Cumulative[i]
		}
		ch <- prometheus.MustNewConstHistogram(descSession, h.Count, h.Sum, buckets, k)
	}
}
