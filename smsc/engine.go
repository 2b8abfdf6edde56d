package smsc

import (
	"context"
	"errors"
	"github.com/simlab-dev/simlab/internal/workers"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// engine is the store-and-forward part: a queue per destination, delivery
// attempts with backoff until validity ends, receipts, MO routing to binds.
type engine struct {
	s        *Server
	seed     maphash.Seed
	shards   [64]engShard
	catchAll *outbox
	// pool runs the destination queues' workers on parked goroutines: a
	// delivery to a phone runs its card session, and a fresh goroutine
	// each time grew its stack by copying (internal/workers).
	pool *workers.Pool

	// replies routes answers to the bind that asked; claims are the
	// address_ranges of live binds, newest last (routing.go).
	replies *replyTable
	claimMu sync.RWMutex
	claims  []claim
	nclaims atomic.Int32 // len(claims), written under claimMu

	groupMu sync.Mutex
	groups  map[groupKey]*concatGroup

	ctx     context.Context
	stopCtx context.CancelFunc
	stopped atomic.Bool
}

type engShard struct {
	mu     sync.Mutex
	queues map[string]*destQueue
	byID   map[string]*qItem
}

// destQueue is the queue of one destination address. At most one worker
// goroutine runs per queue, so a destination sees its messages one at a
// time, highest priority first, then in submit order.
type destQueue struct {
	dest    string
	items   []*qItem
	running bool
	timer   Timer
	timerAt time.Time
	// holdUntil pauses the whole destination after a temporary failure
	// (absent, busy): its messages wait together and keep their order,
	// as an SMSC's message-waiting state does.
	holdUntil time.Time
}

type qItem struct {
	m         *Message
	sink      Sink
	seq       uint64
	notBefore time.Time
	attempts  int
	latency   bool   // the injected latency was waited for this attempt
	fault     *Fault // the fault drawn for this attempt, while latency runs
	busy      bool
	lastCode  uint16
}

type groupKey struct {
	account, src, dst string
	ref               uint16
	total             uint8
}

type concatGroup struct {
	first *Message
	done  int
	worst State
	err   uint16
}

var itemSeq atomic.Uint64

// maxConcatGroups bounds the concatenated messages awaiting their last
// part's outcome for a per-message receipt.
const maxConcatGroups = 100_000

func newEngine(s *Server) *engine {
	e := &engine{s: s, seed: maphash.MakeSeed(), groups: make(map[groupKey]*concatGroup), replies: newReplyTable()}
	for i := range e.shards {
		e.shards[i].queues = make(map[string]*destQueue)
		e.shards[i].byID = make(map[string]*qItem)
	}
	e.catchAll = newOutbox(s, "*")
	e.ctx, e.stopCtx = context.WithCancel(context.Background())
	e.pool = workers.New(0)
	return e
}

func (e *engine) shard(dest string) *engShard {
	return &e.shards[maphash.String(e.seed, dest)%uint64(len(e.shards))]
}

func (e *engine) stop() {
	e.stopped.Store(true)
	e.stopCtx()
	e.pool.Close()
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		for _, q := range sh.queues {
			if q.timer != nil {
				q.timer.Stop()
				q.timer = nil
			}
		}
		sh.mu.Unlock()
	}
}

// queueFull reports whether dest's queue is at QueueLimit.
func (e *engine) queueFull(dest string) bool {
	limit := e.s.QueueLimit
	if limit <= 0 {
		limit = DefaultQueueLimit
	}
	sh := e.shard(dest)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	q := sh.queues[dest]
	return q != nil && len(q.items) >= limit
}

// route picks the sink of an MT message: the Router, else the bind owning
// the destination by address (routing.go), else Unrouted. A bind is
// returned as a nil sink and its outbox.
func (e *engine) route(m *Message) (Sink, *outbox) {
	if e.s.Router != nil {
		if sk := e.s.Router.Route(m); sk != nil {
			return sk, nil
		}
	}
	if ob, _ := e.owner(m.Dest.Addr); ob != nil {
		return nil, ob
	}
	return e.s.Unrouted, nil
}

