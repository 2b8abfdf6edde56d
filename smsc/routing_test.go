package smsc_test

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// The routing rules of docs/smsc.md ("Routing"), each on real SMPP
// sessions over net.Pipe in a synctest bubble: the phones' answers are
// Server.SubmitMO calls, as the fleet makes them.

// challenge submits an MT from addr to phone with a final receipt asked
// and returns its id.
func (e *esme) challenge(addr, phone string) string {
	e.t.Helper()
	return e.submit(&pdu.SubmitSM{Source: pdu.Addr{TON: 1, NPI: 1, Addr: []byte(addr)},
		Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte(phone)}, ShortMessage: []byte("challenge"), RegisteredDelivery: 1}, pdu.StatusOK)
}

// next reads the next deliver_sm, acknowledges it and returns it.
func (e *esme) next() *pdu.DeliverSM {
	e.t.Helper()
	h, body := e.read()
	if h.ID != pdu.CmdDeliverSM {
		e.t.Fatalf("got %v, want deliver_sm", h.ID)
	}
	var d pdu.DeliverSM
	if err := d.Unmarshal(body); err != nil {
		e.t.Fatal(err)
	}
	e.raw(pdu.Append(nil, pdu.CmdDeliverSMResp, 0, h.Seq, &pdu.MessageIDResp{}))
	return &d
}

// answer expects the next deliver_sm to be the MO from phone.
func (e *esme) answer(phone string) {
	e.t.Helper()
	d := e.next()
	if d.ESMClass&0x3C != 0 || string(d.Source.Addr) != phone {
		e.t.Fatalf("got deliver_sm from %s esm_class %#x, want the answer from %s", d.Source.Addr, d.ESMClass, phone)
	}
}

// receiptFor expects the next deliver_sm to be the receipt of id.
func (e *esme) receiptFor(id string) {
	e.t.Helper()
	d := e.next()
	r, err := smsc.ParseReceipt(string(d.ShortMessage))
	if d.ESMClass&0x04 == 0 || err != nil || r.ID != id {
		e.t.Fatalf("got deliver_sm %q esm_class %#x, want the receipt of %s", d.ShortMessage, d.ESMClass, id)
	}
}

// quiet checks that nothing arrives for a (fake) second.
func (e *esme) quiet() {
	e.t.Helper()
	e.c.SetReadDeadline(time.Now().Add(time.Second))
	defer e.c.SetReadDeadline(time.Time{})
	h, _, err := e.tryRead()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		e.t.Fatalf("got %v (%v), want nothing", h.ID, err)
	}
}

func mo(t *testing.T, srv *smsc.Server, phone, addr string) {
	t.Helper()
	if _, err := srv.SubmitMO(context.Background(), &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: phone},
		Dest: smsc.Address{TON: 1, NPI: 1, Addr: addr}, Body: []byte("answer")}); err != nil {
		t.Fatal(err)
	}
}

func bound(t *testing.T, srv *smsc.Server, id pdu.CommandID, systemID, addressRange string) *esme {
	t.Helper()
	e := pipeSession(t, srv)
	e.call(id, &pdu.Bind{SystemID: []byte(systemID), Password: []byte("pw"), InterfaceVersion: 0x34, AddressRange: []byte(addressRange)}, pdu.StatusOK)
	return e
}

// TestReplyRouting: two transceivers of one system_id, submitting from the
// same address, each get the answers of their own phones and their own
// receipts; a receiver without a range (the catch-all) gets nothing.
func TestReplyRouting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{}
		defer shutdown(t, srv)
		one := bound(t, srv, pdu.CmdBindTransceiver, "app", "")
		two := bound(t, srv, pdu.CmdBindTransceiver, "app", "")
		any := bound(t, srv, pdu.CmdBindReceiver, "other", "")
		for i := range 3 {
			p1, p2 := "9990000001"+string(rune('0'+i)), "9990000002"+string(rune('0'+i))
			id1 := one.challenge("99955500", p1)
			one.receiptFor(id1)
			id2 := two.challenge("99955500", p2)
			two.receiptFor(id2)
			mo(t, srv, p2, "99955500")
			mo(t, srv, "+"+p1, "+99955500") // a leading + on either side is the same number
			two.answer(p2)
			one.answer("+" + p1)
		}
		one.quiet()
		two.quiet()
		any.quiet()
	})
}

// TestReplyRoutingTransmitter: a transmitter cannot receive, so its
// receipts and its phones' answers go to a receiving bind of its account,
// not to the catch-all.
func TestReplyRoutingTransmitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{}
		defer shutdown(t, srv)
		tx := bound(t, srv, pdu.CmdBindTransmitter, "app", "")
		any := bound(t, srv, pdu.CmdBindReceiver, "other", "")
		rx := bound(t, srv, pdu.CmdBindReceiver, "app", "7*")
		id := tx.challenge("99955500", "99900000001")
		rx.receiptFor(id)
		mo(t, srv, "99900000001", "99955500")
		rx.answer("99900000001")
		any.quiet()
	})
}

