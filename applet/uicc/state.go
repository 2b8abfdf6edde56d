package uicc

import (
	"errors"
	"fmt"

	"github.com/simlab-dev/simlab/applet/ota"
)

// State is what a card holds that its profile does not say: the OTA replay
// counters its keysets have accepted and the PIN, PUK and ADM codes as
// changed since it was made (CHANGE, DISABLE, ENABLE and UNBLOCK PIN, and
// their retry counters). A card made again from the same profile and given
// this state with Import refuses the command packets the first one
// refused and keeps its codes blocked or changed: that is how the fleet
// puts a card away and how simlab keeps cards across restarts. Files are
// not part of it.
//
// The zero State is a card as its profile makes it.
type State struct {
	// Counters are the replay counters (TS 102 225 §5.1.1 CNTR) of the
	// keysets whose counter moved past the profile's, by key version
	// number.
	Counters map[int]uint64 `json:"counters,omitempty"`
	// PIN1, PUK1 and ADM1 are set when the code differs from the
	// profile's (value, enabled, or retries left).
	PIN1 *PINState `json:"pin1,omitempty"`
	PUK1 *PINState `json:"puk1,omitempty"`
	ADM1 *PINState `json:"adm1,omitempty"`
}

// PINState is a code as the card holds it (TS 102 221 §9.5).
type PINState struct {
	// Value is the code in its on-card coding: ASCII digits padded with
	// FF to 8 bytes (TS 102 221 §9.5.2). It is a secret: String and
	// GoString leave it out.
	Value   []byte `json:"value"`
	Enabled bool   `json:"enabled"`
	// Retries is how many tries are left; 0 is blocked.
	Retries int `json:"retries"`
}

// String describes the code without its value.
func (p PINState) String() string {
	return fmt.Sprintf("PIN(enabled=%v, %d retries left)", p.Enabled, p.Retries)
}

// GoString is String, so that %#v does not show the value either.
func (p PINState) GoString() string { return p.String() }

// ErrState is wrapped by every error of Import.
var ErrState = errors.New("uicc: invalid card state")

// Export returns the card's state (see State): only what differs from the
// profile it was made from.
func (c *Card) Export() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s State
	for _, k := range c.keysets {
		if n := k.counter.Uint64(); n > k.Counter {
			if s.Counters == nil {
				s.Counters = make(map[int]uint64, len(c.keysets))
			}
			s.Counters[k.KVN] = n
		}
	}
	pin1 := newPIN(c.prof.PIN1, c.prof.PIN1.Enabled == nil || *c.prof.PIN1.Enabled)
	s.PIN1 = exportPIN(&c.pin1, &pin1)
	puk1 := newPIN(c.prof.PUK1, true)
	s.PUK1 = exportPIN(&c.puk1, &puk1)
	adm1 := newPIN(c.prof.ADM1, true)
	s.ADM1 = exportPIN(&c.adm1, &adm1)
	return s
}

// exportPIN returns p as a PINState, or nil when it is as made (initial).
func exportPIN(p, initial *pinState) *PINState {
	if p.value == initial.value && p.enabled == initial.enabled && p.retries == initial.retries {
		return nil
	}
	return &PINState{Value: append([]byte(nil), p.value[:]...), Enabled: p.enabled, Retries: p.retries}
}

// Import gives the card a state Export returned, for a card made from the
// same profile. Counters only move up: a counter below the card's own is
// ignored. A state that does not fit the card (a keyset it does not have,
// a counter beyond 2^40-1, a code that is not 4 to 8 digits padded with
// FF, retries beyond the code's maximum) is refused whole, with an error
// wrapping ErrState that never shows a code's value.
func (c *Card) Import(s State) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for kvn, n := range s.Counters {
		if n > ota.MaxCounter {
			return fmt.Errorf("%w: keyset %d: counter above 2^40-1", ErrState, kvn)
		}
		if c.keyset(kvn) == nil {
			return fmt.Errorf("%w: the card has no keyset %d", ErrState, kvn)
		}
	}
	codes := []struct {
		name string
		st   *PINState
		p    *pinState
	}{{"pin1", s.PIN1, &c.pin1}, {"puk1", s.PUK1, &c.puk1}, {"adm1", s.ADM1, &c.adm1}}
	for _, x := range codes {
		if x.st == nil {
			continue
		}
		if len(x.st.Value) != 8 || !wellFormed(x.st.Value) {
			return fmt.Errorf("%w: %s: the value is not 4 to 8 digits padded with FF to 8 bytes", ErrState, x.name)
		}
		if x.st.Retries < 0 || x.st.Retries > x.p.max {
			return fmt.Errorf("%w: %s: %d retries left, the code allows %d", ErrState, x.name, x.st.Retries, x.p.max)
		}
	}
	for kvn, n := range s.Counters {
		if ks := c.keyset(kvn); n > ks.counter.Uint64() {
			ks.counter = ota.CounterFromUint64(n)
		}
	}
	for _, x := range codes {
		if x.st == nil {
			continue
		}
		copy(x.p.value[:], x.st.Value)
		x.p.enabled, x.p.retries, x.p.verified = x.st.Enabled, x.st.Retries, false
	}
	return nil
}

// keyset returns the keyset with key version number kvn, or nil; c.mu is
// held.
func (c *Card) keyset(kvn int) *keysetState {
	for i := range c.keysets {
		if c.keysets[i].KVN == kvn {
			return &c.keysets[i]
		}
	}
	return nil
}
