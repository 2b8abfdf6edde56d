package atmodem

import (
	"bytes"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/warthog618/sms/encoding/tpdu"
)

// TestDeliverAllOrNothing: a deliver_sm whose parts do not all fit in the
// modem's queue is refused with ESME_RX_T_APPN and none of its parts is
// queued (the SMSC's retry would deliver those twice); a receipt refused
// for want of room keeps the submitted message's record, so the retry
// still becomes its status report (review 1, L6).
func TestDeliverAllOrNothing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	b := &SMPPBackend{in: make(chan Incoming, 4), reports: map[string]sentMessage{}, early: map[string]*client.Receipt{},
		Now: func() time.Time { return now }}
	var got []uint32
	respond := func(st uint32) { got = append(got, st) }
	b.in <- Incoming{TPDU: []byte{1}}
	b.in <- Incoming{TPDU: []byte{2}}

	// Three parts, two free places.
	m := client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "99955500"}, Dest: client.Address{TON: 1, NPI: 1, Addr: "999001234567"},
		DataCoding: 0x04, TLVs: []client.TLV{{Tag: 0x0424, Value: bytes.Repeat([]byte{0x42}, 300)}}}
	if tps, err := DeliverFromSMPP(&m, now, 1); err != nil || len(tps) != 3 {
		t.Fatalf("the message is %d parts (%v), want 3", len(tps), err)
	}
	b.onDeliver(&client.Deliver{Message: m}, respond)
	if len(got) != 1 || got[0] != client.StatusXTAppn || len(b.in) != 2 {
		t.Fatalf("3 parts for 2 places: responses %v, %d queued, want ESME_RX_T_APPN and none queued", got, len(b.in)-2)
	}

	// A receipt with the queue full: refused, then taken on the retry.
	b.in <- Incoming{TPDU: []byte{3}}
	b.in <- Incoming{TPDU: []byte{4}}
	b.reports["m1"] = sentMessage{mr: 7, ra: tpdu.NewAddress(tpdu.FromNumber("+999001234568"))}
	rc := &client.Deliver{Receipt: &client.Receipt{ID: "m1", Stat: "DELIVRD", DoneDate: now}}
	got = nil
	b.onDeliver(rc, respond)
	if len(got) != 1 || got[0] != client.StatusXTAppn {
		t.Fatalf("receipt with the queue full: %v, want ESME_RX_T_APPN", got)
	}
	<-b.in
	got = nil
	b.onDeliver(rc, respond)
	if len(got) != 1 || got[0] != client.StatusOK || len(b.in) != 4 {
		t.Fatalf("the receipt's retry: responses %v, %d queued, want ESME_ROK and its status report", got, len(b.in))
	}
	for range 3 {
		<-b.in
	}
	if sr := (<-b.in).TPDU; len(sr) < 3 || sr[0]&0x03 != 0x02 || sr[1] != 7 {
		t.Fatalf("queued % X, want the SMS-STATUS-REPORT of message reference 7", sr)
	}
}
