package smsc

import "time"

// A receipt never overtakes its submit_sm_resp. An SMSC answers a submit
// before it reports the outcome, and ESMEs rely on it: one that binds a
// transmitter and a receiver (Kannel) looks a receipt's id up among the
// ids its transmitter was given, and drops a receipt for an id it has not
// taken in yet. A sink can finish a delivery before the response has left
// the transmitter (an inline sink does so before it is even queued), so a
// receipt for a message submitted on another session waits here until
// everything that session had queued when the receipt was made — the
// submit_sm_resp included, since receipts are made only after it — has
// been written to its socket, and then Server.ReceiptDelay more: written
// is not yet read, and an ESME reading its two binds on two threads may
// take in the receiver's PDU first. A receipt for the submitting session
// itself needs neither: one socket's output is written, and read, in the
// order it is queued.

// outputOrder is a session's side of it, guarded by the session's wmu.
type outputOrder struct {
	// queued and written count the bytes ever queued and written.
	queued, written uint64
	// lastWrite is when the last write ended.
	lastWrite time.Time
	// ended is set once the writer has ended: what it had not written it
	// never will.
	ended bool
	held  []heldReceipt
}

// heldReceipt is a receipt (or intermediate notification) waiting for the
// first at bytes of its submitting session's output to be written.
type heldReceipt struct {
	at  uint64
	box *outbox
	it  *outItem
}

// wrote records n more bytes written at now and returns the held receipts
// they complete.
func (o *outputOrder) wrote(n int, now time.Time) []heldReceipt {
	o.written += uint64(n)
	o.lastWrite = now
	if len(o.held) == 0 {
		return nil
	}
	var due []heldReceipt
	kept := o.held[:0]
	for _, h := range o.held {
		if h.at <= o.written {
			due = append(due, h)
		} else {
			kept = append(kept, h)
		}
	}
	clear(o.held[len(kept):])
	o.held = kept
	return due
}

// pushReceipt queues a receipt for m in box once m's submit_sm_resp has
// been written to the socket of the session that submitted m, and
// ReceiptDelay has passed since, unless box is that session's own.
func (e *engine) pushReceipt(m *Message, box *outbox, it *outItem) {
	if ref := m.origin; ref != nil {
		if s := ref.live.Load(); s != nil && s.box != box {
			s.holdReceipt(box, it)
			return
		}
	}
	box.push(it)
}

// holdReceipt queues it in box once the output the session has queued so
// far is written (or never will be), ReceiptDelay after the write.
func (s *session) holdReceipt(box *outbox, it *outItem) {
	s.wmu.Lock()
	o := &s.order
	if o.written < o.queued && !o.ended {
		o.held = append(o.held, heldReceipt{at: o.queued, box: box, it: it})
		s.wmu.Unlock()
		return
	}
	last := o.lastWrite
	s.wmu.Unlock()
	s.releaseAfter(s.srv.receiptDelay()-s.now().Sub(last), []heldReceipt{{box: box, it: it}})
}

// release queues receipts whose responses were just written, ReceiptDelay
// from now.
func (s *session) release(due []heldReceipt) {
	if len(due) > 0 {
		s.releaseAfter(s.srv.receiptDelay(), due)
	}
}

// releaseAfter queues the receipts in their boxes after d (at once if d is
// not positive), in the order they were made.
func (s *session) releaseAfter(d time.Duration, due []heldReceipt) {
	if d <= 0 {
		for _, h := range due {
			h.box.push(h.it)
		}
		return
	}
	e := s.srv.engine
	s.srv.Clock.AfterFunc(d, func() {
		if e.stopped.Load() {
			return // still owed in the store: a restart sends it
		}
		for _, h := range due {
			h.box.push(h.it)
		}
	})
}

// endHeld releases every held receipt once the writer has ended.
func (s *session) endHeld() {
	s.wmu.Lock()
	s.order.ended = true
	due := s.order.held
	s.order.held = nil
	s.wmu.Unlock()
	s.releaseAfter(0, due)
}

// receiptDelay is ReceiptDelay with its default; 0 when negative.
func (s *Server) receiptDelay() time.Duration {
	switch {
	case s.ReceiptDelay < 0:
		return 0
	case s.ReceiptDelay == 0:
		return DefaultReceiptDelay
	}
	return s.ReceiptDelay
}
