package smsc_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// pduLog is a pdu.Tracer that writes down, per connection, each PDU's
// direction and command id, and whether the connection was closed.
type pduLog struct {
	mu    sync.Mutex
	conns []*connLog
}

type connLog struct {
	l          *pduLog
	esme, smsc netip.AddrPort
	pdus       []string
	closed     bool
	done       chan struct{} // closed by Close
}

func (l *pduLog) TraceConn(esme, smsc netip.AddrPort) pdu.ConnTrace {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := &connLog{l: l, esme: esme, smsc: smsc, done: make(chan struct{})}
	l.conns = append(l.conns, c)
	return c
}

func (c *connLog) PDU(toSMSC bool, b []byte) {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	dir := "<"
	if toSMSC {
		dir = ">"
	}
	if int(binary.BigEndian.Uint32(b)) != len(b) {
		dir = "!" // not one whole PDU
	}
	c.pdus = append(c.pdus, fmt.Sprintf("%s%v", dir, pdu.CommandID(binary.BigEndian.Uint32(b[4:]))))
}

func (c *connLog) Close() {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	c.closed = true
	close(c.done)
}

// only returns the log's one connection.
func (l *pduLog) only(t *testing.T) *connLog {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) != 1 {
		t.Fatalf("%d connections traced, want 1", len(l.conns))
	}
	return l.conns[0]
}

// TestTracer: the server's and the client's Tracer each see every PDU of
// the connection once, whole, in wire order — requests before their
// responses — with the ESME's and the SMSC's addresses, and its end.
// Without one nothing is called (the other tests).
func TestTracer(t *testing.T) {
	t.Parallel()
	var srvLog, cliLog pduLog
	srv := &smsc.Server{Tracer: &srvLog}
	addr := startServer(t, srv)
	cl, err := client.Dial(context.Background(), client.Config{Addr: addr, SystemID: "tap", Password: "secret", Tracer: &cliLog, EnquireLink: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := cl.Submit(ctx, &client.Message{Source: client.Address{TON: 5, Addr: "SimLab"}, Dest: client.Address{TON: 1, NPI: 1, Addr: "99900000601"},
		ShortMessage: []byte("traced"), RegisteredDelivery: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AwaitReceipt(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := cl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	want := ">bind_transceiver <bind_transceiver_resp >submit_sm <submit_sm_resp <deliver_sm >deliver_sm_resp >unbind <unbind_resp"
	// The server ends the session after unbind_resp: wait for its Close.
	select {
	case <-srvLog.only(t).done:
	case <-ctx.Done():
		t.Fatal("the server never closed the session's trace")
	}
	s, c := srvLog.only(t), cliLog.only(t)
	srvLog.mu.Lock()
	defer srvLog.mu.Unlock()
	cliLog.mu.Lock()
	defer cliLog.mu.Unlock()
	for _, x := range []struct {
		name string
		log  *connLog
	}{{"server", s}, {"client", c}} {
		if got := strings.Join(x.log.pdus, " "); got != want || !x.log.closed {
			t.Errorf("%s traced %s (closed %v), want %s, closed", x.name, got, x.log.closed, want)
		}
	}
	if s.esme != c.esme || s.smsc != c.smsc || s.smsc.String() != addr || !s.esme.Addr().IsLoopback() {
		t.Errorf("server saw %v→%v, client %v→%v, SMSC at %s", s.esme, s.smsc, c.esme, c.smsc, addr)
	}
}
