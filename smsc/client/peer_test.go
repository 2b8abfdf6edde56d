package client

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// peer is a scripted SMSC end of a net.Pipe: the test reads the client's
// PDUs and writes exactly what a case needs, including what a real SMSC
// would rarely do (a deliver_sm reusing an in-flight sequence number).
type peer struct {
	t  *testing.T
	nc net.Conn
}

func (p *peer) read() (pdu.Header, []byte) {
	p.t.Helper()
	var h [16]byte
	if _, err := io.ReadFull(p.nc, h[:]); err != nil {
		p.t.Fatalf("peer read: %v", err)
	}
	hd, _ := pdu.DecodeHeader(h[:])
	body := make([]byte, hd.Length-16)
	if _, err := io.ReadFull(p.nc, body); err != nil {
		p.t.Fatalf("peer read body: %v", err)
	}
	return hd, body
}

func (p *peer) write(b []byte) {
	p.t.Helper()
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatalf("peer write: %v", err)
	}
}

// bind answers the client's bind.
func (p *peer) bind() {
	p.t.Helper()
	h, _ := p.read()
	if h.ID != pdu.CmdBindTransceiver {
		p.t.Fatalf("first PDU 0x%08X, want bind_transceiver", h.ID)
	}
	p.write(appendRespID(nil, h.ID.Response(), 0, h.Seq, "peer"))
}

func dialPeer(t *testing.T, cfg Config) (*Client, *peer) {
	t.Helper()
	cnA, cnB := net.Pipe()
	p := &peer{t: t, nc: cnB}
	cfg.Dial = func(context.Context, string) (net.Conn, error) { return cnA, nil }
	cfg.NoReconnect = true
	cfg.Logger = slog.New(slog.DiscardHandler)
	type dialed struct {
		cl  *Client
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		cl, err := Dial(context.Background(), cfg)
		ch <- dialed{cl, err}
	}()
	p.bind()
	d := <-ch
	if d.err != nil {
		t.Fatal(d.err)
	}
	cl := d.cl
	t.Cleanup(func() { cnB.Close(); cl.Close(context.Background()) })
	return cl, p
}

// TestSequenceCollision: a deliver_sm carrying the sequence number of an
// outstanding submit_sm must not complete it (go-smpp #87); a response
// with the right sequence but the wrong command_id is ignored too.
func TestSequenceCollision(t *testing.T) {
	t.Parallel()
	got := make(chan *Deliver, 1)
	cl, p := dialPeer(t, Config{OnDeliver: func(d *Deliver) uint32 { got <- d; return 0 }})
	res := make(chan string, 1)
	go func() {
		id, err := cl.Submit(context.Background(), &Message{Dest: Address{Addr: "999"}, ShortMessage: []byte("hi")})
		if err != nil {
			id = "error: " + err.Error()
		}
		res <- id
	}()
	h, _ := p.read()
	if h.ID != pdu.CmdSubmitSM {
		t.Fatalf("got 0x%08X, want submit_sm", h.ID)
	}
	// deliver_sm with the same sequence number.
	p.write(appendSM(nil, pdu.CmdDeliverSM, h.Seq, &Message{Source: Address{Addr: "999"}, ShortMessage: []byte("MO")}))
	r, _ := p.read()
	if r.ID != pdu.CmdDeliverSMResp || r.Seq != h.Seq {
		t.Fatalf("deliver_sm_resp: id 0x%08X seq %d", r.ID, r.Seq)
	}
	if d := <-got; string(d.ShortMessage) != "MO" {
		t.Fatalf("deliver: %+v", d)
	}
	// A query_sm_resp with the submit's sequence: wrong command, ignored.
	p.write(appendRespID(nil, pdu.CmdQuerySMResp, 0, h.Seq, "wrong"))
	p.write(appendRespID(nil, pdu.CmdSubmitSMResp, 0, h.Seq, "right-id"))
	if id := <-res; id != "right-id" {
		t.Fatalf("Submit returned %q, want right-id", id)
	}
}

// TestThrottleRetry: ESME_RTHROTTLED is retried after a backoff, in fake
// time.
func TestThrottleRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, p := dialPeer(t, Config{EnquireLink: -1, ThrottleMin: 100 * time.Millisecond})
		res := make(chan error, 1)
		go func() {
			_, err := cl.Submit(context.Background(), &Message{ShortMessage: []byte("x")})
			res <- err
		}()
		h, _ := p.read()
		start := time.Now()
		p.write(appendRespID(nil, pdu.CmdSubmitSMResp, StatusThrottled, h.Seq, ""))
		h2, _ := p.read()
		if waited := time.Since(start); waited < 50*time.Millisecond {
			t.Fatalf("retried after %v, want a backoff", waited)
		}
		if h2.Seq == h.Seq {
			t.Fatal("retry reused the sequence number")
		}
		p.write(appendRespID(nil, pdu.CmdSubmitSMResp, 0, h2.Seq, "7"))
		if err := <-res; err != nil {
			t.Fatal(err)
		}
		if s := cl.Stats(); s.Throttled != 1 || s.Submitted != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
}

