package smsc

import (
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// Fault is an injected misbehaviour for one destination address or one
// account (system_id). Zero fields inject nothing.
type Fault struct {
	// SubmitStatus answers matching submits with this command_status
	// instead of accepting them (e.g. pdu.StatusSysErr).
	SubmitStatus pdu.Status `json:"submit_status,omitempty"`
	// BindStatus refuses binds of the account with this status.
	BindStatus pdu.Status `json:"bind_status,omitempty"`
	// Throttle limits matching submits to this many per second (beyond:
	// ESME_RTHROTTLED).
	Throttle float64 `json:"throttle,omitempty"`
	// Drop closes the submitting ESME's connection instead of answering.
	Drop bool `json:"drop,omitempty"`
	// DeliveryError fails delivery attempts with this error (temporary
	// ones are retried until validity ends).
	DeliveryError *DeliveryError `json:"delivery_error,omitempty"`
	// Latency delays each delivery attempt by Latency plus a uniformly
	// drawn part of Jitter.
	Latency time.Duration `json:"latency,omitempty"`
	Jitter  time.Duration `json:"jitter,omitempty"`
	// Probability applies the fault to this fraction of matches (drawn
	// from the seeded generator); 0 means always.
	Probability float64 `json:"probability,omitempty"`
	// Count applies the fault to the next Count matches only; 0 means
	// until removed.
	Count int `json:"count,omitempty"`
}

// FaultRule is a Fault with its scope, as listed by Faults.List.
type FaultRule struct {
	Dest    string `json:"dest,omitempty"`
	Account string `json:"account,omitempty"`
	Fault
	// Hits counts the matches the fault was applied to.
	Hits int `json:"hits"`
}

type faultRule struct {
	FaultRule
	bucket tokenBucket
}

// Faults holds the injected faults. Decisions draw from one generator
// seeded at creation, so a run with the same seed and the same order of
// events is reproducible. Safe for concurrent use; the zero value is not
// usable: call NewFaults.
type Faults struct {
	mu      sync.Mutex
	rng     *rand.Rand
	dest    map[string]*faultRule
	account map[string]*faultRule
	// rules is len(dest)+len(account), written under mu: with none
	// installed (the usual case) the submit path reads one shared word
	// instead of taking mu, whose cache line every bind's reader then
	// took from the other cores twice per submit_sm.
	rules atomic.Int32
}

// counted publishes the number of rules. Caller holds mu.
func (f *Faults) counted() { f.rules.Store(int32(len(f.dest) + len(f.account))) }

// none reports that no fault is installed.
func (f *Faults) none() bool { return f.rules.Load() == 0 }

// NewFaults returns an empty fault set drawing from seed.
func NewFaults(seed uint64) *Faults {
	return &Faults{
		rng:     rand.New(rand.NewPCG(seed, seed^0x5eed)),
		dest:    make(map[string]*faultRule),
		account: make(map[string]*faultRule),
	}
}

// SetDest installs (replaces) the fault for a destination address, which
// matches however a submit writes the number (NormalizeAddr).
func (f *Faults) SetDest(addr string, fl Fault) {
	addr = NormalizeAddr(addr)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dest[addr] = &faultRule{FaultRule: FaultRule{Dest: addr, Fault: fl}, bucket: tokenBucket{rate: fl.Throttle}}
	f.counted()
}

// SetAccount installs (replaces) the fault for an account.
func (f *Faults) SetAccount(systemID string, fl Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.account[systemID] = &faultRule{FaultRule: FaultRule{Account: systemID, Fault: fl}, bucket: tokenBucket{rate: fl.Throttle}}
	f.counted()
}

// RemoveDest removes a destination's fault.
func (f *Faults) RemoveDest(addr string) {
	addr = NormalizeAddr(addr)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.dest, addr)
	f.counted()
}

// RemoveAccount removes an account's fault.
func (f *Faults) RemoveAccount(systemID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.account, systemID)
	f.counted()
}

// Reset removes every fault and reseeds the generator with seed.
func (f *Faults) Reset(seed uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rng = rand.New(rand.NewPCG(seed, seed^0x5eed))
	clear(f.dest)
	clear(f.account)
	f.counted()
}

// List returns the installed faults, destinations first, sorted.
func (f *Faults) List() []FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FaultRule, 0, len(f.dest)+len(f.account))
	for _, r := range f.dest {
		out = append(out, r.FaultRule)
	}
	for _, r := range f.account {
		out = append(out, r.FaultRule)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Dest != out[j].Dest {
			return out[i].Dest > out[j].Dest
		}
		return out[i].Account < out[j].Account
	})
	return out
}

// byDest returns the rule for dest however it is written (SetDest keys
// the normalized address). Caller holds mu.
func (f *Faults) byDest(dest string) *faultRule {
	r := f.dest[dest]
	if r == nil && len(f.dest) > 0 {
		r = f.dest[NormalizeAddr(dest)]
	}
	return r
}

// match returns the rule for dest, else for account, that passes want and
// its probability and count. Caller holds mu.
func (f *Faults) match(account, dest string, want func(*Fault) bool) *faultRule {
	for _, r := range []*faultRule{f.byDest(dest), f.account[account]} {
		if r == nil || !want(&r.Fault) {
			continue
		}
		if r.Count > 0 && r.Hits >= r.Count {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && f.rng.Float64() >= r.Probability {
			continue
		}
		r.Hits++
		return r
	}
	return nil
}

// submit decides the fault for a submit: a status to answer, or drop.
func (f *Faults) submit(account, dest string, now time.Time) (st pdu.Status, drop bool) {
	if f.none() {
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.match(account, dest, func(x *Fault) bool { return x.SubmitStatus != 0 || x.Drop || x.Throttle > 0 })
	if r == nil {
		return 0, false
	}
	if r.Drop {
		return 0, true
	}
	if r.Throttle > 0 && !r.bucket.allow(now) {
		return pdu.StatusThrottled, false
	}
	return r.SubmitStatus, false
}

// delivery returns the fault for a delivery attempt.
func (f *Faults) delivery(account, dest string) (Fault, bool) {
	if f.none() {
		return Fault{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.match(account, dest, func(x *Fault) bool { return x.DeliveryError != nil || x.Latency > 0 || x.Jitter > 0 })
	if r == nil {
		return Fault{}, false
	}
	return r.Fault, true
}

// bind returns the status to refuse an account's bind with.
func (f *Faults) bind(systemID string) (pdu.Status, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.match(systemID, "\x00", func(x *Fault) bool { return x.BindStatus != 0 })
	if r == nil {
		return 0, false
	}
	return r.BindStatus, true
}

// latency draws the delay of one attempt.
func (fl *Fault) latency(f *Faults) time.Duration {
	d := fl.Latency
	if fl.Jitter > 0 {
		f.mu.Lock()
		d += time.Duration(f.rng.Int64N(int64(fl.Jitter)))
		f.mu.Unlock()
	}
	return d
}

// hasDelivery reports whether a delivery fault is installed for the
// destination or account (without drawing or counting a hit).
func (f *Faults) hasDelivery(account, dest string) bool {
	if f.none() {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range []*faultRule{f.byDest(dest), f.account[account]} {
		if r != nil && (r.DeliveryError != nil || r.Latency > 0 || r.Jitter > 0) {
			return true
		}
	}
	return false
}
