package smsc_test

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/testlog"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// TestBadInput sends garbage, truncated PDUs, wrong lengths, unknown
// command ids and requests before bind; each gets its status, and other
// sessions go on being served.
func TestBadInput(t *testing.T) {
	t.Parallel()
	var logs testlog.Buffer
	srv := &smsc.Server{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	addr := startServer(t, srv)

	a := dialESME(t, addr)
	// submit_sm before bind: ESME_RINVBNDSTS with the request's sequence.
	a.submit(textSM("99900000001", "early"), pdu.StatusInvBndSts)
	a.call(pdu.CmdQuerySM, &pdu.QuerySM{MessageID: []byte("1")}, pdu.StatusInvBndSts)
	a.bind(pdu.CmdBindTransceiver, "tester", "pw", pdu.StatusOK)
	a.bind(pdu.CmdBindTransmitter, "tester", "pw", pdu.StatusAlyBnd)

	// Unknown command id: generic_nack ESME_RINVCMDID, same sequence.
	a.raw(pdu.Append(nil, pdu.CommandID(0x00000099), 0, 77, nil))
	a.expect(pdu.CmdGenericNack, pdu.StatusInvCmdID, 77)
	// Outbind is not for an SMSC to receive.
	a.raw(pdu.Append(nil, pdu.CmdOutbind, 0, 78, &pdu.Bind{SystemID: []byte("x")}))
	a.expect(pdu.CmdGenericNack, pdu.StatusInvCmdID, 78)

	// A truncated submit_sm (body cut inside destination_addr, length
	// consistent): generic_nack ESME_RINVCMDLEN with its sequence.
	full := pdu.Append(nil, pdu.CmdSubmitSM, 0, 79, textSM("99900000001", "cut"))
	cut := append([]byte(nil), full[:pdu.HeaderLen+12]...)
	binary.BigEndian.PutUint32(cut, uint32(len(cut)))
	a.raw(cut)
	a.expect(pdu.CmdGenericNack, pdu.StatusInvCmdLen, 79)

	// Wrong length: command_length says 3 octets more than the body has,
	// so the next PDU's first octets are read as a TLV.
	long := append([]byte(nil), full...)
	binary.BigEndian.PutUint32(long, uint32(len(long)+3))
	binary.BigEndian.PutUint32(long[12:], 80)
	a.raw(long)
	a.raw([]byte{0, 0, 0})
	a.expect(pdu.CmdGenericNack, pdu.StatusInvCmdLen, 80)

	// Field errors get the command's own response.
	a.submit(textSM(strings.Repeat("9", 25), "long dest"), pdu.StatusInvDstAdr)
	a.submit(textSM("", "no dest"), pdu.StatusInvDstAdr)
	sm := textSM("99900000001", "bad dcs")
	sm.DataCoding = 0x0B
	a.submit(sm, pdu.StatusInvDCS)
	sm = textSM("99900000001", "bad esm")
	sm.ESMClass = 0x04
	a.submit(sm, pdu.StatusInvEsmClass)
	sm = textSM("99900000001", "bad validity")
	sm.ValidityPeriod = []byte("261399999999999+")
	a.submit(sm, pdu.StatusInvExpiry)
	sm = textSM("99900000001", "")
	sm.TLVs = pdu.TLVs{{Tag: pdu.TagSarMsgRefNum, Value: []byte{0, 1}}}
	a.submit(sm, pdu.StatusMissingOptParam)
	sm = textSM("99900000001", "udhi without udh")
	sm.ESMClass, sm.ShortMessage = 0x40, []byte{0x09, 0x00}
	a.submit(sm, pdu.StatusInvMsgLen)
	a.call(pdu.CmdQuerySM, &pdu.QuerySM{MessageID: []byte("424242")}, pdu.StatusInvMsgID)
	a.call(pdu.CmdCancelSM, &pdu.CancelSM{MessageID: []byte("424242")}, pdu.StatusInvMsgID)
	a.call(pdu.CmdReplaceSM, &pdu.ReplaceSM{MessageID: []byte("424242")}, pdu.StatusInvMsgID)
	a.call(pdu.CmdDeliverSM, textSM("1", "x"), pdu.StatusInvBndSts)

	// A delivered message can be queried but not cancelled or replaced.
	id := a.submit(textSM("99900000001", "fine"), pdu.StatusOK)
	b := a.call(pdu.CmdQuerySM, &pdu.QuerySM{MessageID: []byte(id), Source: pdu.Addr{TON: 5, Addr: []byte("SimLab")}}, pdu.StatusOK)
	var q pdu.QuerySMResp
	if err := q.Unmarshal(b); err != nil || string(q.MessageID) != id || q.MessageState != uint8(smsc.Delivered) || len(q.FinalDate) != 16 {
		t.Errorf("query_sm_resp %+v %v", q, err)
	}
	// A source address that is given must be the message's (§4.8-4.10).
	other := pdu.Addr{TON: 5, Addr: []byte("Other")}
	a.call(pdu.CmdQuerySM, &pdu.QuerySM{MessageID: []byte(id), Source: other}, pdu.StatusInvSrcAdr)
	a.call(pdu.CmdCancelSM, &pdu.CancelSM{MessageID: []byte(id), Source: other}, pdu.StatusInvSrcAdr)
	a.call(pdu.CmdReplaceSM, &pdu.ReplaceSM{MessageID: []byte(id), Source: other, ShortMessage: []byte("new")}, pdu.StatusInvSrcAdr)
	a.call(pdu.CmdCancelSM, &pdu.CancelSM{MessageID: []byte(id)}, pdu.StatusCancelFail)
	a.call(pdu.CmdReplaceSM, &pdu.ReplaceSM{MessageID: []byte(id), ShortMessage: []byte("new")}, pdu.StatusReplaceFail)

	// Garbage: "GET / HTTP/1.1" read as command_length 0x47455420 is
	// absurd; the session gets generic_nack ESME_RINVCMDLEN and is closed
	// with a logged reason (TestBadCommandLengthNack checks the nack).
	g := dialESME(t, addr)
	g.raw([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	g.expect(pdu.CmdGenericNack, pdu.StatusInvCmdLen, 0x2e310d0a)
	if !g.closed(5 * time.Second) {
		t.Error("garbage did not close the session")
	}
	// command_length below the header size.
	s := dialESME(t, addr)
	s.raw([]byte{0, 0, 0, 8, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1})
	s.expect(pdu.CmdGenericNack, pdu.StatusInvCmdLen, 1)
	if !s.closed(5 * time.Second) {
		t.Error("command_length 8 did not close the session")
	}
	if !strings.Contains(logs.String(), "absurd command_length") {
		t.Errorf("no logged reason in %q", logs.String())
	}

	// The first session and new ones keep being served.
	a.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
	a.submit(textSM("99900000002", "still here"), pdu.StatusOK)
	d := dialESME(t, addr)
	d.bind(pdu.CmdBindTransmitter, "other", "pw", pdu.StatusOK)
	d.submit(textSM("99900000003", "new session"), pdu.StatusOK)
	a.call(pdu.CmdUnbind, nil, pdu.StatusOK)
	if !a.closed(5 * time.Second) {
		t.Error("session not closed after unbind")
	}
}

// TestAccounts covers credentials, bind types, throughput and the
// loopback rule.
func TestAccounts(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	srv := &smsc.Server{Clock: clk, Accounts: []smsc.Account{
		{SystemID: "sut", Password: "s3cret", Throughput: 2},
		{SystemID: "rx-only", Password: "pw", BindTypes: smsc.BindReceiver},
	}, BindThrottle: smsc.BindThrottle{Delay: -1}} // failures answered at once: the clock is fake
	addr := startServer(t, srv)
	e := dialESME(t, addr)
	// An unknown system_id and a wrong password get the same status
	// (TestBindBruteForce covers the throttle).
	e.bind(pdu.CmdBindTransmitter, "nobody", "s3cret", pdu.StatusBindFail)
	e.bind(pdu.CmdBindTransmitter, "sut", "wrong", pdu.StatusBindFail)
	e = dialESME(t, addr) // the first closes after three failed binds
	e.bind(pdu.CmdBindTransmitter, "rx-only", "pw", pdu.StatusBindFail)
	e.bind(pdu.CmdBindTransmitter, "sut", "s3cret", pdu.StatusOK)
	// Two a second with a burst of one second: the third is throttled
	// until the (fake) clock moves.
	e.submit(textSM("1", "a"), pdu.StatusOK)
	e.submit(textSM("1", "b"), pdu.StatusOK)
	e.submit(textSM("1", "c"), pdu.StatusThrottled)
	clk.Advance(500 * time.Millisecond)
	e.submit(textSM("1", "d"), pdu.StatusOK)
	e.submit(textSM("1", "e"), pdu.StatusThrottled)

	r := dialESME(t, addr)
	r.bind(pdu.CmdBindReceiver, "rx-only", "pw", pdu.StatusOK)
	r.submit(textSM("1", "x"), pdu.StatusInvBndSts)
	r.call(pdu.CmdDataSM, &pdu.DataSM{Dest: pdu.Addr{Addr: []byte("1")}}, pdu.StatusInvBndSts)

	// Without accounts, only loopback may be served.
	open := &smsc.Server{}
	err := open.Serve(fakeListener{addr: &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 2775}})
	if !errors.Is(err, smsc.ErrAccountsRequired) {
		t.Errorf("Serve beyond loopback without accounts: %v", err)
	}
}

// fakeListener is a listener on an address beyond loopback that never
// accepts (Serve must refuse it before accepting).
type fakeListener struct{ addr net.Addr }

func (f fakeListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (f fakeListener) Close() error              { return nil }
func (f fakeListener) Addr() net.Addr            { return f.addr }

// TestHandlerPanic: a panic while serving a request becomes
// ESME_RSYSERR and the session keeps working.
func TestHandlerPanic(t *testing.T) {
	t.Parallel()
	srv := &smsc.Server{Router: panicRouter{}}
	addr := startServer(t, srv)
	e := dialESME(t, addr)
	e.bind(pdu.CmdBindTransceiver, "p", "p", pdu.StatusOK)
	e.submit(textSM("666", "boom"), pdu.StatusSysErr)
	e.submit(textSM("1", "fine"), pdu.StatusOK)
	e.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
}

type panicRouter struct{}

func (panicRouter) Route(m *smsc.Message) smsc.Sink {
	if m.Dest.Addr == "666" {
		panic("router exploded")
	}
	return nil
}

// fakeClock is a manual Clock: Advance runs the timers that fall due.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c  *fakeClock
	at time.Time
	f  func()
	ok bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) smsc.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f, ok: true}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.ok
	t.ok = false
	return was
}

// Advance moves the clock and runs due timers (on this goroutine).
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.ok && !t.at.After(c.now) {
			t.ok = false
			due = append(due, t)
		} else if t.ok {
			kept = append(kept, t)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}
