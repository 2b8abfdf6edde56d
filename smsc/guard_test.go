package smsc_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/internal/testlog"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// bindPDU is a bind_transmitter with sequence number seq.
func bindPDU(seq uint32, user, pass string) []byte {
	return pdu.Append(nil, pdu.CmdBindTransmitter, 0, seq, &pdu.Bind{SystemID: []byte(user), Password: []byte(pass), InterfaceVersion: 0x34})
}

// pipelined writes n wrong binds and then the right one on one
// connection without waiting, and returns the statuses answered until the
// server closed the connection.
func pipelined(t *testing.T, srv *smsc.Server, n int) []pdu.Status {
	c, s := net.Pipe()
	defer c.Close()
	srv.ServeConn(s)
	go func() {
		var out []byte
		for i := range n {
			out = append(out, bindPDU(uint32(i+1), "sut", "guess")...)
		}
		out = append(out, bindPDU(uint32(n+1), "sut", "s3cret")...)
		c.Write(out) // blocks while the server reads nothing; ends when it closes
	}()
	var got []pdu.Status
	br := bufio.NewReader(c)
	for {
		var hb [pdu.HeaderLen]byte
		if _, err := io.ReadFull(br, hb[:]); err != nil {
			return got
		}
		h, _ := pdu.DecodeHeader(hb[:])
		br.Discard(int(h.Length) - pdu.HeaderLen)
		got = append(got, h.Status)
	}
}

// TestBindBruteForce: 1,000 wrong binds pipelined on one connection (the
// campaign's 20,000 were answered in 0.07 s and the right password then
// bound on the same connection). Now each failure costs a growing delay,
// the connection is closed after three, and after ten failures the
// system_id and source are locked out for five minutes, during which the
// right password fails too. Unknown system_id and wrong password answer
// alike; the log has a line per burst and per lockout, not per failure.
// Runs in fake time (testing/synctest), so the delays are exact.
func TestBindBruteForce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs testlog.Buffer
		srv := &smsc.Server{
			Accounts: []smsc.Account{{SystemID: "sut", Password: "s3cret"}},
			Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		}
		defer srv.Shutdown(context.Background())

		start := time.Now()
		got := pipelined(t, srv, 1000)
		took := time.Since(start)
		if len(got) != 3 || got[0] != pdu.StatusBindFail || got[1] != pdu.StatusBindFail || got[2] != pdu.StatusBindFail {
			t.Fatalf("one connection of 1,000 pipelined guesses got %v, want three ESME_RBINDFAIL then the close", got)
		}
		// 100 + 200 + 400 ms.
		if took != 700*time.Millisecond {
			t.Errorf("three failures took %v, want 700ms", took)
		}
		t.Logf("one connection: %d guesses in %v (%.1f/s); before: 20,000 in 0.07 s", len(got), took, float64(len(got))/took.Seconds())

		// An attacker reconnecting as fast as it can for an hour.
		deadline := start.Add(time.Hour)
		guesses := len(got)
		for time.Now().Before(deadline) {
			g := pipelined(t, srv, 1000)
			guesses += len(g)
			for _, st := range g {
				if st != pdu.StatusBindFail {
					t.Fatalf("a guess got %v", st)
				}
			}
		}
		// Guesses answered while locked out were not checked: only the
		// others could have found the password.
		ref := srv.Refusals()
		checked := ref.BindFailures - ref.LockedOut
		rate := float64(checked) / time.Hour.Seconds()
		t.Logf("an hour of reconnecting: %d binds answered, %d passwords checked (%.4f/s), %+v", guesses, checked, rate, ref)
		if int64(guesses) != ref.BindFailures || rate > 0.05 {
			t.Errorf("%d passwords checked in an hour (%.3f/s), want at most 0.05/s", checked, rate)
		}
		if srv.Refusals().Lockouts == 0 {
			t.Error("no lockout")
		}

		// Locked out: the right password fails, with the same status.
		e := newESME(t, pipeConn(srv))
		e.bind(pdu.CmdBindTransmitter, "sut", "s3cret", pdu.StatusBindFail)
		// An unknown system_id looks the same.
		e.bind(pdu.CmdBindTransmitter, "nobody", "s3cret", pdu.StatusBindFail)
		// After the lockout, the right password binds.
		time.Sleep(smsc.DefaultBindLockoutFor + time.Minute)
		e = newESME(t, pipeConn(srv))
		e.bind(pdu.CmdBindTransmitter, "sut", "s3cret", pdu.StatusOK)

		lines := strings.Count(logs.String(), "bind refused")
		if lines == 0 || lines > guesses/5 {
			t.Errorf("%d log lines for %d refused binds, want a few per burst", lines, guesses)
		}
		if strings.Contains(logs.String(), "guess") || strings.Contains(logs.String(), "s3cret") {
			t.Error("a password reached the log")
		}
	})
}

