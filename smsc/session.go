package smsc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// bindState is a session's SMPP state (SMPP 3.4 §2.3).
type bindState uint32

const (
	stateOpen bindState = iota
	stateTX
	stateRX
	stateTRX
	stateClosing
)

func (b bindState) canSubmit() bool  { return b == stateTX || b == stateTRX }
func (b bindState) canReceive() bool { return b == stateRX || b == stateTRX }

// firstOutSeq is where the server's own sequence numbers start. Keeping them
// far from the ESME's (which usually count from 1) works around clients that
// match responses by sequence number alone (go-smpp issue #87).
const firstOutSeq = 0x40000001

// readBufSize bounds the PDUs decoded in place from the read buffer of a
// bound session; before bind the buffer is unboundBufSize, enough for any
// PDU allowed then (MaxUnboundLen), so unauthenticated connections cost
// little memory.
const (
	readBufSize    = 64 << 10
	unboundBufSize = 1 << 10
)

// maxPendingWrite is how much unsent output makes the reader wait.
const maxPendingWrite = 1 << 20

// session is one SMPP connection: its bind state machine, its own sequence
// numbers, the deliver_sm window and the enquire_link timer.
type session struct {
	srv  *Server
	conn net.Conn
	id   uint64
	log  *slog.Logger
	br   *bufio.Reader

	// Output: PDUs are appended to wbuf; the writer goroutine swaps it out
	// and writes everything queued in one call (batching under load).
	wmu       sync.Mutex
	wdata     *sync.Cond // wbuf non-empty or closing
	wdrain    *sync.Cond // wbuf swapped out
	wbuf      []byte
	wspare    []byte
	wclosing  bool
	writerEnd chan struct{}
	connMu    sync.Mutex // serialises flushes

	// order is what keeps receipts behind responses (order.go), under wmu.
	order outputOrder
	// tr is the session's trace, nil without Server.Tracer (tap.go).
	tr pdu.ConnTrace

	// readerBusy is set while the reader handles buffered input.
	readerBusy atomic.Bool

	state    atomic.Uint32 // bindState
	acct     *account
	systemID string
	rangeLo  Range
	rangePfx string
	hasRange bool
	window   int32
	inflight atomic.Int32 // deliver_sm outstanding

	// version is the interface version in use: Version50 for a bind that
	// asked for 5.0 or later, else Version34 (reader goroutine writes it
	// before the session can receive).
	version uint8

	omu        sync.Mutex
	nextSeq    uint32
	pending    map[uint32]*outItem
	enquireSeq uint32
	enquireAt  time.Time
	unbindSeq  uint32
	dead       bool
	timer      Timer
	grace      Timer // closes a removed account's bind (closeAfter)

	lastRecv  atomic.Int64
	closeOnce sync.Once
	// ref is what routing tables keep of this bind (routing.go); box is
	// its own outbox, first of outboxes, set when it may receive.
	ref      *bindRef
	box      *outbox
	outboxes []*outbox

	// source is the peer's address without the port, the failed-bind
	// throttle's key ("" for an in-memory pipe).
	source string
	// everBound is set once the session has bound (it left the server's
	// unbound count); badBinds counts its failed binds (reader only).
	everBound bool
	badBinds  int
	// released: the connection no longer counts against the server's
	// limits (set by finish before a lingering close).
	released bool
	// stopReason, when set, ends the reader with this reason.
	stopReason string
	// done is closed by close: waits of the reader end.
	done chan struct{}
	// grow asks the reader for its full-size buffer (after bind).
	grow bool

	// linger asks finish for a polite close: input the peer already sent
	// is drained so the last response is not lost to a TCP reset.
	linger bool

	// lastSrc is the previous submit's source address, shared by the
	// messages that repeat it (reader goroutine only).
	lastSrc string

	// decode scratch, reader goroutine only
	sm    pdu.SubmitSM
	multi pdu.SubmitMulti
	dsm   pdu.DataSM
}

