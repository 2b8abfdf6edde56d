package fleet

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"sync"
	"weak"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/person"
)

// This file is how a phone outlives its time in memory: the record of what
// must be kept (record.go) is saved to the fleet's Store and a phone is
// built again from it.
//
// When records are saved:
//   - when the API changes a phone (Set, SetBehaviour, SetAbsent), before
//     the call returns;
//   - with a durable Store, before the phone's answer leaves it: before a
//     SEND SHORT MESSAGE becomes an MO (the OTA counter the card accepted
//     and the PIN try it consumed are on disk first, so a kill between
//     the two cannot let a captured challenge in twice), and before a
//     download answered in the deliver report (PoR) returns; and, without
//     waiting, when a proactive session ends;
//   - when the phone is freed (Config.MaxCards), without waiting.
//
// Saves of one phone are ordered by saveMu, and a record equal to the last
// one given to the Store is not given again: a phone the plan alone
// describes has no record at all.

// buildStored builds phone msisdn from its record in the Store, if any.
func (f *Fleet) buildStored(ctx context.Context, msisdn string, r *rangeSpec, idx uint64) (*Phone, error) {
	raw, err := f.store.Get(msisdn)
	if err != nil {
		return nil, fmt.Errorf("fleet: %s: stored state: %w", msisdn, err)
	}
	var rec *record
	if raw != nil {
		if rec, err = decodeRecord(raw); err != nil {
			return nil, recordErr(msisdn, err)
		}
	}
	return f.build(ctx, msisdn, r, idx, rec, raw)
}

// recordErr says which phone's record err is about, and the way out.
func recordErr(msisdn string, err error) error {
	return fmt.Errorf("%w (phone %s: reset it to forget the record)", err, msisdn)
}

// build makes a phone of range r, card index idx, as rec says (nil: as
// the plan makes it), and powers it on. raw is rec as stored (nil when it
// is not in the Store yet).
func (f *Fleet) build(ctx context.Context, msisdn string, r *rangeSpec, idx uint64, rec *record, raw []byte) (*Phone, error) {
	var spec Spec
	if rec != nil && rec.Spec != nil {
		spec = *rec.Spec
	}
	m := r.magic
	st := Settings{Absent: m.Absent, NoNFC: m.NoNFC, NoPINSupport: m.NoPINSupport, DeliveryError: m.DeliveryError, SIMError: m.SIMError}
	if spec.NoNFC != nil {
		st.NoNFC = *spec.NoNFC
	}
	if spec.NoPINSupport != nil {
		st.NoPINSupport = *spec.NoPINSupport
	}
	if spec.Absent != nil {
		st.Absent = *spec.Absent
	}
	pin := r.pin
	if spec.PIN != "" {
		pin = spec.PIN
	}
	p := &Phone{msisdn: msisdn, rng: r, index: idx, pin: pin, fleet: f, settings: st, spec: spec, lastRec: raw}
	p.self = weak.Make(p)
	p.idle = sync.NewCond(&p.resMu)
	p.pinState = authn.PINState{Supported: !st.NoPINSupport, TriesLeft: p.initialTries()}
	behaviour := r.behaviour
	if rec != nil {
		if rec.PINTries != nil {
			p.pinState.TriesLeft = *rec.PINTries
		}
		if rec.Card != nil {
			p.cardState = *rec.Card
		}
		if rec.Behaviour != nil {
			behaviour, p.scripted = *rec.Behaviour, true
		}
	}
	p.pinState.Blocked = p.pinState.Supported && p.pinState.TriesLeft == 0
	h := fnv.New64a()
	h.Write([]byte(msisdn))
	p.person = person.New(behaviour, h.Sum64())
	if hu := f.cfg.Human; hu != nil {
		p.person.SetHuman(func(ctx context.Context, pr person.Prompt) person.Answer { return hu.Ask(ctx, msisdn, pr) })
	}
	if rec != nil && rec.Position != nil {
		// A position that does not fit a script kept with it is damage;
		// one that does not fit the plan's behaviour means the fleet file
		// changed since: the behaviour starts again.
		if err := p.person.Restore(*rec.Position); err != nil && p.scripted {
			return nil, recordErr(msisdn, fmt.Errorf("%w: %w", ErrRecord, err))
		}
	}
	if _, err := p.acquire(ctx); err != nil {
		return nil, err
	}
	p.release()
	return p, nil
}

// initialTries is the applet PIN's tries left as the plan makes the card.
func (p *Phone) initialTries() int {
	if p.rng.magic.PINBlocked {
		return 0
	}
	return authn.MaxPINTries
}

// Spec returns what the API set on the phone.
func (p *Phone) Spec() Spec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.spec
}

