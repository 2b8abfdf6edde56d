// Package store is simlab's durable message store: an smsc.Store kept in an
// embedded, pure-Go bbolt database (go.etcd.io/bbolt) under a data
// directory, so an SMSC started with --data DIR keeps every acknowledged
// message across crashes and restarts.
//
// Writes go through one committer goroutine that gathers every append and
// update waiting at that moment into one bbolt transaction, i.e. one fsync
// (group commit). Append returns, and AppendAsync calls back, only after
// that transaction is on disk, which is when the SMSC may answer submit_sm
// with ESME_ROK. Reads are served from an in-memory index loaded at Open and
// kept in step with what was committed, so capture queries never touch the
// disk.
//
// Retention: the oldest messages are dropped once the store holds more than
// MaxMessages or they are older than MaxAge (checked on every commit and at
// Open).
package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	bolt "go.etcd.io/bbolt"
)

// Defaults for Options.
const (
	DefaultMaxMessages = 500_000 // the index is in memory: like smsc.MemStore
	DefaultMaxAge      = 7 * 24 * time.Hour
	DefaultMaxBatch    = 4096
	// FileName is the database file inside the data directory.
	FileName = "smsc.db"
)

// bucketMsgs maps seq (8 octets big-endian) to the JSON message. The id
// index lives only in memory: it is rebuilt from the messages at Open, so
// each write touches one B+tree.
var bucketMsgs = []byte("messages")

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("store: closed")

// Options tune a Store. The zero value gives the defaults.
type Options struct {
	// MaxMessages bounds how many messages are kept; the oldest go first.
	// 0 means DefaultMaxMessages.
	MaxMessages int
	// MaxAge drops messages submitted longer ago; 0 means DefaultMaxAge,
	// negative keeps them regardless of age.
	MaxAge time.Duration
	// MaxBatch bounds how many operations share one commit.
	MaxBatch int
	// Now is the clock for MaxAge; time.Now when nil.
	Now func() time.Time
	// NoSync skips fsync. Only for benchmarks that want to measure
	// everything but the disk: a crash then loses acknowledged messages.
	NoSync bool
}

// Store is the durable smsc.Store. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	opts Options
	ops  chan *op
	quit chan struct{}
	done chan struct{}

	closeOnce sync.Once
	closeErr  error
	// gate orders submits before Close: a submit holds it shared while
	// it queues, Close takes it exclusively before stopping the
	// committer, so every queued op is committed or refused.
	gate   sync.RWMutex
	closed bool

	mu   sync.RWMutex
	byID map[string]*entry
	log  []*entry // ascending seq; log[head:] live or tombstoned
	head int
	dead int // tombstones in log[head:]
	seq  uint64
}

type entry struct {
	seq     uint64
	m       *smsc.Message
	deleted bool
}

var (
	_ smsc.Store         = (*Store)(nil)
	_ smsc.AsyncAppender = (*Store)(nil)
)

// Open opens (creating it if needed) the store in directory dir and loads
// its index. The directory is locked: a second process opening it waits a
// second and then fails.
func Open(dir string, opts Options) (*Store, error) {
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = DefaultMaxMessages
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        time.Second,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		NoSync:         opts.NoSync,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{
		db:   db,
		opts: opts,
		ops:  make(chan *op, opts.MaxBatch),
		quit: make(chan struct{}),
		done: make(chan struct{}),
		byID: make(map[string]*entry),
	}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.commit(nil); err != nil { // apply retention at start
		db.Close()
		return nil, err
	}
	go s.run()
	return s, nil
}

// load reads every stored message into the index.
func (s *Store) load() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		mb, err := tx.CreateBucketIfNotExists(bucketMsgs)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return mb.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return fmt.Errorf("store: corrupt key %x in %s (want 8 octets)", k, bucketMsgs)
			}
			seq := binary.BigEndian.Uint64(k)
			m := new(smsc.Message)
			if err := json.Unmarshal(v, m); err != nil {
				return fmt.Errorf("store: message at seq %d: %w", seq, err)
			}
			e := &entry{seq: seq, m: m}
			if old, ok := s.byID[m.ID]; ok {
				old.deleted = true
				s.dead++
			}
			s.byID[m.ID] = e
			s.log = append(s.log, e)
			s.seq = seq
			return nil
		})
	})
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// opKind is what an op does.
type opKind uint8