func newSession(s *Server, c net.Conn) *session {
	ss := &session{
		srv:       s,
		conn:      c,
		id:        s.sessSeq.Add(1),
		br:        bufio.NewReaderSize(c, unboundBufSize),
		writerEnd: make(chan struct{}),
		done:      make(chan struct{}),
		nextSeq:   firstOutSeq,
		pending:   make(map[uint32]*outItem),
	}
	if a, ok := remoteAddr(c); ok {
		ss.source = a.String()
	}
	ss.wdata = sync.NewCond(&ss.wmu)
	ss.wdrain = sync.NewCond(&ss.wmu)
	ss.log = s.Logger.With("session", ss.id, "remote", c.RemoteAddr().String())
	return ss
}

func (s *session) now() time.Time { return s.srv.Clock.Now() }

// run is the session's reader; it returns when the connection ends.
func (s *session) run() {
	s.openTrace()
	s.lastRecv.Store(s.now().UnixNano())
	go s.writeLoop()
	s.omu.Lock()
	s.timer = s.srv.Clock.AfterFunc(s.srv.dur(s.srv.BindTimeout, DefaultBindTimeout), s.bindTimeout)
	s.omu.Unlock()
	reason := s.readLoop()
	s.finish(reason)
}

func (s *session) readLoop() string {
	boundMax := s.srv.MaxCommandLen
	if boundMax <= 0 {
		boundMax = DefaultMaxCommandLen
	}
	openMax := s.srv.MaxUnboundLen
	if openMax <= 0 {
		openMax = DefaultMaxUnboundLen
	}
	openMax = min(openMax, boundMax)
	batch := 0
	for {
		hb, err := s.br.Peek(4)
		if err != nil {
			return readErr(err)
		}
		n := int(binary.BigEndian.Uint32(hb))
		maxLen := boundMax
		if !s.everBound {
			maxLen = openMax // nothing large before authentication
		}
		if n < pdu.HeaderLen || n > maxLen {
			s.log.Warn("smpp: closing session: absurd command_length", "command_length", n, "max", maxLen)
			s.nackLength()
			return fmt.Sprintf("absurd command_length %d", n)
		}
		s.readerBusy.Store(true)
		var pkt []byte
		inPlace := n <= s.br.Size()
		if inPlace {
			pkt, err = s.br.Peek(n)
		} else {
			pkt = make([]byte, n)
			_, err = io.ReadFull(s.br, pkt)
		}
		if err != nil {
			return readErr(err)
		}
		if s.tr != nil {
			s.tr.PDU(true, pkt)
		}
		stop := s.handle(pkt)
		if inPlace {
			s.br.Discard(n)
		}
		if s.grow {
			s.growReader()
		}
		if !s.completeBuffered() {
			// Once per batch of PDUs read: the idle timer needs no
			// more, and the batch's responses leave together.
			s.lastRecv.Store(s.now().UnixNano())
			s.readerDone()
			batch = 0
		} else if batch++; batch >= 64 {
			// A peer that keeps the buffer full still gets its
			// responses every 64 requests.
			batch = 0
			s.wmu.Lock()
			s.wdata.Signal()
			s.wmu.Unlock()
		}
		if stop {
			if s.stopReason != "" {
				return s.stopReason
			}
			return "unbound"
		}
		if bindState(s.state.Load()) == stateClosing && s.isDead() {
			return "closed"
		}
	}
}

// nackLength answers a command_length out of range with generic_nack
// ESME_RINVCMDLEN (SMPP 3.4 §4.3) before the session closes: the sequence
// number is the header's when the whole header is already buffered, else
// 0. The rest of the input cannot be framed, so finish closes politely
// (lingerClose) for the nack to reach the peer.
func (s *session) nackLength() {
	var seq uint32
	if s.br.Buffered() >= pdu.HeaderLen {
		hb, _ := s.br.Peek(pdu.HeaderLen)
		seq = binary.BigEndian.Uint32(hb[12:])
	}
	s.nack(pdu.StatusInvCmdLen, seq)
	s.linger = true
}

