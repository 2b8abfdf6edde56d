package smsc

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Routing of the deliver_sm an ESME receives (docs/smsc.md, "Routing"): MO
// from phones, MT addressed to an ESME's own addresses, and receipts. An MO
// from phone P to address A goes to the first of:
//
//  1. the session that most recently submitted an MT from A to P (the reply
//     table), while it lives and can receive;
//  2. else, when that session is gone or is a transmitter, the same
//     account's outbox: a receiving bind of the account takes it, and
//     while none is bound it waits there (until its validity ends), as
//     receipts do, rather than going to another client;
//  3. with no reply entry: the most recent live bind whose address_range
//     contains A (open mode);
//  4. an account whose mo_ranges contain A;
//  5. a default_mo account;
//  6. the catch-all: receiving binds without an address_range (open mode).
//
// A receipt goes to the submitting session when it can receive, else to
// any receiving bind of the submitting account. Items queued for a session
// that ends move on by the same rules.

// DefaultReplyWindow is Server.ReplyWindow's default.
const DefaultReplyWindow = 10 * time.Minute

// MaxReplyRoutes bounds the reply table: once it holds this many
// (address, phone) pairs, the older half is dropped. The newer half covers
// the challenges in flight at 10,000 a second answered within 3 s; an
// answer whose pair was dropped is routed by address (rules 3 to 6).
const MaxReplyRoutes = 1 << 16

// bindRef is what routing tables keep of a bind: its account, and the
// session while it lives. An entry that outlives its session then holds a
// few words, not the session's buffers.
type bindRef struct {
	acct *account
	live atomic.Pointer[session]
}

// receiver returns the bind's session if it is alive and may receive
// deliver_sm (a receiver or transceiver bind), else nil.
func (r *bindRef) receiver() *session {
	s := r.live.Load()
	if s == nil || s.box == nil || !bindState(s.state.Load()).canReceive() {
		return nil
	}
	return s
}

// replyKey stands for an (ESME address, phone number) pair, without a
// leading '+': the pair's 128-bit hash under the table's random seeds. A
// key holds no pointer into a submitted message's buffer (which can be a
// 64 KiB message_payload), making one costs no allocation, and an entry
// is small and of fixed size (docs/smsc.md states the table's memory
// bound): 32 bytes a slot, half what a copy of the two addresses took, so
// that the table's slots, which every submit to a new phone misses in
// the cache, spread over half the memory (docs/benchmarks.md (w)). Two
// pairs share a key with a chance of 2^-128 per pair of pairs, and seeds
// drawn at start leave nobody able to make them. SMPP addresses are 20
// octets at most in submit_sm (§5.2.8-9); a longer one (data_sm allows
// 64) is not recorded, and its answers are routed by address.
type replyKey struct{ h1, h2 uint64 }

// maxReplyAddr is the longest address the reply table keys.
const maxReplyAddr = 20

// makeReplyKey returns the key of (addr, phone), false if either is empty
// or too long to be keyed.
func (t *replyTable) makeReplyKey(addr, phone string) (replyKey, bool) {
	addr, phone = strings.TrimPrefix(addr, "+"), strings.TrimPrefix(phone, "+")
	if addr == "" || phone == "" || len(addr) > maxReplyAddr || len(phone) > maxReplyAddr {
		return replyKey{}, false
	}
	// The two addresses and a separator that no digit string contains.
	var b [2*maxReplyAddr + 1]byte
	n := copy(b[:], addr)
	b[n] = 0
	n += 1 + copy(b[n+1:], phone)
	return replyKey{maphash.Bytes(t.seed1, b[:n]), maphash.Bytes(t.seed2, b[:n])}, true
}

type replyEntry struct {
	ref   *bindRef
	until int64 // unix nanoseconds
}

const replyShards = 16 // a power of two: shard takes the top 4 bits of a hash

// replyTable maps (address, phone) to the bind that last submitted an MT
// from address to phone, so the phone's answer goes back to it.
type replyTable struct {
	shards       [replyShards]replyShard
	seed1, seed2 maphash.Seed
}

