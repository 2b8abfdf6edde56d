package smsc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	wtpdu "github.com/warthog618/sms/encoding/tpdu"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

func TestDecodeText(t *testing.T) {
	cases := []struct {
		name string
		dcs  uint8
		body []byte
		want string
		ok   bool
	}{
		// TS 23.038 §6.2.1: '@' is 0x00, '€' is ESC 0x65 in the extension table.
		{"gsm7 with extension", 0x00, []byte{0x00, 0x20, 0x1B, 0x65, 0x20, 0x1B, 0x28, 0x31, 0x1B, 0x29}, "@ € {1}", true},
		{"gsm7 class 2 group F", 0xF2, []byte{0x48, 0x69}, "Hi", true},
		{"ucs2", 0x08, []byte{0x04, 0x1F, 0x04, 0x40, 0xD8, 0x3D, 0xDE, 0x00}, "Пр😀", true},
		{"latin1", 0x03, []byte{'c', 0xE9, 0xE0}, "céà", true},
		{"ia5", 0x01, []byte("ascii"), "ascii", true},
		{"iso-8859-5", 0x06, []byte{0xBF, 0xE0, 0xD8}, "При", true},
		{"binary 4", 0x04, []byte{1, 2}, "", false},
		{"binary F6 class 2", 0xF6, []byte{1, 2}, "", false},
	}
	for _, c := range cases {
		got, ok := DecodeText(c.dcs, c.body)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: DecodeText = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestEncodeText(t *testing.T) {
	dcs, b := EncodeText("Code: 1234 €")
	if dcs != 0 || !bytes.Equal(b, []byte("Code: 1234 \x1b\x65")) {
		t.Errorf("gsm7: dcs %d % x", dcs, b)
	}
	dcs, b = EncodeText("Код 12")
	if dcs != 8 || len(b) != 12 {
		t.Errorf("ucs2 fallback: dcs %d % x", dcs, b)
	}
	if txt, _ := DecodeText(dcs, b); txt != "Код 12" {
		t.Errorf("round trip %q", txt)
	}
}

func TestConcatAndDownload(t *testing.T) {
	if c, ok := ConcatFromUDH([]byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01}); !ok || c != (Concat{Ref: 0x2A, Total: 2, Seq: 1}) {
		t.Errorf("8-bit ref: %+v %v", c, ok)
	}
	if c, ok := ConcatFromUDH([]byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03}); !ok || c != (Concat{Ref: 0x1234, Total: 3, Seq: 3, Wide: true}) {
		t.Errorf("16-bit ref: %+v %v", c, ok)
	}
	if _, ok := ConcatFromUDH([]byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x03}); ok {
		t.Error("seq beyond total accepted")
	}
	if _, ok := ConcatFromUDH([]byte{0x07, 0x00, 0x03}); ok {
		t.Error("truncated UDH accepted")
	}
	// applet/ota/testdata/vectors.txt (pySim test_sms.py): UDH 0571007001ff holds IEI 71 and 70.
	udh := []byte{0x05, 0x71, 0x00, 0x70, 0x01, 0xFF}
	for _, c := range []struct {
		pid, dcs uint8
		udh      []byte
		want     bool
	}{
		{0x7F, 0xF6, []byte{0x02, 0x70, 0x00}, true},
		{0x7F, 0x16, nil, true},
		{0x00, 0xF6, udh, true},
		{0x00, 0x16, []byte{0x02, 0x70, 0x00}, true},
		{0x00, 0xF6, nil, false},
		{0x00, 0xF5, udh, false}, // class 1
		{0x00, 0x00, udh, false},
	} {
		if got := IsSIMDownload(c.pid, c.dcs, c.udh); got != c.want {
			t.Errorf("IsSIMDownload(%#x, %#x, % x) = %v", c.pid, c.dcs, c.udh, got)
		}
	}
}