const (
	opAppend opKind = iota
	opUpdate
	opDelete
)

// op is one write waiting for the committer.
type op struct {
	kind   opKind
	msgs   []*smsc.Message // opAppend: clones owned by the store
	id     string          // opUpdate
	fn     func(*smsc.Message)
	filter smsc.Filter // opDelete

	result  *smsc.Message // opUpdate: the updated message
	deleted int           // opDelete
	err     error         // per-op failure (not found)
	done    func(*op, error)
}

func (s *Store) submit(o *op) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.ops <- o // the committer runs until Close, which waits for the gate
	return nil
}

func (s *Store) wait(ctx context.Context, o *op) (*op, error) {
	ch := make(chan error, 1)
	o.done = func(_ *op, err error) { ch <- err }
	if err := s.submit(o); err != nil {
		return nil, err
	}
	select {
	case err := <-ch:
		return o, err
	case <-ctx.Done():
		// The write may still commit; the caller only stops waiting.
		return nil, ctx.Err()
	}
}

// Append implements smsc.Store: the messages are durable when it returns
// nil.
func (s *Store) Append(ctx context.Context, msgs ...*smsc.Message) error {
	o := &op{kind: opAppend, msgs: make([]*smsc.Message, len(msgs))}
	for i, m := range msgs {
		if m.ID == "" {
			return errors.New("store: append: message without id")
		}
		o.msgs[i] = m.Clone()
	}
	_, err := s.wait(ctx, o)
	return err
}

// AppendAsync implements smsc.AsyncAppender: done is called on the
// committer goroutine once m is durable (nil) or failed.
func (s *Store) AppendAsync(m *smsc.Message, done func(error)) {
	if m.ID == "" {
		done(errors.New("store: append: message without id"))
		return
	}
	o := &op{kind: opAppend, msgs: []*smsc.Message{m.Clone()}, done: func(_ *op, err error) { done(err) }}
	if err := s.submit(o); err != nil {
		done(err)
	}
}

// Update implements smsc.Store: fn runs on the committer goroutine and the
// result is durable when Update returns.
func (s *Store) Update(ctx context.Context, id string, fn func(m *smsc.Message)) (*smsc.Message, error) {
	o, err := s.wait(ctx, &op{kind: opUpdate, id: id, fn: fn})
	if err != nil {
		return nil, err
	}
	return o.result.Clone(), nil
}

// Patch implements smsc.Patcher: Update without the copy of the result,
// for the engine's state changes (several per message).
func (s *Store) Patch(ctx context.Context, id string, fn func(m *smsc.Message)) error {
	_, err := s.wait(ctx, &op{kind: opUpdate, id: id, fn: fn})
	return err
}

// Delete implements smsc.Store; the deletion is durable when it returns.
func (s *Store) Delete(ctx context.Context, f smsc.Filter) (int, error) {
	o, err := s.wait(ctx, &op{kind: opDelete, filter: f})
	if err != nil {
		return 0, err
	}
	return o.deleted, nil
}

// Get implements smsc.Store.
func (s *Store) Get(_ context.Context, id string) (*smsc.Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", smsc.ErrNotFound, id)
	}
	return e.m.Clone(), nil
}

