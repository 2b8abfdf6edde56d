package smsc_test

import (
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// gauges gathers srv's collector and returns the value of each series of
// family name by its label values joined with ",", e.g. "app" or
// "deliver_sm".
func gauges(t *testing.T, srv *smsc.Server, name string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(srv.Collector()); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.Metric {
			k := ""
			for i, l := range m.Label {
				if i > 0 {
					k += ","
				}
				k += l.GetValue()
			}
			out[k] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return out
}

// submitHolding sends n submits asking for receipts and reads their
// responses, leaving every deliver_sm unacknowledged; it returns how many
// deliver_sm arrived meanwhile.
func (e *esme) submitHolding(n int, dest string) (delivers int) {
	e.t.Helper()
	for range n {
		e.send(pdu.CmdSubmitSM, &pdu.SubmitSM{Source: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99955500")},
			Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte(dest)}, ShortMessage: []byte("x"), RegisteredDelivery: 1})
	}
	for resps := 0; resps < n; {
		h, _ := e.read()
		switch h.ID {
		case pdu.CmdSubmitSMResp:
			if h.Status != pdu.StatusOK {
				e.t.Fatalf("submit_sm_resp %v", h.Status)
			}
			resps++
		case pdu.CmdDeliverSM:
			delivers++
		default:
			e.t.Fatalf("got %v", h.ID)
		}
	}
	return delivers
}

// TestMetricsSessionOutbox: receipts wait in the submitting session's own
// outbox while its window is full; /metrics counts them in the queue depth
// and in the account's receipts owed (review 1, H2).
func TestMetricsSessionOutbox(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "app", Password: "pw", Window: 1}}}
		defer shutdown(t, srv)
		app := bound(t, srv, pdu.CmdBindTransceiver, "app", "")
		got := app.submitHolding(3, "99900000001")
		synctest.Wait()
		if got > 1 {
			t.Fatalf("%d deliver_sm with a window of 1", got)
		}
		if owed := gauges(t, srv, "simlab_smpp_receipts_owed"); owed["app"] != 3 {
			t.Errorf("receipts_owed = %v, want app 3", owed)
		}
		if q := gauges(t, srv, "simlab_smpp_queue_depth"); q["deliver_sm"] != 3 {
			t.Errorf("queue_depth = %v, want deliver_sm 3", q)
		}
	})
}