// replyShard keeps two generations: new pairs go to cur; when cur is full
// it becomes old and the previous old is dropped whole. Evicting a
// generation at once, rather than a pair at a time, leaves the maps
// without deleted slots to probe past on the submit path.
type replyShard struct {
	mu       sync.Mutex
	cur, old map[replyKey]replyEntry
	// The shards' locks and map headers are written by every bind's
	// reader: each shard on cache lines of its own, so that two cores
	// recording in two shards do not take a line from each other.
	_ [128 - unsafe.Sizeof(sync.Mutex{}) - 2*unsafe.Sizeof(map[replyKey]replyEntry(nil))]byte
}

// replyGeneration is how many pairs a shard's generation holds.
const replyGeneration = MaxReplyRoutes / replyShards / 2

func newReplyTable() *replyTable {
	t := &replyTable{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].cur = make(map[replyKey]replyEntry)
	}
	return t
}

// shard picks a pair's shard: the top 4 bits of its key's second hash
// (the map hashes the key itself).
func (t *replyTable) shard(k *replyKey) *replyShard {
	return &t.shards[k.h2>>60] // replyShards is 16
}

// record notes that ref submitted an MT from addr to phone; its replies
// follow it until until. It returns the entry it replaced (a zero entry if
// none), for undo.
func (t *replyTable) record(addr, phone string, ref *bindRef, until time.Time) (prev replyEntry) {
	k, ok := t.makeReplyKey(addr, phone)
	if !ok {
		return replyEntry{}
	}
	sh := t.shard(&k)
	e := replyEntry{ref: ref, until: until.UnixNano()}
	sh.mu.Lock()
	// Only the current generation is looked at: a pair found only in the
	// older one stays there, so undo deleting the new entry brings it back
	// (a lookup there too cost a cache miss on every new pair).
	prev = sh.cur[k]
	sh.cur[k] = e
	if len(sh.cur) >= replyGeneration {
		// The generation dropped is cleared and reused: no allocation.
		next := sh.old
		if next == nil {
			next = make(map[replyKey]replyEntry, replyGeneration)
		} else {
			clear(next)
		}
		sh.old, sh.cur = sh.cur, next
	}
	sh.mu.Unlock()
	return prev
}

// undo takes back the entry record(addr, phone, ref, until) made, putting
// prev (what record returned) back, unless a later record replaced it.
func (t *replyTable) undo(addr, phone string, ref *bindRef, until time.Time, prev replyEntry) {
	k, ok := t.makeReplyKey(addr, phone)
	if !ok {
		return
	}
	sh := t.shard(&k)
	mine := replyEntry{ref: ref, until: until.UnixNano()}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, g := range [2]map[replyKey]replyEntry{sh.cur, sh.old} {
		if e, ok := g[k]; ok {
			if e != mine {
				return // a later submit's entry
			}
			if prev.ref == nil {
				delete(g, k)
			} else {
				g[k] = prev
			}
			return
		}
	}
}

// lookup returns the bind that last submitted an MT from addr to phone, if
// its entry has not expired at now.
func (t *replyTable) lookup(addr, phone string, now time.Time) *bindRef {
	k, ok := t.makeReplyKey(addr, phone)
	if !ok {
		return nil
	}
	sh := t.shard(&k)
	sh.mu.Lock()
	e, ok := sh.cur[k]
	if !ok {
		e, ok = sh.old[k]
	}
	sh.mu.Unlock()
	if !ok || now.UnixNano() > e.until {
		return nil
	}
	return e.ref
}

// noteReply records in the reply table that s submitted m: replies from
// m's destination to its source come back to s until m's validity ends
// plus Server.ReplyWindow.
func (e *engine) noteReply(s *session, m *Message) replyEntry {
	return e.replies.record(m.Source.Addr, m.Dest.Addr, s.ref, e.replyUntil(m))
}

// unnoteReply takes back noteReply(s, m) for a submit that was refused
// after all (queue full, store failure): the route goes back to the bind
// that had it, prev.
func (e *engine) unnoteReply(s *session, m *Message, prev replyEntry) {
	e.replies.undo(m.Source.Addr, m.Dest.Addr, s.ref, e.replyUntil(m), prev)
}

// replyUntil is when the reply entry of m ends.
func (e *engine) replyUntil(m *Message) time.Time {
	return m.ValidUntil.Add(e.s.dur(e.s.ReplyWindow, DefaultReplyWindow))
}

// claim is an address_range a live bind claimed (open mode).
type claim struct {
	r   Range
	pfx string
	ref *bindRef
}