// List implements smsc.Store. The cursor is the sequence number below
// which the next page starts.
func (s *Store) List(_ context.Context, q smsc.Query) (smsc.Page, error) {
	before := ^uint64(0)
	if q.Cursor != "" {
		v, err := strconv.ParseUint(q.Cursor, 10, 64)
		if err != nil {
			return smsc.Page{}, fmt.Errorf("store: list: bad cursor %q", q.Cursor)
		}
		before = v
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	live := s.log[s.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].seq >= before }) - 1
	var p smsc.Page
	var last uint64
	for ; i >= 0; i-- {
		e := live[i]
		if e.deleted || !q.Match(e.m) {
			continue
		}
		if len(p.Messages) == limit {
			p.Next = strconv.FormatUint(last, 10)
			break
		}
		p.Messages = append(p.Messages, e.m.Clone())
		last = e.seq
	}
	return p, nil
}

// Pending implements smsc.Store: every message not in a final state,
// oldest first.
func (s *Store) Pending(_ context.Context) ([]*smsc.Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*smsc.Message
	for _, e := range s.log[s.head:] {
		if !e.deleted && e.m.NeedsWork() {
			out = append(out, e.m.Clone())
		}
	}
	return out, nil
}

// Len returns the number of messages held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

// Close stops the committer after the writes already queued and closes
// the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.gate.Lock()
		s.closed = true
		s.gate.Unlock()
		close(s.quit)
		<-s.done
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// run is the committer: it gathers the queued ops into one transaction.
func (s *Store) run() {
	defer close(s.done)
	batch := make([]*op, 0, s.opts.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case <-s.quit:
			// Drain what was queued before Close.
			for {
				select {
				case o := <-s.ops:
					batch = append(batch, o)
				default:
					if len(batch) > 0 {
						s.finish(batch, s.commit(batch))
					}
					return
				}
			}
		}
	gather:
		for len(batch) < s.opts.MaxBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break gather
			}
		}
		s.finish(batch, s.commit(batch))
	}
}

func (s *Store) finish(batch []*op, err error) {
	for _, o := range batch {
		e := err
		if e == nil {
			e = o.err
		}
		if o.done != nil {
			o.done(o, e)
		}
	}
}

// change is the index update a committed batch makes.
type change struct {
	put    []*entry
	remove []*entry
}

// commit writes batch in one transaction and, once it is durable, applies
// it to the index. It also enforces retention. Only the committer (and
// Open, before it starts) calls it.
func (s *Store) commit(batch []*op) error {
	var ch change
	nextSeq := s.seq
	appended := 0
	// Messages written earlier in this batch, so an update sees them.
	staged := make(map[string]*entry)
	lookup := func(id string) *entry {
		if e, ok := staged[id]; ok {
			return e
		}
		s.mu.RLock()
		e := s.byID[id]
		s.mu.RUnlock()
		return e
	}
	removed := make(map[uint64]bool)
	err := s.db.Update(func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMsgs)
		put := func(e *entry) error {
			v, err := json.Marshal(e.m)
			if err != nil {
				return fmt.Errorf("store: encode message %s: %w", e.m.ID, err)
			}
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], e.seq)
			if err := mb.Put(k[:], v); err != nil {
				return fmt.Errorf("store: %w", err)
			}
			return nil
		}
		del := func(e *entry) error {
			if removed[e.seq] {
				return nil
			}
			removed[e.seq] = true
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], e.seq)
			if err := mb.Delete(k[:]); err != nil {
				return fmt.Errorf("store: %w", err)
			}
			return nil
		}
		for _, o := range batch {
			switch o.kind {
			case opAppend:
				for _, m := range o.msgs {
					if old := lookup(m.ID); old != nil {
						if err := del(old); err != nil {
							return err
						}
						ch.remove = append(ch.remove, old)
					}
					nextSeq++
					appended++
					e := &entry{seq: nextSeq, m: m}
					if err := put(e); err != nil {
						return err
					}
					staged[m.ID] = e
					ch.put = append(ch.put, e)
				}
			case opUpdate:
				old := lookup(o.id)
				if old == nil || removed[old.seq] {
					o.err = fmt.Errorf("%w: %s", smsc.ErrNotFound, o.id)
					continue
				}
				m := old.m.Clone()
				o.fn(m)
				m.ID = old.m.ID
				e := &entry{seq: old.seq, m: m}
				if err := put(e); err != nil {
					return err
				}
				staged[m.ID] = e
				ch.put = append(ch.put, e)
				o.result = m
			case opDelete:
				for _, e := range s.matching(&o.filter, staged) {
					if removed[e.seq] {
						continue
					}
					if err := del(e); err != nil {
						return err
					}
					delete(staged, e.m.ID)
					ch.remove = append(ch.remove, e)
					o.deleted++
				}
			}
		}
		// Retention: oldest first, by count and age.
		for _, e := range s.expired(appended, staged, removed) {
			if err := del(e); err != nil {
				return err
			}
			ch.remove = append(ch.remove, e)
		}
		return nil
	})
	if err != nil {
		for _, o := range batch {
			o.result = nil
		}
		return err
	}
	s.apply(&ch, nextSeq, removed)
	return nil
}

