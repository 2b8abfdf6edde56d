package simtest_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// rawBind is an SMPP client that does only what a test tells it: unlike
// smsc/client, it can ignore an unbind.
type rawBind struct {
	t   *testing.T
	c   net.Conn
	br  *bufio.Reader
	seq uint32
}

func (r *rawBind) send(id pdu.CommandID, body pdu.Body) uint32 {
	r.t.Helper()
	r.seq++
	if _, err := r.c.Write(pdu.Append(nil, id, 0, r.seq, body)); err != nil {
		r.t.Fatalf("write %v: %v", id, err)
	}
	return r.seq
}

// next reads the next PDU; enquire_link is answered on the way.
func (r *rawBind) next() (pdu.Header, error) {
	for {
		var hb [pdu.HeaderLen]byte
		if _, err := io.ReadFull(r.br, hb[:]); err != nil {
			return pdu.Header{}, err
		}
		h, err := pdu.DecodeHeader(hb[:])
		if err != nil || h.Length < pdu.HeaderLen || h.Length > 1<<16 {
			return h, errors.New("bad header")
		}
		if _, err := r.br.Discard(int(h.Length - pdu.HeaderLen)); err != nil {
			return h, err
		}
		if h.ID == pdu.CmdEnquireLink {
			r.c.Write(pdu.Append(nil, pdu.CmdEnquireLinkResp, 0, h.Seq, nil))
			continue
		}
		return h, nil
	}
}

// await reads until a PDU of id arrives and returns it.
func (r *rawBind) await(id pdu.CommandID) pdu.Header {
	r.t.Helper()
	for {
		h, err := r.next()
		if err != nil {
			r.t.Fatalf("waiting for %v: %v", id, err)
		}
		if h.ID == id {
			return h
		}
	}
}

// TestNamespaceDeleteIgnoredUnbind: a bind of a deleted namespace that
// ignores its unbind may submit no more (ESME_RINVBNDSTS: the namespace's
// capture gets nothing after the DELETE) and the server closes it
// smsc.RemovedAccountGrace later, not at the ordinary timeouts.
func TestNamespaceDeleteIgnoredUnbind(t *testing.T) {
	t.Parallel()
	_, s, _, _ := sharedCIServer(t)
	api := s.API()
	ctx := t.Context()
	ns, err := api.CreateNamespace(ctx, apiclient.NamespaceRequest{Label: t.Name()})
	if err != nil {
		t.Fatalf("POST namespace: %v", err)
	}
	c, err := net.Dial("tcp", s.SMPPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	r := &rawBind{t: t, c: c, br: bufio.NewReader(c)}
	r.send(pdu.CmdBindTransceiver, &pdu.Bind{SystemID: []byte(ns.Name), Password: []byte(ns.SMPPPassword), InterfaceVersion: 0x34})
	if h := r.await(pdu.CmdBindTransceiverResp); h.Status != pdu.StatusOK {
		t.Fatalf("bind: %v", h.Status)
	}
	sm := func(text string) *pdu.SubmitSM {
		return &pdu.SubmitSM{Source: pdu.Addr{TON: 1, NPI: 1, Addr: []byte(ns.Source)},
			Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("4412345678")}, ShortMessage: []byte(text)}
	}
	r.send(pdu.CmdSubmitSM, sm("before"))
	if h := r.await(pdu.CmdSubmitSMResp); h.Status != pdu.StatusOK {
		t.Fatalf("submit before the DELETE: %v", h.Status)
	}

	if _, err := api.DeleteNamespace(ctx, ns.Name); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	r.await(pdu.CmdUnbind) // ignored
	r.send(pdu.CmdSubmitSM, sm("after"))
	if h := r.await(pdu.CmdSubmitSMResp); h.Status != pdu.StatusInvBndSts {
		t.Errorf("submit after the DELETE: %v, want ESME_RINVBNDSTS", h.Status)
	}
	for {
		if _, err := r.next(); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				break
			}
			t.Fatalf("waiting for the close: %v", err)
		}
	}
	if d := time.Since(deleted); d < smsc.RemovedAccountGrace-time.Second || d > smsc.RemovedAccountGrace+10*time.Second {
		t.Errorf("closed %v after the DELETE, want about %v", d, smsc.RemovedAccountGrace)
	}
	list, err := api.WithNamespace(ns.Name).Messages(ctx, apiclient.ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Messages) != 1 || list.Messages[0].Text == nil || *list.Messages[0].Text != "before" {
		t.Errorf("the deleted namespace's capture: %+v, want only the message sent before the DELETE", list.Messages)
	}
}
