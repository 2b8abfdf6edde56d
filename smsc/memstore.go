package smsc

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Retention defaults of MemStore (and of smsc/store).
const (
	// DefaultMaxMessages is the retention limit in messages when
	// MaxMessages is 0.
	DefaultMaxMessages = 500_000
	// DefaultMaxBytes is the retention limit in bytes (MessageSize) when
	// MaxBytes is 0: about what 500,000 ordinary short messages take.
	DefaultMaxBytes = 256 << 20
)

// messageOverhead is what a stored message costs beyond its variable
// parts: the Message itself and its index entries.
const messageOverhead = int(unsafe.Sizeof(Message{})) + 64

// MessageSize is what a message counts against a store's byte budget: its
// user data, ids, addresses and names, plus a fixed overhead for the
// structure and its index entries. Parts that messages share in memory
// (the body of a submit_multi's destinations) count for each message, so
// the budget bounds memory from above.
func MessageSize(m *Message) int {
	return messageOverhead + len(m.Body) + len(m.UDH) + len(m.ID) + len(m.Namespace) + len(m.Account) +
		len(m.ServiceType) + len(m.Source.Addr) + len(m.Dest.Addr) + len(m.Multi)
}

// scanChunk is how many messages a query takes per read lock: it copies
// their pointers and examines them after releasing the lock (stored
// messages are never written: copy on write), so a query over the whole
// store (a text search over 300,000 messages) holds the submit path for
// a copy of scanChunk pointers at a time, not for its matching.
const scanChunk = 256

// MemStore is the in-memory Store: the default, fast, gone on exit. It
// keeps at most MaxMessages messages and MaxBytes bytes (MessageSize):
// beyond either, the oldest messages in a final state are forgotten. A
// message the SMSC still owes something for (NeedsWork) is never
// forgotten: when such messages alone fill a limit, Append returns
// ErrStoreFull (the server answers ESME_RMSGQFUL). The zero value is
// ready.
//
// Messages sit in a log in append order, found by id through a map from
// the id's hash to the sequence number (a map without pointers, which the
// garbage collector does not scan) and a binary search in the log.
// Queries read the log in chunks of scanChunk messages per read lock.
type MemStore struct {
	// MaxMessages bounds retention in messages; 0 means
	// DefaultMaxMessages. It is read once, at the first Append.
	MaxMessages int
	// MaxBytes bounds retention in bytes (MessageSize); 0 means
	// DefaultMaxBytes. It is read once, at the first Append.
	MaxBytes int64

	mu    sync.RWMutex
	log   memLog // ascending seq; m == nil: deleted
	seq   uint64 // last sequence number assigned
	idx   map[uint64]uint64
	dup   map[string]uint64 // ids whose hash collides with another live id
	parts map[ConcatKey][]uint64
	seed  maphash.Seed

	maxMessages  int
	maxBytes     int64
	count        int
	bytes        int64
	pendingCount int
	pendingBytes int64
	// evictFrom: no message below this sequence number is both held and
	// final (where the retention scan starts).
	evictFrom uint64
}

// memEntry is one message in the log.
type memEntry struct {
	seq     uint64
	m       *Message
	size    uint32 // MessageSize: a message is at most a 64 KiB payload and its fields
	pending bool   // m.NeedsWork() when last accounted
}

var (
	_ Store       = (*MemStore)(nil)
	_ Patcher     = (*MemStore)(nil)
	_ PartsFinder = (*MemStore)(nil)
)

// PartsFinder is implemented by stores that index concatenated messages:
// Parts returns the stored parts of the message with key k, oldest first,
// as copies. The capture API uses it to reassemble a listing in one pass.
type PartsFinder interface {
	Parts(ctx context.Context, k ConcatKey) ([]*Message, error)
}

// NewMemStore returns an empty MemStore keeping at most max messages (0:
// DefaultMaxMessages) and DefaultMaxBytes.
func NewMemStore(max int) *MemStore { return &MemStore{MaxMessages: max} }

