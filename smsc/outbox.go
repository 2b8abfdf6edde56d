package smsc

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxOutbox bounds the deliver_sm waiting for one account's binds.
const maxOutbox = 1_000_000

// maxOutTries bounds attempts to hand one deliver_sm to an ESME.
const maxOutTries = 10

// outbox holds deliver_sm (MO, receipts) until a bind that may take them
// has room in its window. An account's outbox is shared by its receiver
// and transceiver binds, each taking at most its window; the catch-all's by
// the binds that take MO nobody claims; a session's own outbox (own set)
// holds what is routed to that bind alone, and once the session ends what
// it held, or is pushed to it later, moves on (engine.rehome).
type outbox struct {
	srv    *Server
	key    string
	own    *session // the session whose own outbox this is; nil if shared
	mu     sync.Mutex
	q      []*outItem
	head   int
	subs   []*session
	rr     int
	closed bool
	// retired is set (with closed) on a released account's outbox.
	retired atomic.Bool
	// born orders the outbox among those made (Server.Forget).
	born uint64
	// sweep ends queued messages at their validity while nobody takes
	// them (an account with no receiving bind, windows full): one timer
	// on the server's clock, at the earliest ValidUntil queued.
	sweepAt    time.Time
	sweepTimer Timer
}

func newOutbox(s *Server, key string) *outbox {
	return &outbox{srv: s, key: key, born: s.forgot.born.Add(1)}
}

// push queues an item and tries to send it. The item must not be in
// flight: its box is set here.
func (o *outbox) push(it *outItem) {
	it.box = o
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		o.srv.engine.rehome(it, o)
		return
	}
	if len(o.q)-o.head >= maxOutbox {
		o.mu.Unlock()
		o.drop(it, "outbox full")
		return
	}
	o.q = append(o.q, it)
	o.armSweep(it, time.Time{})
	o.mu.Unlock()
	o.pump()
}

// armSweep makes sure a sweep runs once it.m's validity has ended, and
// not before notBefore. Caller holds mu. Messages mostly arrive in order
// of validity, so one timer serves many.
func (o *outbox) armSweep(it *outItem, notBefore time.Time) {
	if it.m == nil || it.m.ValidUntil.IsZero() {
		return
	}
	at := it.m.ValidUntil
	if at.Before(notBefore) {
		at = notBefore
	}
	if o.sweepTimer != nil {
		if !at.Before(o.sweepAt) {
			return
		}
		o.sweepTimer.Stop()
	}
	o.sweepAt = at
	o.sweepTimer = o.srv.Clock.AfterFunc(at.Sub(o.srv.Clock.Now()), func() { o.sweep(at) })
}

// sweepGap is the least time between two sweeps of one outbox: each walks
// the whole queue, so a long queue of messages expiring one after the
// other is swept about once a second rather than once a message (pump
// checks validity too when it hands a message over).
const sweepGap = time.Second

// sweep ends the queued messages whose validity has passed (EXPIRED, with
// the receipt asked for) and sets the timer for the next.
func (o *outbox) sweep(at time.Time) {
	if o.srv.engine.stopped.Load() {
		return
	}
	now := o.srv.Clock.Now()
	var expired []*outItem
	o.mu.Lock()
	if !o.sweepAt.Equal(at) {
		o.mu.Unlock() // replaced by an earlier timer
		return
	}
	o.sweepTimer, o.sweepAt = nil, time.Time{}
	live := o.q[o.head:]
	n := 0
	var next *outItem
	for _, it := range live {
		if it.m != nil && !it.m.ValidUntil.IsZero() {
			if !now.Before(it.m.ValidUntil) {
				expired = append(expired, it)
				continue
			}
			if next == nil || it.m.ValidUntil.Before(next.m.ValidUntil) {
				next = it
			}
		}
		live[n] = it
		n++
	}
	clear(live[n:])
	o.q = o.q[:o.head+n]
	if next != nil {
		o.armSweep(next, now.Add(sweepGap))
	}
	o.mu.Unlock()
	for _, it := range expired {
		o.srv.engine.finalize(it.m, Expired, 0, it.tries)
	}
	if o.own == nil && o.key != "" && len(expired) > 0 {
		// An open-mode account with nobody bound may now be empty.
		if acc := o.srv.lookupAccount(o.key); acc != nil && acc.out == o {
			o.srv.releaseAccount(acc)
		}
	}
}

// requeue puts an item back at the front (its session went away).
func (o *outbox) requeue(it *outItem) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		o.srv.engine.rehome(it, o)
		return
	}
	if o.head > 0 {
		o.head--
		o.q[o.head] = it
	} else {
		o.q = append([]*outItem{it}, o.q...)
	}
	o.armSweep(it, time.Time{})
	o.mu.Unlock()
}