// pipeConn serves one end of a net.Pipe and returns the other.
func pipeConn(srv *smsc.Server) net.Conn {
	c, s := net.Pipe()
	srv.ServeConn(s)
	return c
}

// TestBindFailureNotThrottledForOthers: failures of one system_id from one
// address do not delay a good bind of another account from another
// address.
func TestBindFailureNotThrottledForOthers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "a", Password: "pa"}, {SystemID: "b", Password: "pb"}}}
		defer srv.Shutdown(context.Background())
		e := newESME(t, pipeConn(srv))
		e.bind(pdu.CmdBindTransmitter, "a", "bad", pdu.StatusBindFail)
		start := time.Now()
		e = newESME(t, pipeConn(srv))
		e.bind(pdu.CmdBindTransmitter, "b", "pb", pdu.StatusOK)
		if d := time.Since(start); d != 0 {
			t.Errorf("a good bind waited %v", d)
		}
	})
}

// TestConnectionLimits: beyond MaxConnsPerAddr, MaxConns or MaxUnbound a
// connection is closed at once (logged once per burst); the ones admitted
// are served, and a slot frees when a connection ends or binds.
func TestConnectionLimits(t *testing.T) {
	t.Parallel()
	var logs testlog.Buffer
	srv := &smsc.Server{MaxConnsPerAddr: 3, MaxUnbound: 2, MaxConns: 100, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	addr := startServer(t, srv)
	a := dialESME(t, addr)
	a.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
	b := dialESME(t, addr)
	b.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
	// Two unbound: the third is refused.
	for range 3 {
		if c := dialESME(t, addr); !c.closed(5 * time.Second) {
			t.Fatal("a connection over MaxUnbound was served")
		}
	}
	// Binding frees an unbound slot, within the per-address limit of 3.
	a.bind(pdu.CmdBindTransceiver, "a", "x", pdu.StatusOK)
	c := dialESME(t, addr)
	c.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
	c.bind(pdu.CmdBindTransceiver, "c", "x", pdu.StatusOK)
	if d := dialESME(t, addr); !d.closed(5 * time.Second) {
		t.Fatal("a connection over MaxConnsPerAddr was served")
	}
	// A connection ending frees its slot.
	c.call(pdu.CmdUnbind, nil, pdu.StatusOK)
	c.closed(5 * time.Second)
	waitFor(t, func() bool { return srv.Stats().Sessions == 2 })
	d := dialESME(t, addr)
	d.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
	if got := srv.Refusals().Connections; got != 4 {
		t.Errorf("refused %d connections, want 4", got)
	}
	if n := strings.Count(logs.String(), "limit reached"); n != 1 {
		t.Errorf("%d log lines for 4 refusals in a burst, want 1", n)
	}

	// Unbound per address: one address cannot take the others' slots.
	per := &smsc.Server{MaxUnboundPerAddr: 1}
	addr = startServer(t, per)
	u := dialESME(t, addr)
	u.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
	if v := dialESME(t, addr); !v.closed(5 * time.Second) {
		t.Fatal("a second unbound connection from one address was served")
	}
	if other, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).Dial("tcp", addr); err == nil {
		o := newESME(t, other)
		o.bind(pdu.CmdBindTransceiver, "other", "x", pdu.StatusOK)
		other.Close()
	}
	u.bind(pdu.CmdBindTransceiver, "u", "x", pdu.StatusOK)
	w := dialESME(t, addr) // u bound: the address has its unbound slot back
	w.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)

	// Per listener.
	one := &smsc.Server{MaxConns: 1}
	addr = startServer(t, one)
	e := dialESME(t, addr)
	e.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
	if f := dialESME(t, addr); !f.closed(5 * time.Second) {
		t.Fatal("a connection over MaxConns was served")
	}
}