// init sizes the store. Caller holds mu.
func (s *MemStore) init() {
	if s.idx != nil {
		return
	}
	s.maxMessages = s.MaxMessages
	if s.maxMessages <= 0 {
		s.maxMessages = DefaultMaxMessages
	}
	s.maxBytes = s.MaxBytes
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxBytes
	}
	s.idx = make(map[uint64]uint64, min(s.maxMessages, 1<<16))
	s.dup = make(map[string]uint64)
	s.parts = make(map[ConcatKey][]uint64)
	s.seed = maphash.MakeSeed()
}

// find returns the log position of sequence number q, or -1. Caller holds
// mu.
func (s *MemStore) find(q uint64) int { return s.log.find(q) }

// lookup finds the log position of id. Caller holds mu.
func (s *MemStore) lookup(id string) (int, bool) {
	if s.idx == nil {
		return 0, false
	}
	return s.lookupHash(maphash.String(s.seed, id), id)
}

// lookupHash is lookup with the id's hash h. Caller holds mu.
func (s *MemStore) lookupHash(h uint64, id string) (int, bool) {
	if q, ok := s.idx[h]; ok {
		if i := s.find(q); i >= 0 && s.log.at(i).m != nil && s.log.at(i).m.ID == id {
			return i, true
		}
	}
	if len(s.dup) == 0 {
		return 0, false
	}
	if q, ok := s.dup[id]; ok {
		if i := s.find(q); i >= 0 && s.log.at(i).m != nil && s.log.at(i).m.ID == id {
			return i, true
		}
	}
	return 0, false
}

// remove deletes the message at log position i. Caller holds mu.
func (s *MemStore) remove(i int) {
	e := s.log.at(i)
	m := e.m
	h := maphash.String(s.seed, m.ID)
	if v, ok := s.idx[h]; ok && v == e.seq {
		delete(s.idx, h)
	} else if v, ok := s.dup[m.ID]; ok && v == e.seq {
		delete(s.dup, m.ID)
	}
	if k, ok := KeyOf(m); ok {
		seqs := s.parts[k]
		for j, q := range seqs {
			if q == e.seq {
				seqs = append(seqs[:j], seqs[j+1:]...)
				break
			}
		}
		if len(seqs) == 0 {
			delete(s.parts, k)
		} else {
			s.parts[k] = seqs
		}
	}
	s.count--
	s.bytes -= int64(e.size)
	if e.pending {
		s.pendingCount--
		s.pendingBytes -= int64(e.size)
	}
	s.log.drop(i)
}

// makeRoom forgets the oldest final messages until n more messages of
// size bytes fit, or returns ErrStoreFull when messages still owed work
// alone leave no room. Caller holds mu.
func (s *MemStore) makeRoom(n int, size int64) error {
	if s.count+n <= s.maxMessages && s.bytes+size <= s.maxBytes {
		return nil
	}
	if s.pendingCount+n > s.maxMessages || s.pendingBytes+size > s.maxBytes {
		return fmt.Errorf("%w: %d messages (%d bytes) await delivery or a receipt; limits %d messages, %d bytes",
			ErrStoreFull, s.pendingCount, s.pendingBytes, s.maxMessages, s.maxBytes)
	}
	i := s.log.search(s.evictFrom)
	for ; i < s.log.len() && (s.count+n > s.maxMessages || s.bytes+size > s.maxBytes); i++ {
		if e := s.log.at(i); e.m != nil && !e.pending {
			s.remove(i)
		}
	}
	// Everything below i is now pending or deleted.
	if i < s.log.len() {
		s.evictFrom = s.log.at(i).seq
	} else {
		s.evictFrom = s.seq + 1
	}
	s.log.tidy()
	return nil
}

