package simulator

import (
	"sync"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/smsc"
)

// router is the SMSC's router in `simlab serve` (DESIGN.md "SMSC routing:
// destination → sink"): a phone attached to a number (a real card in a
// reader, Core.Attach) wins; then the configured routes (Core.StartRoutes:
// numbers handed to an upstream SMSC such as a fleet process); then the
// emulated fleet for numbers of its plan; then the bearers
// (Core.AddBearer) for every other number, the most recently added first.
// It is safe for concurrent use: phones and bearers come and go while the
// SMSC runs.
type router struct {
	fleet smsc.Router

	mu       sync.RWMutex
	attached map[string]smsc.Sink // by normalised MSISDN
	bearers  []smsc.Sink
	// ranged are the routes' sinks with their numbers; byRange is built
	// from them (nil when there are none).
	ranged  []rangedSink
	byRange *smsc.Routes
	readers map[string]*readerAttachment // followed PC/SC readers, by MSISDN
	// readerOps serialises attaching and detaching readers.
	readerOps sync.Mutex
}

func newRouter(f smsc.Router) *router {
	return &router{fleet: f, attached: map[string]smsc.Sink{}, readers: map[string]*readerAttachment{}}
}

// Route implements smsc.Router.
func (r *router) Route(m *smsc.Message) smsc.Sink {
	n, err := fleet.Normalize(m.Dest.Addr)
	if err == nil {
		r.mu.RLock()
		s := r.attached[n]
		r.mu.RUnlock()
		if s != nil {
			return s
		}
	}
	r.mu.RLock()
	byRange := r.byRange
	r.mu.RUnlock()
	if byRange != nil {
		if s := byRange.Route(m); s != nil {
			return s
		}
	}
	if r.fleet != nil {
		if s := r.fleet.Route(m); s != nil {
			return s
		}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.bearers) > 0 {
		return r.bearers[len(r.bearers)-1]
	}
	return nil
}

func (r *router) attach(msisdn string, s smsc.Sink) {
	r.mu.Lock()
	r.attached[msisdn] = s
	r.mu.Unlock()
}

func (r *router) detach(msisdn string, s smsc.Sink) {
	r.mu.Lock()
	if r.attached[msisdn] == s {
		delete(r.attached, msisdn)
	}
	r.mu.Unlock()
}

func (r *router) addBearer(s smsc.Sink) {
	r.mu.Lock()
	r.bearers = append(r.bearers, s)
	r.mu.Unlock()
}

func (r *router) removeBearer(s smsc.Sink) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, b := range r.bearers {
		if b == s {
			r.bearers = append(r.bearers[:i:i], r.bearers[i+1:]...)
			return
		}
	}
}

// rangedSink is a route's sink and the numbers it takes.
type rangedSink struct {
	sink     smsc.Sink
	ranges   []smsc.Range
	prefixes []string
}

// addRanged routes ranges and prefixes to s.
func (r *router) addRanged(s smsc.Sink, ranges []smsc.Range, prefixes []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ranged = append(r.ranged, rangedSink{s, ranges, prefixes})
	r.rebuildRanged()
}

// removeRanged takes s's numbers out of routing.
func (r *router) removeRanged(s smsc.Sink) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.ranged[:0]
	for _, rs := range r.ranged {
		if rs.sink != s {
			kept = append(kept, rs)
		}
	}
	clear(r.ranged[len(kept):])
	r.ranged = kept
	r.rebuildRanged()
}

// rebuildRanged makes a new table of the ranged routes (smsc.Routes has
// no removal); Route reads the table it finds. Caller holds mu.
func (r *router) rebuildRanged() {
	if len(r.ranged) == 0 {
		r.byRange = nil
		return
	}
	t := &smsc.Routes{}
	for _, rs := range r.ranged {
		for _, rg := range rs.ranges {
			if rg.Lo == rg.Hi {
				t.AddNumber(rg.Lo, rs.sink)
			} else {
				t.AddRange(rg, rs.sink)
			}
		}
		for _, p := range rs.prefixes {
			t.AddPrefix(p, rs.sink)
		}
	}
	r.byRange = t
}