// counters returns the card's OTA replay counters beyond its profile's, by
// key version number.
func (p *Phone) counters() map[int]uint64 {
	p.resMu.Lock()
	defer p.resMu.Unlock()
	if p.card != nil {
		return p.card.Export().Counters
	}
	return maps.Clone(p.cardState.Counters)
}

// snapshot returns the phone's record now.
func (p *Phone) snapshot() *record {
	rec := &record{}
	p.mu.Lock()
	spec, scripted, noNFC := p.spec, p.scripted, p.settings.NoNFC
	p.mu.Unlock()
	if spec != (Spec{}) {
		rec.Spec = &spec
	}
	b, _ := p.person.Behaviour()
	if scripted {
		rec.Behaviour = &b
	}
	if pos := p.person.Position(); pos.Next != 0 || pos.Rand != nil {
		rec.Position = &pos
	}
	p.resMu.Lock()
	pin, cs := p.pinState, p.cardState
	if p.applet != nil {
		pin = p.applet.State()
	}
	if p.card != nil {
		cs = p.card.Export()
	}
	p.resMu.Unlock()
	if t := pin.TriesLeft; !noNFC && t != p.initialTries() {
		rec.PINTries = &t
	}
	if cs.Counters != nil || cs.PIN1 != nil || cs.PUK1 != nil || cs.ADM1 != nil {
		rec.Card = &cs
	}
	return rec
}

// pendingSave is the outcome of one record given to the Store.
type pendingSave struct {
	done chan struct{} // closed when the Store called back
	err  error
}

// failed reports whether the save is over and failed.
func (s *pendingSave) failed() bool {
	select {
	case <-s.done:
		return s.err != nil
	default:
		return false
	}
}

// save gives the phone's record to the Store unless the Store has it
// already; with wait, it returns once the record is durable (or why it is
// not). A retired phone saves nothing.
func (p *Phone) save(wait bool) error {
	st := p.fleet.store
	p.saveMu.Lock()
	if p.retired {
		p.saveMu.Unlock()
		return nil
	}
	rec := p.snapshot()
	var b []byte
	if !rec.empty() {
		b = rec.encode()
	}
	ps := p.pending
	if !bytes.Equal(b, p.lastRec) || (ps != nil && ps.failed()) {
		ps = &pendingSave{done: make(chan struct{})}
		done := func(err error) {
			ps.err = err
			close(ps.done)
			p.fleet.holdUnsaved(p, err != nil)
		}
		if b == nil {
			st.Delete(p.msisdn, done)
		} else {
			st.Put(p.msisdn, b, rec.listed(), done)
		}
		p.lastRec, p.pending = b, ps
	}
	p.saveMu.Unlock()
	if !wait || ps == nil {
		return nil
	}
	<-ps.done
	if ps.err != nil {
		return fmt.Errorf("fleet: %s: state not saved: %w", p.msisdn, ps.err)
	}
	return nil
}

// holdUnsaved keeps a phone whose record the Store failed to take in
// memory (on), so that freeing it cannot lose what the record lacks, until
// a later save succeeds (off). It runs on the Store's goroutine: it takes
// no lock of the phone.
func (f *Fleet) holdUnsaved(p *Phone, on bool) {
	f.unsavedMu.Lock()
	if on {
		f.unsaved[p] = struct{}{}
	} else if len(f.unsaved) > 0 {
		delete(f.unsaved, p)
	}
	f.unsavedMu.Unlock()
}

// saveAnswered saves the record at a point where the card's answer is
// about to leave the phone, when the Store is durable (an in-memory one
// gets the record when the phone is freed).
func (p *Phone) saveAnswered(wait bool) error {
	if !p.fleet.store.Durable() {
		return nil
	}
	return p.save(wait)
}

// saveLater saves the record of a phone being freed without waiting; a
// failure shows in its event log.
func (p *Phone) saveLater() {
	if err := p.save(false); err != nil {
		p.record("error", err.Error(), nil)
	}
}

// retire stops (on) or resumes (off) the phone's saves: a phone replaced
// by Set or reset no longer owns its number's record.
func (p *Phone) retire(on bool) {
	p.saveMu.Lock()
	p.retired = on
	p.saveMu.Unlock()
}

// Flush saves the record of every phone in memory and waits until the
// Store has them: a card used directly (Phone.Card) may have changed
// without an answer leaving it. `simlab serve` calls it on shutdown.
func (f *Fleet) Flush() error {
	var errs []error
	for _, p := range f.inMemory() {
		if err := p.save(true); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("fleet: flush: %d phones not saved, the first: %w", len(errs), errs[0])
	}
	return nil
}