// growReader gives a session that has bound its full-size read buffer,
// keeping what the small one holds.
func (s *session) growReader() {
	s.grow = false
	var rd io.Reader = s.conn
	if n := s.br.Buffered(); n > 0 {
		rest, _ := s.br.Peek(n)
		rd = io.MultiReader(bytes.NewReader(bytes.Clone(rest)), s.conn)
	}
	s.br = bufio.NewReaderSize(rd, readBufSize)
}

func readErr(err error) string {
	if errors.Is(err, io.EOF) {
		return "peer closed"
	}
	return "read: " + err.Error()
}

// finish tears the session down: flush what is queued (bounded by a write
// deadline), close, hand undelivered deliver_sm back to their outboxes.
func (s *session) finish(reason string) {
	s.state.Store(uint32(stateClosing))
	s.omu.Lock()
	s.dead = true
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.grace != nil {
		s.grace.Stop()
	}
	items := make([]*outItem, 0, len(s.pending))
	for seq, it := range s.pending {
		if it != nil {
			items = append(items, it)
		}
		delete(s.pending, seq)
	}
	s.omu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	s.wmu.Lock()
	s.wclosing = true
	s.wdata.Broadcast()
	s.wdrain.Broadcast()
	s.wmu.Unlock()
	<-s.writerEnd
	s.endHeld()
	if s.linger {
		// The slot is free while the peer's input drains.
		s.srv.release(s.conn, !s.everBound)
		s.released = true
		lingerClose(s.conn)
	}
	s.conn.Close()
	if s.tr != nil {
		s.tr.Close()
	}
	s.srv.engine.detach(s)
	if s.acct != nil {
		s.acct.binds.Add(-1)
		s.srv.counters.bound.Add(-1)
	}
	s.inflight.Store(0)
	for _, it := range items {
		it.box.requeue(it)
	}
	for _, ob := range s.outboxes {
		ob.pump()
	}
	s.srv.releaseAccount(s.acct)
	s.log.Info("smpp: session ended", "system_id", s.systemID, "reason", reason)
}

// Bounds of lingerClose: a peer gets this long, and this much input is
// read and dropped, before the connection closes anyway.
const (
	lingerTime  = time.Second
	lingerBytes = 64 << 10
)

// lingerClose half-closes c after the last response was written and drops
// what the peer still sends (bounded in time and bytes), as net/http does
// before closing a connection with unread input: closing a socket with
// unread data makes the kernel send a reset, which can destroy the
// response in flight.
func lingerClose(c net.Conn) {
	cw, ok := c.(interface{ CloseWrite() error })
	if u, wrapped := c.(interface{ Unwrap() net.Conn }); !ok && wrapped {
		cw, ok = u.Unwrap().(interface{ CloseWrite() error }) // a connlimit connection
	}
	if !ok {
		return
	}
	if cw.CloseWrite() != nil {
		return
	}
	c.SetReadDeadline(time.Now().Add(lingerTime))
	io.CopyN(io.Discard, c, lingerBytes)
}

// close ends the session at once (errors, timeouts, shutdown deadline).
func (s *session) close(reason string) {
	s.closeOnce.Do(func() {
		s.log.Info("smpp: closing session", "reason", reason)
		s.omu.Lock()
		s.dead = true
		s.omu.Unlock()
		close(s.done)
		s.conn.Close()
	})
}

func (s *session) isDead() bool {
	s.omu.Lock()
	defer s.omu.Unlock()
	return s.dead
}

func (s *session) writeLoop() {
	defer close(s.writerEnd)
	for {
		s.wmu.Lock()
		for len(s.wbuf) == 0 && !s.wclosing {
			s.wdata.Wait()
		}
		if len(s.wbuf) == 0 {
			s.wmu.Unlock()
			return
		}
		s.wmu.Unlock()
		if !s.flush() {
			return
		}
	}
}

