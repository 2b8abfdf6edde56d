package mobileconnect

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/simulator/push"
)

// session is what one authentication established: who, for which client,
// how, and what the phone showed. Codes and tokens point at it; it does
// not change once made.
type session struct {
	clientID  string
	msisdn    string
	scope     []string
	acr       string
	amr       []string
	authTime  time.Time
	nonce     string
	loginHint string // as sent, or as its login_hint_token carried it: for hashed_login_hint
	authz     bool
	displayed displayedData
	answer    *push.Answer // the card's signed answer (SIM logins)
	// recipient is the SI notification_uri (async mode).
	recipient string
	// faults injected into this session's tokens, and how long slow_token
	// holds the token endpoint (faults.go).
	faults     []string
	tokenDelay time.Duration
	// trace reports the tokens issued for it (events.go); nil unless
	// someone listens.
	trace *trace
}

func (s *session) hasScope(v string) bool {
	for _, x := range s.scope {
		if x == v {
			return true
		}
	}
	return false
}

// displayedData is what the phone showed (the id_token's displayed_data).
type displayedData struct {
	ClientName     string `json:"client_name"`
	BindingMessage string `json:"binding_message,omitempty"`
	Context        string `json:"context,omitempty"`
}

// codeGrant is an authorization code: single use (RFC 6749 §4.1.2).
type codeGrant struct {
	sess          *session
	redirectURI   string
	codeChallenge string
	exp           time.Time

	fam *family // the tokens it gave, and their refreshed successors

	mu   sync.Mutex
	used bool
}

// tokenInfo is an access or refresh token.
type tokenInfo struct {
	sess *session
	exp  time.Time
	fam  *family
}

// family is a grant's tokens: those an authorization code (or an SI or
// CIBA request) gave and every token refreshed from them. A replayed code
// or a reused refresh token revokes the whole family.
type family struct {
	mu      sync.Mutex
	revoked bool
	keys    [][32]byte
}

// add records keys in the family; false when it has been revoked.
func (f *family) add(keys [][32]byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revoked {
		return false
	}
	f.keys = append(f.keys, keys...)
	return true
}

func (f *family) isRevoked() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revoked
}

// loginKey identifies a redirect login: the headless re-GET of the same
// authorize URL finds it again (MOBILE-CONNECT.md §1.2).
type loginKey struct{ clientID, state, nonce string }

// login is a redirect (DI) authentication under way or done.
type login struct {
	id      string // random, set (under mu) when a one-time code is asked: names the login in the code form
	key     loginKey
	req     AuthRequest
	created time.Time
	done    chan struct{}
	// otpAsked is closed once the login waits for a one-time code.
	otpAsked chan struct{}

	mu sync.Mutex
	// Set before done is closed: where the browser goes next.
	location string
	// The OTP the page waits for.
	otpWanted bool
	otpHash   [32]byte
	otpTries  int
	otpResult chan bool // receives true once the right code is typed
}

// result returns where the browser goes once the login is done.
func (l *login) result() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.location
}

// state is the gateway's memory: logins, codes, tokens and backchannel
// requests, the secrets among them keyed by their SHA-256. Each table is
// split into shards with a lock of their own, so concurrent logins do not
// queue on one lock; each shard forgets its expired entries in insertion
// order as new ones come (amortised O(1), never a walk over everything
// under a lock).
type state struct {
	logins  table[loginKey, *login]
	byID    table[string, *login]        // by login id, for the OTP form (OTP logins only)
	links   table[string, chan struct{}] // SMS+URL links waiting to be opened
	codes   table[[32]byte, *codeGrant]  // authorization codes
	access  table[[32]byte, *tokenInfo]  // access tokens
	refresh table[[32]byte, *tokenInfo]  // refresh tokens
	spent   table[[32]byte, *tokenInfo]  // refresh tokens rotated out, to catch their reuse
	bc      table[string, *backchannel]  // SI and CIBA requests by auth_req_id
	pending atomic.Int64                 // logins and backchannel requests under way
	seed    maphash.Seed
}

func newState() *state {
	s := &state{seed: maphash.MakeSeed()}
	str := func(k string) uint64 { return maphash.String(s.seed, k) }
	sum := func(k [32]byte) uint64 { return uint64(k[0]) | uint64(k[1])<<8 }
	s.logins.init(func(k loginKey) uint64 { return maphash.Comparable(s.seed, k) })
	s.byID.init(str)
	s.links.init(str)
	s.codes.init(sum)
	s.access.init(sum)
	s.refresh.init(sum)
	s.spent.init(sum)
	s.bc.init(str)
	return s
}

// begin counts one more login under way unless max are; it reports
// whether it did.
func (s *state) begin(max int) bool {
	if s.pending.Add(1) > int64(max) {
		s.pending.Add(-1)
		return false
	}
	return true
}

