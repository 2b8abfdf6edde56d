package smsc

import (
	"sync/atomic"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

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
	Retries       int64 `json:"retries"`        // delivery attempts that failed temporarily and were rescheduled
}

// statusSlots covers the command_status values SMPP 3.4 and 5.0 define
// (up to ESME_RINVDCS 0x104 and its neighbours); others share the last slot.
const statusSlots = 0x110

// counters are plain atomics bumped on the hot paths; the Prometheus
// collector (metrics.go) reads them at scrape time, so a submit pays for no
// label lookup.
type counters struct {
	sessions, bound, accepted, rejected, delivered, failed, deliverSent, receiptsAcked, mo, retries atomic.Int64
	// rejectedBy counts error responses to submit_sm and data_sm by
	// command_status; the last slot holds every status beyond the table.
	rejectedBy [statusSlots]atomic.Int64
	// final counts messages by the final state they reached (by State
	// value), but DELIVERED, which is delivered: one atomic add per
	// delivery, as before the metrics.
	final [16]atomic.Int64
}

// reject counts a submit answered with the error status st.
func (c *counters) reject(st pdu.Status) {
	c.rejected.Add(1)
	c.rejectedBy[min(uint32(st), statusSlots-1)].Add(1)
}

// finished counts a message that reached the final state st.
func (c *counters) finished(st State) {
	if st == Delivered {
		c.delivered.Add(1)
		return
	}
	c.failed.Add(1)
	c.final[st&15].Add(1)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.counters
	return Stats{
		Sessions: c.sessions.Load(), Bound: c.bound.Load(), Accepted: c.accepted.Load(), Rejected: c.rejected.Load(),
		Delivered: c.delivered.Load(), Failed: c.failed.Load(), DeliverSent: c.deliverSent.Load(),
		ReceiptsAcked: c.receiptsAcked.Load(), MOReceived: c.mo.Load(), Retries: c.retries.Load(),
	}
}