// Append implements Store. It keeps the messages it is given (no copy); a
// message with the id of one already held replaces it. It returns
// ErrStoreFull, storing none of msgs, when they do not fit.
func (s *MemStore) Append(_ context.Context, msgs ...*Message) error {
	// What can be known of the entries is worked out before the lock:
	// every bind's submits wait for it.
	var one [1]memEntry
	es := one[:0]
	if len(msgs) > 1 {
		es = make([]memEntry, 0, len(msgs))
	}
	size := int64(0)
	for _, m := range msgs {
		if m.ID == "" {
			return fmt.Errorf("smsc: append: message without id")
		}
		e := memEntry{m: m, size: uint32(MessageSize(m)), pending: m.NeedsWork()}
		size += int64(e.size)
		es = append(es, e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	var oneHash [1]uint64
	hs := oneHash[:0]
	if len(msgs) > 1 {
		hs = make([]uint64, 0, len(msgs))
	}
	for _, m := range msgs {
		h := maphash.String(s.seed, m.ID)
		hs = append(hs, h)
		if i, ok := s.lookupHash(h, m.ID); ok {
			s.remove(i)
		}
	}
	if err := s.makeRoom(len(msgs), size); err != nil {
		return err
	}
	for j, e := range es {
		m := e.m
		s.seq++
		e.seq = s.seq
		s.log.push(e)
		s.count++
		s.bytes += int64(e.size)
		if e.pending {
			s.pendingCount++
			s.pendingBytes += int64(e.size)
		}
		h := hs[j]
		if v, taken := s.idx[h]; taken {
			if i := s.find(v); i >= 0 && s.log.at(i).m != nil {
				s.dup[m.ID] = s.seq // another live id has the same hash
			} else {
				s.idx[h] = s.seq
			}
		} else {
			s.idx[h] = s.seq
		}
		if k, ok := KeyOf(m); ok {
			s.parts[k] = append(s.parts[k], s.seq)
		}
	}
	s.log.tidy()
	return nil
}

// modify applies fn to a copy of the message at log position i, installs
// the copy and accounts for what it changed. Caller holds mu. A stored
// message is never written after Append (copy on write): queries read
// messages without holding the lock, and the caller of Append may go on
// reading the one it handed over.
func (s *MemStore) modify(i int, fn func(m *Message)) *Message {
	e := s.log.at(i)
	c := *e.m
	m := &c
	fn(m)
	e.m = m
	size, pending := MessageSize(m), m.NeedsWork()
	s.bytes += int64(size) - int64(e.size)
	switch {
	case e.pending && pending:
		s.pendingBytes += int64(size) - int64(e.size)
	case e.pending:
		s.pendingCount--
		s.pendingBytes -= int64(e.size)
		s.evictFrom = min(s.evictFrom, e.seq)
	case pending:
		s.pendingCount++
		s.pendingBytes += int64(size)
	}
	e.size, e.pending = uint32(size), pending
	return m
}

// Update implements Store.
func (s *MemStore) Update(_ context.Context, id string, fn func(m *Message)) (*Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.lookup(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return s.modify(i, fn).Clone(), nil
}

// Patch implements Patcher.
func (s *MemStore) Patch(_ context.Context, id string, fn func(m *Message)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.lookup(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	s.modify(i, fn)
	return nil
}

// Get implements Store.
func (s *MemStore) Get(_ context.Context, id string) (*Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.lookup(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return s.log.at(i).m.Clone(), nil
}

// scanDown visits the held messages with a sequence number below before,
// newest first, until visit returns false. It copies scanChunk entries
// at a time under the read lock and visits them after releasing it: m is
// a snapshot, never written, which visit must not modify.
func (s *MemStore) scanDown(before uint64, visit func(seq uint64, size int, m *Message) bool) {
	var chunk [scanChunk]memEntry
	for {
		s.mu.RLock()
		i := s.log.search(before) - 1
		n := 0
		for ; i >= 0 && n < scanChunk; i-- {
			e := s.log.at(i)
			if e.m != nil {
				chunk[n] = *e
				n++
			}
			before = e.seq
		}
		s.mu.RUnlock()
		for _, e := range chunk[:n] {
			if !visit(e.seq, int(e.size), e.m) {
				return
			}
		}
		if i < 0 {
			return
		}
		runtime.Gosched() // a long query lets the submit path run between chunks
	}
}

// scanUp is scanDown from the oldest message upwards.
func (s *MemStore) scanUp(visit func(seq uint64, m *Message) bool) {
	var chunk [scanChunk]memEntry
	var from uint64
	for {
		s.mu.RLock()
		i := s.log.search(from)
		end := s.log.len()
		n := 0
		for ; i < end && n < scanChunk; i++ {
			e := s.log.at(i)
			if e.m != nil {
				chunk[n] = *e
				n++
			}
			from = e.seq + 1
		}
		s.mu.RUnlock()
		for _, e := range chunk[:n] {
			if !visit(e.seq, e.m) {
				return
			}
		}
		if i >= end {
			return
		}
		runtime.Gosched()
	}
}

// List implements Store. The cursor is a sequence number: the next page
// starts below it.
func (s *MemStore) List(_ context.Context, q Query) (Page, error) {
	before := ^uint64(0)
	if q.Cursor != "" {
		v, err := strconv.ParseUint(q.Cursor, 10, 64)
		if err != nil {
			return Page{}, fmt.Errorf("smsc: list: bad cursor %q", q.Cursor)
		}
		before = v
	}
	return listPage(q, func(visit func(seq uint64, size int, m *Message) bool) { s.scanDown(before, visit) }), nil
}

// listPage builds a List page from a newest-first scan: at most
// q.Limit messages and, when q.MaxBytes is set, about that many bytes
// (MessageSize; at least one message). Next is the last sequence number
// returned when more may follow.
func listPage(q Query, scan func(visit func(seq uint64, size int, m *Message) bool)) Page {
	limit := q.limit()
	var (
		p     Page
		last  uint64
		bytes int64
	)
	scan(func(seq uint64, size int, m *Message) bool {
		if !q.Match(m) {
			return true
		}
		if len(p.Messages) == limit || q.MaxBytes > 0 && len(p.Messages) > 0 && bytes+int64(size) > q.MaxBytes {
			p.Next = strconv.FormatUint(last, 10)
			return false
		}
		p.Messages = append(p.Messages, m.Clone())
		bytes += int64(size)
		last = seq
		return true
	})
	return p
}

// Parts implements PartsFinder.
func (s *MemStore) Parts(_ context.Context, k ConcatKey) ([]*Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Message
	for _, q := range s.parts[k] {
		if i := s.find(q); i >= 0 && s.log.at(i).m != nil {
			out = append(out, s.log.at(i).m.Clone())
		}
	}
	return out, nil
}

// Delete implements Store. Matching runs in chunks under the read lock;
// the matches are then removed under the write lock.
func (s *MemStore) Delete(_ context.Context, f Filter) (int, error) {
	type hit struct {
		seq uint64
		m   *Message
	}
	var hits []hit
	s.scanUp(func(seq uint64, m *Message) bool {
		if f.Match(m) {
			hits = append(hits, hit{seq, m})
		}
		return true
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range hits {
		// A message changed since it matched is checked again.
		if i := s.find(h.seq); i >= 0 && s.log.at(i).m != nil && (s.log.at(i).m == h.m || f.Match(s.log.at(i).m)) {
			s.remove(i)
			n++
		}
	}
	s.log.tidy()
	return n, nil
}

// Pending implements Store.
func (s *MemStore) Pending(_ context.Context) ([]*Message, error) {
	var out []*Message
	s.scanUp(func(_ uint64, m *Message) bool {
		if m.NeedsWork() {
			out = append(out, m.Clone())
		}
		return true
	})
	return out, nil
}

// Len returns the number of messages held.
func (s *MemStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.count
}

// Usage is how much of a store's budget is used.
type Usage struct {
	Messages        int   `json:"messages"`
	Bytes           int64 `json:"bytes"`
	PendingMessages int   `json:"pending_messages"`
	PendingBytes    int64 `json:"pending_bytes"`
	MaxMessages     int   `json:"max_messages"`
	MaxBytes        int64 `json:"max_bytes"`
}

// Usage returns the store's use of its limits.
func (s *MemStore) Usage() Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return Usage{Messages: s.count, Bytes: s.bytes, PendingMessages: s.pendingCount, PendingBytes: s.pendingBytes,
		MaxMessages: s.maxMessages, MaxBytes: s.maxBytes}
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
