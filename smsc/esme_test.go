package smsc_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// esme is a raw SMPP peer built on smsc/pdu, for tests that need exact
// control over what goes on the wire (bad input, windows, timers).
type esme struct {
	t   testing.TB
	c   net.Conn
	br  *bufio.Reader
	seq uint32
}

func newESME(t testing.TB, c net.Conn) *esme {
	return &esme{t: t, c: c, br: bufio.NewReader(c)}
}

func dialESME(t testing.TB, addr string) *esme {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newESME(t, c)
}

// raw writes bytes as they are.
func (e *esme) raw(b []byte) {
	e.t.Helper()
	if _, err := e.c.Write(b); err != nil {
		e.t.Fatalf("write: %v", err)
	}
}

// send writes a request with the next sequence number and returns it.
func (e *esme) send(id pdu.CommandID, body pdu.Body) uint32 {
	e.t.Helper()
	e.seq++
	e.raw(pdu.Append(nil, id, 0, e.seq, body))
	return e.seq
}

// read returns the next PDU.
func (e *esme) read() (pdu.Header, []byte) {
	e.t.Helper()
	h, b, err := e.tryRead()
	if err != nil {
		e.t.Fatalf("read: %v", err)
	}
	return h, b
}

func (e *esme) tryRead() (pdu.Header, []byte, error) {
	var hb [pdu.HeaderLen]byte
	if _, err := io.ReadFull(e.br, hb[:]); err != nil {
		return pdu.Header{}, nil, err
	}
	h, _ := pdu.DecodeHeader(hb[:])
	if h.Length < pdu.HeaderLen || h.Length > 1<<20 {
		return h, nil, errors.New("bad command_length from server")
	}
	b := make([]byte, h.Length-pdu.HeaderLen)
	_, err := io.ReadFull(e.br, b)
	return h, b, err
}

// expect reads the next PDU and checks its id, status and sequence number.
func (e *esme) expect(id pdu.CommandID, st pdu.Status, seq uint32) []byte {
	e.t.Helper()
	h, b := e.read()
	if h.ID != id || h.Status != st || h.Seq != seq {
		e.t.Fatalf("got %v %v seq %d, want %v %v seq %d", h.ID, h.Status, h.Seq, id, st, seq)
	}
	return b
}

// call sends a request and expects its response with status st.
func (e *esme) call(id pdu.CommandID, body pdu.Body, st pdu.Status) []byte {
	e.t.Helper()
	seq := e.send(id, body)
	return e.expect(id.Response(), st, seq)
}

func (e *esme) bind(id pdu.CommandID, user, pass string, st pdu.Status) {
	e.t.Helper()
	e.call(id, &pdu.Bind{SystemID: []byte(user), Password: []byte(pass), InterfaceVersion: 0x34}, st)
}

// submit sends a submit_sm and returns the message id (empty on error).
func (e *esme) submit(sm *pdu.SubmitSM, st pdu.Status) string {
	e.t.Helper()
	b := e.call(pdu.CmdSubmitSM, sm, st)
	var r pdu.MessageIDResp
	if err := r.Unmarshal(b); err != nil {
		e.t.Fatalf("submit_sm_resp: %v", err)
	}
	return string(r.MessageID)
}

// closed reports whether the server closed the connection (EOF) before
// anything else arrived.
func (e *esme) closed(within time.Duration) bool {
	e.c.SetReadDeadline(time.Now().Add(within))
	defer e.c.SetReadDeadline(time.Time{})
	_, _, err := e.tryRead()
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe)
}

func textSM(dest, text string) *pdu.SubmitSM {
	return &pdu.SubmitSM{Source: pdu.Addr{TON: 5, Addr: []byte("SimLab")},
		Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte(dest)}, ShortMessage: []byte(text)}
}
