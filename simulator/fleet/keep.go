package fleet

import (
	"sort"
	"sync"
)

// Store keeps what the fleet must not forget of a phone while the phone is
// not in memory: its record (docs/fleet.md, "What is kept"), opaque bytes
// by number. The fleet frees idle phones (Config.MaxCards) and builds them
// again from their record. Without Config.Store the records live in memory
// (NewMemoryStore); `simlab serve --data DIR` keeps them on disk
// (simulator/fleet/phonestore), and then a phone's record is durable
// before its answer leaves it.
type Store interface {
	// Get returns the record of msisdn, nil when it has none. It sees
	// every Put and Delete made before it, durable or not yet.
	Get(msisdn string) ([]byte, error)
	// Put replaces the record of msisdn. listed marks a phone whose
	// settings or script were set over the API (Listed returns it). done,
	// when not nil, is called once the record is durable, or with the
	// error that kept it from being so. Puts and Deletes of one number
	// take effect in the order they were made.
	Put(msisdn string, rec []byte, listed bool, done func(error))
	// Delete forgets the record of msisdn; done as for Put.
	Delete(msisdn string, done func(error))
	// Listed returns the numbers whose record was last put listed.
	Listed() ([]string, error)
	// Durable reports whether records outlive the process. The fleet
	// then saves a phone's record whenever its card accepted an OTA
	// counter or its PIN a try, before the answer leaves the phone.
	Durable() bool
}

// MemoryStore is the fleet's default Store: records in a map, gone with
// the process. A record costs about its length plus 100 bytes.
type MemoryStore struct {
	mu     sync.Mutex
	recs   map[string][]byte
	listed map[string]struct{}
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-memory Store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{recs: map[string][]byte{}, listed: map[string]struct{}{}}
}

// Get implements Store.
func (s *MemoryStore) Get(msisdn string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recs[msisdn], nil
}

// Put implements Store; done is called before it returns.
func (s *MemoryStore) Put(msisdn string, rec []byte, listed bool, done func(error)) {
	s.mu.Lock()
	s.recs[msisdn] = append([]byte(nil), rec...)
	if listed {
		s.listed[msisdn] = struct{}{}
	} else {
		delete(s.listed, msisdn)
	}
	s.mu.Unlock()
	if done != nil {
		done(nil)
	}
}

// Delete implements Store; done is called before it returns.
func (s *MemoryStore) Delete(msisdn string, done func(error)) {
	s.mu.Lock()
	delete(s.recs, msisdn)
	delete(s.listed, msisdn)
	s.mu.Unlock()
	if done != nil {
		done(nil)
	}
}

// Listed implements Store.
func (s *MemoryStore) Listed() ([]string, error) {
	s.mu.Lock()
	out := make([]string, 0, len(s.listed))
	for n := range s.listed {
		out = append(out, n)
	}
	s.mu.Unlock()
	sort.Strings(out)
	return out, nil
}

// Durable implements Store: records die with the process.
func (s *MemoryStore) Durable() bool { return false }

// Len returns how many records the store holds.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}
