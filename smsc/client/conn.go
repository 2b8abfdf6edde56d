package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// result is what a response carries back to its request.
type result struct {
	status uint32
	str    string // first C-octet string of the body
}

// call is one outstanding request.
type call struct {
	resp pdu.CommandID // expected response command_id
	sent int64         // unix nanos
	done func(result, error)
}

// conn is one TCP (or TLS) connection and its SMPP session state.
type conn struct {
	c  *Client
	nc net.Conn

	// handlers counts OnDeliver calls under way, so that Close lets their
	// responses go out before its unbind (handlerGate).
	handlers handlerGate

	// Writes are double-buffered: writers append PDUs to wbuf under wmu
	// and wake the flusher, which swaps the buffers and writes the batch
	// while the next PDUs are appended. sendMu serialises socket writes.
	wmu    sync.Mutex
	wbuf   []byte
	werr   error
	wsig   chan struct{}
	sendMu sync.Mutex
	spare  []byte // guarded by sendMu

	seq    atomic.Uint32
	window chan struct{}

	mu       sync.Mutex
	inflight map[uint32]*call
	err      error
	dead     chan struct{}
	lastRead atomic.Int64
	dec      decoder // used by readLoop only

	// tr is the connection's trace, nil without Config.Tracer; trBuf is
	// the reader's scratch for whole PDUs.
	tr    pdu.ConnTrace
	trBuf []byte
}

func newConn(c *Client, nc net.Conn) *conn {
	return &conn{
		c:        c,
		nc:       nc,
		wbuf:     make([]byte, 0, 16*1024),
		spare:    make([]byte, 0, 16*1024),
		wsig:     make(chan struct{}, 1),
		window:   make(chan struct{}, c.cfg.Window),
		inflight: make(map[uint32]*call, c.cfg.Window),
		dead:     make(chan struct{}),
	}
}

// nextSeq returns this connection's next sequence number (SMPP v3.4
// §5.1.4: 0x00000001 to 0x7FFFFFFF, then wrapping).
func (cn *conn) nextSeq() uint32 {
	for {
		s := cn.seq.Add(1)
		if s >= 1 && s <= 0x7FFFFFFF {
			return s
		}
		cn.seq.CompareAndSwap(s, 0)
	}
}

// write appends a PDU with enc to the write buffer and wakes the flusher.
// PDUs written while the flusher is in a socket write leave together in
// the next one: one syscall for many pipelined PDUs.
func (cn *conn) write(enc func([]byte) []byte) error {
	cn.wmu.Lock()
	if err := cn.werr; err != nil {
		cn.wmu.Unlock()
		return err
	}
	cn.wbuf = enc(cn.wbuf)
	cn.wmu.Unlock()
	select {
	case cn.wsig <- struct{}{}:
	default: // a wake-up is already pending
	}
	return nil
}

// flush writes everything buffered so far to the socket.
func (cn *conn) flush() error {
	cn.sendMu.Lock()
	defer cn.sendMu.Unlock()
	cn.wmu.Lock()
	out := cn.wbuf
	cn.wbuf = cn.spare[:0]
	cn.wmu.Unlock()
	if len(out) == 0 {
		cn.spare = out
		return nil
	}
	if cn.tr != nil {
		// Before the write: a response read meanwhile comes after.
		pdu.EachPDU(out, func(p []byte) { cn.tr.PDU(true, p) })
	}
	_, err := cn.nc.Write(out)
	cn.spare = out
	if err != nil {
		cn.wmu.Lock()
		cn.werr = fmt.Errorf("smpp client: write: %w", err)
		cn.wmu.Unlock()
		cn.close(err)
	}
	return err
}

// flushLoop is the connection's writer goroutine.
func (cn *conn) flushLoop() {
	for {
		select {
		case <-cn.wsig:
			if cn.flush() != nil {
				return
			}
		case <-cn.dead:
			return
		}
	}
}

// start sends a request and registers done for its response. It blocks
// for a window slot.
func (cn *conn) start(ctx context.Context, resp pdu.CommandID, enc func([]byte, uint32) []byte, done func(result, error)) error {
	select {
	case cn.window <- struct{}{}:
	case <-cn.dead:
		return cn.deadErr()
	case <-ctx.Done():
		return ctx.Err()
	}
	seq := cn.nextSeq()
	cl := &call{resp: resp, sent: time.Now().UnixNano(), done: done}
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		<-cn.window
		return cn.deadErr()
	}
	cn.inflight[seq] = cl
	cn.mu.Unlock()
	// A failed write closes the connection, and close fails every
	// outstanding call, this one included: its done reports the error.
	cn.write(func(b []byte) []byte { return enc(b, seq) })
	return nil
}

func (cn *conn) deadErr() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if errors.Is(cn.err, ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("%w: %v", ErrConnLost, cn.err)
}

