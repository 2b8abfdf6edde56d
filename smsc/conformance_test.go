package smsc_test

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// TestBadCommandLengthNack: a command_length out of range is answered with
// generic_nack ESME_RINVCMDLEN (SMPP 3.4 §4.3 and §5.1.3) carrying the
// header's sequence number, and only then is the connection closed.
func TestBadCommandLengthNack(t *testing.T) {
	t.Parallel()
	addr := startServer(t, &smsc.Server{MaxCommandLen: 4096})
	for _, tc := range []struct {
		name string
		raw  []byte
		seq  uint32
	}{
		{"shorter than the header", []byte{0, 0, 0, 8, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7}, 7},
		{"above MaxCommandLen", []byte{0, 1, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9}, 9},
		{"an HTTP request", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0x2e310d0a},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(tc.raw)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		var hb [pdu.HeaderLen]byte
		if _, err := io.ReadFull(br, hb[:]); err != nil {
			t.Fatalf("%s: no generic_nack before closing: %v", tc.name, err)
		}
		h, _ := pdu.DecodeHeader(hb[:])
		if h.ID != pdu.CmdGenericNack || h.Status != pdu.StatusInvCmdLen || h.Seq != tc.seq || h.Length != pdu.HeaderLen {
			t.Errorf("%s: got %+v, want generic_nack ESME_RINVCMDLEN seq %d", tc.name, h, tc.seq)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("%s: connection not closed after the nack: %v", tc.name, err)
		}
		c.Close()
	}
}

// TestEmptyBodyRequests: enquire_link and unbind have no body (SMPP 3.4
// §4.11.1, §4.2.1); one with a body is a bad command_length.
func TestEmptyBodyRequests(t *testing.T) {
	t.Parallel()
	e := dialESME(t, startServer(t, &smsc.Server{}))
	e.bind(pdu.CmdBindTransceiver, "c", "p", pdu.StatusOK)
	withBody := func(id pdu.CommandID, seq uint32) []byte {
		b := pdu.AppendHeader(nil, pdu.Header{ID: id, Seq: seq})
		b = append(b, "xyz"...)
		pdu.SetLength(b, 0)
		return b
	}
	e.raw(withBody(pdu.CmdEnquireLink, 41))
	e.expect(pdu.CmdGenericNack, pdu.StatusInvCmdLen, 41)
	e.raw(withBody(pdu.CmdUnbind, 42))
	e.expect(pdu.CmdGenericNack, pdu.StatusInvCmdLen, 42)
	// Still bound: the well-formed ones work.
	e.call(pdu.CmdEnquireLink, nil, pdu.StatusOK)
	e.submit(textSM("99900000001", "still bound"), pdu.StatusOK)
}

// TestAddressConformance: a destination that is not digits under TON 1 /
// NPI 1 (E.164) is ESME_RINVDSTADR; an alphanumeric source longer than the
// 11 characters GSM carries (3GPP TS 23.040 §9.1.2.5) is ESME_RINVSRCADR.
func TestAddressConformance(t *testing.T) {
	t.Parallel()
	e := dialESME(t, startServer(t, &smsc.Server{}))
	e.bind(pdu.CmdBindTransceiver, "c", "p", pdu.StatusOK)
	sm := func(src pdu.Addr, dst pdu.Addr) *pdu.SubmitSM {
		return &pdu.SubmitSM{Source: src, Dest: dst, ShortMessage: []byte("x")}
	}
	intl := func(a string) pdu.Addr { return pdu.Addr{TON: 1, NPI: 1, Addr: []byte(a)} }
	alnum := func(a string) pdu.Addr { return pdu.Addr{TON: 5, Addr: []byte(a)} }
	for _, tc := range []struct {
		name     string
		src, dst pdu.Addr
		want     pdu.Status
	}{
		{"international digits", intl("41790000001"), intl("99900000001"), pdu.StatusOK},
		{"international with a plus", intl("+41790000001"), intl("+99900000001"), pdu.StatusOK},
		{"letters as an international destination", alnum("SimLab"), intl("abc"), pdu.StatusInvDstAdr},
		{"a plus alone", alnum("SimLab"), intl("+"), pdu.StatusInvDstAdr},
		{"national destination with a letter", alnum("SimLab"), pdu.Addr{TON: 2, NPI: 1, Addr: []byte("07900x")}, pdu.StatusInvDstAdr},
		{"unknown TON, ISDN plan, letters", alnum("SimLab"), pdu.Addr{NPI: 1, Addr: []byte("abc")}, pdu.StatusInvDstAdr},
		{"short code, unknown TON and NPI", alnum("SimLab"), pdu.Addr{Addr: []byte("12345")}, pdu.StatusOK},
		{"11-character alphanumeric source", alnum("ABCDEFGHIJK"), intl("99900000001"), pdu.StatusOK},
		{"12-character alphanumeric source", alnum("ABCDEFGHIJKL"), intl("99900000001"), pdu.StatusInvSrcAdr},
		{"letters as an international source", intl("4179abc"), intl("99900000001"), pdu.StatusInvSrcAdr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := statusOf(e, sm(tc.src, tc.dst)); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// statusOf submits sm and returns the response's command_status.
func statusOf(e *esme, sm *pdu.SubmitSM) pdu.Status {
	e.t.Helper()
	seq := e.send(pdu.CmdSubmitSM, sm)
	h, _ := e.read()
	if h.Seq != seq || h.ID != pdu.CmdSubmitSMResp {
		e.t.Fatalf("got %v seq %d, want submit_sm_resp seq %d", h.ID, h.Seq, seq)
	}
	return h.Status
}
