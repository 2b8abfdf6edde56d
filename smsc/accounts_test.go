package smsc_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// TestOpenAccountsFreed: in open mode every system_id seen makes an
// account; one with no binds and nothing waiting is freed, so a server
// seeing a namespace per test keeps neither their queues nor a
// receipts_owed series each. One still owing receipts stays until they are
// taken, or until Forget drops them (a namespace deleted); a reply route
// of a freed account still brings the answer to its next bind (review 1,
// M4).
func TestOpenAccountsFreed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{}
		defer shutdown(t, srv)
		for _, id := range []string{"ns-a", "ns-b", "ns-c"} {
			e := bound(t, srv, pdu.CmdBindTransceiver, id, "")
			e.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		}
		synctest.Wait()
		if g := gauges(t, srv, "simlab_smpp_receipts_owed"); len(g) != 0 {
			t.Fatalf("receipts_owed after three system_ids bound and gone: %v", g)
		}

		// A transmitter's receipt waits for its account: the series stays
		// while it is owed, and the account is kept.
		tx := bound(t, srv, pdu.CmdBindTransmitter, "ns-d", "")
		id := tx.challenge("99955500", "99900000001")
		tx.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		time.Sleep(time.Second) // the receipt follows its submit_sm_resp by ReceiptDelay
		synctest.Wait()
		if g := gauges(t, srv, "simlab_smpp_receipts_owed"); g["ns-d"] != 1 || len(g) != 1 {
			t.Fatalf("receipts_owed with one receipt waiting: %v", g)
		}
		rx := bound(t, srv, pdu.CmdBindReceiver, "ns-d", "")
		rx.receiptFor(id)
		rx.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		synctest.Wait()
		if g := gauges(t, srv, "simlab_smpp_receipts_owed"); len(g) != 0 {
			t.Fatalf("receipts_owed after the receipt was taken: %v", g)
		}

		// The reply route outlives the freed account: the answer waits for
		// the system_id's next bind, not for the catch-all.
		other := bound(t, srv, pdu.CmdBindReceiver, "other", "")
		tx = bound(t, srv, pdu.CmdBindTransmitter, "ns-e", "")
		tx.submit(&pdu.SubmitSM{Source: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99955501")},
			Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99900000002")}, ShortMessage: []byte("challenge")}, pdu.StatusOK)
		tx.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		synctest.Wait()
		mo(t, srv, "99900000002", "99955501")
		other.quiet()
		rx = bound(t, srv, pdu.CmdBindReceiver, "ns-e", "")
		rx.answer("99900000002")

		// Forget: a deleted namespace's receipts owed are dropped.
		tx = bound(t, srv, pdu.CmdBindTransmitter, "ns-f", "")
		id = tx.challenge("99955500", "99900000003")
		if srv.Forget("ns-f") {
			t.Fatal("Forget freed an account with a bind")
		}
		tx.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		time.Sleep(time.Second)
		synctest.Wait()
		if g := gauges(t, srv, "simlab_smpp_receipts_owed"); g["ns-f"] != 1 {
			t.Fatalf("receipts_owed before Forget: %v", g)
		}
		if !srv.Forget("ns-f") {
			t.Fatal("Forget kept an account with no binds")
		}
		if g := gauges(t, srv, "simlab_smpp_receipts_owed"); g["ns-f"] != 0 {
			t.Fatalf("receipts_owed after Forget: %v", g)
		}
		m, err := srv.Store.Get(context.Background(), id)
		if err != nil || m.ReceiptDue {
			t.Fatalf("after Forget the message still owes its receipt: %v %v", m, err)
		}
	})
}

// TestForgetHeldReceipt: a receipt still held back by ReceiptDelay when
// the namespace is deleted (Forget within the delay of the submit_sm_resp)
// is dropped when the delay ends, like the receipts that were waiting: it
// does not make the account again nor stay owed.
func TestForgetHeldReceipt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{ReceiptDelay: time.Second}
		defer shutdown(t, srv)
		tx := bound(t, srv, pdu.CmdBindTransmitter, "ns-g", "")
		id := tx.challenge("99955500", "99900000004")
		tx.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		synctest.Wait()
		if m, err := srv.Store.Get(context.Background(), id); err != nil || !m.ReceiptDue {
			t.Fatalf("the receipt is not owed while held: %v %v", m, err)
		}
		if !srv.Forget("ns-g") {
			t.Fatal("Forget kept an account with no binds")
		}
		time.Sleep(2 * time.Second) // fake time: the hold ends
		synctest.Wait()
		if g := gauges(t, srv, "simlab_smpp_receipts_owed"); len(g) != 0 {
			t.Fatalf("receipts_owed after Forget and the hold's end: %v", g)
		}
		m, err := srv.Store.Get(context.Background(), id)
		if err != nil || m.ReceiptDue {
			t.Fatalf("after Forget the held receipt is still owed: %v %v", m, err)
		}
		// The system_id's next bind (a namespace made again) gets nothing.
		rx := bound(t, srv, pdu.CmdBindReceiver, "ns-g", "")
		rx.quiet()
	})
}

// TestConfiguredAccountsKeepSeries: configured accounts keep their
// receipts_owed series at 0.
func TestConfiguredAccountsKeepSeries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "app", Password: "pw"}}}
		defer shutdown(t, srv)
		if g := gauges(t, srv, "simlab_smpp_receipts_owed"); len(g) != 1 || g["app"] != 0 {
			t.Fatalf("receipts_owed of a configured account: %v", g)
		}
		if srv.Forget("app") {
			t.Fatal("Forget freed a configured account")
		}
	})
}