// flush writes everything queued in one call (writer goroutine). It
// returns false after a write error.
func (s *session) flush() bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	s.wmu.Lock()
	if len(s.wbuf) == 0 {
		s.wmu.Unlock()
		return true
	}
	buf := s.wbuf
	s.wbuf = s.wspare[:0]
	s.wspare = nil
	s.wdrain.Broadcast()
	s.wmu.Unlock()
	if s.tr != nil {
		s.traceOut(buf)
	}
	_, err := s.conn.Write(buf)
	var due []heldReceipt
	s.wmu.Lock()
	if err == nil {
		due = s.order.wrote(len(buf), s.now())
	}
	if cap(buf) <= 4*maxPendingWrite {
		s.wspare = buf[:0]
	} else {
		s.wspare = make([]byte, 0, 4096)
	}
	if err != nil {
		s.wclosing = true
		s.wbuf = s.wbuf[:0]
		s.wdrain.Broadcast()
		s.wdata.Broadcast()
	}
	s.wmu.Unlock()
	s.release(due)
	if err != nil {
		s.close("write: " + err.Error())
		return false
	}
	return true
}

// readerDone is called by the reader when its input buffer is empty: the
// writer goroutine sends the batch's responses in one write. The reader
// never writes itself, so a peer that writes without reading cannot
// deadlock it.
func (s *session) readerDone() {
	s.readerBusy.Store(false)
	s.wmu.Lock()
	if len(s.wbuf) > 0 {
		s.wdata.Signal()
	}
	s.wmu.Unlock()
}

// write appends one PDU built by enc to the output queue. It returns false
// once the session is closing.
func (s *session) write(id pdu.CommandID, status pdu.Status, seq uint32, enc func(b []byte) []byte) bool {
	s.wmu.Lock()
	if s.wclosing {
		s.wmu.Unlock()
		return false
	}
	start := len(s.wbuf)
	s.wbuf = pdu.AppendHeader(s.wbuf, pdu.Header{ID: id, Status: status, Seq: seq})
	if enc != nil {
		s.wbuf = enc(s.wbuf)
	}
	pdu.SetLength(s.wbuf, start)
	s.order.queued += uint64(len(s.wbuf) - start)
	// While the reader works through a batch it flushes at the end;
	// otherwise the writer goroutine does (readerDone closes the gap).
	if start == 0 && !s.readerBusy.Load() {
		s.wdata.Signal()
	}
	s.wmu.Unlock()
	return true
}

// completeBuffered reports whether the read buffer holds a whole PDU, so
// the reader goes on without blocking. When it does not, the batch is over
// (even with a partial PDU buffered, whose rest may take a while).
func (s *session) completeBuffered() bool {
	n := s.br.Buffered()
	if n < pdu.HeaderLen {
		return false
	}
	b, _ := s.br.Peek(4)
	return n >= int(binary.BigEndian.Uint32(b))
}

// throttleOutput makes the reader wait while too much output is queued (a
// peer that sends without reading).
func (s *session) throttleOutput() {
	s.wmu.Lock()
	if len(s.wbuf) > maxPendingWrite {
		s.wdata.Signal() // the writer may be waiting for a signal
	}
	for len(s.wbuf) > maxPendingWrite && !s.wclosing {
		s.wdrain.Wait()
	}
	s.wmu.Unlock()
}

// respond writes a response with an empty body.
func (s *session) respond(id pdu.CommandID, status pdu.Status, seq uint32) {
	s.write(id, status, seq, nil)
}

// respondID writes a response whose body is a message_id (submit_sm_resp,
// data_sm_resp; an error response carries an empty message_id).
func (s *session) respondID(id pdu.CommandID, status pdu.Status, seq uint32, msgID string) {
	if status != pdu.StatusOK {
		s.srv.counters.reject(status)
	}
	s.write(id, status, seq, func(b []byte) []byte { return pdu.AppendCString(b, msgID) })
}

func (s *session) nack(status pdu.Status, seq uint32) {
	s.respond(pdu.CmdGenericNack, status, seq)
}