// roundTrip sends a request and waits for its response.
func (cn *conn) roundTrip(ctx context.Context, resp pdu.CommandID, enc func([]byte, uint32) []byte) (result, error) {
	ch := make(chan struct {
		r   result
		err error
	}, 1)
	err := cn.start(ctx, resp, enc, func(r result, err error) {
		ch <- struct {
			r   result
			err error
		}{r, err}
	})
	if err != nil {
		return result{}, err
	}
	select {
	case v := <-ch:
		return v.r, v.err
	case <-ctx.Done():
		// The response may still come; complete() drops it then.
		return result{}, ctx.Err()
	}
}

// complete finishes the call with sequence number seq if its expected
// response is cmd (or a generic_nack, which answers any request).
func (cn *conn) complete(cmd pdu.CommandID, status pdu.Status, seq uint32, body []byte) {
	cn.mu.Lock()
	cl, ok := cn.inflight[seq]
	if ok && (cl.resp == cmd || cmd == pdu.CmdGenericNack) {
		delete(cn.inflight, seq)
	} else {
		ok = false
	}
	cn.mu.Unlock()
	if !ok {
		cn.c.cfg.Logger.Debug("smpp client: response matches no request", "command_id", fmt.Sprintf("0x%08X", uint32(cmd)), "sequence", seq)
		return
	}
	<-cn.window
	if f := cn.c.cfg.ObserveRTT; f != nil {
		f(time.Duration(time.Now().UnixNano() - cl.sent))
	}
	r := result{status: uint32(status)}
	if cmd != pdu.CmdGenericNack {
		r.str = firstCString(body)
	}
	cl.done(r, nil)
}

// close ends the connection once, failing every outstanding call with err.
func (cn *conn) close(err error) {
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		return
	}
	cn.err = err
	calls := cn.inflight
	cn.inflight = nil
	cn.mu.Unlock()
	cn.nc.Close()
	if cn.tr != nil {
		cn.tr.Close()
	}
	close(cn.dead)
	failure := ErrClosed
	if !errors.Is(err, ErrClosed) {
		failure = ErrConnLost
	}
	for _, cl := range calls {
		cl.done(result{}, fmt.Errorf("%w (%v)", failure, err))
	}
}

// readLoop reads PDUs until the connection fails.
func (cn *conn) readLoop() {
	br := bufio.NewReaderSize(cn.nc, 64*1024)
	var hdr [pdu.HeaderLen]byte
	var body []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			cn.close(fmt.Errorf("smpp client: read: %w", err))
			return
		}
		h, _ := pdu.DecodeHeader(hdr[:]) // cannot fail: 16 octets
		if h.Length < pdu.HeaderLen || h.Length > maxPDULen {
			cn.close(fmt.Errorf("%w: command_length %d out of range [16, %d]", ErrMalformed, h.Length, maxPDULen))
			return
		}
		n := int(h.Length) - pdu.HeaderLen
		if cap(body) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(br, body); err != nil {
			cn.close(fmt.Errorf("smpp client: read: %w", err))
			return
		}
		cn.lastRead.Store(time.Now().UnixNano())
		if cn.tr != nil {
			cn.trBuf = append(append(cn.trBuf[:0], hdr[:]...), body...)
			cn.tr.PDU(false, cn.trBuf)
		}
		if h.ID.IsResponse() {
			cn.complete(h.ID, h.Status, h.Seq, body)
			continue
		}
		if !cn.handleRequest(h, body) {
			return
		}
	}
}

// handleRequest answers a request from the SMSC; false ends the session.
func (cn *conn) handleRequest(h pdu.Header, body []byte) bool {
	switch h.ID {
	case pdu.CmdEnquireLink:
		cn.write(func(b []byte) []byte { return appendEmpty(b, pdu.CmdEnquireLinkResp, 0, h.Seq) })
	case pdu.CmdUnbind:
		cn.write(func(b []byte) []byte { return appendEmpty(b, pdu.CmdUnbindResp, 0, h.Seq) })
		cn.flush() // the response must leave before the connection closes
		cn.close(errors.New("smpp client: the SMSC unbound"))
		return false
	case pdu.CmdDeliverSM, pdu.CmdDataSM:
		resp := h.ID.Response()
		if later := cn.c.cfg.OnDeliverLater; later != nil {
			if d, status := cn.decodeDeliver(h, body); d == nil {
				cn.write(func(b []byte) []byte { return appendRespID(b, resp, status, h.Seq, "") })
			} else {
				var once atomic.Bool
				later(d, func(status uint32) {
					if once.CompareAndSwap(false, true) {
						cn.write(func(b []byte) []byte { return appendRespID(b, resp, status, h.Seq, "") })
					}
				})
			}
			break
		}
		cn.handlers.enter()
		status := cn.deliver(h, body)
		cn.write(func(b []byte) []byte { return appendRespID(b, resp, status, h.Seq, "") })
		cn.handlers.leave()
	default:
		cn.write(func(b []byte) []byte { return appendEmpty(b, pdu.CmdGenericNack, StatusInvCmdID, h.Seq) })
	}
	return true
}

