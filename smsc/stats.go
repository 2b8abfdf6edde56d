package smsc

import "sync/atomic"

// Stats are the server's counters since it started, for /metrics and load
// tests.
type Stats struct {
	Sessions      int64 `json:"sessions"`       // connections open now
	Bound         int64 `json:"bound"`          // of which bound
	Accepted      int64 `json:"accepted"`       // submit_sm/data_sm/submit_multi destinations stored
	Rejected      int64 `json:"rejected"`       // submit_sm/data_sm answered with an error status
	Delivered     int64 `json:"delivered"`      // messages that reached DELIVERED
	Failed        int64 `json:"failed"`         // messages that ended UNDELIVERABLE, EXPIRED, UNKNOWN or DELETED
	DeliverSent   int64 `json:"deliver_sent"`   // deliver_sm written (MO, receipts, retries)
	ReceiptsAcked int64 `json:"receipts_acked"` // receipts the ESME answered with ESME_ROK
	MOReceived    int64 `json:"mo_received"`    // SubmitMO calls stored
}

type counters struct {
	sessions, bound, accepted, rejected, delivered, failed, deliverSent, receiptsAcked, mo atomic.Int64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.counters
	return Stats{
		Sessions: c.sessions.Load(), Bound: c.bound.Load(), Accepted: c.accepted.Load(), Rejected: c.rejected.Load(),
		Delivered: c.delivered.Load(), Failed: c.failed.Load(), DeliverSent: c.deliverSent.Load(),
		ReceiptsAcked: c.receiptsAcked.Load(), MOReceived: c.mo.Load(),
	}
}