// attach registers a receiving bind: its own outbox (replies to its own
// submits, receipts for them), its account's, the catch-all's when it
// takes MO nobody claims; its address_range in open mode. Then it starts
// sending.
func (e *engine) attach(s *session) {
	s.box = newOutbox(s.srv, s.systemID)
	s.box.own = s
	s.outboxes = append(s.outboxes[:0], s.box, s.acct.out)
	if s.hasRange && s.srv.open {
		e.addClaim(s)
	}
	if (s.srv.open && !s.hasRange) || s.acct.DefaultMO {
		s.outboxes = append(s.outboxes, e.catchAll)
	}
	for _, ob := range s.outboxes {
		ob.attach(s)
	}
	for _, ob := range s.outboxes {
		ob.pump()
	}
}

// detach takes an ended bind out of routing: its replies and claims go
// nowhere, its outboxes stop serving it, and what its own outbox held moves
// on by the routing rules (rehome).
func (e *engine) detach(s *session) {
	if s.ref != nil {
		s.ref.live.Store(nil)
	}
	if s.hasRange && s.srv.open && s.box != nil {
		e.dropClaims(s.ref)
	}
	for _, ob := range s.outboxes {
		ob.detach(s)
	}
	if s.box != nil {
		s.box.close()
	}
}

// dispatch starts delivery of a stored MT message. inline reports that the
// message was already delivered by an inline sink before it was stored.
func (e *engine) dispatch(m *Message, sink Sink, ob *outbox) {
	if ob != nil {
		ob.push(&outItem{m: m})
		return
	}
	it := &qItem{m: m, sink: sink, seq: itemSeq.Add(1), notBefore: m.Schedule}
	sh := e.shard(m.Dest.Addr)
	sh.mu.Lock()
	q := sh.queues[m.Dest.Addr]
	if q == nil {
		q = &destQueue{dest: m.Dest.Addr}
		sh.queues[m.Dest.Addr] = q
	}
	q.items = append(q.items, it)
	sh.byID[m.ID] = it
	e.kick(sh, q)
	sh.mu.Unlock()
}

// kick starts q's worker unless one runs or a timer waits for an earlier
// item. Caller holds sh.mu.
func (e *engine) kick(sh *engShard, q *destQueue) {
	if q.running || e.stopped.Load() {
		return
	}
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
	q.running = true
	e.pool.Go(func() { e.worker(sh, q) })
}

// worker delivers q's ready items one at a time.
func (e *engine) worker(sh *engShard, q *destQueue) {
	for {
		if e.ctx.Err() != nil {
			sh.mu.Lock()
			q.running = false
			sh.mu.Unlock()
			return
		}
		now := e.s.Clock.Now()
		sh.mu.Lock()
		var it *qItem
		var earliest time.Time
		if now.Before(q.holdUntil) {
			earliest = q.holdUntil // held: nothing is ready before then
		} else {
			for _, c := range q.items {
				if !c.notBefore.After(now) {
					if it == nil || c.m.Priority > it.m.Priority || (c.m.Priority == it.m.Priority && c.seq < it.seq) {
						it = c
					}
				} else if earliest.IsZero() || c.notBefore.Before(earliest) {
					earliest = c.notBefore
				}
			}
		}
		if it == nil {
			q.running = false
			if len(q.items) == 0 {
				delete(sh.queues, q.dest)
			} else {
				q.timerAt = earliest
				q.timer = e.s.Clock.AfterFunc(earliest.Sub(now), func() {
					sh.mu.Lock()
					if q.timerAt.Equal(earliest) {
						q.timer = nil
						e.kick(sh, q)
					}
					sh.mu.Unlock()
				})
			}
			sh.mu.Unlock()
			return
		}
		it.busy = true
		sh.mu.Unlock()
		e.attempt(sh, q, it, now)
	}
}