// handle processes one PDU; it returns true when the session must end.
func (s *session) handle(pkt []byte) (stop bool) {
	h, _ := pdu.DecodeHeader(pkt)
	body := pkt[pdu.HeaderLen:]
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("smpp: handler panic", "command", h.ID.String(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if !h.ID.IsResponse() {
				if h.ID.Known() {
					s.respond(h.ID.Response(), pdu.StatusSysErr, h.Seq)
				} else {
					s.nack(pdu.StatusSysErr, h.Seq)
				}
			}
			stop = false
		}
	}()
	if h.ID.IsResponse() {
		s.handleResponse(h, body)
		return false
	}
	// Every request gets a response: stop reading while a peer that does
	// not read has too much output waiting.
	s.throttleOutput()
	st := bindState(s.state.Load())
	switch h.ID {
	case pdu.CmdBindTransmitter, pdu.CmdBindReceiver, pdu.CmdBindTransceiver:
		return s.handleBind(h, body)
	case pdu.CmdEnquireLink, pdu.CmdUnbind:
		if len(body) != 0 {
			// Both have no body (SMPP 3.4 §4.11.1, §4.2.1).
			s.nack(pdu.StatusInvCmdLen, h.Seq)
			return false
		}
		if h.ID == pdu.CmdEnquireLink {
			s.respond(pdu.CmdEnquireLinkResp, pdu.StatusOK, h.Seq)
			return false
		}
		if st == stateOpen {
			s.respond(pdu.CmdUnbindResp, pdu.StatusInvBndSts, h.Seq)
			return false
		}
		s.state.Store(uint32(stateClosing))
		s.respond(pdu.CmdUnbindResp, pdu.StatusOK, h.Seq)
		return true
	case pdu.CmdSubmitSM, pdu.CmdSubmitMulti, pdu.CmdDataSM, pdu.CmdQuerySM, pdu.CmdCancelSM, pdu.CmdReplaceSM:
		if !st.canSubmit() {
			if h.ID == pdu.CmdDataSM && st == stateRX {
				s.respondID(pdu.CmdDataSMResp, pdu.StatusInvBndSts, h.Seq, "")
				return false
			}
			s.respondStatus(h, pdu.StatusInvBndSts)
			return false
		}
		if s.acct.removed.Load() {
			// A run-time account taken away (RemoveAccount): its bind,
			// asked to unbind, stores nothing more in its namespace.
			s.respondStatus(h, pdu.StatusInvBndSts)
			return false
		}
		s.handleSubmitFamily(h, body)
	case pdu.CmdDeliverSM:
		// An SMSC does not take deliver_sm from an ESME.
		s.respond(pdu.CmdDeliverSMResp, pdu.StatusInvBndSts, h.Seq)
	default:
		// Unknown ids, outbind and alert_notification from an ESME.
		s.nack(pdu.StatusInvCmdID, h.Seq)
	}
	return false
}

// respondStatus answers a request with an error status and the body its
// response type needs.
func (s *session) respondStatus(h pdu.Header, st pdu.Status) {
	switch h.ID {
	case pdu.CmdSubmitSM, pdu.CmdDataSM:
		s.respondID(h.ID.Response(), st, h.Seq, "")
	case pdu.CmdSubmitMulti:
		s.write(pdu.CmdSubmitMultiResp, st, h.Seq, func(b []byte) []byte { return append(b, 0, 0) })
	case pdu.CmdBindTransmitter, pdu.CmdBindReceiver, pdu.CmdBindTransceiver:
		s.write(h.ID.Response(), st, h.Seq, func(b []byte) []byte { return pdu.AppendCString(b, s.srv.systemID()) })
	default:
		s.respond(h.ID.Response(), st, h.Seq)
	}
}

// decodeFailed answers a body that did not decode: a field-specific
// status in the command's response, else generic_nack ESME_RINVCMDLEN.
func (s *session) decodeFailed(h pdu.Header, err error) {
	var de *pdu.DecodeError
	if errors.As(err, &de) && !errors.Is(err, pdu.ErrShort) && de.Status != pdu.StatusInvCmdLen {
		s.respondStatus(h, de.Status)
		return
	}
	s.log.Debug("smpp: malformed PDU", "command", h.ID.String(), "err", err)
	s.nack(pdu.StatusInvCmdLen, h.Seq)
}

