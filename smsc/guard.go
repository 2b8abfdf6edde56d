package smsc

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Connection limits: the defaults of the Server's zero-valued fields.
const (
	// DefaultMaxConns bounds the connections served at once on one
	// listener.
	DefaultMaxConns = 4096
	// DefaultMaxConnsPerAddr bounds the connections from one source
	// address (every CI client on one host shares 127.0.0.1).
	DefaultMaxConnsPerAddr = 512
	// DefaultMaxUnbound bounds the connections that have not bound yet,
	// server-wide: each holds a goroutine pair and buffers until it binds
	// or BindTimeout closes it.
	DefaultMaxUnbound = 256
	// DefaultMaxUnboundPerAddr bounds them per source address, so that
	// one address cannot take every unbound slot from the others.
	DefaultMaxUnboundPerAddr = 32
	// DefaultMaxUnboundLen is the largest PDU a connection may send
	// before it binds: a bind is at most 98 octets (SMPP 3.4 §4.1.1), so
	// nothing bigger is buffered for a peer that has not authenticated.
	DefaultMaxUnboundLen = 512
)

// Failed-bind throttling defaults (BindThrottle's zero-valued fields).
const (
	DefaultBindDelay      = 100 * time.Millisecond
	DefaultBindMaxDelay   = 5 * time.Second
	DefaultBindDisconnect = 3
	DefaultBindLockout    = 10
	DefaultBindLockoutFor = 5 * time.Minute
	DefaultBindWindow     = 15 * time.Minute
	// maxTracked bounds each failure table (source addresses, system_ids);
	// a full table forgets expired entries first, then arbitrary ones.
	maxTracked = 10_000
	// burstLogEvery is how often a burst of refusals is logged again.
	burstLogEvery = time.Minute
)

// BindThrottle makes failed binds cost time, per source address and per
// system_id, so that passwords cannot be guessed at wire speed: the n-th
// failure within Window is answered after Delay×2^(n-1) (at most
// MaxDelay), a connection is closed after Disconnect failed binds, and
// after Lockout failures within Window the source address, or the
// system_id, is locked out for LockoutFor: its binds fail whatever the
// password, after MaxDelay. The zero value gives the defaults; a negative
// Delay answers failures at once (tests on a fake clock), a negative
// Lockout disables the lockout.
type BindThrottle struct {
	Delay      time.Duration
	MaxDelay   time.Duration
	Disconnect int
	Lockout    int
	LockoutFor time.Duration
	Window     time.Duration
}

func (b BindThrottle) withDefaults() BindThrottle {
	if b.Delay == 0 {
		b.Delay = DefaultBindDelay
	}
	if b.MaxDelay <= 0 {
		b.MaxDelay = DefaultBindMaxDelay
	}
	if b.Disconnect <= 0 {
		b.Disconnect = DefaultBindDisconnect
	}
	if b.Lockout == 0 {
		b.Lockout = DefaultBindLockout
	}
	if b.LockoutFor <= 0 {
		b.LockoutFor = DefaultBindLockoutFor
	}
	if b.Window <= 0 {
		b.Window = DefaultBindWindow
	}
	return b
}

// Refusals count what the server turned away since it started.
type Refusals struct {
	// Connections closed at once because a limit was reached (MaxConns,
	// MaxConnsPerAddr, MaxUnbound, MaxUnboundPerAddr).
	Connections int64 `json:"connections"`
	// BindFailures are binds refused for their credentials (unknown
	// system_id, wrong password, lockout).
	BindFailures int64 `json:"bind_failures"`
	// LockedOut are the BindFailures refused because of a lockout: their
	// password was not even compared.
	LockedOut int64 `json:"locked_out"`
	// Lockouts are lockouts started (per source address or system_id).
	Lockouts int64 `json:"lockouts"`
}

// Refusals returns a snapshot of the refusal counters.
func (s *Server) Refusals() Refusals {
	g := &s.guard
	return Refusals{Connections: g.refusedConns.Load(), BindFailures: g.bindFailures.Load(),
		LockedOut: g.lockedOut.Load(), Lockouts: g.lockouts.Load()}
}