// attempt makes one delivery attempt of it and records the outcome.
func (e *engine) attempt(sh *engShard, q *destQueue, it *qItem, now time.Time) {
	m := it.m
	if !m.ValidUntil.IsZero() && !now.Before(m.ValidUntil) {
		e.remove(sh, q, it)
		e.finalize(m, Expired, it.lastCode, it.attempts)
		return
	}
	// One fault decision per attempt: drawn before the injected latency,
	// applied after it.
	fault := it.fault
	if !it.latency && e.s.Faults != nil {
		if f, ok := e.s.Faults.delivery(m.Account, m.Dest.Addr); ok {
			fault = &f
		}
	}
	if fault != nil && !it.latency {
		if d := fault.latency(e.s.Faults); d > 0 {
			sh.mu.Lock()
			it.busy, it.latency, it.fault, it.notBefore = false, true, fault, now.Add(d)
			sh.mu.Unlock()
			return
		}
	}
	it.latency, it.fault = false, nil
	it.attempts++
	var err error
	if fault != nil && fault.DeliveryError != nil {
		err = fault.DeliveryError
	} else {
		durable := !isInline(it.sink)
		if durable {
			// Record the attempt first: after a crash an attempt without
			// outcome is reported UNKNOWN, never repeated.
			patch(e.ctx, e.s.Store, m.ID, func(sm *Message) { sm.Attempting = true; sm.Attempts = it.attempts })
		}
		err = e.deliverSafe(it.sink, m)
	}
	if err == nil {
		e.remove(sh, q, it)
		e.finalize(m, Delivered, 0, it.attempts)
		return
	}
	de := AsDeliveryError(err)
	next := e.s.Clock.Now().Add(e.backoff(it.attempts))
	if de.Permanent {
		e.remove(sh, q, it)
		e.finalize(m, Undeliverable, de.Code, it.attempts)
		return
	}
	if !m.ValidUntil.IsZero() && !next.Before(m.ValidUntil) {
		// No retry fits before the validity period ends: the message
		// waits for its end and expires then (attempt), not earlier
		// (SMPP 3.4 §5.2.15: undelivered messages are discarded when
		// their validity period expires).
		next = m.ValidUntil
	} else {
		e.s.counters.retries.Add(1)
	}
	sh.mu.Lock()
	it.busy, it.notBefore, it.lastCode = false, next, de.Code
	q.holdUntil = next
	sh.mu.Unlock()
	patch(e.ctx, e.s.Store, m.ID, func(sm *Message) {
		sm.ErrorCode, sm.Attempts, sm.Attempting = de.Code, it.attempts, false
	})
	if m.RegisteredDelivery&0x10 != 0 {
		e.sendReceipt(m, Enroute, de.Code, true)
	}
}

func isInline(s Sink) bool {
	is, ok := s.(InlineSink)
	return ok && is.Inline()
}

// deliverSafe calls the sink, turning a panic into a temporary failure.
func (e *engine) deliverSafe(s Sink, m *Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e.s.Logger.Error("smsc: sink panic", "id", m.ID, "panic", r)
			err = &DeliveryError{Code: ErrCodeSystemFailure, Reason: "sink panic"}
		}
	}()
	return s.Deliver(e.ctx, m)
}

func (e *engine) remove(sh *engShard, q *destQueue, it *qItem) {
	sh.mu.Lock()
	for i, c := range q.items {
		if c == it {
			q.items = append(q.items[:i], q.items[i+1:]...)
			break
		}
	}
	delete(sh.byID, it.m.ID)
	sh.mu.Unlock()
}