func (s *Server) systemID() string {
	if s.SystemID != "" {
		return s.SystemID
	}
	return DefaultSystemID
}

// handleBind serves a bind; it returns true when the session must end
// (too many failed binds).
func (s *session) handleBind(h pdu.Header, body []byte) bool {
	if bindState(s.state.Load()) != stateOpen {
		s.respondStatus(h, pdu.StatusAlyBnd)
		return false
	}
	var b pdu.Bind
	if err := b.Unmarshal(body); err != nil {
		s.decodeFailed(h, err)
		return false
	}
	var bt BindType
	var ns bindState
	switch h.ID {
	case pdu.CmdBindTransmitter:
		bt, ns = BindTransmitter, stateTX
	case pdu.CmdBindReceiver:
		bt, ns = BindReceiver, stateRX
	default:
		bt, ns = BindTransceiver, stateTRX
	}
	sysID := string(b.SystemID)
	var (
		acc      *account
		st       pdu.Status
		badCreds string
	)
	if !s.srv.open && s.srv.bindLocked(s.source, sysID, s.now()) {
		// Locked out: refused whatever the password, like a wrong one.
		st, badCreds = pdu.StatusBindFail, "locked out"
	} else {
		acc, st, badCreds = s.srv.authenticate(sysID, string(b.Password), bt)
	}
	if badCreds != "" {
		return s.bindRefused(h, sysID, badCreds)
	}
	if st != pdu.StatusOK {
		s.log.Info("smpp: bind refused", "system_id", sysID, "bind", bt.String(), "status", st.String())
		s.respondStatus(h, st)
		return false
	}
	if s.srv.Faults != nil {
		if f, ok := s.srv.Faults.bind(sysID); ok && f != pdu.StatusOK {
			s.respondStatus(h, f)
			return false
		}
	}
	acc = s.srv.acquire(acc, sysID)
	// Under the server's lock, so RemoveAccount finds this bind; a
	// run-time account removed meanwhile refuses it (account.go).
	s.srv.mu.Lock()
	s.acct, s.systemID = acc, sysID
	s.srv.mu.Unlock()
	if acc.removed.Load() {
		s.srv.mu.Lock()
		s.acct, s.systemID = nil, ""
		s.srv.mu.Unlock()
		acc.binds.Add(-1)
		s.srv.releaseAccount(acc)
		s.log.Info("smpp: bind refused", "system_id", sysID, "bind", bt.String(), "reason", "account removed")
		s.respondStatus(h, pdu.StatusBindFail)
		return false
	}
	s.everBound, s.grow = true, true
	s.srv.bound(s.conn)
	s.ref = &bindRef{acct: acc}
	s.ref.live.Store(s)
	s.srv.counters.bound.Add(1)
	s.window = int32(acc.Window)
	if s.window <= 0 {
		s.window = DefaultWindow
	}
	if len(b.AddressRange) > 0 {
		if r, pfx, err := ParseRange(string(b.AddressRange)); err == nil {
			s.rangeLo, s.rangePfx, s.hasRange = r, pfx, true
		}
	}
	s.omu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = s.srv.Clock.AfterFunc(s.tickPeriod(), s.tick)
	s.omu.Unlock()
	s.state.Store(uint32(ns))
	ver := b.InterfaceVersion
	s.version = Version34
	if ver >= Version50 {
		s.version = Version50
	}
	s.write(h.ID.Response(), pdu.StatusOK, h.Seq, func(out []byte) []byte {
		out = pdu.AppendCString(out, s.srv.systemID())
		if ver >= Version34 {
			// The version both sides speak (SMPP 5.0 §4.1.1.2).
			out = pdu.AppendTLVUint8(out, pdu.TagSCInterfaceVersion, s.version)
		}
		return out
	})
	s.log.Info("smpp: bound", "system_id", sysID, "bind", bt.String())
	if ns.canReceive() {
		s.srv.engine.attach(s)
	}
	return false
}

