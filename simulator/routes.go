package simulator

import (
	"sync"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/smsc"
)

// router is the SMSC's router in `simlab serve` (DESIGN.md "SMSC routing:
// destination → sink"): a phone attached to a number (a real card in a
// reader, Core.Attach) wins; then the emulated fleet for numbers of its
// plan; then the bearers (Core.AddBearer) for every other number, the most
// recently added first. It is safe for concurrent use: phones and bearers
// come and go while the SMSC runs.
type router struct {
	fleet smsc.Router

	mu       sync.RWMutex
	attached map[string]smsc.Sink // by normalised MSISDN
	bearers  []smsc.Sink
	readers  map[string]*readerAttachment // followed PC/SC readers, by MSISDN
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