// TestReplyAfterSessionEnds: once the submitting session has ended, its
// phones' answers go to a live receiver of its account; while there is
// none they wait for one, never going to the catch-all.
func TestReplyAfterSessionEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{}
		defer shutdown(t, srv)
		sub := bound(t, srv, pdu.CmdBindTransceiver, "app", "1*")
		rx := bound(t, srv, pdu.CmdBindReceiver, "app", "2*")
		any := bound(t, srv, pdu.CmdBindReceiver, "other", "")
		id := sub.challenge("99955500", "99900000001")
		sub.receiptFor(id)
		sub.c.Close() // gone without unbind
		synctest.Wait()
		mo(t, srv, "99900000001", "99955500")
		rx.answer("99900000001")
		rx.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		synctest.Wait()
		mo(t, srv, "99900000001", "99955500")
		any.quiet()
		bound(t, srv, pdu.CmdBindReceiver, "app", "").answer("99900000001")
	})
}

// TestClaimsFollowLiveBinds: an address_range claims MO only while its bind
// lives; of two live claims the newest wins.
func TestClaimsFollowLiveBinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{}
		defer shutdown(t, srv)
		first := bound(t, srv, pdu.CmdBindReceiver, "first", "99955500")
		second := bound(t, srv, pdu.CmdBindTransceiver, "second", "999555*")
		any := bound(t, srv, pdu.CmdBindReceiver, "other", "")
		mo(t, srv, "99900000001", "99955500")
		second.answer("99900000001")
		second.c.Close() // a crash: no unbind
		synctest.Wait()
		mo(t, srv, "99900000002", "99955500")
		first.answer("99900000002")
		first.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		synctest.Wait()
		mo(t, srv, "99900000003", "99955500")
		any.answer("99900000003")
		// A bind that comes later with the same range claims it again.
		again := bound(t, srv, pdu.CmdBindReceiver, "first", "99955500")
		mo(t, srv, "99900000004", "99955500")
		again.answer("99900000004")
		any.quiet()
	})
}

// TestReplyWindow: a reply comes back to the submitting session until the
// MT's validity has ended plus ReplyWindow; later it is routed by address.
func TestReplyWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{ReplyWindow: time.Minute, EnquireInterval: time.Hour, ResponseTimeout: time.Hour}
		defer shutdown(t, srv)
		sub := bound(t, srv, pdu.CmdBindTransceiver, "app", "1*")
		any := bound(t, srv, pdu.CmdBindReceiver, "other", "")
		sm := &pdu.SubmitSM{Source: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99955500")},
			Dest:           pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99900000001")},
			ValidityPeriod: []byte("000000000010000R"), ShortMessage: []byte("challenge")}
		sub.submit(sm, pdu.StatusOK)
		time.Sleep(70 * time.Second) // fake time: validity 10 s + window 1 min
		mo(t, srv, "99900000001", "99955500")
		sub.answer("99900000001")
		time.Sleep(time.Second)
		mo(t, srv, "99900000001", "99955500")
		any.answer("99900000001")
	})
}

// TestReplyRoutingAccounts: with accounts configured, an account without
// mo_ranges or default_mo gets its own phones' answers; the default_mo
// account gets only what nobody asked for.
func TestReplyRoutingAccounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{
			{SystemID: "ci", Password: "pw"},
			{SystemID: "dflt", Password: "pw", DefaultMO: true},
		}}
		defer shutdown(t, srv)
		ci := bound(t, srv, pdu.CmdBindTransceiver, "ci", "")
		dflt := bound(t, srv, pdu.CmdBindReceiver, "dflt", "")
		id := ci.challenge("99955500", "99900000001")
		ci.receiptFor(id)
		mo(t, srv, "99900000001", "99955500")
		ci.answer("99900000001")
		mo(t, srv, "99900000002", "99955500")
		dflt.answer("99900000002")
		ci.quiet()
	})
}

// TestReplyWaitsForReceiverReconnect: Kannel's shape, a transmitter and a
// receiver of one system_id, the receiver reconnecting. While it is away
// its phones' answers wait in its account's queue instead of going to
// another client without a range (the catch-all), and the new receiver
// bind gets them (review 1, H3).
func TestReplyWaitsForReceiverReconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{}
		defer shutdown(t, srv)
		tx := bound(t, srv, pdu.CmdBindTransmitter, "kannel", "")
		rx := bound(t, srv, pdu.CmdBindReceiver, "kannel", "")
		other := bound(t, srv, pdu.CmdBindTransceiver, "other", "")
		id := tx.challenge("99955500", "99900000001")
		rx.receiptFor(id)
		rx.call(pdu.CmdUnbind, nil, pdu.StatusOK)
		synctest.Wait()
		mo(t, srv, "99900000001", "99955500")
		id2 := tx.challenge("99955500", "99900000002") // its receipt waits too
		other.quiet()
		again := bound(t, srv, pdu.CmdBindReceiver, "kannel", "")
		again.answer("99900000001")
		again.receiptFor(id2)
		// An MO nobody asked for still goes by address: the catch-all.
		mo(t, srv, "99900000003", "99955500")
		other.answer("99900000003")
		again.quiet()
	})
}

