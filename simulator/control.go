package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/simlab-dev/simlab/internal/jsonbody"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
)

// PhoneUpdate is the body of PUT /api/v1/phones/{msisdn}: every field is
// optional; what is given changes, the rest stays.
type PhoneUpdate struct {
	// Behaviour scripts the person (steps, then, open_urls).
	Behaviour *person.Behaviour `json:"behaviour,omitempty"`
	// PIN is the applet PIN the card holds and the person types (5 digits).
	PIN          string `json:"pin,omitempty"`
	NoPINSupport *bool  `json:"no_pin_support,omitempty"`
	NoNFC        *bool  `json:"no_nfc,omitempty"`
	Absent       *bool  `json:"absent,omitempty"`
}

// NumberInfo is one row of GET /api/v1/numbers.
type NumberInfo struct {
	fleet.Magic
	// Range is the first and last number with this outcome.
	Range [2]string `json:"range"`
}

func mountControl(mux *http.ServeMux, c *Core) {
	mux.HandleFunc("GET /api/v1/phones", c.listPhones)
	mux.HandleFunc("GET /api/v1/phones/{msisdn}", c.getPhone)
	mux.HandleFunc("PUT /api/v1/phones/{msisdn}", c.putPhone)
	mux.HandleFunc("PATCH /api/v1/phones/{msisdn}", c.putPhone)
	mux.HandleFunc("DELETE /api/v1/phones/{msisdn}", c.resetPhone)
	mux.HandleFunc("POST /api/v1/phones/{msisdn}/reset", c.resetPhone)
	mux.HandleFunc("GET /api/v1/phones/{msisdn}/events", c.phoneEvents)
	mux.HandleFunc("GET /api/v1/phones/{msisdn}/inbox", c.phoneInbox)
	mux.HandleFunc("GET /api/v1/numbers", c.numbers)
	mux.HandleFunc("GET /api/v1/events", c.eventStream)
	mux.HandleFunc("GET /metrics", c.metrics)
	mux.HandleFunc("GET /api/v1/metrics/sessions", c.sessionMetrics)
	mux.HandleFunc("DELETE /api/v1/metrics/sessions", c.resetSessionMetrics)
}

// apiError writes {"error": …} with the status that fits err.
func apiError(w http.ResponseWriter, err error) {
	code := http.StatusBadRequest
	if errors.Is(err, fleet.ErrNotInPlan) {
		code = http.StatusNotFound
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func (c *Core) listPhones(w http.ResponseWriter, r *http.Request) {
	ps := c.Fleet.List()
	out := make([]fleet.Info, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Info())
	}
	writeJSON(w, http.StatusOK, map[string]any{"phones": out, "count": len(out)})
}

func (c *Core) getPhone(w http.ResponseWriter, r *http.Request) {
	p, err := c.Fleet.Phone(r.Context(), r.PathValue("msisdn"))
	if err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p.Info())
}

func (c *Core) putPhone(w http.ResponseWriter, r *http.Request) {
	var u PhoneUpdate
	if err := jsonbody.Decode(w, r, 1<<20, &u); err != nil {
		apiError(w, fmt.Errorf("body: %w", err))
		return
	}
	if u.Behaviour != nil {
		if err := u.Behaviour.Validate(); err != nil {
			apiError(w, err)
			return
		}
	}
	p, err := c.Fleet.Set(r.Context(), r.PathValue("msisdn"), fleet.Spec{PIN: u.PIN, NoPINSupport: u.NoPINSupport, NoNFC: u.NoNFC, Absent: u.Absent})
	if err != nil {
		apiError(w, err)
		return
	}
	if u.Behaviour != nil {
		if err := p.SetBehaviour(*u.Behaviour); err != nil {
			apiError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, p.Info())
}

func (c *Core) resetPhone(w http.ResponseWriter, r *http.Request) {
	if err := c.Fleet.Reset(r.PathValue("msisdn")); err != nil {
		apiError(w, err)
		return
	}
	p, err := c.Fleet.Phone(r.Context(), r.PathValue("msisdn"))
	if err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p.Info())
}

func (c *Core) phoneEvents(w http.ResponseWriter, r *http.Request) {
	p, err := c.Fleet.Phone(r.Context(), r.PathValue("msisdn"))
	if err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": p.Events()})
}

func (c *Core) phoneInbox(w http.ResponseWriter, r *http.Request) {
	p, err := c.Fleet.Phone(r.Context(), r.PathValue("msisdn"))
	if err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": p.Inbox()})
}

func (c *Core) numbers(w http.ResponseWriter, r *http.Request) {
	out := make([]NumberInfo, 0, len(fleet.MagicOutcomes))
	for _, m := range fleet.MagicOutcomes {
		lo, _ := fleet.MagicNumberFor(m.Name, 0)
		hi, _ := fleet.MagicNumberFor(m.Name, fleet.MagicPerCode-1)
		out = append(out, NumberInfo{Magic: m, Range: [2]string{"+" + lo, "+" + hi}})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"magic": out,
		"fleet": map[string]any{"range": [2]string{"+" + fleet.FleetNumber(0), "+" + fleet.FleetNumber(fleet.FleetSize-1)}, "size": fleet.FleetSize},
	})
}

// eventStream is Server-Sent Events of every phone's events; ?msisdn=
// filters one phone.
func (c *Core) eventStream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	want := ""
	if q := r.URL.Query().Get("msisdn"); q != "" {
		n, err := fleet.Normalize(q)
		if err != nil {
			apiError(w, err)
			return
		}
		want = n
	}
	ch, stop := c.Fleet.Subscribe(256)
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": simlab phone events\n\n")
	fl.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case e, ok := <-ch:
			if !ok {
				return
			}
			if want != "" && e.MSISDN != want {
				continue
			}
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Kind, b)
			fl.Flush()
		}
	}
}

// metrics writes Prometheus text exposition format 0.0.4.
func (c *Core) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	var b strings.Builder
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, help, name, name, v)
	}
	gauge("simlab_phones_materialised", "Emulated phones built so far.", float64(c.Fleet.Len()))
	counts := map[string]int{}
	// Settings and PINState, not Info: a scrape must not derive the keys
	// of every phone whose card was put away (Info's public key).
	for _, p := range c.Fleet.List() {
		if p.PINState().Blocked {
			counts["blocked"]++
		}
		if p.Settings().Absent {
			counts["absent"]++
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(&b, "# HELP simlab_phones Phones by condition.\n# TYPE simlab_phones gauge\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "simlab_phones{condition=%q} %d\n", k, counts[k])
	}
	_ = c.Sessions.WritePrometheus(&b, "simlab_phone_session_seconds")
	fmt.Fprint(w, b.String())
}

// sessionMetrics is the phones' view of challenge latency by outcome, in
// milliseconds: from the SMS-PP download reaching a phone to its answer
// leaving it.
func (c *Core) sessionMetrics(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"outcomes": c.Sessions.Snapshot()})
}

func (c *Core) resetSessionMetrics(w http.ResponseWriter, r *http.Request) {
	c.Sessions.Reset()
	w.WriteHeader(http.StatusNoContent)
}
