package capture

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/simlab-dev/simlab/internal/jsonbody"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// FaultRequest is the JSON of a fault rule at /api/v1/faults: scope (dest
// or account, exactly one) and what to inject. Durations are Go durations
// ("250ms").
type FaultRequest struct {
	Dest    string `json:"dest,omitempty"`
	Account string `json:"account,omitempty"`
	// SubmitStatus answers matching submit_sm with this command_status.
	SubmitStatus uint32 `json:"submit_status,omitempty"`
	// BindStatus refuses the account's binds with this command_status.
	BindStatus uint32 `json:"bind_status,omitempty"`
	// Throttle limits matching submits per second (ESME_RTHROTTLED beyond).
	Throttle float64 `json:"throttle,omitempty"`
	// Drop closes the submitting ESME's connection instead of answering.
	Drop bool `json:"drop,omitempty"`
	// DeliveryError fails delivery attempts with a network error code.
	DeliveryError *FaultDeliveryError `json:"delivery_error,omitempty"`
	// Latency and Jitter delay each delivery attempt by
	// Latency + uniform[0, Jitter).
	Latency string `json:"latency,omitempty"`
	Jitter  string `json:"jitter,omitempty"`
	// Probability applies the fault to this fraction of matches (seeded);
	// 0 means always.
	Probability float64 `json:"probability,omitempty"`
	// Count applies the fault to the next Count matches only.
	Count int `json:"count,omitempty"`
	// Hits is reported by GET: how often the fault was applied.
	Hits int `json:"hits,omitempty"`
}

// FaultDeliveryError is a delivery failure: the network error code put in
// the receipt, and whether it is permanent (no retries).
type FaultDeliveryError struct {
	Code      uint16 `json:"code"`
	Permanent bool   `json:"permanent,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// FaultList is the body of GET /api/v1/faults.
type FaultList struct {
	Faults []FaultRequest `json:"faults"`
}

func (a *API) noFaults(w http.ResponseWriter) bool {
	if a.Faults == nil {
		writeErr(w, http.StatusNotImplemented, "this server has no fault injection")
		return true
	}
	return false
}

func (a *API) faultsList(w http.ResponseWriter, r *http.Request) {
	if a.noFaults(w) {
		return
	}
	out := FaultList{Faults: []FaultRequest{}}
	for _, fr := range a.Faults.List() {
		out.Faults = append(out.Faults, faultView(fr))
	}
	writeJSON(w, http.StatusOK, out)
}

func faultView(fr smsc.FaultRule) FaultRequest {
	v := FaultRequest{
		Dest: fr.Dest, Account: fr.Account, SubmitStatus: uint32(fr.SubmitStatus), BindStatus: uint32(fr.BindStatus),
		Throttle: fr.Throttle, Drop: fr.Drop, Probability: fr.Probability, Count: fr.Count, Hits: fr.Hits,
	}
	if fr.DeliveryError != nil {
		v.DeliveryError = &FaultDeliveryError{Code: fr.DeliveryError.Code, Permanent: fr.DeliveryError.Permanent, Reason: fr.DeliveryError.Reason}
	}
	if fr.Latency > 0 {
		v.Latency = fr.Latency.String()
	}
	if fr.Jitter > 0 {
		v.Jitter = fr.Jitter.String()
	}
	return v
}

// toFault validates a request and converts it.
func (req *FaultRequest) toFault() (smsc.Fault, error) {
	var f smsc.Fault
	if (req.Dest == "") == (req.Account == "") {
		return f, errors.New("give exactly one of dest and account")
	}
	if req.BindStatus != 0 && req.Account == "" {
		return f, errors.New("bind_status needs an account")
	}
	if req.Probability < 0 || req.Probability > 1 {
		return f, fmt.Errorf("probability %v outside [0, 1]", req.Probability)
	}
	if req.Throttle < 0 || req.Count < 0 {
		return f, errors.New("throttle and count must not be negative")
	}
	for _, d := range []struct {
		name, s string
		out     *time.Duration
	}{{"latency", req.Latency, &f.Latency}, {"jitter", req.Jitter, &f.Jitter}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil || v < 0 {
			return f, fmt.Errorf("%s: want a duration such as 200ms, got %q", d.name, d.s)
		}
		*d.out = v
	}
	f.SubmitStatus = pdu.Status(req.SubmitStatus)
	f.BindStatus = pdu.Status(req.BindStatus)
	f.Throttle, f.Drop, f.Probability, f.Count = req.Throttle, req.Drop, req.Probability, req.Count
	if e := req.DeliveryError; e != nil {
		f.DeliveryError = &smsc.DeliveryError{Code: e.Code, Permanent: e.Permanent, Reason: e.Reason}
	}
	if f == (smsc.Fault{}) {
		return f, errors.New("the rule injects nothing")
	}
	return f, nil
}

func (a *API) faultsAdd(w http.ResponseWriter, r *http.Request) {
	if a.noFaults(w) {
		return
	}
	var req FaultRequest
	if err := jsonbody.Decode(w, r, 1<<16, &req); err != nil {
		writeErr(w, http.StatusBadRequest, "fault: %v", err)
		return
	}
	req.Dest = smsc.NormalizeAddr(req.Dest)
	f, err := req.toFault()
	if err != nil {
		writeErr(w, http.StatusBadRequest, "fault: %v", err)
		return
	}
	if req.Dest != "" {
		a.Faults.SetDest(req.Dest, f)
	} else {
		a.Faults.SetAccount(req.Account, f)
	}
	req.Hits = 0
	writeJSON(w, http.StatusCreated, req)
}

// faultsClear removes the fault of ?dest= or ?account=, or every fault
// (then ?seed=N reseeds the generator, 1 by default) so a run can be
// replayed.
func (a *API) faultsClear(w http.ResponseWriter, r *http.Request) {
	if a.noFaults(w) {
		return
	}
	q := r.URL.Query()
	dest, account := smsc.NormalizeAddr(q.Get("dest")), q.Get("account")
	before := len(a.Faults.List())
	switch {
	case dest != "":
		a.Faults.RemoveDest(dest)
	case account != "":
		a.Faults.RemoveAccount(account)
	default:
		seed := uint64(1)
		if s := q.Get("seed"); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				writeErr(w, http.StatusBadRequest, "seed: want an unsigned integer, got %q", s)
				return
			}
			seed = v
		}
		a.Faults.Reset(seed)
	}
	removed := before - len(a.Faults.List())
	if removed == 0 && (dest != "" || account != "") {
		writeErr(w, http.StatusNotFound, "no such fault")
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"removed": removed})
}
