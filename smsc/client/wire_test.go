package client

import (
	"bytes"
	"testing"
)

// TestDeliverRoundTrip encodes a deliver_sm (SMPP v3.4 §4.6.1) and decodes
// it back, short and with message_payload (§5.3.2.32).
func TestDeliverRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 10, 254, 255, 600} {
		m := &Message{ServiceType: "CMT", Source: Address{1, 1, "999000001"}, Dest: Address{0, 0, "12345"}, ESMClass: 0x04,
			ProtocolID: 0x7F, DataCoding: 0xF6, ShortMessage: bytes.Repeat([]byte{0xA5}, n),
			TLVs: []TLV{{TagReceiptedMessageID, []byte("42\x00")}, {TagMessageState, []byte{2}}}}
		pdu := appendSM(nil, cmdDeliverSM, 7, m)
		h := parseHeader(pdu)
		if int(h.length) != len(pdu) || h.id != cmdDeliverSM || h.seq != 7 {
			t.Fatalf("header %+v", h)
		}
		got, err := decodeSM(pdu[16:])
		if err != nil {
			t.Fatal(err)
		}
		if got.ServiceType != "CMT" || got.Source != m.Source || got.Dest != m.Dest || got.ESMClass != 4 || got.ProtocolID != 0x7F ||
			got.DataCoding != 0xF6 || !bytes.Equal(got.ShortMessage, m.ShortMessage) || string(got.TLV(TagReceiptedMessageID)) != "42\x00" {
			t.Fatalf("n=%d: %+v", n, got)
		}
	}
	// A truncated body says where it stopped.
	pdu := appendSM(nil, cmdDeliverSM, 1, &Message{ShortMessage: []byte("abc")})
	if _, err := decodeSM(pdu[16 : len(pdu)-2]); err == nil {
		t.Fatal("truncated deliver_sm accepted")
	}
}

func FuzzDecodeSM(f *testing.F) {
	f.Add(appendSM(nil, cmdDeliverSM, 1, &Message{Source: Address{1, 1, "999"}, ShortMessage: []byte("id:1 stat:DELIVRD"), ESMClass: 4})[16:])
	f.Add(appendSM(nil, cmdDeliverSM, 1, &Message{ShortMessage: make([]byte, 300)})[16:])
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeSM(body)
		if err != nil {
			return
		}
		// What decodes re-encodes to something that decodes the same.
		again, err := decodeSM(appendSM(nil, cmdDeliverSM, 1, m)[16:])
		if err != nil {
			t.Fatalf("re-encoded deliver_sm does not decode: %v", err)
		}
		if !bytes.Equal(again.ShortMessage, m.ShortMessage) || again.Source != m.Source || again.Dest != m.Dest {
			t.Fatalf("round trip changed the message")
		}
		receiptFrom(m)
	})
}