// TestQueuedMOExpires: an answer waiting for an account with no receiving
// bind ends at its validity (EXPIRED), on the server's clock, without a
// bind coming to find it; a bind that comes later gets nothing.
func TestQueuedMOExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{}
		defer shutdown(t, srv)
		tx := bound(t, srv, pdu.CmdBindTransmitter, "kannel", "")
		cid := tx.challenge("99955500", "99900000001")
		ctx := context.Background()
		id, err := srv.SubmitMO(ctx, &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: "99900000001"},
			Dest: smsc.Address{TON: 1, NPI: 1, Addr: "99955500"}, Body: []byte("answer"), ValidUntil: time.Now().Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(59 * time.Second)
		if m, _ := srv.Store.Get(ctx, id); m.State != smsc.Enroute {
			t.Fatalf("before its validity ends: %v", m.State)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if m, _ := srv.Store.Get(ctx, id); m.State != smsc.Expired {
			t.Fatalf("after its validity: %v, want EXPIRED", m.State)
		}
		rx := bound(t, srv, pdu.CmdBindReceiver, "kannel", "")
		rx.receiptFor(cid) // receipts wait for a bind
		rx.quiet()
	})
}

// failingStore is a MemStore whose Append answers ErrStoreFull while full
// is set (a durable store at its byte budget).
type failingStore struct {
	*smsc.MemStore
	full atomic.Bool
}

func (s *failingStore) Append(ctx context.Context, msgs ...*smsc.Message) error {
	if s.full.Load() {
		return smsc.ErrStoreFull
	}
	return s.MemStore.Append(ctx, msgs...)
}

// TestRefusedSubmitKeepsReplyRoute: a submit refused with ESME_RMSGQFUL
// (the destination's queue full, or the store full) does not take the
// answers of a pair another bind's accepted submit asked for (review 1, M1).
func TestRefusedSubmitKeepsReplyRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		routes := &smsc.Routes{}
		routes.AddNumber("99900000001", smsc.PhoneSink{Phone: &scriptPhone{always: smsc.ErrAbsent}})
		store := &failingStore{MemStore: smsc.NewMemStore(0)}
		srv := &smsc.Server{Router: routes, QueueLimit: 1, Store: store}
		defer shutdown(t, srv)
		a := bound(t, srv, pdu.CmdBindTransceiver, "a", "")
		b := bound(t, srv, pdu.CmdBindTransceiver, "b", "")
		sm := func() *pdu.SubmitSM {
			return &pdu.SubmitSM{Source: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99955500")},
				Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99900000001")}, ShortMessage: []byte("challenge")}
		}
		a.submit(sm(), pdu.StatusOK)
		b.submit(sm(), pdu.StatusMsgQFul) // the phone's queue holds a's
		mo(t, srv, "99900000001", "99955500")
		a.answer("99900000001")
		b.quiet()

		// The store refuses: the route stays a's as well.
		routes.AddNumber("99900000002", smsc.PhoneSink{Phone: &scriptPhone{always: smsc.ErrAbsent}})
		p2 := sm()
		p2.Dest.Addr = []byte("99900000002")
		a.submit(p2, pdu.StatusOK)
		store.full.Store(true)
		p2 = sm()
		p2.Dest.Addr = []byte("99900000002")
		b.submit(p2, pdu.StatusMsgQFul)
		store.full.Store(false)
		mo(t, srv, "99900000002", "99955500")
		a.answer("99900000002")
		b.quiet()
	})
}

// TestReplaceIfPresentTakesReplies: a submit with replace_if_present that
// replaces a waiting message takes over its answers, as a new submit would
// (review 1, M1).
func TestReplaceIfPresentTakesReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		routes := &smsc.Routes{}
		routes.AddNumber("99900000001", smsc.PhoneSink{Phone: &scriptPhone{always: smsc.ErrAbsent}})
		srv := &smsc.Server{Router: routes}
		defer shutdown(t, srv)
		a := bound(t, srv, pdu.CmdBindTransceiver, "app", "")
		b := bound(t, srv, pdu.CmdBindTransceiver, "app", "")
		sm := func() *pdu.SubmitSM {
			return &pdu.SubmitSM{Source: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99955500")},
				Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99900000001")}, ShortMessage: []byte("challenge"), ReplaceIfPresent: 1}
		}
		id := a.submit(sm(), pdu.StatusOK)
		synctest.Wait()
		if got := b.submit(sm(), pdu.StatusOK); got != id {
			t.Fatalf("replace_if_present answered id %s, want the replaced %s", got, id)
		}
		mo(t, srv, "99900000001", "99955500")
		b.answer("99900000001")
		a.quiet()
	})
}