// TestDeliverTPDUVector builds the SMS-DELIVER of applet/ota/testdata/vectors.txt (pySim
// test_ota.py, 3DES-SJA5-CIPHERED-CC, with the spec-correct TP-UDL 0x25).
// Our first octet also sets TP-MMS (0x04, "no more messages waiting",
// TS 23.040 §9.2.3.2), which the vector leaves clear.
func TestDeliverTPDUVector(t *testing.T) {
	want, _ := hex.DecodeString("400881214365877ff6227052000000002502700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f")
	want[0] |= 0x04
	ud := want[len(want)-0x25:]
	m := &Message{ID: "1", Source: Address{TON: 0, NPI: 1, Addr: "12345678"}, PID: 0x7F, DCS: 0xF6,
		ESMClass: 0x40, UDH: ud[:3], Body: ud[3:]}
	got, err := DeliverTPDU(m, time.Date(2022, 7, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Errorf("TPDU\n %x\nwant\n %x", got, want)
	}
}

// TestDeliverTPDUAddresses checks TP-OA encodings (TS 23.040 §9.1.2.5) and
// reads each SMS-DELIVER back with smsc/tpdu: a '+' number is international
// ISDN whatever the TON, an alphanumeric sender is packed GSM 7-bit (at most
// 11 characters), and a GSM 7-bit body that is empty after a UDH still
// carries the octet its fill bits start (TS 23.040 §9.2.3.24).
func TestDeliverTPDUAddresses(t *testing.T) {
	scts := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		src  Address
		want tpdu.Address
	}{
		{Address{TON: 0, NPI: 0, Addr: "+4915112345678"}, tpdu.Address{TON: 1, NPI: 1, Number: "4915112345678"}},
		{Address{TON: 2, NPI: 8, Addr: "12345"}, tpdu.Address{TON: 2, NPI: 8, Number: "12345"}},
		{Address{TON: 5, Addr: "SimLab Bank"}, tpdu.Address{TON: 5, Number: "SimLab Bank"}},
	} {
		m := &Message{ID: "1", Source: c.src, ESMClass: 0x40, UDH: []byte{0x03, 0x24, 0x01, 0x01}}
		tps, err := DeliverTPDU(m, scts)
		if err != nil {
			t.Fatalf("%+v: %v", c.src, err)
		}
		got, err := tpdu.Parse(tps[0], tpdu.MT)
		if err != nil {
			t.Fatalf("%+v: %x does not parse: %v", c.src, tps[0], err)
		}
		if d := got.(*tpdu.Deliver); d.OA != c.want || len(d.UD.Header) != 1 || len(d.UD.Data) != 0 {
			t.Errorf("%+v: OA %+v UD %+v", c.src, d.OA, d.UD)
		}
	}
	for _, bad := range []Address{{TON: 5, Addr: "SimLab Bank 1"}, {Addr: "123456789012345678901"}, {Addr: "12x"}} {
		if _, err := DeliverTPDU(&Message{Source: bad}, scts); err == nil {
			t.Errorf("originator %+v accepted", bad)
		}
	}
}

