package simulator

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
)

// PhoneUpdate is the body of PUT /api/v1/phones/{msisdn}: every field is
// optional; what is given changes, the rest stays.
type PhoneUpdate struct {
	// Behaviour replaces the person's script (steps, then, open_urls).
	Behaviour *person.Behaviour `json:"behaviour,omitempty"`
	// Next are answers for the next prompts, once each and in order, put
	// before the rest of the script: after them the phone answers as it
	// did (after Behaviour's steps when both are given). docs/api.md,
	// "Answers".
	Next []person.Step `json:"next,omitempty"`
	// PIN is the applet PIN the card holds and the person types (5 digits).
	PIN          string `json:"pin,omitempty"`
	NoPINSupport *bool  `json:"no_pin_support,omitempty"`
	NoNFC        *bool  `json:"no_nfc,omitempty"`
	Absent       *bool  `json:"absent,omitempty"`
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
	mux.HandleFunc("GET /api/v1/metrics/sessions", c.sessionMetrics)
	mux.HandleFunc("DELETE /api/v1/metrics/sessions", c.resetSessionMetrics)
}

// apiError writes {"error": …} with the status that fits err.
func apiError(w http.ResponseWriter, err error) {
	code := http.StatusBadRequest
	switch {
	case errors.Is(err, fleet.ErrNotInPlan):
		code = http.StatusNotFound
	case errors.Is(err, fleet.ErrRecord): // the kept state, not the request
		code = http.StatusConflict
	}
	writeJSON(w, code, errorBody{Error: err.Error()})
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
	if err := decodeBody(w, r, 1<<20, &u); err != nil {
		apiError(w, fmt.Errorf("body: %w", err))
		return
	}
	if u.Behaviour != nil {
		if err := u.Behaviour.Validate(); err != nil {
			apiError(w, err)
			return
		}
	}
	if err := person.ValidateSteps(u.Next); err != nil {
		apiError(w, err)
		return
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
	if len(u.Next) > 0 {
		if err := p.QueueAnswers(u.Next); err != nil {
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

// numbers describes the plan the fleet runs (embedded or --fleet FILE):
// "ranges" is the whole fleet.Directory, what `simlab push --fleet URL`
// derives card keys from; "magic" (the named ranges) and "fleet" (the
// first unnamed range) are its older summary.
func (c *Core) numbers(w http.ResponseWriter, r *http.Request) {
	d := c.Fleet.Directory()
	magic := make([]fleet.RangeInfo, 0, len(d.Ranges))
	var plain map[string]any
	for _, rg := range d.Ranges {
		switch {
		case rg.Name != "":
			magic = append(magic, rg)
		case plain == nil:
			plain = map[string]any{"range": rg.Range, "size": rg.Size}
		}
	}
	body := map[string]any{"ranges": d.Ranges, "magic": magic}
	if plain != nil {
		body["fleet"] = plain
	}
	writeJSON(w, http.StatusOK, body)
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