// finalize records a final state and sends the receipt asked for.
func (e *engine) finalize(m *Message, st State, code uint16, attempts int) {
	now := e.s.Clock.Now()
	e.s.counters.finished(st)
	// The receipt owed is recorded with the final state, durably, so that
	// a restart sends it if it had not been acknowledged.
	due := m.Direction == MT && e.perSegment(m) && wantReceipt(m.RegisteredDelivery, st)
	fn := func(sm *Message) {
		sm.State, sm.ErrorCode, sm.DoneTime, sm.Attempting, sm.ReceiptDue = st, code, now, false, due
		if attempts > 0 {
			sm.Attempts = attempts
		}
	}
	if e.s.wantEvents() {
		// A shallow snapshot, as emit takes: the slices it shares are
		// never written after Append.
		var snap *Message
		if err := patch(e.ctx, e.s.Store, m.ID, func(sm *Message) { fn(sm); c := *sm; snap = &c }); err == nil && snap != nil {
			e.s.OnEvent(Event{Type: EventState, Message: snap})
		}
	} else {
		patch(e.ctx, e.s.Store, m.ID, fn)
	}
	if m.Direction == MT {
		e.receiptFor(m, st, code, now)
	}
}

// receiptFor sends the final receipt for m, per segment or per message.
func (e *engine) receiptFor(m *Message, st State, code uint16, now time.Time) {
	if m.RegisteredDelivery&0x03 == 0 {
		return
	}
	if e.perSegment(m) {
		if wantReceipt(m.RegisteredDelivery, st) {
			e.sendReceiptAt(m, st, code, false, now)
		}
		return
	}
	k := groupKey{m.Account, m.Source.Addr, m.Dest.Addr, m.Concat.Ref, m.Concat.Total}
	e.groupMu.Lock()
	g := e.groups[k]
	if g == nil {
		if len(e.groups) >= maxConcatGroups {
			// Parts that never complete must not grow this forever.
			e.s.Logger.Warn("smsc: too many incomplete concatenated messages; forgetting them", "count", len(e.groups))
			clear(e.groups)
		}
		g = &concatGroup{worst: Delivered}
		e.groups[k] = g
	}
	g.done++
	if m.Concat.Seq == 1 || g.first == nil {
		g.first = m
	}
	if st != Delivered {
		g.worst, g.err = st, code
	}
	complete := g.done >= int(m.Concat.Total)
	if complete {
		delete(e.groups, k)
	}
	e.groupMu.Unlock()
	if complete && wantReceipt(m.RegisteredDelivery, g.worst) {
		patch(e.ctx, e.s.Store, g.first.ID, func(sm *Message) { sm.ReceiptDue = true })
		e.sendReceiptAt(g.first, g.worst, g.err, false, now)
	}
}

// perSegment reports whether m's receipt is its own (not one for its whole
// concatenated message).
func (e *engine) perSegment(m *Message) bool {
	return !e.s.ReceiptPerMessage || m.Concat == nil || m.Concat.Total <= 1
}

func (e *engine) sendReceipt(m *Message, st State, code uint16, intermediate bool) {
	e.sendReceiptAt(m, st, code, intermediate, e.s.Clock.Now())
}

func (e *engine) sendReceiptAt(m *Message, st State, code uint16, intermediate bool, now time.Time) {
	acc := e.s.accountFor(m.Account)
	if acc == nil {
		return
	}
	id := m.ID
	if m.Multi != "" {
		id = m.Multi
	}
	dlvrd := 0
	if st == Delivered {
		dlvrd = 1
	}
	r := &receiptOut{
		Receipt: Receipt{ID: id, Sub: 1, Dlvrd: dlvrd, SubmitDate: m.SubmitTime, DoneDate: now, State: st, Err: code,
			Text: receiptText(m), Intermediate: intermediate},
		src: m.Dest, dst: m.Source, msgID: id,
	}
	if !intermediate {
		r.owedBy = m.ID
	}
	e.pushReceipt(m, e.receiptBox(m, acc), &outItem{rcpt: r})
}

// errNotPending is returned by cancel and replace for a message no longer
// queued (final, being delivered, or not ours).
var errNotPending = errors.New("smsc: message not pending")

