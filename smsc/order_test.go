package smsc_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// received is one PDU a test's ESME read: its command and, for a receipt
// or intermediate notification, its receipted_message_id.
type received struct {
	id        pdu.CommandID
	receipted string
}

// pdus reads the PDUs e's peer writes, answering deliver_sm, and sends
// each on the channel until the connection ends.
func (e *esme) pdus() <-chan received {
	ch := make(chan received, 64)
	go func() {
		defer close(ch)
		for {
			h, body, err := e.tryRead()
			if err != nil {
				return
			}
			r := received{id: h.ID}
			if h.ID == pdu.CmdDeliverSM {
				e.raw(pdu.Append(nil, pdu.CmdDeliverSMResp, 0, h.Seq, &pdu.MessageIDResp{}))
				var d pdu.DeliverSM
				if d.Unmarshal(body) == nil && d.ESMClass&0x24 != 0 {
					id, _ := d.TLVs.CString(pdu.TagReceiptedMessageID)
					r.receipted = string(id)
				}
			}
			ch <- r
		}
	}()
	return ch
}

// TestReceiptAfterResponse: an ESME with a transmitter and a receiver bind
// gets no receipt (nor intermediate notification) on the receiver before
// the submit_sm_resp has been written to the transmitter's socket, even
// when the sink finishes at once — inline (capture), through the queue, or
// failing at once with an intermediate notification asked for — and for
// submit_sm, data_sm and submit_multi; then it comes ReceiptDelay after
// the response (default 50 ms, negative none). The transmitter is a net.Pipe the
// test does not read: the server's write of the response blocks until it
// does, and in a synctest bubble "the receiver got nothing while it was
// blocked" is a fact, not a timing.
func TestReceiptAfterResponse(t *testing.T) {
	for _, c := range []struct {
		name   string
		sink   smsc.Sink
		rd     uint8
		cmd    pdu.CommandID
		dests  int
		expect int           // receipts (and notifications) per destination
		delay  time.Duration // Server.ReceiptDelay
	}{
		{"inline sink", smsc.Accept, 1, pdu.CmdSubmitSM, 1, 1, 0},
		{"queued sink", smsc.SinkFunc(func(context.Context, *smsc.Message) error { return nil }), 1, pdu.CmdSubmitSM, 1, 1, 0},
		{"intermediate notification", &failOnce{}, 0x10, pdu.CmdSubmitSM, 1, 1, 0},
		{"data_sm", smsc.Accept, 1, pdu.CmdDataSM, 1, 1, 0},
		{"submit_multi", smsc.SinkFunc(func(context.Context, *smsc.Message) error { return nil }), 1, pdu.CmdSubmitMulti, 2, 1, 0},
		{"no ReceiptDelay", smsc.Accept, 1, pdu.CmdSubmitSM, 1, 1, -1},
		{"ReceiptDelay 1s", smsc.Accept, 1, pdu.CmdSubmitSM, 1, 1, time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				routes := &smsc.Routes{}
				routes.AddPrefix("", c.sink)
				srv := &smsc.Server{Router: routes, ReceiptDelay: c.delay}
				defer shutdown(t, srv)
				rx := bound(t, srv, pdu.CmdBindReceiver, "app", "")
				tx := bound(t, srv, pdu.CmdBindTransmitter, "app", "")
				got := rx.pdus()

				src := pdu.Addr{TON: 5, Addr: []byte("SimLab")}
				dst := pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99900000501")}
				var body pdu.Body
				switch c.cmd {
				case pdu.CmdSubmitSM:
					body = &pdu.SubmitSM{Source: src, Dest: dst, RegisteredDelivery: c.rd, ShortMessage: []byte("code 1234")}
				case pdu.CmdDataSM:
					body = &pdu.DataSM{Source: src, Dest: dst, RegisteredDelivery: c.rd,
						TLVs: pdu.TLVs{{Tag: pdu.TagMessagePayload, Value: []byte("code 1234")}}}
				case pdu.CmdSubmitMulti:
					body = &pdu.SubmitMulti{Source: src, RegisteredDelivery: c.rd, ShortMessage: []byte("code 1234"),
						Dests: []pdu.MultiDest{{Flag: pdu.DestSMEAddress, Addr: dst}, {Flag: pdu.DestSMEAddress, Addr: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99900000502")}}}}
				}
				seq := tx.send(c.cmd, body)
				synctest.Wait() // the server is blocked writing the response
				select {
				case r := <-got:
					t.Fatalf("the receiver got %v before the transmitter's response was written", r.id)
				default:
				}
				resp := tx.expect(c.cmd.Response(), pdu.StatusOK, seq)
				written := time.Now()
				id := string(resp[:len(resp)-1])
				if c.cmd == pdu.CmdSubmitMulti {
					id = string(resp[:len(resp)-2]) // message_id, no_unsuccess 0
				}
				for range c.dests * c.expect {
					if r := <-got; r.id != pdu.CmdDeliverSM || r.receipted != id {
						t.Fatalf("receiver: %v for %q, want the receipt of %s", r.id, r.receipted, id)
					}
				}
				// And ReceiptDelay after it, for ESMEs that read the two
				// binds on two threads.
				want := max(c.delay, 0)
				if c.delay == 0 {
					want = smsc.DefaultReceiptDelay
				}
				if d := time.Since(written); d != want {
					t.Errorf("receipt %v after the response, want %v", d, want)
				}
			})
		})
	}
}

// TestReceiptSameSession: a transceiver gets its receipt right behind the
// response, in the same write: no ReceiptDelay within one socket.
func TestReceiptSameSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{}
		defer shutdown(t, srv)
		trx := bound(t, srv, pdu.CmdBindTransceiver, "app", "")
		sm := textSM("99900000503", "code 1234")
		sm.RegisteredDelivery = 1
		start := time.Now()
		id := trx.submit(sm, pdu.StatusOK)
		trx.receiptFor(id)
		if d := time.Since(start); d != 0 {
			t.Errorf("receipt %v after the submit, want at once", d)
		}
	})
}

// failOnce is a sink whose first delivery fails (absent subscriber) at
// once; later ones succeed.
type failOnce struct{ failed bool }

func (f *failOnce) Deliver(context.Context, *smsc.Message) error {
	if !f.failed {
		f.failed = true
		return smsc.ErrAbsent
	}
	return nil
}