func (c *claim) contains(addr string) bool {
	if c.r.Lo != "" {
		return c.r.Contains(addr)
	}
	addr = strings.TrimPrefix(addr, "+")
	return strings.HasPrefix(addr, c.pfx)
}

// addClaim registers a bind's address_range; the newest claim wins.
func (e *engine) addClaim(s *session) {
	e.claimMu.Lock()
	e.claims = append(e.claims, claim{r: s.rangeLo, pfx: s.rangePfx, ref: s.ref})
	e.nclaims.Store(int32(len(e.claims)))
	e.claimMu.Unlock()
}

// dropClaims forgets the address_range of a bind that ended.
func (e *engine) dropClaims(ref *bindRef) {
	e.claimMu.Lock()
	kept := e.claims[:0]
	for _, c := range e.claims {
		if c.ref != ref {
			kept = append(kept, c)
		}
	}
	clear(e.claims[len(kept):])
	e.claims = kept
	e.nclaims.Store(int32(len(e.claims)))
	e.claimMu.Unlock()
}

// claimed returns the session of the most recent live bind whose
// address_range contains addr.
func (e *engine) claimed(addr string) *session {
	if e.nclaims.Load() == 0 {
		return nil // no read lock: its counter is a line every core writes
	}
	e.claimMu.RLock()
	defer e.claimMu.RUnlock()
	for i := len(e.claims) - 1; i >= 0; i-- {
		if c := &e.claims[i]; c.contains(addr) {
			if s := c.ref.receiver(); s != nil {
				return s
			}
		}
	}
	return nil
}

// configured returns the account whose mo_ranges contain addr.
func (e *engine) configured(addr string) *account {
	for _, acc := range e.s.Accounts {
		a := e.s.accounts[acc.SystemID]
		for _, r := range a.moRanges {
			if r.Contains(addr) {
				return a
			}
		}
		for _, p := range a.moPrefixes {
			if strings.HasPrefix(strings.TrimPrefix(addr, "+"), p) {
				return a
			}
		}
	}
	return nil
}

// owner returns the outbox of the bind owning addr by address: a live
// bind's address_range, then an account's mo_ranges (rules 3 and 4), or
// nil. MT to such an address goes to that ESME.
func (e *engine) owner(addr string) (*outbox, *account) {
	if s := e.claimed(addr); s != nil {
		return s.box, s.acct
	}
	if a := e.configured(addr); a != nil {
		return a.out, a
	}
	return nil, nil
}

// moTarget returns the outbox an MO goes to by the rules above, and the
// account it belongs to (nil for the catch-all).
func (e *engine) moTarget(m *Message) (*outbox, *account) {
	if ref := e.replies.lookup(m.Dest.Addr, m.Source.Addr, m.SubmitTime); ref != nil {
		if s := ref.receiver(); s != nil {
			return s.box, ref.acct
		}
		a := e.s.current(ref.acct) // the account made again if it was released
		return a.out, a
	}
	if ob, acc := e.owner(m.Dest.Addr); ob != nil {
		return ob, acc
	}
	for _, acc := range e.s.Accounts {
		if acc.DefaultMO {
			a := e.s.accounts[acc.SystemID]
			return a.out, a
		}
	}
	return e.catchAll, nil
}

// rehome moves an item off the box of a session that ended: a receipt to
// its account's outbox, an MO by the routing rules again, an MT that was
// routed to the bind to its account's outbox.
func (e *engine) rehome(it *outItem, from *outbox) {
	if e.s.forgot.dropped(from, e.s.Clock.Now()) {
		e.s.dropForgotten(it) // its namespace was deleted (Server.Forget)
		return
	}
	if it.m != nil && it.m.Direction == MO {
		ob, _ := e.moTarget(it.m)
		ob.push(it)
		return
	}
	var acct *account
	if from.own != nil {
		acct = e.s.current(from.own.acct)
	} else {
		acct = e.s.accountFor(from.key) // a released account's outbox
	}
	acct.out.push(it)
}

// receiptBox is where a receipt for m goes: the submitting session when it
// lives and can receive, else the account's outbox.
func (e *engine) receiptBox(m *Message, acc *account) *outbox {
	if ref := m.origin; ref != nil && ref.acct == acc {
		if s := ref.receiver(); s != nil {
			return s.box
		}
	}
	return acc.out
}
