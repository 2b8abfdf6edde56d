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
// Retention: the oldest messages in a final state are dropped once the
// store holds more than MaxMessages or MaxBytes (smsc.MessageSize), or they
// are older than MaxAge (checked on every commit and at Open). Messages the
// SMSC still owes delivery or a receipt are never dropped: when they alone
// fill a limit, appends fail with smsc.ErrStoreFull (ESME_RMSGQFUL), as they
// do when the disk is full.
//
// A damaged file (truncated, or pages that cannot be read) is reported as
// ErrDamaged, never a crash; Options.Repair moves it aside and salvages
// what can be read. A record that does not decode is moved to a "damaged"
// bucket and the rest of the store is used.
package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/simlab-dev/simlab/internal/groupcommit"
	"github.com/simlab-dev/simlab/smsc"
	bolt "go.etcd.io/bbolt"
)

// Defaults for Options.
const (
	DefaultMaxMessages = smsc.DefaultMaxMessages // the index is in memory: like smsc.MemStore
	DefaultMaxBytes    = smsc.DefaultMaxBytes
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
	// MaxMessages bounds how many messages are kept; the oldest final
	// ones go first. 0 means DefaultMaxMessages.
	MaxMessages int
	// MaxBytes bounds what the kept messages weigh (smsc.MessageSize; the
	// index holds them in memory). 0 means DefaultMaxBytes.
	MaxBytes int64
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
	// Repair, when the file is damaged, moves it aside (FileName plus
	// ".damaged-" and the time) and starts a new one with every record
	// that could still be read. Without it Open returns ErrDamaged.
	Repair bool
	// Logger receives what Open found and did (damaged records, repairs);
	// nil discards.
	Logger *slog.Logger
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

	mu sync.RWMutex
	index

	// health is the last commit's error (nil: healthy); probing is set
	// while a probe commit is queued.
	health  atomic.Pointer[error]
	probeAt atomic.Int64
}

var (
	_ smsc.Store         = (*Store)(nil)
	_ smsc.AsyncAppender = (*Store)(nil)
	_ smsc.PartsFinder   = (*Store)(nil)
)

// Path returns the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// opKind is what an op does.
type opKind uint8

const (
	opAppend opKind = iota
	opUpdate
	opDelete
	opProbe // writes nothing but a marker: is the disk writable again?
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
// which the next page starts. The index is read scanChunk entries per
// read lock, so a long search does not hold up the committer.
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
	var (
		p     smsc.Page
		last  uint64
		bytes int64
	)
	s.scanDown(before, func(e *entry) bool {
		if !q.Match(e.m) {
			return true
		}
		if len(p.Messages) == limit || q.MaxBytes > 0 && len(p.Messages) > 0 && bytes+int64(e.size) > q.MaxBytes {
			p.Next = strconv.FormatUint(last, 10)
			return false
		}
		p.Messages = append(p.Messages, e.m.Clone())
		bytes += int64(e.size)
		last = e.seq
		return true
	})
	return p, nil
}

// Parts implements smsc.PartsFinder.
func (s *Store) Parts(_ context.Context, k smsc.ConcatKey) ([]*smsc.Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*smsc.Message
	for _, e := range s.parts[k] {
		out = append(out, e.m.Clone())
	}
	return out, nil
}

// Pending implements smsc.Store: every message not in a final state,
// oldest first.
func (s *Store) Pending(_ context.Context) ([]*smsc.Message, error) {
	var out []*smsc.Message
	s.scanUp(func(e *entry) bool {
		if e.m.NeedsWork() {
			out = append(out, e.m.Clone())
		}
		return true
	})
	return out, nil
}

// Len returns the number of messages held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

// Usage returns the store's use of its limits.
func (s *Store) Usage() smsc.Usage {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return smsc.Usage{Messages: len(s.byID), Bytes: s.bytes, PendingMessages: s.pendingCount, PendingBytes: s.pendingBytes,
		MaxMessages: s.opts.MaxMessages, MaxBytes: s.opts.MaxBytes}
}

// probeEvery is how often an unhealthy store tries a write again when
// nothing else writes.
const probeEvery = 2 * time.Second

// Health implements smsc.HealthChecker: the error of the last commit
// (a full disk, a failing device), nil once a commit succeeds again.
// While unhealthy it queues a probe commit every probeEvery, so the
// store turns healthy without waiting for traffic.
func (s *Store) Health() error {
	p := s.health.Load()
	if p == nil {
		return nil
	}
	now := time.Now().UnixNano()
	if last := s.probeAt.Load(); now-last >= int64(probeEvery) && s.probeAt.CompareAndSwap(last, now) {
		o := &op{kind: opProbe, done: func(*op, error) {}}
		go s.submit(o) // the committer may be busy; Health does not wait
	}
	return *p
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

// run is the committer: it gathers the queued ops into one transaction
// (groupcommit.Run).
func (s *Store) run() {
	defer close(s.done)
	groupcommit.Run(s.ops, s.quit, s.opts.MaxBatch, func(batch []*op) { s.finish(batch, s.commit(batch)) })
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
	stop   uint64 // retention's next start (index.evictFrom)
}

// bucketMeta holds the probe marker of opProbe.
var bucketMeta = []byte("meta")

// commit writes batch in one transaction and, once it is durable, applies
// it to the index. It also enforces retention. Only the committer (and
// Open, before it starts) calls it. A failed write (a full disk) fails
// every op of the batch with smsc.ErrStoreFull wrapped around the cause,
// and makes Health report it until a commit succeeds.
func (s *Store) commit(batch []*op) error {
	err := s.commitBatch(batch)
	if err != nil {
		for _, o := range batch {
			o.result = nil
		}
		if isNoSpace(err) {
			err = fmt.Errorf("%w: %w", smsc.ErrStoreFull, err)
		}
		s.health.Store(&err)
		return err
	}
	s.health.Store(nil)
	return nil
}

// isNoSpace reports a write that failed for want of space (ENOSPC,
// EDQUOT, EFBIG).
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
}

