package smsc_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fiorix/go-smpp/smpp"
	gopdu "github.com/fiorix/go-smpp/smpp/pdu"
	"github.com/fiorix/go-smpp/smpp/pdu/pdufield"
	"github.com/fiorix/go-smpp/smpp/pdu/pdutext"

	"github.com/simlab-dev/simlab/smsc"
)

// receiptHead is the fixed part of the receipts below.
const receiptHead = "id:7 sub:001 dlvrd:001 submit date:2611220052 done date:2611220053 stat:DELIVRD err:000 text:"

// TestReceiptTextGSM7: a receipt's short_message goes out with data_coding
// 0, so its text: field is GSM 7-bit septets, one per octet (3GPP TS
// 23.038 §6.2.1 default alphabet and §6.2.1.1 extension table), and a
// character that neither table holds is '?' (3F). String keeps UTF-8.
func TestReceiptTextGSM7(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		want []byte // septets after "text:"
	}{
		{"Your code is 123456", []byte("Your code is 123456")},
		// ü 7E, ß 1E, € 1B 65, — and ✓ not in GSM, Ω 15 (Greek in the default table).
		{"Grüße 5€ — Ω ✓", []byte{'G', 'r', 0x7E, 0x1E, 'e', ' ', '5', 0x1B, 0x65, ' ', '?', ' ', 0x15, ' ', '?'}},
		// @ 00, $ 02, _ 11, [ 1B 3C, ¤ 24, { 1B 28.
		{"@$_[¤{", []byte{0x00, 0x02, 0x11, 0x1B, 0x3C, 0x24, 0x1B, 0x28}},
		// Only 20 characters: the cut is by character, not septet.
		{"€€€€€€€€€€€€€€€€€€€€€€", bytes.Repeat([]byte{0x1B, 0x65}, 20)},
		{"日本語テキスト", []byte("???????")},
		{"tab\tand\x1bescape", []byte("tab?and?escape")},
	} {
		r := smsc.Receipt{ID: "7", Sub: 1, Dlvrd: 1, State: smsc.Delivered, Text: c.text,
			SubmitDate: time.Date(2026, 11, 22, 0, 52, 0, 0, time.UTC), DoneDate: time.Date(2026, 11, 22, 0, 53, 0, 0, time.UTC)}
		got := r.AppendGSM7(nil)
		if want := append([]byte(receiptHead), c.want...); !bytes.Equal(got, want) {
			t.Errorf("%q: septets\n% X\nwant\n% X", c.text, got, want)
		}
		if s := r.String(); !strings.HasPrefix(s, receiptHead) || !strings.HasPrefix(c.text, strings.TrimPrefix(s, receiptHead)) {
			t.Errorf("%q: String() = %q", c.text, s)
		}
	}
}

// TestReceiptTextGoSMPP: go-smpp's GSM 7-bit decoder reads the text: of a
// receipt for a UCS2 message holding characters GSM lacks as the
// message's first 20 characters, those characters as '?'.
func TestReceiptTextGoSMPP(t *testing.T) {
	t.Parallel()
	srv := &smsc.Server{}
	addr := startServer(t, srv)
	id, p, _ := goSMPPReceipt(t, addr, "gosmpp", &smpp.ShortMessage{Src: "SimLab", Dst: "99900000411", SourceAddrTON: 5,
		Text: pdutext.UCS2("Grüße — Код ✓ 5€ {ok} and more"), Register: pdufield.FinalDeliveryReceipt})
	f := p.Fields()
	if dcs := f[pdufield.DataCoding].Bytes()[0]; dcs != 0 {
		t.Fatalf("receipt data_coding %d, want 0", dcs)
	}
	raw := f[pdufield.ShortMessage].Bytes()
	for i, c := range raw {
		if c >= 0x80 {
			t.Fatalf("octet %d of the receipt is %02X: not a septet (% X)", i, c, raw)
		}
	}
	text := string(pdutext.GSM7(raw).Decode())
	want := "id:" + id + " "
	if !strings.HasPrefix(text, want) || !strings.HasSuffix(text, " text:Grüße ? ??? ? 5€ {ok") {
		t.Errorf("receipt as go-smpp decodes it: %q", text)
	}
}

// goSMPPReceipt binds a go-smpp transceiver to addr as user, submits sm and
// returns the message id, the receipt that comes back for it, and the
// transceiver (closed when the test ends).
func goSMPPReceipt(t *testing.T, addr, user string, sm *smpp.ShortMessage) (string, gopdu.Body, *smpp.Transceiver) {
	t.Helper()
	got := make(chan gopdu.Body, 4)
	tc := &smpp.Transceiver{Addr: addr, User: user, Passwd: "x", Handler: func(p gopdu.Body) {
		if p.Header().ID == gopdu.DeliverSMID {
			got <- p
		}
	}}
	t.Cleanup(func() { tc.Close() })
	awaitBound(t, tc.Bind())
	r, err := tc.Submit(sm)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	id := r.RespID()
	if id == "" {
		t.Fatal("submit_sm_resp without message_id")
	}
	select {
	case p := <-got:
		return id, p, tc
	case <-time.After(10 * time.Second):
		t.Fatal("no receipt")
	}
	return "", nil, nil
}