// bindRefused answers a bind with bad credentials (or locked out) with
// ESME_RBINDFAIL after the failed-bind throttle's delay, during which the
// session reads nothing more, so pipelined guesses wait too. After
// BindThrottle.Disconnect failures the session ends (the response is sent
// first). The server logs refusals once per burst, not per bind.
func (s *session) bindRefused(h pdu.Header, sysID, why string) bool {
	s.badBinds++
	d := s.srv.bindFailed(s.source, sysID, why, s.now())
	if d > 0 && !s.wait(d) {
		return true // closed meanwhile (bind timeout, shutdown)
	}
	s.respondStatus(h, pdu.StatusBindFail)
	if s.badBinds >= s.srv.BindThrottle.withDefaults().Disconnect {
		s.stopReason = fmt.Sprintf("%d failed binds", s.badBinds)
		s.linger = true
		return true
	}
	return false
}

// wait blocks the reader for d on the server clock; it returns false if
// the session was closed meanwhile.
func (s *session) wait(d time.Duration) bool {
	ch := make(chan struct{})
	t := s.srv.Clock.AfterFunc(d, func() { close(ch) })
	select {
	case <-ch:
		return true
	case <-s.done:
		t.Stop()
		return false
	}
}

func (s *session) bindTimeout() {
	if bindState(s.state.Load()) == stateOpen {
		s.log.Warn("smpp: closing session: bind timeout")
		s.close("bind timeout")
	}
}

func (s *session) tickPeriod() time.Duration {
	return min(s.srv.dur(s.srv.EnquireInterval, DefaultEnquireInterval), s.srv.dur(s.srv.ResponseTimeout, DefaultResponseTimeout))
}

// tick runs on the clock: enquire_link when idle, close when it goes
// unanswered, requeue deliver_sm unanswered for ResponseTimeout.
func (s *session) tick() {
	now := s.now()
	idle := now.Sub(time.Unix(0, s.lastRecv.Load()))
	respTO := s.srv.dur(s.srv.ResponseTimeout, DefaultResponseTimeout)
	s.omu.Lock()
	if s.dead {
		s.omu.Unlock()
		return
	}
	if s.enquireSeq != 0 && now.Sub(s.enquireAt) >= respTO {
		s.omu.Unlock()
		s.log.Warn("smpp: closing session: enquire_link unanswered", "after", respTO)
		s.close("enquire_link timeout")
		return
	}
	var expired []*outItem
	for seq, it := range s.pending {
		if it != nil && now.Sub(it.sentAt) >= respTO {
			expired = append(expired, it)
			delete(s.pending, seq)
		}
	}
	sendEnquire := s.enquireSeq == 0 && idle >= s.srv.dur(s.srv.EnquireInterval, DefaultEnquireInterval)
	var seq uint32
	if sendEnquire {
		seq = s.allocSeq()
		s.enquireSeq, s.enquireAt = seq, now
		s.pending[seq] = nil
	}
	s.timer = s.srv.Clock.AfterFunc(s.tickPeriod(), s.tick)
	s.omu.Unlock()
	if sendEnquire {
		s.write(pdu.CmdEnquireLink, pdu.StatusOK, seq, nil)
	}
	if len(expired) > 0 {
		s.inflight.Add(-int32(len(expired)))
		for _, it := range expired {
			box := it.box
			box.retry(it, "deliver_sm response timeout", true)
		}
		s.pumpAll()
	}
}

// allocSeq returns the session's next own sequence number (caller holds
// omu). Sequence numbers are per session (SMPP 3.4 §3.2: 1..0x7FFFFFFF).
func (s *session) allocSeq() uint32 {
	seq := s.nextSeq
	s.nextSeq++
	if s.nextSeq > 0x7FFFFFFF {
		s.nextSeq = 1
	}
	return seq
}

