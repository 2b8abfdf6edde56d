package smsc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// TestAddedAccounts: an account added at run time (a test namespace on an
// SMSC with accounts) binds with its password only, tags its messages with
// its namespace and gets its answers, its receipts and the MO to its
// number (mo_ranges, single numbers only); removed, its bind is
// asked to unbind, it binds no more, and an answer to what it sent is
// routed as one nobody sent (here to the default_mo account), during the
// Forget window and after it.
func TestAddedAccounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		if err := (&smsc.Server{}).AddAccount(smsc.Account{SystemID: "x", Password: "pw"}); !errors.Is(err, smsc.ErrOpenServer) {
			t.Errorf("AddAccount on an open server: %v", err)
		}
		srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "app", Password: "pw", DefaultMO: true}}}
		defer shutdown(t, srv)
		for _, c := range []struct {
			a    smsc.Account
			want error
		}{
			{smsc.Account{SystemID: "app", Password: "pw"}, smsc.ErrAccountExists},
			{smsc.Account{SystemID: "ns-x", Password: "123456789"}, smsc.ErrAccount},
			{smsc.Account{SystemID: "ns-x", Password: "pw", MORanges: []string{"999*"}}, smsc.ErrAccount},
			{smsc.Account{SystemID: "ns-x", Password: "pw", MORanges: []string{"99955700000-99955700009"}}, smsc.ErrAccount},
			{smsc.Account{SystemID: "ns-x", Password: "pw", DefaultMO: true}, smsc.ErrAccount},
		} {
			if err := srv.AddAccount(c.a); !errors.Is(err, c.want) {
				t.Errorf("AddAccount(%s): %v, want %v", c.a.SystemID, err, c.want)
			}
		}
		for i, id := range []string{"ns-a", "ns-b"} {
			if err := srv.AddAccount(smsc.Account{SystemID: id, Password: "pw", Namespace: id + "-tag", MORanges: []string{fmt.Sprint("+9995570000", i)}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := srv.AddAccount(smsc.Account{SystemID: "ns-a", Password: "other"}); !errors.Is(err, smsc.ErrAccountExists) {
			t.Errorf("AddAccount twice: %v", err)
		}
		if err := srv.AddAccount(smsc.Account{SystemID: "ns-c", Password: "pw", MORanges: []string{"99955700001"}}); !errors.Is(err, smsc.ErrAccountExists) {
			t.Errorf("AddAccount of a number another added account holds: %v", err)
		}
		pipeSession(t, srv).bind(pdu.CmdBindTransceiver, "ns-a", "nope", pdu.StatusBindFail)

		app := bound(t, srv, pdu.CmdBindReceiver, "app", "")
		a := bound(t, srv, pdu.CmdBindTransceiver, "ns-a", "")
		b := bound(t, srv, pdu.CmdBindTransceiver, "ns-b", "")
		ida := a.challenge("99955700000", "99900000001")
		a.receiptFor(ida)
		idb := b.challenge("99955700001", "99900000002")
		b.receiptFor(idb)
		for id, ns := range map[string]string{ida: "ns-a-tag", idb: "ns-b-tag"} {
			if m, err := srv.Store.Get(context.Background(), id); err != nil || m.Namespace != ns {
				t.Fatalf("message %s: %+v %v, want namespace %s", id, m, err, ns)
			}
		}
		mo(t, srv, "99900000002", "99955700001")
		mo(t, srv, "99900000001", "99955700000")
		a.answer("99900000001")
		b.answer("99900000002")
		app.quiet()
		// Unasked, to an added account's number: to it (rule 4).
		mo(t, srv, "99900000009", "99955700000")
		a.answer("99900000009")
		b.quiet()
		app.quiet()

		// Removed with a bind: the bind is asked to unbind.
		if !srv.RemoveAccount("ns-a") || srv.RemoveAccount("ns-a") || srv.RemoveAccount("app") {
			t.Fatal("RemoveAccount: want true once, false for a configured account")
		}
		h, _ := a.read()
		if h.ID != pdu.CmdUnbind {
			t.Fatalf("the removed account's bind got %v, want unbind", h.ID)
		}
		a.raw(pdu.Append(nil, pdu.CmdUnbindResp, 0, h.Seq, nil))
		if !a.closed(time.Second) {
			t.Fatal("the removed account's session was not closed")
		}
		pipeSession(t, srv).bind(pdu.CmdBindTransceiver, "ns-a", "pw", pdu.StatusBindFail)
		// An answer to what it sent: not queued for it, routed as unsent.
		mo(t, srv, "99900000001", "99955700000")
		app.answer("99900000001")
		mo(t, srv, "99900000009", "99955700000")
		app.answer("99900000009")
		if err := srv.AddAccount(smsc.Account{SystemID: "ns-c", Password: "pw", MORanges: []string{"99955700000"}}); err != nil {
			t.Errorf("the number of a removed account is free again: %v", err)
		}

		// Removed without binds, the answer comes after the Forget
		// window: the same.
		b.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		synctest.Wait()
		if !srv.RemoveAccount("ns-b") {
			t.Fatal("RemoveAccount(ns-b)")
		}
		time.Sleep(10 * time.Minute) // the idle app bind is closed meanwhile (enquire_link unanswered)
		synctest.Wait()
		mo(t, srv, "99900000002", "99955700001")
		app = bound(t, srv, pdu.CmdBindReceiver, "app", "")
		app.answer("99900000002")
		app.quiet()
	})
}

