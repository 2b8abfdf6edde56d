package store

import (
	"runtime"
	"sort"
	"time"

	"github.com/simlab-dev/simlab/smsc"
)

// scanChunk is how many entries a query copies per read lock; it examines
// them after releasing the lock (an entry's message is replaced on update,
// never written), so a query over the whole index holds the committer (and
// with it every submit) for a copy of scanChunk entries at a time.
const scanChunk = 256

// entry is one stored message in the in-memory index.
type entry struct {
	seq     uint64
	m       *smsc.Message
	deleted bool
	size    int  // smsc.MessageSize(m)
	pending bool // m.NeedsWork()
}

func newEntry(seq uint64, m *smsc.Message) *entry {
	return &entry{seq: seq, m: m, size: smsc.MessageSize(m), pending: m.NeedsWork()}
}

// index is the in-memory view of the committed messages: by id, in
// sequence order (with tombstones, compacted now and then), by
// concatenation key, and what they weigh against the limits. Guarded by
// Store.mu.
type index struct {
	byID  map[string]*entry
	log   []*entry // ascending seq; log[head:] live or tombstoned
	head  int
	dead  int // tombstones in log[head:]
	seq   uint64
	parts map[smsc.ConcatKey][]*entry

	bytes        int64
	pendingCount int
	pendingBytes int64
	// evictFrom: no live, final entry has a lower sequence number (where
	// the retention scan starts).
	evictFrom uint64
}

func newIndex() index {
	return index{byID: make(map[string]*entry), parts: make(map[smsc.ConcatKey][]*entry)}
}

// account adds (sign 1) or removes (-1) e from the totals.
func (x *index) account(e *entry, sign int) {
	x.bytes += int64(sign * e.size)
	if e.pending {
		x.pendingCount += sign
		x.pendingBytes += int64(sign * e.size)
	}
}

// insert adds a new entry at the end of the log.
func (x *index) insert(e *entry) {
	x.byID[e.m.ID] = e
	x.log = append(x.log, e)
	x.account(e, 1)
	if k, ok := smsc.KeyOf(e.m); ok {
		x.parts[k] = append(x.parts[k], e)
	}
}

// replaceMessage installs an updated message in its entry.
func (x *index) replaceMessage(cur *entry, m *smsc.Message) {
	x.account(cur, -1)
	cur.m, cur.size, cur.pending = m, smsc.MessageSize(m), m.NeedsWork()
	x.account(cur, 1)
	if !cur.pending {
		x.evictFrom = min(x.evictFrom, cur.seq)
	}
}

// drop tombstones a live entry.
func (x *index) drop(cur *entry) {
	delete(x.byID, cur.m.ID)
	cur.deleted = true
	x.dead++
	x.account(cur, -1)
	if k, ok := smsc.KeyOf(cur.m); ok {
		ps := x.parts[k]
		for i, p := range ps {
			if p == cur {
				ps = append(ps[:i], ps[i+1:]...)
				break
			}
		}
		if len(ps) == 0 {
			delete(x.parts, k)
		} else {
			x.parts[k] = ps
		}
	}
}

// tidy drops tombstones from the front and compacts the log when
// tombstones are more than half of it.
func (x *index) tidy() {
	for x.head < len(x.log) && x.log[x.head].deleted {
		x.log[x.head] = nil
		x.head++
		x.dead--
	}
	if x.dead > 1024 && x.dead > (len(x.log)-x.head)/2 || x.head > 1024 && x.head > len(x.log)/2 {
		live := make([]*entry, 0, len(x.log)-x.head-x.dead+64)
		for _, e := range x.log[x.head:] {
			if !e.deleted {
				live = append(live, e)
			}
		}
		x.log, x.head, x.dead = live, 0, 0
	}
}

// search returns the position in log[head:] of the first entry with a
// sequence number of at least q.
func (x *index) search(q uint64) int {
	live := x.log[x.head:]
	return sort.Search(len(live), func(i int) bool { return live[i].seq >= q })
}