// TestDeliverTPDULongText splits a long GSM 7-bit text into concatenated
// SMS-DELIVERs and reads them back with warthog618/sms as a second opinion.
func TestDeliverTPDULongText(t *testing.T) {
	text := strings.Repeat("0123456789", 20) + "€"
	dcs, body := EncodeText(text)
	m := &Message{ID: "77", Source: Address{TON: 1, NPI: 1, Addr: "+4915112345678"}, DCS: dcs, Body: body}
	tps, err := DeliverTPDU(m, time.Date(2026, 11, 22, 10, 0, 0, 0, time.FixedZone("", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tps) != 2 {
		t.Fatalf("%d parts, want 2", len(tps))
	}
	var all string
	for i, tp := range tps {
		var d wtpdu.TPDU
		if err := d.UnmarshalBinary(tp); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		n, seq, _, ok := d.ConcatInfo()
		if !ok || n != 2 || seq != i+1 {
			t.Errorf("part %d concat %d/%d %v", i, seq, n, ok)
		}
		if d.OA.Number() != "+4915112345678" {
			t.Errorf("OA %q", d.OA.Number())
		}
		b, err := wtpdu.DecodeUserData(d.UD, d.UDH, wtpdu.Alpha7Bit)
		if err != nil {
			t.Fatal(err)
		}
		all += string(b)
	}
	if all != text {
		t.Errorf("reassembled %q", all)
	}
}

func TestReceiptText(t *testing.T) {
	r := Receipt{ID: "1A2B", Sub: 1, Dlvrd: 1, SubmitDate: time.Date(2026, 11, 22, 10, 5, 0, 0, time.UTC),
		DoneDate: time.Date(2026, 11, 22, 10, 6, 0, 0, time.UTC), State: Delivered, Text: "Your code is 123456 and more"}
	want := "id:1A2B sub:001 dlvrd:001 submit date:2611221005 done date:2611221006 stat:DELIVRD err:000 text:Your code is 123456 "
	if got := r.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// Zero padding to three digits, wider numbers whole, text cut after 20
	// characters (not bytes).
	r2 := r
	r2.Sub, r2.Dlvrd, r2.Err, r2.Text = 12, 1234, 27, "Ünïcödé ✓ ünïcödé ✓ cut here"
	want2 := "id:1A2B sub:012 dlvrd:1234 submit date:2611221005 done date:2611221006 stat:DELIVRD err:027 text:Ünïcödé ✓ ünïcödé ✓ "
	if got := r2.String(); got != want2 {
		t.Errorf("got  %q\nwant %q", got, want2)
	}
	back, err := ParseReceipt(want)
	if err != nil || back.ID != r.ID || back.State != Delivered || !back.DoneDate.Equal(r.DoneDate) || back.Dlvrd != 1 {
		t.Errorf("parse: %+v %v", back, err)
	}
	// A peer's receipt with seconds in its dates and a failure.
	p, err := ParseReceipt("id:0123456789 sub:001 dlvrd:000 submit date:261122100500 done date:261122100600 stat:UNDELIV err:027 text:")
	if err != nil || p.State != Undeliverable || p.Err != 27 || p.SubmitDate.Second() != 0 {
		t.Errorf("peer receipt: %+v %v", p, err)
	}
	if _, err := ParseReceipt("hello"); err == nil {
		t.Error("non-receipt parsed")
	}
	// The tolerant parser (client.ParseReceiptText): any key case, an err:
	// that is not a number is left 0, "id:" must start a word.
	p, err = ParseReceipt("ID:7 Stat:delivrd Err:n/a Text:ok")
	if err != nil || p.ID != "7" || p.State != Delivered || p.Err != 0 || p.Text != "ok" {
		t.Errorf("tolerant parse: %+v %v", p, err)
	}
	if _, err := ParseReceipt("paid:12 stat:DELIVRD"); !errors.Is(err, ErrNotReceipt) {
		t.Errorf("id: inside a word: %v", err)
	}
}

func TestRoutes(t *testing.T) {
	b, c, d := &PhoneSink{}, &PhoneSink{}, &PhoneSink{}
	rt := &Routes{}
	rt.AddPrefix("999", b)
	r, _, err := ParseRange("99900000000-99900009999")
	if err != nil {
		t.Fatal(err)
	}
	rt.AddRange(r, c)
	rt.AddNumber("+99900000042", d)
	for _, tc := range []struct {
		addr string
		want Sink
	}{{"99900000042", d}, {"99900000043", c}, {"99900010000", b}, {"12345", nil}} {
		if got := rt.Route(&Message{Dest: Address{Addr: tc.addr}}); got != tc.want {
			t.Errorf("Route(%s) = %v", tc.addr, got)
		}
	}
	if _, pfx, err := ParseRange("4477*"); err != nil || pfx != "4477" {
		t.Errorf("prefix: %q %v", pfx, err)
	}
	for _, bad := range []string{"1-22", "9-1", "abc", ""} {
		if _, _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
}

func TestReassemble(t *testing.T) {
	part := func(seq uint8, body string) *Message {
		return &Message{Source: Address{Addr: "1"}, Dest: Address{Addr: "2"}, Body: []byte(body), Concat: &Concat{Ref: 9, Total: 3, Seq: seq, Wide: true}}
	}
	if r := Reassemble([]*Message{part(3, "c"), part(1, "a")}); r.Complete || r.Text != "ac" || r.Parts[1] != nil {
		t.Errorf("two of three parts: %+v", r)
	}
	if r := Reassemble([]*Message{part(3, "c"), part(1, "a"), part(2, "b"), part(2, "B")}); !r.Complete || r.Text != "abc" {
		t.Errorf("all parts (one twice): %+v", r)
	}
	if r := Reassemble([]*Message{{Body: []byte("solo")}}); !r.Complete || r.Text != "solo" {
		t.Errorf("single %+v", r)
	}
	a, okA := KeyOf(part(1, "a"))
	b, okB := KeyOf(part(2, "b"))
	other := part(1, "x")
	other.Concat.Ref = 10
	c, _ := KeyOf(other)
	if !okA || !okB || a != b || a == c {
		t.Errorf("keys %+v %+v %+v", a, b, c)
	}
	if _, ok := KeyOf(&Message{Body: []byte("solo")}); ok {
		t.Error("a message that is not concatenated has a key")
	}
}

func TestAlphanumericOA(t *testing.T) {
	m := &Message{ID: "1", Source: Address{TON: 5, Addr: "SimLab"}, DCS: 0, Body: []byte("hi")}
	tps, err := DeliverTPDU(m, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var d wtpdu.TPDU
	if err := d.UnmarshalBinary(tps[0]); err != nil {
		t.Fatal(err)
	}
	// 6 septets = 42 bits = 11 useful semi-octets.
	if tps[0][1] != 11 || d.OA.Number() != "SimLab" {
		t.Errorf("OA length %d, number %q", tps[0][1], d.OA.Number())
	}
}

// TestDeliverTPDULongPacket splits a command packet longer than one SMS:
// the IEI 0x70 stays in the first part only.
func TestDeliverTPDULongPacket(t *testing.T) {
	body := bytes.Repeat([]byte{0xAB}, 200)
	m := &Message{ID: "9", Source: Address{TON: 1, NPI: 1, Addr: "12345"}, PID: 0x7F, DCS: 0xF6, UDH: []byte{0x02, 0x70, 0x00}, Body: body}
	tps, err := DeliverTPDU(m, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(tps) != 2 {
		t.Fatalf("%d parts, %v", len(tps), err)
	}
	var total int
	for i, tp := range tps {
		var d wtpdu.TPDU
		if err := d.UnmarshalBinary(tp); err != nil {
			t.Fatal(err)
		}
		has70 := false
		for _, ie := range d.UDH {
			has70 = has70 || ie.ID == 0x70
		}
		if has70 != (i == 0) {
			t.Errorf("part %d: IEI 0x70 present = %v", i+1, has70)
		}
		total += len(d.UD)
	}
	if total != len(body) {
		t.Errorf("%d octets delivered, want %d", total, len(body))
	}
}

// TestReceiptTextOfMessage: text: holds the first 20 characters of a body in
// any alphabet, however long the body, control characters made spaces.
func TestReceiptTextOfMessage(t *testing.T) {
	long := strings.Repeat("0123456789", 20)
	ucs2 := func(s string) []byte {
		var b []byte
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u>>8), byte(u))
		}
		return b
	}
	for _, c := range []struct {
		name string
		dcs  uint8
		body []byte
		want string
	}{
		{"GSM 7-bit, long", 0, []byte(long), long[:20]},
		{"GSM 7-bit escapes", 0, []byte(strings.Repeat("\x1b\x65", 30)), strings.Repeat("€", 20)},
		{"control characters", 0, []byte("a\nb\rc"), "a b c"},
		{"UCS2 surrogate pairs", 8, ucs2(strings.Repeat("😀", 30)), strings.Repeat("😀", 20)},
		{"Latin-1", 3, []byte(strings.Repeat("\xe9", 50)), strings.Repeat("é", 20)},
		{"binary", 4, []byte{1, 2, 3}, ""},
	} {
		if got := receiptText(&Message{DCS: c.dcs, Body: c.body}); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestMessageClass: TS 23.038 §4 classes from the general data coding
// group (0x10 bit), the automatic-deletion group (0x40-0x7F) and group F;
// none for SMPP's own codings below 0x10 or the message-waiting groups.
func TestMessageClass(t *testing.T) {
	for dcs, want := range map[uint8]int{
		0x00: -1, 0x04: -1, 0x08: -1, // SMPP data_coding values
		0x10: 0, 0x16: 2, 0x02 | 0x10: 2, 0x35: 1, // general group, class bit set
		0x04 | 0x20: -1,                   // general group, no class
		0x56:        2, 0x70: 0, 0x46: -1, // automatic deletion group
		0xC0: -1, 0xE8: -1, // message waiting indication
		0xF6: 2, 0xF3: 3, // group F
	} {
		if got := MessageClass(dcs); got != want {
			t.Errorf("MessageClass(%#02x) = %d, want %d", dcs, got, want)
		}
	}
}

// TestDeliverTPDULongSIMDownload: a command packet too long for one SMS
// keeps IEI 70 in the first segment only (TS 31.115 §4.1), each segment
// carries the concatenation element, and the data comes back whole.
func TestDeliverTPDULongSIMDownload(t *testing.T) {
	body := make([]byte, 300)
	for i := range body {
		body[i] = byte(i)
	}
	m := &Message{ID: "77", Source: Address{TON: 1, NPI: 1, Addr: "99955500"}, PID: 0x7F, DCS: 0xF6, UDH: []byte{0x02, 0x70, 0x00}, Body: body}
	tps, err := DeliverTPDU(m, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(tps) != 3 {
		t.Fatalf("%d segments, want 3", len(tps))
	}
	var data []byte
	for i, b := range tps {
		msg, err := tpdu.Parse(b, tpdu.MT)
		if err != nil {
			t.Fatalf("segment %d: %v", i+1, err)
		}
		d := msg.(*tpdu.Deliver)
		has70, concat := false, false
		for _, ie := range d.UD.Header {
			has70 = has70 || ie.ID == tpdu.IEICommandPacket
			concat = concat || ie.ID == 0x00
		}
		if has70 != (i == 0) || !concat || d.PID != 0x7F {
			t.Errorf("segment %d: IEI 70 %v, concatenation %v, PID %02X", i+1, has70, concat, d.PID)
		}
		data = append(data, d.UD.Data...)
	}
	if !bytes.Equal(data, body) {
		t.Error("the segments do not carry the packet")
	}
	bad := *m
	bad.UDH = []byte{0x05, 0x00, 0x03}
	if _, err := DeliverTPDU(&bad, time.Now()); err == nil {
		t.Error("a malformed UDH was accepted")
	}
}
