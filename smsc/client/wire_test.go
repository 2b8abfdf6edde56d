package client

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// TestSubmitVector encodes the submit_sm laid out field by field from SMPP
// v3.4 §4.4.1 (the vector of smsc/pdu's tests) and decodes it back.
func TestSubmitVector(t *testing.T) {
	t.Parallel()
	const want = "00000037 00000004 00000000 00000005" +
		"00" + "05 00 53696d4c616200" + "01 01 393939303030303030303100" +
		"00 00 00" + "00" + "00" + "01 00 00 00" + "05 48656c6c6f"
	m := &Message{Source: Address{5, 0, "SimLab"}, Dest: Address{1, 1, "99900000001"}, RegisteredDelivery: 1, ShortMessage: []byte("Hello")}
	got := appendSM(nil, pdu.CmdSubmitSM, 5, m)
	if hex.EncodeToString(got) != strings.ReplaceAll(want, " ", "") {
		t.Fatalf("submit_sm\n got %x\nwant %s", got, want)
	}
	var d decoder
	back, err := d.decode(pdu.CmdDeliverSM, got[pdu.HeaderLen:])
	if err != nil || back.Source != m.Source || back.Dest != m.Dest || back.RegisteredDelivery != 1 || string(back.ShortMessage) != "Hello" || back.TLVs != nil {
		t.Fatalf("decoded %+v, %v", back, err)
	}
}

// TestDeliverRoundTrip encodes a deliver_sm (SMPP v3.4 §4.6.1) and decodes
// it back, short and with message_payload (§5.3.2.32).
func TestDeliverRoundTrip(t *testing.T) {
	t.Parallel()
	var d decoder
	for _, n := range []int{0, 10, 254, 255, 600} {
		m := &Message{ServiceType: "CMT", Source: Address{1, 1, "999000001"}, Dest: Address{0, 0, "12345"}, ESMClass: 0x04,
			ProtocolID: 0x7F, DataCoding: 0xF6, ShortMessage: bytes.Repeat([]byte{0xA5}, n),
			TLVs: []TLV{{TagReceiptedMessageID, []byte("42\x00")}, {TagMessageState, []byte{2}}}}
		raw := appendSM(nil, pdu.CmdDeliverSM, 7, m)
		h, _ := pdu.DecodeHeader(raw)
		if int(h.Length) != len(raw) || h.ID != pdu.CmdDeliverSM || h.Seq != 7 {
			t.Fatalf("header %+v", h)
		}
		// sm_length follows service_type (4), the two addresses (12, 8),
		// esm_class..priority_flag (3), the two empty times (2) and four
		// one-octet fields.
		if smLen := raw[pdu.HeaderLen+4+12+8+3+2+4]; (n > 254 && smLen != 0) || (n <= 254 && int(smLen) != n) {
			t.Fatalf("n=%d: sm_length %d", n, smLen)
		}
		got, err := d.decode(pdu.CmdDeliverSM, raw[pdu.HeaderLen:])
		if err != nil {
			t.Fatal(err)
		}
		if got.ServiceType != "CMT" || got.Source != m.Source || got.Dest != m.Dest || got.ESMClass != 4 || got.ProtocolID != 0x7F ||
			got.DataCoding != 0xF6 || !bytes.Equal(got.ShortMessage, m.ShortMessage) || string(got.TLV(TagReceiptedMessageID)) != "42\x00" ||
			len(got.TLVs) != 2 {
			t.Fatalf("n=%d: %+v", n, got)
		}
	}
	// A truncated body says where it stopped.
	raw := appendSM(nil, pdu.CmdDeliverSM, 1, &Message{ShortMessage: []byte("abc")})
	_, err := d.decode(pdu.CmdDeliverSM, raw[pdu.HeaderLen:len(raw)-2])
	var de *pdu.DecodeError
	if !errors.Is(err, ErrMalformed) || !errors.As(err, &de) || de.Field != "short_message" {
		t.Fatalf("truncated deliver_sm: %v", err)
	}
}

// TestDecodeLenient: what an SMSC sends beyond SMPP v3.4's size limits
// (a 6-character service_type, a 40-digit address, a 2-octet
// message_state) is accepted, and the decoded message owns its memory.
func TestDecodeLenient(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("1", 40)
	m := &Message{ServiceType: "WAPPSH", Source: Address{1, 1, long}, ShortMessage: []byte("MO"),
		TLVs: []TLV{{TagMessageState, []byte{0, 2}}, {0x1400, nil}}}
	raw := appendSM(nil, pdu.CmdDeliverSM, 1, m)
	var d decoder
	got, err := d.decode(pdu.CmdDeliverSM, raw[pdu.HeaderLen:])
	if err != nil || got.ServiceType != "WAPPSH" || got.Source.Addr != long || len(got.TLV(TagMessageState)) != 2 {
		t.Fatalf("%+v, %v", got, err)
	}
	if v := got.TLV(0x1400); v == nil || len(v) != 0 {
		t.Fatalf("empty TLV: %#v", v)
	}
	for i := range raw {
		raw[i] = 0xEE
	}
	if string(got.ShortMessage) != "MO" || got.TLV(TagMessageState)[1] != 2 {
		t.Fatal("decoded message aliases the read buffer")
	}
}