// waitFor polls cond (a server-side state change with no event to wait
// on) until it holds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestUnboundPDULimit: before bind nothing larger than MaxUnboundLen is
// buffered (the campaign held 3,000 connections each with a partial 70 KB
// PDU: 440 MB): such a command_length gets generic_nack and the close.
// Once bound, a 64 KiB message_payload is fine.
func TestUnboundPDULimit(t *testing.T) {
	t.Parallel()
	addr := startServer(t, &smsc.Server{})
	e := dialESME(t, addr)
	e.raw([]byte{0, 1, 0x11, 0x70, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5}) // 70,000 octets announced
	e.expect(pdu.CmdGenericNack, pdu.StatusInvCmdLen, 5)
	if !e.closed(5 * time.Second) {
		t.Fatal("an unbound connection announcing 70,000 octets was kept")
	}
	b := dialESME(t, addr)
	b.bind(pdu.CmdBindTransceiver, "big", "x", pdu.StatusOK)
	sm := textSM("99900000001", "")
	sm.TLVs = pdu.TLVs{{Tag: pdu.TagMessagePayload, Value: make([]byte, 64<<10)}}
	sm.DataCoding = 4
	b.submit(sm, pdu.StatusOK)
}

// flakyListener fails Accept with EMFILE a number of times before
// handing out connections from a real listener; each failure handed out
// is signalled on failed.
type flakyListener struct {
	net.Listener
	fails  chan struct{}
	failed chan struct{}
}

func (l *flakyListener) Accept() (net.Conn, error) {
	select {
	case <-l.fails:
		l.failed <- struct{}{}
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	default:
		return l.Listener.Accept()
	}
}

// TestAcceptBackoff: Accept failing with EMFILE (a connection flood over
// the file limit) makes the server back off and keep serving, not stop;
// Shutdown ends the back-off at once. (cmd/simlab's TestSMPPFloodRecovers
// floods a real process under a low ulimit -n.)
func TestAcceptBackoff(t *testing.T) {
	t.Parallel()
	l, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	// Five failures: back-off 5+10+20+40+80 ms.
	fl := &flakyListener{Listener: l, fails: make(chan struct{}, 20), failed: make(chan struct{}, 25)}
	for range 5 {
		fl.fails <- struct{}{}
	}
	srv := &smsc.Server{}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(fl) }()
	e := dialESME(t, l.Addr().String())
	e.bind(pdu.CmdBindTransceiver, "after-the-flood", "x", pdu.StatusOK)
	e.c.Close()
	for range 5 { // all five were handed out before the bind was accepted
		<-fl.failed
	}
	// Shutdown while backing off: once Accept has failed again the server
	// is in a back-off (the 19 failures after it would take over 10 s).
	// The server is blocked in the real Accept: one more connection lets
	// it return and take the failures on the next call.
	for range 20 {
		fl.fails <- struct{}{}
	}
	dialESME(t, l.Addr().String()).c.Close()
	<-fl.failed
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	if err := <-done; !errors.Is(err, smsc.ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v while backing off", d)
	}
}