// plan is what a batch does to the index, for retention: messages added
// and removed so far, and the staged versions of updated ones.
type plan struct {
	addCount     int
	addBytes     int64
	addPending   int
	addPendBytes int64
	staged       map[string]*entry
	removed      map[uint64]bool
	removedSize  int64
	removedCount int
}

// fits reports whether n more messages of size bytes, all owed work,
// fit within the limits whatever retention forgets (it forgets only
// final messages).
func (s *Store) fits(p *plan, pending bool, size int64) bool {
	if !pending {
		return true // retention makes room by forgetting final messages
	}
	return s.pendingCount+p.addPending+1 <= s.opts.MaxMessages && s.pendingBytes+p.addPendBytes+size <= s.opts.MaxBytes
}

// expired picks the entries retention forgets after the batch p: the
// oldest final ones while the store would hold more than MaxMessages or
// MaxBytes, and final ones older than MaxAge. Messages owed delivery or
// a receipt are never picked. It also returns the sequence number below
// which no final entry remains (the next scan's start). Caller holds mu
// (read).
func (s *Store) expired(p *plan) ([]*entry, uint64) {
	count := len(s.byID) + p.addCount - p.removedCount
	bytes := s.bytes + p.addBytes - p.removedSize
	var cutoff time.Time
	if s.opts.MaxAge > 0 {
		cutoff = s.opts.Now().Add(-s.opts.MaxAge)
	}
	var out []*entry
	live := s.log[s.head:]
	i := s.search(s.evictFrom)
	stop := s.seq + 1
	for ; i < len(live); i++ {
		e := live[i]
		if e.deleted || p.removed[e.seq] {
			continue
		}
		cur := e
		if st, ok := p.staged[e.m.ID]; ok && st.seq == e.seq {
			cur = st
		}
		over := count > s.opts.MaxMessages || bytes > s.opts.MaxBytes
		old := !cutoff.IsZero() && !cur.m.SubmitTime.IsZero() && cur.m.SubmitTime.Before(cutoff)
		if !over && !old {
			// Entries are in submit order: the later ones are newer.
			stop = e.seq
			break
		}
		if cur.pending {
			continue
		}
		out = append(out, cur)
		count--
		bytes -= int64(cur.size)
	}
	return out, stop
}

// scanDown visits the live entries below sequence number before, newest
// first, until visit returns false. It copies scanChunk entries at a time
// under the read lock and visits the copies after releasing it; their
// messages are snapshots, never written, which visit must not modify.
func (s *Store) scanDown(before uint64, visit func(e *entry) bool) {
	var chunk [scanChunk]entry
	for {
		s.mu.RLock()
		live := s.log[s.head:]
		i := s.search(before) - 1
		n := 0
		for ; i >= 0 && n < scanChunk; i-- {
			if !live[i].deleted {
				chunk[n] = *live[i]
				n++
			}
			before = live[i].seq
		}
		s.mu.RUnlock()
		for j := range chunk[:n] {
			if !visit(&chunk[j]) {
				return
			}
		}
		if i < 0 {
			return
		}
		runtime.Gosched() // a long query lets the submit path run between chunks
	}
}

// scanUp is scanDown from the oldest entry upwards.
func (s *Store) scanUp(visit func(e *entry) bool) {
	var chunk [scanChunk]entry
	var from uint64
	for {
		s.mu.RLock()
		live := s.log[s.head:]
		i := s.search(from)
		n := 0
		for ; i < len(live) && n < scanChunk; i++ {
			if !live[i].deleted {
				chunk[n] = *live[i]
				n++
			}
			from = live[i].seq + 1
		}
		s.mu.RUnlock()
		for j := range chunk[:n] {
			if !visit(&chunk[j]) {
				return
			}
		}
		if i >= len(live) {
			return
		}
		runtime.Gosched()
	}
}