// startUnbind sends unbind (server shutdown); the ESME's unbind_resp ends
// the session.
func (s *session) startUnbind() {
	if bindState(s.state.Load()) == stateOpen {
		s.close("shutdown")
		return
	}
	s.omu.Lock()
	if s.dead || s.unbindSeq != 0 {
		s.omu.Unlock()
		return
	}
	seq := s.allocSeq()
	s.unbindSeq = seq
	s.pending[seq] = nil
	s.omu.Unlock()
	s.write(pdu.CmdUnbind, pdu.StatusOK, seq, nil)
}

// closeAfter closes the session d from now on the server clock unless it
// has ended by then (a removed account's bind that ignores its unbind);
// the timer is stopped when the session ends (finish), so a bind that
// unbinds in time leaves nothing behind.
func (s *session) closeAfter(d time.Duration, reason string) {
	s.omu.Lock()
	defer s.omu.Unlock()
	if s.dead || s.grace != nil {
		return
	}
	s.grace = s.srv.Clock.AfterFunc(d, func() {
		if !s.isDead() {
			s.log.Warn("smpp: closing session: " + reason)
			s.close(reason)
		}
	})
}

func (s *session) handleResponse(h pdu.Header, body []byte) {
	s.omu.Lock()
	it, ok := s.pending[h.Seq]
	if ok {
		delete(s.pending, h.Seq)
	}
	isEnquire := ok && h.Seq == s.enquireSeq
	if isEnquire {
		s.enquireSeq = 0
	}
	isUnbind := ok && h.Seq == s.unbindSeq
	s.omu.Unlock()
	if !ok {
		s.log.Debug("smpp: response to no request", "command", h.ID.String(), "seq", h.Seq)
		return
	}
	if isUnbind {
		s.close("unbound by server")
		return
	}
	if it == nil || isEnquire {
		return
	}
	s.inflight.Add(-1)
	box := it.box // it may be requeued (and touched) once handed back
	switch {
	case h.Status == pdu.StatusOK && (h.ID == pdu.CmdDeliverSMResp || h.ID == pdu.CmdDataSMResp):
		box.delivered(it)
	case h.Status == pdu.StatusOK:
		box.retry(it, "unexpected "+h.ID.String(), true)
	default:
		box.retry(it, h.Status.String(), temporaryStatus(h.Status))
	}
	// The freed window slot may serve any outbox of this session: MO queued
	// in the catch-all outbox must not wait behind receipts in the account's
	// outbox for another MO to arrive. The session's own outbox (answers
	// to its own submits) goes first, then the others before the one just
	// served, for fairness.
	for _, ob := range s.outboxes {
		if ob != box {
			ob.pump()
		}
	}
	box.pump()
}

// temporaryStatus reports whether an ESME's error answer to deliver_sm
// asks for a later retry.
func temporaryStatus(st pdu.Status) bool {
	switch st {
	case pdu.StatusXTAppn, pdu.StatusMsgQFul, pdu.StatusThrottled, pdu.StatusSysErr, pdu.StatusInvCmdLen:
		return true
	}
	return false
}

// reserve takes a slot of the session's deliver_sm window, if it can
// receive and has one free. Several outboxes feed one session: the slot is
// taken atomically, so together they never exceed the window.
func (s *session) reserve() bool {
	if !bindState(s.state.Load()).canReceive() {
		return false
	}
	for {
		n := s.inflight.Load()
		if n >= s.window {
			return false
		}
		if s.inflight.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// sendDeliver assigns a sequence number and writes the deliver_sm for it.
// It returns false if the session is gone (the caller requeues).
func (s *session) sendDeliver(it *outItem) bool {
	s.omu.Lock()
	if s.dead {
		s.omu.Unlock()
		return false
	}
	seq := s.allocSeq()
	it.sentAt = s.now()
	it.version = s.version
	s.pending[seq] = it
	s.omu.Unlock()
	if !s.write(pdu.CmdDeliverSM, pdu.StatusOK, seq, it.appendBody) {
		s.omu.Lock()
		delete(s.pending, seq)
		s.omu.Unlock()
		return false
	}
	s.srv.counters.deliverSent.Add(1)
	return true
}

func (s *session) pumpAll() {
	for _, ob := range s.outboxes {
		ob.pump()
	}
}