// cancel removes a queued message and marks it DELETED.
func (e *engine) cancel(m *Message) error {
	sh := e.shard(m.Dest.Addr)
	sh.mu.Lock()
	it := sh.byID[m.ID]
	if it == nil || it.busy {
		sh.mu.Unlock()
		return errNotPending
	}
	q := sh.queues[m.Dest.Addr]
	if q != nil {
		for i, c := range q.items {
			if c == it {
				q.items = append(q.items[:i], q.items[i+1:]...)
				break
			}
		}
	}
	delete(sh.byID, m.ID)
	sh.mu.Unlock()
	e.finalize(it.m, Deleted, 0, it.attempts)
	return nil
}

// replace swaps a queued message's content (replace_sm, or submit_sm with
// replace_if_present_flag). fn edits a copy; the stored message is updated.
func (e *engine) replace(id string, dest string, fn func(m *Message)) error {
	sh := e.shard(dest)
	sh.mu.Lock()
	it := sh.byID[id]
	if it == nil || it.busy {
		sh.mu.Unlock()
		return errNotPending
	}
	nm := it.m.Clone()
	fn(nm)
	it.m = nm
	it.notBefore = nm.Schedule
	q := sh.queues[dest]
	sh.mu.Unlock()
	if err := patch(e.ctx, e.s.Store, id, fn); err != nil {
		return err
	}
	if q != nil {
		sh.mu.Lock()
		if q.timer != nil || !q.running {
			e.kick(sh, q)
		}
		sh.mu.Unlock()
	}
	return nil
}

// findReplaceable returns the id of a queued message from the same account,
// source, destination and service type (replace_if_present_flag, SMPP 3.4
// §5.2.18).
func (e *engine) findReplaceable(m *Message) string {
	sh := e.shard(m.Dest.Addr)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	q := sh.queues[m.Dest.Addr]
	if q == nil {
		return ""
	}
	for _, c := range q.items {
		if !c.busy && c.m.Account == m.Account && c.m.Source.Addr == m.Source.Addr && c.m.ServiceType == m.ServiceType {
			return c.m.ID
		}
	}
	return ""
}

// routeMO queues a stored MO message by the routing rules (routing.go).
func (e *engine) routeMO(m *Message) {
	ob, _ := e.moTarget(m)
	ob.push(&outItem{m: m})
}

// recover resumes the messages a durable store holds from before a restart:
// queued ones are routed again, receipts owed are sent again. A message
// whose last attempt has no recorded outcome is reported UNKNOWN rather than
// delivered twice.
func (e *engine) recover(ctx context.Context) error {
	pend, err := e.s.Store.Pending(ctx)
	if err != nil {
		return err
	}
	for _, m := range pend {
		if m.State.Final() {
			if m.ReceiptDue && m.Direction == MT {
				e.sendReceiptAt(m, m.State, m.ErrorCode, false, m.DoneTime)
			}
			continue
		}
		if m.Attempting {
			e.finalize(m, Unknown, 0, m.Attempts)
			continue
		}
		if m.Direction == MO {
			e.routeMO(m)
			continue
		}
		sk, ob := e.route(m)
		e.dispatch(m, sk, ob)
	}
	return nil
}

// cancelMatching cancels every queued message of account from src (any
// when empty) to dest with service type st (any when empty), SMPP 3.4
// §4.9.1; it returns how many.
func (e *engine) cancelMatching(account, src, dest, st string) int {
	sh := e.shard(dest)
	sh.mu.Lock()
	var victims []*qItem
	if q := sh.queues[dest]; q != nil {
		kept := q.items[:0]
		for _, c := range q.items {
			if !c.busy && c.m.Account == account && (src == "" || c.m.Source.Addr == src) && (st == "" || c.m.ServiceType == st) {
				victims = append(victims, c)
				delete(sh.byID, c.m.ID)
				continue
			}
			kept = append(kept, c)
		}
		q.items = kept
	}
	sh.mu.Unlock()
	for _, c := range victims {
		e.finalize(c.m, Deleted, 0, c.attempts)
	}
	return len(victims)
}