// guard is the server's defence state: connection counts and the failed
// bind tables.
type guard struct {
	mu       sync.Mutex
	perAddr  map[netip.Addr]int // unbound connections by source address
	unbound  int
	waiting  int // connections in admitLater
	bySource map[string]*failures
	byID     map[string]*failures

	refusedConns, bindFailures, lockedOut, lockouts atomic.Int64

	connLog, bindLog, storeLog burst
}

// storeFailed logs a failed store append once per burst (a full disk
// fails every submit: a line each would fill it further).
func (s *Server) storeFailed(err error) {
	if n, ok := s.guard.storeLog.note(time.Now()); ok {
		s.Logger.Warn("smsc: store append failed", "err", err, "failures_since_last_log", n)
	}
}

// failures is the failed-bind record of one source address or system_id.
type failures struct {
	n           int
	last        time.Time
	lockedUntil time.Time
}

func (s *Server) limit(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// remoteAddr is a connection's source address, if it has one (not for
// net.Pipe).
func remoteAddr(c net.Conn) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// admit counts a new connection as unbound, against MaxUnbound and, for
// its source address, MaxUnboundPerAddr; it returns "" if the connection
// may be served, else the limit that refuses it. A connection admitted is
// released by release, and leaves the unbound counts by bound.
func (s *Server) admit(c net.Conn) string {
	g := &s.guard
	g.mu.Lock()
	defer g.mu.Unlock()
	if max := s.limit(s.MaxUnbound, DefaultMaxUnbound); max > 0 && g.unbound >= max {
		return "max_unbound"
	}
	if a, ok := remoteAddr(c); ok {
		if max := s.limit(s.MaxUnboundPerAddr, DefaultMaxUnboundPerAddr); max > 0 && g.perAddr[a] >= max {
			return "max_unbound_per_addr"
		}
		if g.perAddr == nil {
			g.perAddr = make(map[netip.Addr]int)
		}
		g.perAddr[a]++
	}
	g.unbound++
	return ""
}

// Admission grace: a connection over an unbound limit waits up to
// admitGrace for a slot, checked every admitPoll, before it is refused
// (a client reconnecting as a flood from its own address ends finds the
// flood's slots still held for the moment their sessions take to see the
// close). At most maxAdmitWaiting wait at once; beyond, refusal is at once.
const (
	admitGrace      = 250 * time.Millisecond
	admitPoll       = 10 * time.Millisecond
	maxAdmitWaiting = 64
)

// admitLater waits on its own goroutine for c to be admitted and then
// serves it, or refuses it after admitGrace. It returns false, doing
// nothing, when too many connections wait already.
func (s *Server) admitLater(c net.Conn) bool {
	g := &s.guard
	g.mu.Lock()
	if g.waiting >= maxAdmitWaiting {
		g.mu.Unlock()
		return false
	}
	g.waiting++
	g.mu.Unlock()
	go func() {
		defer func() {
			g.mu.Lock()
			g.waiting--
			g.mu.Unlock()
		}()
		why := ""
		for deadline := time.Now().Add(admitGrace); time.Now().Before(deadline); {
			time.Sleep(admitPoll)
			if why = s.admit(c); why == "" {
				s.startSession(c)
				return
			}
		}
		s.refuseConn(c, why)
	}()
	return true
}

// unbind takes a connection out of the unbound counts. Caller holds g.mu.
func (g *guard) unbind(c net.Conn) {
	g.unbound--
	if a, ok := remoteAddr(c); ok {
		if g.perAddr[a]--; g.perAddr[a] <= 0 {
			delete(g.perAddr, a)
		}
	}
}

// release undoes admit when the connection ends; wasUnbound says whether
// it still counted as unbound.
func (s *Server) release(c net.Conn, wasUnbound bool) {
	if !wasUnbound {
		return
	}
	s.guard.mu.Lock()
	s.guard.unbind(c)
	s.guard.mu.Unlock()
}

// bound takes a connection that has bound out of the unbound counts.
func (s *Server) bound(c net.Conn) {
	s.guard.mu.Lock()
	s.guard.unbind(c)
	s.guard.mu.Unlock()
}

// refuseConn closes a connection the unbound limits refuse.
func (s *Server) refuseConn(c net.Conn, why string) {
	s.connRefused(why)
	c.Close()
}

// connRefused counts a connection refused by a limit (connlimit's, or the
// unbound ones), logging once per burst.
func (s *Server) connRefused(why string) {
	g := &s.guard
	g.refusedConns.Add(1)
	if n, ok := g.connLog.note(time.Now()); ok {
		s.Logger.Warn("smpp: connection refused: limit reached", "limit", why, "refused_since_last_log", n)
	}
}

// bindLocked reports whether binds from source or to systemID are locked
// out now.
func (s *Server) bindLocked(source, systemID string, now time.Time) bool {
	g := &s.guard
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range [2]*failures{g.bySource[source], g.byID[systemID]} {
		if f != nil && now.Before(f.lockedUntil) {
			g.lockedOut.Add(1)
			return true
		}
	}
	return false
}

// bindFailed records a failed bind (reason says why, for the log) and
// returns how long to wait before answering it.
func (s *Server) bindFailed(source, systemID, reason string, now time.Time) time.Duration {
	g := &s.guard
	bt := s.BindThrottle.withDefaults()
	g.bindFailures.Add(1)
	g.mu.Lock()
	if g.bySource == nil {
		g.bySource = make(map[string]*failures)
		g.byID = make(map[string]*failures)
	}
	n := 0
	var locked []string
	for _, t := range [2]struct {
		m    map[string]*failures
		key  string
		kind string
	}{{g.bySource, source, "source"}, {g.byID, systemID, "system_id"}} {
		f := t.m[t.key]
		if f == nil {
			if len(t.m) >= maxTracked {
				sweep(t.m, now, bt.Window)
			}
			f = &failures{}
			t.m[t.key] = f
		}
		if now.Sub(f.last) > bt.Window && !now.Before(f.lockedUntil) {
			f.n = 0
		}
		f.n++
		f.last = now
		if bt.Lockout > 0 && f.n >= bt.Lockout && !now.Before(f.lockedUntil) {
			f.lockedUntil = now.Add(bt.LockoutFor)
			f.n = 0 // after the lockout, the count starts again
			locked = append(locked, t.kind)
			g.lockouts.Add(1)
		}
		n = max(n, f.n)
	}
	since, logIt := g.bindLog.note(now)
	g.mu.Unlock()
	for _, kind := range locked {
		// One line per lockout: the key says which.
		s.Logger.Warn("smpp: binds locked out after repeated failures", "key", kind, "source", source, "system_id", systemID, "for", bt.LockoutFor)
	}
	if logIt {
		s.Logger.Info("smpp: bind refused", "reason", reason, "source", source, "system_id", systemID, "refused_since_last_log", since)
	}
	if len(locked) > 0 || n == 0 {
		return bt.MaxDelay
	}
	if bt.Delay < 0 {
		return 0
	}
	return min(bt.Delay<<min(n-1, 20), bt.MaxDelay)
}

// sweep forgets the entries of m that are neither recent nor locked, and
// arbitrary ones if that frees nothing (the table stays bounded).
func sweep(m map[string]*failures, now time.Time, window time.Duration) {
	for k, f := range m {
		if now.Sub(f.last) > window && !now.Before(f.lockedUntil) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxTracked {
			break
		}
		delete(m, k)
	}
}

// burst rate-limits a log line: the first event logs, later ones log at
// most once per burstLogEvery with the count of events in between.
type burst struct {
	mu     sync.Mutex
	last   time.Time
	missed int
}

// note records an event at now; it reports whether to log it and how many
// events went unlogged since the last line.
func (b *burst) note(now time.Time) (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.Sub(b.last) < burstLogEvery {
		b.missed++
		return 0, false
	}
	n := b.missed
	b.last, b.missed = now, 0
	return n, true
}