// TestAddedAccountsBounded: at most MaxAddedAccounts live at once; a
// removed one makes room.
func TestAddedAccountsBounded(t *testing.T) {
	t.Parallel()
	srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "app", Password: "pw"}}}
	defer shutdown(t, srv)
	for i := range smsc.MaxAddedAccounts {
		if err := srv.AddAccount(smsc.Account{SystemID: fmt.Sprint("ns-", i), Password: "pw"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddAccount(smsc.Account{SystemID: "one-more", Password: "pw"}); !errors.Is(err, smsc.ErrTooManyAccounts) {
		t.Fatalf("account %d: %v", smsc.MaxAddedAccounts+1, err)
	}
	if !srv.RemoveAccount("ns-7") {
		t.Fatal("RemoveAccount(ns-7)")
	}
	if err := srv.AddAccount(smsc.Account{SystemID: "one-more", Password: "pw"}); err != nil {
		t.Fatalf("after a removal: %v", err)
	}
}

// TestAddedAccountAddressForms: an added account's number is one number
// however it is written, as everywhere in the SMSC (NormalizeAddr): the MO
// to +999…, 00999… or "+999 557 …" reaches it, and a number written
// another way is still the same number when another account claims it.
func TestAddedAccountAddressForms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "app", Password: "pw", DefaultMO: true}}}
		defer shutdown(t, srv)
		if err := srv.AddAccount(smsc.Account{SystemID: "ns-a", Password: "pw", MORanges: []string{"0099955700000"}}); err != nil {
			t.Fatal(err)
		}
		for _, other := range []string{"99955700000", "+99955700000", "0099955700000"} {
			if err := srv.AddAccount(smsc.Account{SystemID: "ns-b", Password: "pw", MORanges: []string{other}}); !errors.Is(err, smsc.ErrAccountExists) {
				t.Errorf("AddAccount of %s, which ns-a holds as 0099955700000: %v", other, err)
			}
		}
		app := bound(t, srv, pdu.CmdBindReceiver, "app", "")
		a := bound(t, srv, pdu.CmdBindReceiver, "ns-a", "")
		for _, to := range []string{"99955700000", "+99955700000", "0099955700000", "+999 557 00000", "+999-557-00000"} {
			mo(t, srv, "99900000001", to)
			a.answer("99900000001")
			app.quiet()
		}
		if !srv.RemoveAccount("ns-a") {
			t.Fatal("RemoveAccount(ns-a)")
		}
		if err := srv.AddAccount(smsc.Account{SystemID: "ns-b", Password: "pw", MORanges: []string{"+99955700000"}}); err != nil {
			t.Errorf("the number is free again once ns-a is removed: %v", err)
		}
	})
}