// TestDecodeDataSM decodes a data_sm (SMPP v3.4 §4.7.1): the text travels in
// message_payload, other TLVs are kept in order.
func TestDecodeDataSM(t *testing.T) {
	t.Parallel()
	ds := pdu.DataSM{ServiceType: []byte("CMT"), Source: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("999000001")},
		Dest: pdu.Addr{Addr: []byte("12345")}, ESMClass: 0x04, DataCoding: 8,
		TLVs: pdu.TLVs{{Tag: pdu.TagReceiptedMessageID, Value: []byte("9\x00")}, {Tag: pdu.TagMessagePayload, Value: []byte("id:9 stat:DELIVRD")}}}
	var d decoder
	got, err := d.decode(pdu.CmdDataSM, ds.AppendBody(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.ServiceType != "CMT" || got.Source != (Address{1, 1, "999000001"}) || got.DataCoding != 8 ||
		string(got.ShortMessage) != "id:9 stat:DELIVRD" || len(got.TLVs) != 1 || receiptFrom(got).ID != "9" {
		t.Fatalf("%+v", got)
	}
}

// TestEncodeNoAlloc: encoding a submit_sm into a grown buffer does not
// allocate (the load generator encodes one per message).
func TestEncodeNoAlloc(t *testing.T) {
	m := &Message{ServiceType: "CMT", Source: Address{5, 0, "SIMLAB"}, Dest: Address{1, 1, "999000009"},
		ShortMessage: []byte("Your code is 123456"), TLVs: []TLV{{TagSarMsgRefNum, []byte{0, 1}}}}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf = appendSM(buf[:0], pdu.CmdSubmitSM, 1, m) }); n != 0 {
		t.Errorf("%v allocations per submit_sm", n)
	}
}

func TestStatusName(t *testing.T) {
	t.Parallel()
	for s, want := range map[uint32]string{StatusOK: "ESME_ROK", StatusThrottled: "ESME_RTHROTTLED", StatusMsgQFull: "ESME_RMSGQFUL",
		StatusDeliverFail: "ESME_RDELIVERYFAILURE", 0x09: "reserved/vendor", 0x400: "reserved/vendor"} {
		if got := StatusName(s); got != want {
			t.Errorf("StatusName(%#x) = %q, want %q", s, got, want)
		}
	}
}

func BenchmarkAppendSM(b *testing.B) {
	m := &Message{Source: Address{5, 0, "SIMLAB"}, Dest: Address{1, 1, "999000009"}, ShortMessage: []byte("Your code is 123456")}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = appendSM(buf[:0], pdu.CmdSubmitSM, uint32(i), m)
	}
}

func BenchmarkDecodeDeliver(b *testing.B) {
	m := &Message{Source: Address{1, 1, "999000009"}, Dest: Address{5, 0, "SIMLAB"}, ESMClass: 0x04,
		ShortMessage: []byte("id:42 sub:001 dlvrd:001 submit date:2511220100 done date:2511220100 stat:DELIVRD err:000 text:Your code"),
		TLVs:         []TLV{{TagReceiptedMessageID, []byte("42\x00")}, {TagMessageState, []byte{2}}}}
	body := appendSM(nil, pdu.CmdDeliverSM, 1, m)[pdu.HeaderLen:]
	var d decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.decode(pdu.CmdDeliverSM, body); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzDecodeSM(f *testing.F) {
	f.Add(appendSM(nil, pdu.CmdDeliverSM, 1, &Message{Source: Address{1, 1, "999"}, ShortMessage: []byte("id:1 stat:DELIVRD"), ESMClass: 4})[16:])
	f.Add(appendSM(nil, pdu.CmdDeliverSM, 1, &Message{ShortMessage: make([]byte, 300)})[16:])
	f.Fuzz(func(t *testing.T, body []byte) {
		var d decoder
		m, err := d.decode(pdu.CmdDeliverSM, body)
		if err != nil {
			return
		}
		// What decodes re-encodes to something that decodes the same.
		again, err := d.decode(pdu.CmdDeliverSM, appendSM(nil, pdu.CmdDeliverSM, 1, m)[16:])
		if err != nil {
			t.Fatalf("re-encoded deliver_sm does not decode: %v", err)
		}
		if !bytes.Equal(again.ShortMessage, m.ShortMessage) || again.Source != m.Source || again.Dest != m.Dest || len(again.TLVs) != len(m.TLVs) {
			t.Fatalf("round trip changed the message")
		}
		receiptFrom(m)
	})
}