func (s *Store) commitBatch(batch []*op) error {
	var ch change
	nextSeq := s.seq
	p := plan{staged: make(map[string]*entry), removed: make(map[uint64]bool)}
	lookup := func(id string) *entry {
		if e, ok := p.staged[id]; ok {
			return e
		}
		s.mu.RLock()
		e := s.byID[id]
		s.mu.RUnlock()
		return e
	}
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
			if p.removed[e.seq] {
				return nil
			}
			p.removed[e.seq] = true
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], e.seq)
			if err := mb.Delete(k[:]); err != nil {
				return fmt.Errorf("store: %w", err)
			}
			return nil
		}
		// remove deletes a live (committed or staged) entry.
		remove := func(e *entry) error {
			if err := del(e); err != nil {
				return err
			}
			if !s.isNew(e) {
				p.removedCount++
				p.removedSize += int64(e.size)
			} else {
				p.addCount--
				p.addBytes -= int64(e.size)
				if e.pending {
					p.addPending--
					p.addPendBytes -= int64(e.size)
				}
			}
			ch.remove = append(ch.remove, e)
			return nil
		}
		for _, o := range batch {
			switch o.kind {
			case opProbe:
				mt, err := tx.CreateBucketIfNotExists(bucketMeta)
				if err != nil {
					return fmt.Errorf("store: %w", err)
				}
				if err := mt.Put([]byte("probe"), []byte(time.Now().UTC().Format(time.RFC3339Nano))); err != nil {
					return fmt.Errorf("store: %w", err)
				}
			case opAppend:
				// All of an op's messages or none: those owed work must
				// fit beside the others owed work.
				var size int64
				pending := false
				for _, m := range o.msgs {
					size += int64(smsc.MessageSize(m))
					pending = pending || m.NeedsWork()
				}
				if !s.fits(&p, pending, size) {
					o.err = fmt.Errorf("%w: %d messages (%d bytes) await delivery or a receipt; limits %d messages, %d bytes",
						smsc.ErrStoreFull, s.pendingCount+p.addPending, s.pendingBytes+p.addPendBytes, s.opts.MaxMessages, s.opts.MaxBytes)
					continue
				}
				for _, m := range o.msgs {
					if old := lookup(m.ID); old != nil {
						if err := remove(old); err != nil {
							return err
						}
					}
					nextSeq++
					e := newEntry(nextSeq, m)
					if err := put(e); err != nil {
						return err
					}
					p.staged[m.ID] = e
					p.addCount++
					p.addBytes += int64(e.size)
					if e.pending {
						p.addPending++
						p.addPendBytes += int64(e.size)
					}
					ch.put = append(ch.put, e)
				}
			case opUpdate:
				old := lookup(o.id)
				if old == nil || p.removed[old.seq] {
					o.err = fmt.Errorf("%w: %s", smsc.ErrNotFound, o.id)
					continue
				}
				m := old.m.Clone()
				o.fn(m)
				m.ID = old.m.ID
				e := newEntry(old.seq, m)
				if err := put(e); err != nil {
					return err
				}
				p.staged[m.ID] = e
				ch.put = append(ch.put, e)
				o.result = m
			case opDelete:
				for _, e := range s.matching(&o.filter, p.staged) {
					if p.removed[e.seq] {
						continue
					}
					if err := remove(e); err != nil {
						return err
					}
					delete(p.staged, e.m.ID)
					o.deleted++
				}
			}
		}
		// Retention: oldest final messages first, by count, bytes and age.
		s.mu.RLock()
		exp, stop := s.expired(&p)
		s.mu.RUnlock()
		ch.stop = stop
		for _, e := range exp {
			if err := del(e); err != nil {
				return err
			}
			ch.remove = append(ch.remove, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.apply(&ch, nextSeq, p.removed)
	return nil
}

// matching returns the live entries matching f, the staged versions
// included. The committed ones are read in chunks (scanUp).
func (s *Store) matching(f *smsc.Filter, staged map[string]*entry) []*entry {
	var out []*entry
	s.scanUp(func(e *entry) bool {
		cur := e
		if st, ok := staged[e.m.ID]; ok {
			if st.seq != e.seq {
				return true // replaced in this batch; the staged one is checked below
			}
			cur = st
		}
		if f.Match(cur.m) {
			if cur == e {
				c := *e // e is scanUp's copy, reused for the next chunk
				cur = &c
			}
			out = append(out, cur)
		}
		return true
	})
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

// apply installs a committed change in the index.
func (s *Store) apply(ch *change, seq uint64, removed map[uint64]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = seq
	s.evictFrom = max(s.evictFrom, ch.stop)
	for _, e := range ch.remove {
		if cur, ok := s.byID[e.m.ID]; ok && cur.seq == e.seq {
			s.drop(cur)
		}
	}
	for _, e := range ch.put {
		if removed[e.seq] {
			continue
		}
		if cur, ok := s.byID[e.m.ID]; ok && cur.seq == e.seq {
			s.replaceMessage(cur, e.m) // an update in place
			continue
		}
		s.insert(e)
	}
	s.tidy()
}
