package smsc_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// pipeSession serves one end of a net.Pipe and returns an ESME on the
// other; inside a synctest bubble the server's timers run in fake time.
func pipeSession(t *testing.T, srv *smsc.Server) *esme {
	c, s := net.Pipe()
	if !srv.ServeConn(s) {
		t.Fatal("ServeConn refused")
	}
	t.Cleanup(func() { c.Close() })
	return newESME(t, c)
}

func shutdown(t *testing.T, srv *smsc.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv.Shutdown(ctx)
}

// TestBindAndIdleTimeouts runs the bind timer and the enquire_link timer in
// fake time.
func TestBindAndIdleTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{BindTimeout: 10 * time.Second, EnquireInterval: 30 * time.Second, ResponseTimeout: 5 * time.Second}
		defer shutdown(t, srv)
		start := time.Now()

		idle := pipeSession(t, srv)
		if !idle.closed(time.Hour) {
			t.Fatal("unbound session not closed")
		}
		if d := time.Since(start); d != 10*time.Second {
			t.Errorf("bind timeout after %v, want 10s", d)
		}

		e := pipeSession(t, srv)
		e.bind(pdu.CmdBindTransceiver, "sut", "pw", pdu.StatusOK)
		bound := time.Now()
		// Idle for EnquireInterval: the server asks enquire_link.
		h, _ := e.read()
		if h.ID != pdu.CmdEnquireLink || time.Since(bound) != 30*time.Second {
			t.Fatalf("got %v after %v, want enquire_link after 30s", h.ID, time.Since(bound))
		}
		if h.Seq < 0x40000000 {
			t.Errorf("server sequence %#x overlaps the ESME's range", h.Seq)
		}
		e.raw(pdu.Append(nil, pdu.CmdEnquireLinkResp, 0, h.Seq, nil))
		answered := time.Now()
		// The ESME's own enquire_link is answered and counts as traffic.
		e.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
		h2, _ := e.read()
		if h2.ID != pdu.CmdEnquireLink || h2.Seq == h.Seq {
			t.Fatalf("second enquire_link: %v seq %d", h2.ID, h2.Seq)
		}
		if d := time.Since(answered); d != 30*time.Second {
			t.Errorf("second enquire_link after %v, want 30s", d)
		}
		// Left unanswered: the session closes after ResponseTimeout.
		asked := time.Now()
		if !e.closed(time.Hour) {
			t.Fatal("session with unanswered enquire_link not closed")
		}
		if d := time.Since(asked); d != 5*time.Second {
			t.Errorf("closed %v after enquire_link, want 5s", d)
		}
	})
}

// TestDeliverWindow: the server keeps at most the account's window of
// deliver_sm outstanding and accepts responses in any order.
func TestDeliverWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "sut", Password: "pw", Window: 3, MORanges: []string{"5555"}}},
			RetryMin: time.Second}
		defer shutdown(t, srv)
		ctx := context.Background()
		ids := map[string]bool{}
		for i := range 10 {
			id, err := srv.SubmitMO(ctx, &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: "99900000001"},
				Dest: smsc.Address{Addr: "5555"}, Body: []byte{'m', byte('0' + i)}})
			if err != nil {
				t.Fatal(err)
			}
			ids[id] = true
		}
		e := pipeSession(t, srv)
		e.bind(pdu.CmdBindReceiver, "sut", "pw", pdu.StatusOK)
		readWindow := func() []pdu.Header {
			var hs []pdu.Header
			for {
				e.c.SetReadDeadline(time.Now().Add(time.Second))
				h, _, err := e.tryRead()
				e.c.SetReadDeadline(time.Time{})
				if err != nil {
					return hs
				}
				if h.ID != pdu.CmdDeliverSM {
					t.Fatalf("unexpected %v", h.ID)
				}
				hs = append(hs, h)
			}
		}
		got := readWindow()
		if len(got) != 3 {
			t.Fatalf("%d deliver_sm outstanding, want the window of 3", len(got))
		}
		// Answer out of order: the last first; one with a temporary error.
		e.raw(pdu.Append(nil, pdu.CmdDeliverSMResp, 0, got[2].Seq, &pdu.MessageIDResp{}))
		e.raw(pdu.Append(nil, pdu.CmdDeliverSMResp, pdu.StatusXTAppn, got[0].Seq, &pdu.MessageIDResp{}))
		more := readWindow()
		if len(more) != 2 {
			t.Fatalf("after two answers %d new deliver_sm, want 2", len(more))
		}
		outstanding := append([]pdu.Header{got[1]}, more...)
		delivered := 1
		for delivered < 10 {
			for _, h := range outstanding {
				e.raw(pdu.Append(nil, pdu.CmdDeliverSMResp, 0, h.Seq, &pdu.MessageIDResp{}))
				delivered++
			}
			outstanding = readWindow()
			if len(outstanding) > 3 {
				t.Fatalf("%d outstanding", len(outstanding))
			}
			if len(outstanding) == 0 && delivered < 10 {
				t.Fatalf("stalled after %d", delivered)
			}
		}
		synctest.Wait()
		for id := range ids {
			m, err := srv.Store.Get(ctx, id)
			if err != nil || m.State != smsc.Delivered {
				t.Errorf("MO %s: %v %v", id, m.State, err)
			}
		}
	})
}

// TestSlowReader: a peer that sends without reading makes the server stop
// reading once about 1 MiB of responses wait (bounded memory), and every
// response arrives once the peer reads.
func TestSlowReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{}
		defer shutdown(t, srv)
		e := pipeSession(t, srv)
		e.bind(pdu.CmdBindTransceiver, "slow", "pw", pdu.StatusOK)
		const n = 70_000 // 1.1 MB of enquire_link_resp
		var written atomic.Int64
		go func() {
			one := pdu.Append(nil, pdu.CmdEnquireLink, 0, 1, nil)
			for range n {
				if _, err := e.c.Write(one); err != nil {
					return
				}
				written.Add(1)
			}
		}()
		synctest.Wait()
		if w := written.Load(); w >= n || w < 60_000 {
			t.Errorf("server read %d requests before pushing back, want about 65,536 (1 MiB of responses)", w)
		}
		for i := range n {
			h, _ := e.read()
			if h.ID != pdu.CmdEnquireLinkResp {
				t.Fatalf("response %d: %v", i, h.ID)
			}
		}
	})
}