// TestRemovedAccountBindClosed: a bind of a removed account that ignores
// the unbind may submit no more (ESME_RINVBNDSTS, nothing stored in its
// namespace) and is closed RemovedAccountGrace after the removal, not
// after the ordinary timeouts (it answers enquire_link).
func TestRemovedAccountBindClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "app", Password: "pw", DefaultMO: true}}}
		defer shutdown(t, srv)
		if err := srv.AddAccount(smsc.Account{SystemID: "ns-a", Password: "pw", Namespace: "ns-a"}); err != nil {
			t.Fatal(err)
		}
		a := bound(t, srv, pdu.CmdBindTransceiver, "ns-a", "")
		a.submit(textSM("99900000001", "before"), pdu.StatusOK)
		removed := time.Now()
		if !srv.RemoveAccount("ns-a") {
			t.Fatal("RemoveAccount(ns-a)")
		}
		if h, _ := a.read(); h.ID != pdu.CmdUnbind {
			t.Fatalf("got %v, want unbind", h.ID)
		}
		// Ignored: it goes on submitting.
		a.submit(textSM("99900000001", "after"), pdu.StatusInvBndSts)
		a.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
		page, err := srv.Store.List(context.Background(), smsc.Query{Filter: smsc.Filter{Namespace: "ns-a"}})
		if err != nil || len(page.Messages) != 1 || string(page.Messages[0].Body) != "before" {
			t.Fatalf("ns-a's messages: %+v %v, want the one sent before the removal", page, err)
		}
		if a.closed(smsc.RemovedAccountGrace - time.Second) {
			t.Fatal("closed before the grace ended")
		}
		if !a.closed(time.Minute) {
			t.Fatal("still open a minute later")
		}
		if d := time.Since(removed); d != smsc.RemovedAccountGrace {
			t.Errorf("closed %v after the removal, want %v", d, smsc.RemovedAccountGrace)
		}
	})
}

// TestRemovedAccountPoliteBind: a bind of a removed account that answers
// its unbind ends at once, and the timer that would have closed it after
// RemovedAccountGrace is stopped with it, not left to fire on a session
// long gone. The server's clock is fakeClock (standing still), so the
// grace timer is the one due RemovedAccountGrace from now.
func TestRemovedAccountPoliteBind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := newFakeClock()
		srv := &smsc.Server{Clock: clock, Accounts: []smsc.Account{{SystemID: "app", Password: "pw", DefaultMO: true}}}
		defer shutdown(t, srv)
		if err := srv.AddAccount(smsc.Account{SystemID: "ns-a", Password: "pw", Namespace: "ns-a"}); err != nil {
			t.Fatal(err)
		}
		a := bound(t, srv, pdu.CmdBindTransceiver, "ns-a", "")
		if !srv.RemoveAccount("ns-a") {
			t.Fatal("RemoveAccount(ns-a)")
		}
		h, _ := a.read()
		if h.ID != pdu.CmdUnbind {
			t.Fatalf("got %v, want unbind", h.ID)
		}
		a.raw(pdu.Append(nil, pdu.CmdUnbindResp, 0, h.Seq, nil))
		if !a.closed(time.Second) {
			t.Fatal("still open after answering the unbind")
		}
		synctest.Wait() // the session's teardown has run
		clock.mu.Lock()
		defer clock.mu.Unlock()
		graces, pending := 0, 0
		for _, tm := range clock.timers {
			if tm.at.Equal(clock.now.Add(smsc.RemovedAccountGrace)) {
				graces++
				if tm.ok {
					pending++
				}
			}
		}
		if graces != 1 || pending != 0 {
			t.Errorf("%d grace timers, %d of them pending: want the removed bind's one, stopped as the bind ended", graces, pending)
		}
	})
}

// TestAddedAccountMetrics: an added account has the per-account series a
// configured one has (receipts owed, throttled submits when it has a
// throughput, its queue in the deliver_sm depth), and none is left once
// it is removed.
func TestAddedAccountMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "app", Password: "pw", DefaultMO: true, Throughput: 5}}}
		defer shutdown(t, srv)
		if err := srv.AddAccount(smsc.Account{SystemID: "ns-a", Password: "pw", Throughput: 5, MORanges: []string{"99955700000"}}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"simlab_smpp_receipts_owed", "simlab_smpp_throttled_total"} {
			if g := gauges(t, srv, name); len(g) != 2 || g["app"] != 0 || g["ns-a"] != 0 {
				t.Errorf("%s with an added account: %v, want app and ns-a at 0", name, g)
			}
		}
		// Its queue: an MO to its number waits for a bind.
		mo(t, srv, "99900000001", "99955700000")
		synctest.Wait()
		if g := gauges(t, srv, "simlab_smpp_queue_depth"); g["deliver_sm"] != 1 {
			t.Errorf("queue depth with an MO waiting for ns-a: %v", g)
		}
		if !srv.RemoveAccount("ns-a") {
			t.Fatal("RemoveAccount(ns-a)")
		}
		for _, name := range []string{"simlab_smpp_receipts_owed", "simlab_smpp_throttled_total"} {
			if g := gauges(t, srv, name); len(g) != 1 || g["app"] != 0 {
				t.Errorf("%s after the removal: %v, want app only", name, g)
			}
		}
		if g := gauges(t, srv, "simlab_smpp_queue_depth"); g["deliver_sm"] != 0 {
			t.Errorf("queue depth after the removal: %v", g)
		}
	})
}