// deliver decodes a deliver_sm/data_sm, records a receipt and calls
// OnDeliver. It returns the command_status for the response.
func (cn *conn) deliver(h pdu.Header, body []byte) uint32 {
	d, status := cn.decodeDeliver(h, body)
	if d == nil {
		return status
	}
	if f := cn.c.cfg.OnDeliver; f != nil {
		return f(d)
	}
	return StatusOK
}

// decodeDeliver decodes a deliver_sm/data_sm and records a receipt; it
// returns nil and the command_status for an undecodable one.
func (cn *conn) decodeDeliver(h pdu.Header, body []byte) (*Deliver, uint32) {
	m, err := cn.dec.decode(h.ID, body)
	if err != nil {
		cn.c.cfg.Logger.Warn("smpp client: undecodable deliver_sm", "sequence", h.Seq, "err", err)
		return nil, StatusInvCmdLen
	}
	d := &Deliver{Message: *m}
	// esm_class bits 5-2: 0001 SMSC delivery receipt, 0010 SME delivery
	// ack, 0100 SME manual ack, 1000 intermediate notification (§5.2.12).
	switch (m.ESMClass >> 2) & 0x0F {
	case 0x1, 0x8:
		d.Receipt = receiptFrom(m)
	}
	cn.c.stats.delivers.Add(1)
	if d.Receipt != nil {
		cn.c.stats.receipts.Add(1)
		cn.c.receipts.put(d.Receipt)
	}
	return d, StatusOK
}

// keepAlive sends enquire_link when the link has been idle and fails calls
// whose response is overdue.
func (cn *conn) keepAlive() {
	cfg := &cn.c.cfg
	tick := cfg.ResponseTimeout / 4
	if cfg.EnquireLink > 0 && cfg.EnquireLink/2 < tick {
		tick = cfg.EnquireLink / 2
	}
	tick = max(tick, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	cn.lastRead.Store(time.Now().UnixNano())
	var enquiring atomic.Bool
	for {
		select {
		case <-cn.dead:
			return
		case now := <-t.C:
			if cn.expire(now.Add(-cfg.ResponseTimeout).UnixNano()) {
				return
			}
			idle := now.Sub(time.Unix(0, cn.lastRead.Load()))
			if cfg.EnquireLink > 0 && idle >= cfg.EnquireLink && enquiring.CompareAndSwap(false, true) {
				cn.start(context.Background(), pdu.CmdEnquireLinkResp, func(b []byte, seq uint32) []byte {
					return appendEmpty(b, pdu.CmdEnquireLink, 0, seq)
				}, func(result, error) { enquiring.Store(false) })
			}
		}
	}
}

// expire fails calls sent before the deadline (unix nanos). An unanswered
// enquire_link means the link is dead: the connection is closed.
func (cn *conn) expire(deadline int64) bool {
	var late []*call
	cn.mu.Lock()
	for seq, cl := range cn.inflight {
		if cl.sent < deadline {
			late = append(late, cl)
			delete(cn.inflight, seq)
		}
	}
	cn.mu.Unlock()
	linkDead := false
	for _, cl := range late {
		<-cn.window
		if cl.resp == pdu.CmdEnquireLinkResp {
			linkDead = true
		}
		cl.done(result{}, ErrTimeout)
	}
	if linkDead {
		cn.close(errors.New("smpp client: enquire_link unanswered"))
	}
	return linkDead
}

// addrPort returns a connection's TCP address, or the zero AddrPort for
// one that has none (a pipe).
func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort()
	}
	return netip.AddrPort{}
}

// handlerGate counts the deliver handlers under way on a connection and
// tells when none is. A handler may hand its message to a goroutine that
// then closes the client before the handler has returned and its
// deliver_sm_resp is queued; Close waits for the gate so that the
// response leaves before the unbind, instead of the SMSC seeing the
// unbind first and delivering the message again to the next bind.
type handlerGate struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n returns to 0
}

func (g *handlerGate) enter() {
	g.mu.Lock()
	if g.n == 0 {
		g.idle = make(chan struct{})
	}
	g.n++
	g.mu.Unlock()
}

func (g *handlerGate) leave() {
	g.mu.Lock()
	g.n--
	if g.n == 0 {
		close(g.idle)
	}
	g.mu.Unlock()
}

// done is closed once no handler is under way.
func (g *handlerGate) done() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n == 0 {
		return closedChan
	}
	return g.idle
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()