func (o *outbox) attach(s *session) {
	o.mu.Lock()
	o.subs = append(o.subs, s)
	o.mu.Unlock()
}

func (o *outbox) detach(s *session) {
	o.mu.Lock()
	for i, x := range o.subs {
		if x == s {
			o.subs = append(o.subs[:i], o.subs[i+1:]...)
			break
		}
	}
	o.mu.Unlock()
}

// close ends a session's own outbox: what it holds, and whatever is pushed
// to it later, moves on by the routing rules.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	items := append([]*outItem(nil), o.q[o.head:]...)
	o.q, o.head = nil, 0
	if o.sweepTimer != nil {
		o.sweepTimer.Stop()
		o.sweepTimer, o.sweepAt = nil, time.Time{}
	}
	o.mu.Unlock()
	for _, it := range items {
		o.srv.engine.rehome(it, o)
	}
}

// retire closes an account's outbox if it is empty and serves nobody,
// and reports whether it did (Server.releaseAccount).
func (o *outbox) retire() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.head != len(o.q) || len(o.subs) > 0 {
		return o.retired.Load()
	}
	o.closed = true
	o.retired.Store(true)
	o.q, o.head = nil, 0
	if o.sweepTimer != nil {
		o.sweepTimer.Stop()
		o.sweepTimer, o.sweepAt = nil, time.Time{}
	}
	return true
}

// takeAll empties the outbox and returns what it held.
func (o *outbox) takeAll() []*outItem {
	o.mu.Lock()
	defer o.mu.Unlock()
	items := append([]*outItem(nil), o.q[o.head:]...)
	clear(o.q)
	o.q, o.head = o.q[:0], 0
	return items
}

// pump sends queued items while some bind has room in its window.
func (o *outbox) pump() {
	for {
		o.mu.Lock()
		if o.head == len(o.q) {
			o.q, o.head = o.q[:0], 0
			o.mu.Unlock()
			return
		}
		var s *session
		for i := range o.subs {
			c := o.subs[(o.rr+i)%len(o.subs)]
			if c.reserve() {
				s = c
				o.rr = (o.rr + i + 1) % len(o.subs)
				break
			}
		}
		if s == nil {
			o.mu.Unlock()
			return
		}
		it := o.q[o.head]
		o.q[o.head] = nil
		o.head++
		if o.head > 1024 && o.head*2 > len(o.q) {
			o.q = append(o.q[:0], o.q[o.head:]...)
			o.head = 0
		}
		o.mu.Unlock()
		if it.m != nil && !it.m.ValidUntil.IsZero() && !o.srv.Clock.Now().Before(it.m.ValidUntil) {
			s.inflight.Add(-1)
			o.srv.engine.finalize(it.m, Expired, 0, it.tries)
			continue
		}
		if !s.sendDeliver(it) {
			s.inflight.Add(-1)
			o.requeue(it)
			return // the session is ending; finish pumps again
		}
	}
}

// delivered records an ESME's deliver_sm_resp ESME_ROK.
func (o *outbox) delivered(it *outItem) {
	if it.m != nil {
		o.srv.engine.finalize(it.m, Delivered, 0, it.tries+1)
		return
	}
	o.srv.counters.receiptsAcked.Add(1)
	if id := it.rcpt.owedBy; id != "" {
		patch(o.srv.engine.ctx, o.srv.Store, id, func(m *Message) { m.ReceiptDue = false })
	}
}

// retry handles a failed hand-over: temporary failures go back in the
// queue after a backoff, others end the item.
func (o *outbox) retry(it *outItem, reason string, temporary bool) {
	it.tries++
	if !temporary || it.tries >= maxOutTries {
		o.drop(it, reason)
		return
	}
	o.srv.counters.retries.Add(1)
	d := o.srv.engine.backoff(it.tries)
	o.srv.Clock.AfterFunc(d, func() {
		if o.srv.engine.stopped.Load() {
			return
		}
		o.push(it)
	})
}

func (o *outbox) drop(it *outItem, reason string) {
	if it.m != nil {
		o.srv.engine.finalize(it.m, Undeliverable, ErrCodeSystemFailure, it.tries)
		return
	}
	o.srv.Logger.Warn("smsc: receipt dropped", "account", o.key, "id", it.rcpt.msgID, "reason", reason)
}

// backoff returns the wait before attempt n+1 (n ≥ 1): RetryMin doubling
// up to RetryMax.
func (e *engine) backoff(n int) time.Duration {
	lo := e.s.dur(e.s.RetryMin, DefaultRetryMin)
	hi := e.s.dur(e.s.RetryMax, DefaultRetryMax)
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}
