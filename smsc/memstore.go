package smsc

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxMessages is MemStore's retention limit when MaxMessages is 0.
const DefaultMaxMessages = 500_000

// MemStore is the in-memory Store: the default, fast, gone on exit. When it
// holds MaxMessages it forgets the oldest. The zero value is ready.
//
// Messages sit in a ring in append order (slot = sequence number modulo the
// capacity) and are found by id through a map from the id's hash to the
// sequence number: a map without pointers, which the garbage collector does
// not scan, and no compaction pauses.
type MemStore struct {
	// MaxMessages bounds retention (oldest forgotten first); 0 means
	// DefaultMaxMessages. It is read once, at the first Append.
	MaxMessages int

	mu    sync.RWMutex
	cap   int
	ring  []*Message // grows to cap, then wraps; nil = deleted or replaced
	seq   uint64     // sequence number of the next append
	idx   map[uint64]uint64
	dup   map[string]uint64 // ids whose hash collides with another live id
	seed  maphash.Seed
	count int
}

var (
	_ Store   = (*MemStore)(nil)
	_ Patcher = (*MemStore)(nil)
)

// NewMemStore returns an empty MemStore keeping at most max messages (0:
// DefaultMaxMessages).
func NewMemStore(max int) *MemStore { return &MemStore{MaxMessages: max} }

// init sizes the store. Caller holds mu.
func (s *MemStore) init() {
	if s.idx != nil {
		return
	}
	s.cap = s.MaxMessages
	if s.cap <= 0 {
		s.cap = DefaultMaxMessages
	}
	s.idx = make(map[uint64]uint64, min(s.cap, 1<<16))
	s.dup = make(map[string]uint64)
	s.seed = maphash.MakeSeed()
}

// oldest is the sequence number of the oldest slot still in the ring.
func (s *MemStore) oldest() uint64 { return s.seq - uint64(len(s.ring)) }

// at returns the message stored under sequence number q, if any.
func (s *MemStore) at(q uint64) *Message {
	if q >= s.seq || q < s.oldest() {
		return nil
	}
	return s.ring[q%uint64(s.cap)]
}

// lookup finds the sequence number of id. Caller holds mu.
func (s *MemStore) lookup(id string) (uint64, bool) {
	if s.idx == nil {
		return 0, false
	}
	if q, ok := s.idx[maphash.String(s.seed, id)]; ok {
		if m := s.at(q); m != nil && m.ID == id {
			return q, true
		}
	}
	if q, ok := s.dup[id]; ok {
		if m := s.at(q); m != nil && m.ID == id {
			return q, true
		}
	}
	return 0, false
}

// unindex removes message m stored at q from the index and its slot.
// Caller holds mu.
func (s *MemStore) unindex(m *Message, q uint64) {
	h := maphash.String(s.seed, m.ID)
	if v, ok := s.idx[h]; ok && v == q {
		delete(s.idx, h)
	} else if v, ok := s.dup[m.ID]; ok && v == q {
		delete(s.dup, m.ID)
	}
	s.ring[q%uint64(s.cap)] = nil
	s.count--
}

// Append implements Store. It keeps the messages it is given (no copy); a
// message with the id of one already held replaces it.
func (s *MemStore) Append(_ context.Context, msgs ...*Message) error {
	for _, m := range msgs {
		if m.ID == "" {
			return fmt.Errorf("smsc: append: message without id")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	for _, m := range msgs {
		if q, ok := s.lookup(m.ID); ok {
			s.unindex(s.at(q), q)
		}
		q := s.seq
		if len(s.ring) < s.cap {
			s.ring = append(s.ring, nil)
		} else if old := s.ring[q%uint64(s.cap)]; old != nil {
			s.unindex(old, q-uint64(s.cap)) // forget the oldest
		}
		s.seq++
		s.ring[q%uint64(s.cap)] = m
		s.count++
		h := maphash.String(s.seed, m.ID)
		if v, taken := s.idx[h]; taken && s.at(v) != nil {
			s.dup[m.ID] = q // another live id has the same hash
		} else {
			s.idx[h] = q
		}
	}
	return nil
}

// Update implements Store.
func (s *MemStore) Update(_ context.Context, id string, fn func(m *Message)) (*Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.lookup(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	m := s.at(q)
	fn(m)
	return m.Clone(), nil
}

// Patch implements Patcher.
func (s *MemStore) Patch(_ context.Context, id string, fn func(m *Message)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.lookup(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	fn(s.at(q))
	return nil
}

// Get implements Store.
func (s *MemStore) Get(_ context.Context, id string) (*Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, ok := s.lookup(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return s.at(q).Clone(), nil
}

// List implements Store. The cursor is a sequence number: the next page
// starts below it.
func (s *MemStore) List(_ context.Context, q Query) (Page, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	start := s.seq
	if q.Cursor != "" {
		v, err := strconv.ParseUint(q.Cursor, 10, 64)
		if err != nil {
			return Page{}, fmt.Errorf("smsc: list: bad cursor %q", q.Cursor)
		}
		start = min(v, s.seq)
	}
	limit := q.limit()
	var p Page
	for i := start; i > s.oldest(); i-- {
		m := s.at(i - 1)
		if m == nil || !q.Match(m) {
			continue
		}
		if len(p.Messages) == limit {
			p.Next = strconv.FormatUint(i, 10)
			break
		}
		p.Messages = append(p.Messages, m.Clone())
	}
	return p, nil
}

// Delete implements Store.
func (s *MemStore) Delete(_ context.Context, f Filter) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for q := s.oldest(); q < s.seq; q++ {
		if m := s.at(q); m != nil && f.Match(m) {
			s.unindex(m, q)
			n++
		}
	}
	return n, nil
}

// Pending implements Store.
func (s *MemStore) Pending(_ context.Context) ([]*Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Message
	for q := s.oldest(); q < s.seq; q++ {
		if m := s.at(q); m != nil && m.NeedsWork() {
			out = append(out, m.Clone())
		}
	}
	return out, nil
}

// Len returns the number of messages held.
func (s *MemStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.count
}

// Close implements Store; a MemStore needs no closing.
func (s *MemStore) Close() error { return nil }

// containsFold reports whether sub is within s, ignoring case.
func containsFold(s, sub string) bool {
	if strings.Contains(s, sub) {
		return true
	}
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