// end counts a login as finished.
func (s *state) end() { s.pending.Add(-1) }

// revokeFamily revokes every token of f, and what it would get later.
func (s *state) revokeFamily(f *family) {
	f.mu.Lock()
	f.revoked = true
	keys := f.keys
	f.keys = nil
	f.mu.Unlock()
	s.revoke(keys)
}

// revoke drops the tokens keyed by keys (access or refresh).
func (s *state) revoke(keys [][32]byte) {
	for _, k := range keys {
		s.access.delete(k)
		s.refresh.delete(k)
	}
}

// shards per table: a power of two above the cores simlab runs on.
const shards = 16

// table is a map split into shards, whose entries expire. Entries are
// forgotten in the order they were put, once expired: a table holds
// entries of one lifetime, so that order is the order of expiry.
type table[K comparable, V any] struct {
	hash   func(K) uint64
	shards [shards]shard[K, V]
}

type shard[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]entry[V]
	// fifo is the insertion order in blocks of fifoBlock entries, oldest
	// first (only the last one partly filled); head is the next entry of
	// fifo[0] to look at.
	fifo [][]queued[K]
	head int
	seq  uint64
	_    [32]byte // keeps neighbouring shards' locks off one cache line
}

// fifoBlock is how many entries a block of a shard's queue holds. The
// queue grows a block at a time and drops a block once all of it has
// expired, so it never copies what it holds: one growing slice copied
// itself, into freshly faulted memory, about once per five inserts while
// a gateway filled up (1.11-1.86 µs a put against 0.78-1.57 µs,
// BenchmarkTablePut, docs/benchmarks.md (v)).
const fifoBlock = 256

type entry[V any] struct {
	v   V
	exp time.Time
	seq uint64
}

type queued[K comparable] struct {
	k   K
	exp time.Time
	seq uint64
}

func (t *table[K, V]) init(hash func(K) uint64) {
	t.hash = hash
	for i := range t.shards {
		t.shards[i].m = map[K]entry[V]{}
	}
}

func (t *table[K, V]) shard(k K) *shard[K, V] { return &t.shards[t.hash(k)%shards] }

// put stores v under k until exp, and forgets the shard's entries that
// expired before now.
func (t *table[K, V]) put(k K, v V, now, exp time.Time) {
	s := t.shard(k)
	s.mu.Lock()
	s.putLocked(k, v, now, exp)
	s.mu.Unlock()
}

// putNew stores v under k unless k is there already (not expired); it
// returns what k holds then and whether v was stored.
func (t *table[K, V]) putNew(k K, v V, now, exp time.Time) (V, bool) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok && now.Before(e.exp) {
		return e.v, false
	}
	s.putLocked(k, v, now, exp)
	return v, true
}

// get returns k's value if it has not expired at now.
func (t *table[K, V]) get(k K, now time.Time) (V, bool) {
	s := t.shard(k)
	s.mu.Lock()
	e, ok := s.m[k]
	s.mu.Unlock()
	if !ok || !now.Before(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// take removes k and returns its value if it had not expired at now.
func (t *table[K, V]) take(k K, now time.Time) (V, bool) {
	s := t.shard(k)
	s.mu.Lock()
	e, ok := s.m[k]
	if ok {
		delete(s.m, k)
	}
	s.mu.Unlock()
	if !ok || !now.Before(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// delete removes k.
func (t *table[K, V]) delete(k K) {
	s := t.shard(k)
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

// len counts the entries held, expired or not (for tests).
func (t *table[K, V]) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

func (s *shard[K, V]) putLocked(k K, v V, now, exp time.Time) {
	s.expireLocked(now)
	s.seq++
	s.m[k] = entry[V]{v: v, exp: exp, seq: s.seq}
	n := len(s.fifo)
	if n == 0 || len(s.fifo[n-1]) == fifoBlock {
		s.fifo = append(s.fifo, make([]queued[K], 0, fifoBlock))
		n++
	}
	s.fifo[n-1] = append(s.fifo[n-1], queued[K]{k: k, exp: exp, seq: s.seq})
}

// expireLocked forgets the entries at the head of the queue that expired
// before now; an entry replaced or deleted since it was queued is skipped.
func (s *shard[K, V]) expireLocked(now time.Time) {
	for len(s.fifo) > 0 {
		b := s.fifo[0]
		if s.head == len(b) {
			if len(b) < fifoBlock {
				break // the last block, looked at to its end: it fills on
			}
			s.fifo[0] = nil
			s.fifo = s.fifo[1:]
			s.head = 0
			continue
		}
		q := b[s.head]
		if now.Before(q.exp) {
			break
		}
		if e, ok := s.m[q.k]; ok && e.seq == q.seq {
			delete(s.m, q.k)
		}
		b[s.head] = queued[K]{}
		s.head++
	}
}