// TestRejected: a non-retryable status comes back as *StatusError.
func TestRejected(t *testing.T) {
	t.Parallel()
	cl, p := dialPeer(t, Config{})
	res := make(chan error, 1)
	go func() {
		_, err := cl.Submit(context.Background(), &Message{})
		res <- err
	}()
	h, _ := p.read()
	p.write(appendRespID(nil, pdu.CmdGenericNack, 0x0B, h.Seq, ""))
	var se *StatusError
	if err := <-res; !errors.As(err, &se) || se.Status != 0x0B {
		t.Fatalf("got %v, want ESME_RINVDSTADR", err)
	}
}

// TestEnquireLinkTimeout: an SMSC that stops answering enquire_link is
// declared dead after ResponseTimeout, in fake time.
func TestEnquireLinkTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lost := make(chan error, 1)
		cl, p := dialPeer(t, Config{EnquireLink: time.Second, ResponseTimeout: 2 * time.Second,
			OnState: func(bound bool, err error) {
				if !bound {
					lost <- err
				}
			}})
		h, _ := p.read()
		if h.ID != pdu.CmdEnquireLink {
			t.Fatalf("got 0x%08X, want enquire_link", h.ID)
		}
		p.write(appendEmpty(nil, pdu.CmdEnquireLinkResp, 0, h.Seq))
		h, _ = p.read() // the next one: left unanswered
		if h.ID != pdu.CmdEnquireLink {
			t.Fatalf("got 0x%08X, want enquire_link", h.ID)
		}
		go io.Copy(io.Discard, p.nc)
		err := <-lost
		if err == nil || cl.Bound() {
			t.Fatalf("link not declared dead: %v", err)
		}
	})
}

// TestWindow: no more than Window requests are outstanding. In a synctest
// bubble: once every goroutine is blocked, a fourth submit_sm would already
// be waiting in the pipe, and the read deadline passes in fake time.
func TestWindow(t *testing.T) {
	synctest.Test(t, testWindow)
}

func testWindow(t *testing.T) {
	cl, p := dialPeer(t, Config{Window: 3})
	done := make(chan error, 10)
	for range 10 {
		go func() {
			_, err := cl.Submit(context.Background(), &Message{ShortMessage: []byte("w")})
			done <- err
		}()
	}
	var seqs []uint32
	for range 3 {
		h, _ := p.read()
		seqs = append(seqs, h.Seq)
	}
	// The fourth must wait until one is answered.
	synctest.Wait()
	p.nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var one [1]byte
	if _, err := p.nc.Read(one[:]); err == nil {
		t.Fatal("a fourth submit_sm was sent with a window of 3")
	}
	p.nc.SetReadDeadline(time.Time{})
	answered := 0
	for answered < 10 {
		for _, s := range seqs {
			p.write(appendRespID(nil, pdu.CmdSubmitSMResp, 0, s, "id"))
			answered++
		}
		seqs = seqs[:0]
		for i := 0; i < 3 && answered+len(seqs) < 10; i++ {
			h, _ := p.read()
			seqs = append(seqs, h.Seq)
		}
	}
	for range 10 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestSequenceWraps(t *testing.T) {
	t.Parallel()
	cn := &conn{}
	cn.seq.Store(0x7FFFFFFE)
	if a, b := cn.nextSeq(), cn.nextSeq(); a != 0x7FFFFFFF || b != 1 {
		t.Fatalf("got %#x %#x", a, b)
	}
	// Encoding sanity: bind carries interface_version 0x34.
	b := appendBind(nil, pdu.CmdBindTransmitter, 9, &Config{SystemID: "a", Password: "b"})
	if binary.BigEndian.Uint32(b) != uint32(len(b)) || b[16+5] != 0x34 {
		t.Fatalf("bind % x", b)
	}
}

// TestDeliverLater: with OnDeliverLater, deliver_sm_resp waits for respond
// (here from another goroutine) and carries its status; the reader keeps
// serving meanwhile (enquire_link is answered), and a second respond is
// ignored.
func TestDeliverLater(t *testing.T) {
	t.Parallel()
	pending := make(chan func(uint32), 1)
	_, p := dialPeer(t, Config{EnquireLink: -1, OnDeliverLater: func(d *Deliver, respond func(uint32)) {
		if string(d.ShortMessage) != "download" {
			t.Errorf("deliver: %+v", d)
		}
		pending <- respond
	}})
	p.write(appendSM(nil, pdu.CmdDeliverSM, 7, &Message{Source: Address{Addr: "999"}, ShortMessage: []byte("download")}))
	respond := <-pending
	p.write(appendEmpty(nil, pdu.CmdEnquireLink, 0, 8))
	if h, _ := p.read(); h.ID != pdu.CmdEnquireLinkResp || h.Seq != 8 {
		t.Fatalf("got 0x%08X seq %d, want enquire_link_resp 8 before the deliver_sm_resp", h.ID, h.Seq)
	}
	go func() {
		respond(StatusXPAppn)
		respond(StatusOK)
	}()
	h, _ := p.read()
	if h.ID != pdu.CmdDeliverSMResp || h.Seq != 7 || uint32(h.Status) != StatusXPAppn {
		t.Fatalf("deliver_sm_resp: id 0x%08X seq %d status 0x%X, want seq 7 ESME_RX_P_APPN", h.ID, h.Seq, h.Status)
	}
	p.write(appendEmpty(nil, pdu.CmdEnquireLink, 0, 9))
	if h, _ := p.read(); h.ID != pdu.CmdEnquireLinkResp || h.Seq != 9 {
		t.Fatalf("got 0x%08X seq %d: a second deliver_sm_resp was written", h.ID, h.Seq)
	}
}
