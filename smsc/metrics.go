package smsc

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// Collector returns a Prometheus collector of the server's figures: SMPP
// connections and binds (by account and bind type), submits by
// command_status, messages by final state, delivery retries, queue depths,
// receipts owed and throttled submits. It reads the counters the server
// keeps anyway (atomics) and walks its queues only when scraped, so the
// submit path pays nothing for it. Register it once per server.
func (s *Server) Collector() prometheus.Collector { return &collector{s: s} }

type collector struct{ s *Server }

var (
	descConns = prometheus.NewDesc("simlab_smpp_connections",
		"SMPP connections open now, bound or not.", nil, nil)
	descBinds = prometheus.NewDesc("simlab_smpp_binds",
		"SMPP sessions bound now, by account (system_id) and bind type.", []string{"account", "bind_type"}, nil)
	descSubmits = prometheus.NewDesc("simlab_smpp_submits_total",
		"submit_sm, data_sm and submit_multi destinations answered, by command_status (ESME_ROK: stored).", []string{"command_status"}, nil)
	descFinal = prometheus.NewDesc("simlab_smpp_messages_final_total",
		"Messages (MT and MO) that reached a final state, by state.", []string{"state"}, nil)
	descDeliverSent = prometheus.NewDesc("simlab_smpp_deliver_sm_sent_total",
		"deliver_sm written to ESMEs (MO, receipts, their retries).", nil, nil)
	descReceiptsAcked = prometheus.NewDesc("simlab_smpp_receipts_acked_total",
		"Delivery receipts the ESME acknowledged with ESME_ROK.", nil, nil)
	descMO = prometheus.NewDesc("simlab_smpp_mo_received_total",
		"Mobile-originated messages stored (from phones and bearers).", nil, nil)
	descRetries = prometheus.NewDesc("simlab_smpp_retries_total",
		"Delivery attempts (to phones, bearers or ESMEs) that failed temporarily and were rescheduled.", nil, nil)
	descQueue = prometheus.NewDesc("simlab_smpp_queue_depth",
		"Messages waiting: kind=mt towards phones and bearers, kind=deliver_sm towards an account's binds (MO and receipts, in flight included).", []string{"kind"}, nil)
	descOwed = prometheus.NewDesc("simlab_smpp_receipts_owed",
		"Delivery receipts not yet acknowledged by the ESME (queued or in flight), by account.", []string{"account"}, nil)
	descThrottled = prometheus.NewDesc("simlab_smpp_throttled_total",
		"Submits refused with ESME_RTHROTTLED because the account's throughput was exceeded, by account.", []string{"account"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConns, descBinds, descSubmits, descFinal, descDeliverSent,
		descReceiptsAcked, descMO, descRetries, descQueue, descOwed, descThrottled} {
		ch <- d
	}
}

var finalStates = []State{Delivered, Expired, Deleted, Undeliverable, Unknown, Rejected}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	if s.init() != nil {
		return
	}
	ct := &s.counters
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	gauge(descConns, ct.sessions.Load())
	counter(descSubmits, ct.accepted.Load(), pdu.StatusOK.String())
	for i := range ct.rejectedBy {
		if v := ct.rejectedBy[i].Load(); v > 0 {
			name := pdu.Status(i).String()
			if i == statusSlots-1 {
				name = "other"
			}
			counter(descSubmits, v, name)
		}
	}
	for _, st := range finalStates {
		v := ct.final[st].Load()
		if st == Delivered {
			v = ct.delivered.Load()
		}
		counter(descFinal, v, st.String())
	}
	counter(descDeliverSent, ct.deliverSent.Load())
	counter(descReceiptsAcked, ct.receiptsAcked.Load())
	counter(descMO, ct.mo.Load())
	counter(descRetries, ct.retries.Load())

	type bindKey struct{ account, typ string }
	binds := map[bindKey]int64{}
	inflightRcpt := map[string]int64{}
	var inflight int64
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	accounts := make([]*account, 0, len(s.accounts))
	for _, a := range s.accounts {
		accounts = append(accounts, a)
	}
	s.mu.Unlock()
	// Accounts added at run time have the same series, gone with them
	// (RemoveAccount takes them out of the map first).
	accounts = s.added.appendAll(accounts)
	for _, ss := range sessions {
		// systemID is written before the bound state is stored (atomic),
		// so reading it after loading a bound state is safe.
		var typ string
		switch bindState(ss.state.Load()) {
		case stateTX:
			typ = "transmitter"
		case stateRX:
			typ = "receiver"
		case stateTRX:
			typ = "transceiver"
		default:
			continue
		}
		binds[bindKey{ss.systemID, typ}]++
		ss.omu.Lock()
		for _, it := range ss.pending {
			if it == nil {
				continue
			}
			inflight++
			if it.rcpt != nil {
				inflightRcpt[it.box.key]++
			}
		}
		ss.omu.Unlock()
	}
	keys := make([]bindKey, 0, len(binds))
	for k := range binds {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].account < keys[j].account || keys[i].account == keys[j].account && keys[i].typ < keys[j].typ
	})
	for _, k := range keys {
		gauge(descBinds, binds[k], k.account, k.typ)
	}

	var mt int64
	e := s.engine
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		for _, q := range sh.queues {
			mt += int64(len(q.items))
		}
		sh.mu.Unlock()
	}
	gauge(descQueue, mt, "mt")
	// The catch-all, each account's outbox, and the own outbox of each
	// of the account's receiving binds (answers and receipts to its own
	// submits wait there while its window is full). A session's box is
	// set before it subscribes to its account's outbox, so reading the
	// subscribers under that outbox's lock sees it.
	owed := map[*outbox]int64{}
	var waiting int64
	count := func(ob, into *outbox) {
		n, rcpts := ob.depth()
		waiting += n
		owed[into] += rcpts
	}
	count(e.catchAll, e.catchAll)
	for _, a := range accounts {
		count(a.out, a.out)
		for _, ss := range a.out.subscribers() {
			if ss.box != nil {
				count(ss.box, a.out)
			}
		}
	}
	for _, ob := range append([]*outbox{e.catchAll}, boxesOf(accounts)...) {
		// Configured and added accounts always have their series; open-mode ones
		// (one per system_id seen) only while they owe receipts.
		if n := owed[ob] + inflightRcpt[ob.key]; n > 0 || (ob != e.catchAll && !s.open) {
			gauge(descOwed, n, ob.key)
		}
	}
	gauge(descQueue, waiting+inflight, "deliver_sm")
	for _, a := range accounts {
		if a.bucket.rate > 0 {
			counter(descThrottled, a.bucket.throttled.Load(), a.SystemID)
		}
	}
}

func boxesOf(accounts []*account) []*outbox {
	boxes := make([]*outbox, len(accounts))
	for i, a := range accounts {
		boxes[i] = a.out
	}
	return boxes
}

// subscribers returns the binds the outbox serves now.
func (o *outbox) subscribers() []*session {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*session(nil), o.subs...)
}

// depth counts the items waiting in the outbox and, of them, the receipts.
func (o *outbox) depth() (items, receipts int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, it := range o.q[o.head:] {
		if it == nil {
			continue
		}
		items++
		if it.rcpt != nil {
			receipts++
		}
	}
	return items, receipts
}
