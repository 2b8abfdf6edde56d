package smsc_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// responder plays a polite ESME on e's connection until the server closes
// it: it acknowledges every deliver_sm (counting in acked those the server
// took: a net.Pipe write returns once read) and answers unbind. It may run
// in any goroutine (no t.Fatal).
func responder(e *esme, acked *atomic.Int64) {
	c := e.c
	for {
		h, _, err := e.tryRead()
		if err != nil {
			return
		}
		switch h.ID {
		case pdu.CmdDeliverSM:
			if _, err := c.Write(pdu.Append(nil, pdu.CmdDeliverSMResp, 0, h.Seq, &pdu.MessageIDResp{})); err == nil {
				acked.Add(1)
			}
		case pdu.CmdUnbind, pdu.CmdEnquireLink:
			c.Write(pdu.Append(nil, h.ID.Response(), 0, h.Seq, nil))
		}
	}
}

// TestRemoveAccountRace: RemoveAccount while binds of the account keep
// arriving and answers to what it sent keep being pushed to its queue
// (the loop in releaseRemoved must end, run with -race). Afterwards each
// bind either was refused or got its unbind and ended, no MO is left
// waiting (each one delivered or dropped as DELETED), the answers go to
// the default_mo account, and the number is free again. Several rounds,
// each on a fresh server, for several interleavings.
func TestRemoveAccountRace(t *testing.T) {
	const (
		rounds  = 8
		binders = 4
		phones  = 16
		pushes  = 200
	)
	for round := range rounds {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { removeAccountRound(t, binders, phones, pushes) })
		})
	}
}

func removeAccountRound(t *testing.T, binders, phones, pushes int) {
	srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "app", Password: "pw", DefaultMO: true, Window: 1000}}}
	defer shutdown(t, srv)
	const number = "99955700000"
	if err := srv.AddAccount(smsc.Account{SystemID: "ns-a", Password: "pw", Namespace: "ns-a", MORanges: []string{number}}); err != nil {
		t.Fatal(err)
	}
	var toApp, toNS atomic.Int64
	app := bound(t, srv, pdu.CmdBindReceiver, "app", "")
	go responder(app, &toApp)

	// The account's first bind sends to every phone, so their answers
	// are routed back to it (rule 1) and keep coming after the removal.
	first := bound(t, srv, pdu.CmdBindTransceiver, "ns-a", "")
	phone := func(i int) string { return fmt.Sprintf("999000001%02d", i) }
	for i := range phones {
		first.submit(&pdu.SubmitSM{Source: pdu.Addr{TON: 1, NPI: 1, Addr: []byte(number)},
			Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte(phone(i))}, ShortMessage: []byte("challenge")}, pdu.StatusOK)
	}
	go responder(first, &toNS)

	var wg sync.WaitGroup
	var refused atomic.Int64
	for range binders {
		wg.Go(func() {
			for {
				c, s := net.Pipe()
				defer c.Close()
				if !srv.ServeConn(s) {
					return
				}
				c.Write(pdu.Append(nil, pdu.CmdBindTransceiver, 0, 1, &pdu.Bind{SystemID: []byte("ns-a"), Password: []byte("pw"), InterfaceVersion: 0x34}))
				e := newESME(nil, c)
				h, _, err := e.tryRead()
				if err != nil || h.ID != pdu.CmdBindTransceiverResp {
					t.Errorf("bind: %v %v", h.ID, err)
					return
				}
				if h.Status != pdu.StatusOK {
					refused.Add(1)
					return // removed: binds no more
				}
				responder(e, &toNS) // until the unbind it gets ends it
			}
		})
	}
	stop := make(chan struct{})
	var pushed sync.WaitGroup
	pushed.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				if i >= pushes {
					return
				}
			default:
			}
			if _, err := srv.SubmitMO(context.Background(), &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: phone(i % phones)},
				Dest: smsc.Address{TON: 1, NPI: 1, Addr: number}, Body: []byte("answer")}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	if !srv.RemoveAccount("ns-a") {
		t.Fatal("RemoveAccount(ns-a)")
	}
	close(stop)
	pushed.Wait()
	wg.Wait()
	synctest.Wait()
	if refused.Load() != int64(binders) {
		t.Errorf("%d of %d binders refused after the removal", refused.Load(), binders)
	}

	mo := smsc.MO
	page, err := srv.Store.List(context.Background(), smsc.Query{Filter: smsc.Filter{AllNamespaces: true, Direction: &mo}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	states := map[smsc.State]int{}
	for _, m := range page.Messages {
		states[m.State]++
	}
	if n := len(page.Messages); n < pushes || states[smsc.Delivered]+states[smsc.Deleted] != n {
		t.Fatalf("MO after the removal: %d stored, by state %v: want ≥ %d, each delivered or deleted", n, states, pushes)
	}
	if got := toApp.Load() + toNS.Load(); got != int64(states[smsc.Delivered]) {
		t.Errorf("%d deliver_sm acknowledged (app %d, ns %d), %d MO delivered: %v", got, toApp.Load(), toNS.Load(), states[smsc.Delivered], states)
	}

	// After it: an answer goes to the default_mo account, the number is
	// free again.
	before := toApp.Load()
	mo2 := &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: phone(0)}, Dest: smsc.Address{TON: 1, NPI: 1, Addr: number}, Body: []byte("late")}
	if _, err := srv.SubmitMO(context.Background(), mo2); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	if toApp.Load() != before+1 {
		t.Errorf("a late answer reached app %d times, want once", toApp.Load()-before)
	}
	if err := srv.AddAccount(smsc.Account{SystemID: "ns-b", Password: "pw", MORanges: []string{number}}); err != nil {
		t.Errorf("the number of the removed account: %v", err)
	}
}