// matching returns the live entries matching f, the staged versions
// included.
func (s *Store) matching(f *smsc.Filter, staged map[string]*entry) []*entry {
	var out []*entry
	s.mu.RLock()
	for _, e := range s.log[s.head:] {
		if e.deleted {
			continue
		}
		if st, ok := staged[e.m.ID]; ok && st.seq != e.seq {
			continue // replaced in this batch; the staged one is checked below
		}
		cur := e
		if st, ok := staged[e.m.ID]; ok {
			cur = st
		}
		if f.Match(cur.m) {
			out = append(out, cur)
		}
	}
	s.mu.RUnlock()
	for _, e := range staged {
		if s.isNew(e) && f.Match(e.m) {
			out = append(out, e)
		}
	}
	return out
}

// isNew reports whether a staged entry is not yet in the index.
func (s *Store) isNew(e *entry) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cur, ok := s.byID[e.m.ID]
	return !ok || cur.seq != e.seq
}

// expired picks the oldest entries to drop so that at most MaxMessages
// remain after adding added, and none is older than MaxAge.
func (s *Store) expired(added int, staged map[string]*entry, removed map[uint64]bool) []*entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	count := len(s.byID) + added
	for range removed {
		count--
	}
	var cutoff time.Time
	if s.opts.MaxAge > 0 {
		cutoff = s.opts.Now().Add(-s.opts.MaxAge)
	}
	var out []*entry
	for _, e := range s.log[s.head:] {
		if e.deleted || removed[e.seq] {
			continue
		}
		cur := e
		if st, ok := staged[e.m.ID]; ok && st.seq == e.seq {
			cur = st
		}
		old := !cutoff.IsZero() && cur.m.SubmitTime.Before(cutoff) && !cur.m.SubmitTime.IsZero()
		if count <= s.opts.MaxMessages && !old {
			break
		}
		out = append(out, cur)
		count--
	}
	return out
}

// apply installs a committed change in the index.
func (s *Store) apply(ch *change, seq uint64, removed map[uint64]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = seq
	for _, e := range ch.remove {
		if cur, ok := s.byID[e.m.ID]; ok && cur.seq == e.seq {
			delete(s.byID, e.m.ID)
			cur.deleted = true
			s.dead++
		}
	}
	for _, e := range ch.put {
		if removed[e.seq] {
			continue
		}
		if cur, ok := s.byID[e.m.ID]; ok && cur.seq == e.seq {
			cur.m = e.m // an update in place
			continue
		}
		s.byID[e.m.ID] = e
		s.log = append(s.log, e)
	}
	for s.head < len(s.log) && s.log[s.head].deleted {
		s.log[s.head] = nil
		s.head++
		s.dead--
	}
	if s.dead > 1024 && s.dead > (len(s.log)-s.head)/2 || s.head > 1024 && s.head > len(s.log)/2 {
		live := make([]*entry, 0, len(s.log)-s.head-s.dead+64)
		for _, e := range s.log[s.head:] {
			if !e.deleted {
				live = append(live, e)
			}
		}
		s.log, s.head, s.dead = live, 0, 0
	}
}
