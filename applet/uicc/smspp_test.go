package uicc

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/applet/tlv"
)

// envelopeFor wraps a command packet (from CPL) in an SMS-DELIVER (first
// octet 40: UDHI; OA 08 81 21436587 = "12345678"; PID 7F; DCS F6; SCTS
// 22705200000000; UDH 02 70 00) and an ENVELOPE(SMS-PP download) APDU with
// device identities network → UICC, as pySim's test_ota.py and ofono's
// TS 31.124 §27.22.5 vectors lay them out (testdata/vectors.txt).
func envelopeFor(t testing.TB, pkt []byte) string {
	t.Helper()
	tp := unhex(t, "400881214365877FF622705200000000")
	tp = append(tp, byte(3+len(pkt)), 0x02, 0x70, 0x00)
	tp = append(tp, pkt...)
	d1 := tlv.AppendBERFunc(nil, tlv.TagSMSPPDownload, func(b []byte) []byte {
		b = tlv.AppendBER(b, 0x82, []byte{0x83, 0x81})
		return tlv.AppendBER(b, 0x8B, tp)
	})
	return fmt.Sprintf("80C20000%02X%X", len(d1), d1)
}

const pysimProfile = testProfile + `
keysets:
  - kvn: 3
    kic: {ref: kic3, algorithm: 3des-2key, value: "300102030405060708090a0b0c0d0e0f"}
    kid: {ref: kid3, algorithm: 3des-2key, value: "301102030405060708090a0b0c0d0e0f"}
  - kvn: 2
    kic: {ref: kic2, algorithm: aes, value: "200102030405060708090a0b0c0d0e0f"}
    kid: {ref: kid2, algorithm: aes, value: "201102030405060708090a0b0c0d0e0f"}
`

// TestSMSPPPySim feeds pySim's command packets (testdata/vectors.txt [PY],
// tests/unittests/test_ota.py: SELECT MF for TAR B00011) to the built-in
// RFM applet and expects pySim's PoRs byte for byte: the card's MF FCP is
// 0x32 bytes, so the compact response is 01 6132 as there.
func TestSMSPPPySim(t *testing.T) {
	t.Parallel()
	prof := strings.Replace(pysimProfile, "  - name: rfm\n", "  - name: rfm\n    tars: [{tar: \"B00011\"}]\n", 1)
	var cases []struct{ name, cmd, por string }
	for _, name := range []string{"3DES-SJA5-CIPHERED-CC", "3DES-SJA5-UNCIPHERED-CC", "3DES-SJA5-UNCIPHERED-NOCC", "AES128-SJA5-CIPHERED-CC"} {
		cases = append(cases, struct{ name, cmd, por string }{name, vec.Hex("PY/" + name), vec.Hex("PY/" + name + ".por")})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCard(t, prof)
			env := envelopeFor(t, unhex(t, tc.cmd))
			if tc.name == "3DES-SJA5-CIPHERED-CC" {
				// Derived: the same ENVELOPE APDU.
				want := vec.Hex("derived/envelope-apdu-pysim-3des")
				if !strings.EqualFold(env, want) {
					t.Fatalf("envelope %s, want %s", env, want)
				}
			}
			n := len(tc.por) / 2
			run(t, c, []step{
				{env, fmt.Sprintf("61%02X", n)},
				{fmt.Sprintf("00C00000%02X", n), tc.por + "9000"},
				{env + "00", tc.por + "9000"}, // T=1 style; no counter check in SPI 06
			})
		})
	}
}

const onomondoProfile = `
name: onomondo
iccid: "00112233445566778899"
imsi: "999990000000001"
msisdn: "+999100000001"
pin1: {value: "1234"}
puk1: {value: "12345678"}
adm1: {value: "88888888"}
keysets:
  - kvn: 3
    kic: {ref: kic, algorithm: aes, value: "00112233445566778899aabbccddeeff"}
    kid: {ref: kid, algorithm: aes, value: "0123456789abcdef0123456701234567"}
applets:
  - name: rfm
    tars: [{tar: "b00011", msl: "06", keysets: [3]}]
`

// TestSMSPPOnomondo replays onomondo-uicc's tests/envelope
// (testdata/vectors.txt [ON]): ENVELOPE with
// three RFM commands, PoR status 0B in the ENVELOPE response, SEND SHORT
// MESSAGE carrying the PoR with EF_ICCID, TERMINAL RESPONSE. ON fills the
// PoR padding with a non-zero byte (80) where simlab pads with 00 (TS 102 225
// §5.2), so the PoRs are compared opened: same counter, padding count,
// status and data, both with a valid CC.
func TestSMSPPOnomondo(t *testing.T) {
	t.Parallel()
	c := newCard(t, onomondoProfile)
	ctx := context.Background()
	keys := ota.Keys{KIc: "kic", KID: "kid"}
	h := ota.CommandHeader{SPI: ota.ParseSPI(0x16, 0x39), KIc: 0x32, KID: 0x32, TAR: ota.TAR{0xB0, 0x00, 0x11}}
	samePoR := func(got, want string) {
		t.Helper()
		g, err := ota.OpenResponse(ctx, c.ks, keys, h, unhex(t, got))
		if err != nil {
			t.Fatalf("our PoR %s: %v", got, err)
		}
		w, err := ota.OpenResponse(ctx, c.ks, keys, h, unhex(t, want))
		if err != nil {
			t.Fatalf("vector PoR: %v", err)
		}
		if g.TAR != w.TAR || g.Counter != w.Counter || g.PCNTR != w.PCNTR || g.Status != w.Status || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("PoR %+v, want %+v", g, w)
		}
		if len(got) != len(want) || !strings.EqualFold(got[:18], want[:18]) {
			t.Fatalf("PoR header %s, want %s", got, want)
		}
	}
	env := vec.Hex("ON/envelope-apdu")
	run(t, c, []step{{"8010000014" + strings.Repeat("ff", 20), "9000"}, {env, "6119"}})
	r := tx(t, c, "00C0000019")
	if !strings.HasSuffix(r, "913F") {
		t.Fatalf("GET RESPONSE %s, want PoR + 913F", r)
	}
	samePoR(r[:len(r)-4], vec.Hex("ON/envelope-por"))
	// ON answers with SEND SM DA 04 91 2143; simlab copies the originating
	// address as received (03 91 2143).
	r = tx(t, c, "801200003f")
	head := "D03D8103011300820281838B324100039121437FF629"
	if !strings.HasPrefix(r, head) || !strings.HasSuffix(r, "9000") {
		t.Fatalf("FETCH %s", r)
	}
	samePoR(r[len(head):len(r)-4], vec.Hex("ON/send-sm-por"))
	run(t, c, []step{{vec.Hex("ON/terminal-response-apdu"), "9000"}})
	// Replaying the packet: counter low (PoR status 02) as a data download error.
	r = tx(t, c, env+"00")
	if !strings.HasSuffix(r, "6200") {
		t.Fatalf("replay: %s", r)
	}
	resp, err := ota.OpenResponse(ctx, c.ks, keys, h, unhex(t, r[:len(r)-4]))
	if err != nil || resp.Status != ota.StatusCounterLow {
		t.Fatalf("replay PoR: %+v %v", resp, err)
	}
	// T=0 style: 62F3, then GET RESPONSE gives the PoR and 6200.
	run(t, c, []step{{env, "62F3"}, {"00C0000000", r}})
}

// TestSMSPPSession sends a secured packet to an applet that runs a proactive
// session; the PoR with the applet's data follows by SEND SHORT MESSAGE.
func TestSMSPPSession(t *testing.T) {
	t.Parallel()
	prof := strings.Replace(onomondoProfile, "  - name: rfm\n", "  - name: prompt\n    tars: [{tar: \"534C41\", msl: \"16\"}]\n  - name: rfm\n", 1)
	c := newCard(t, prof)
	a := &promptApplet{cmds: [][]byte{unhex(t, displayText111), unhex(t, getInput141)}, result: []byte{0xCA, 0xFE}}
	if err := c.Install("prompt", a); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys := ota.Keys{KIc: "kic", KID: "kid"}
	h := ota.CommandHeader{SPI: ota.ParseSPI(0x16, 0x39), KIc: 0x32, KID: 0x32, TAR: ota.TAR{0x53, 0x4C, 0x41}}
	pkt, err := ota.SealCommand(ctx, c.ks, keys, h, ota.CounterFromUint64(7), []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	env := envelopeFor(t, pkt)
	r := tx(t, c, env+"00")
	if !strings.HasSuffix(r, "911C") {
		t.Fatalf("ENVELOPE: %s", r)
	}
	resp, err := ota.OpenResponse(ctx, c.ks, keys, h, unhex(t, r[:len(r)-4]))
	if err != nil || resp.Status != ota.StatusResponseInSubmit {
		t.Fatalf("ENVELOPE PoR %+v %v", resp, err)
	}
	if a.origin != "12345678" || string(a.data) != "hello" {
		t.Errorf("applet got origin %q data %q", a.origin, a.data)
	}
	run(t, c, []step{
		{env + "00", "9300"}, // busy with the session
		{"801200001C", displayText111 + "9000"},
		{"801400000C" + trDisplayOK, "9129"},
		{"8012000029", getInput141 + "9000"},
	})
	r = tx(t, c, "8014000016"+trGetInput141)
	if !strings.HasPrefix(r, "91") {
		t.Fatalf("last TR: %s, want 91xx (SEND SHORT MESSAGE)", r)
	}
	r = tx(t, c, "80120000"+r[2:])
	cmd, _, err := tlv.ParseBER(unhex(t, r[:len(r)-4]))
	if err != nil {
		t.Fatal(err)
	}
	tpdu, ok, _ := tlv.FindBER(cmd.Value, 0x8B)
	if !ok || !bytes.HasPrefix(tpdu, unhex(t, "4100088121436587 7FF6")) {
		t.Fatalf("SEND SM TPDU %X", tpdu)
	}
	resp, err = ota.OpenResponse(ctx, c.ks, keys, h, tpdu[11:])
	if err != nil || resp.Status != ota.StatusOK || !bytes.Equal(resp.Data, []byte{0xCA, 0xFE}) || resp.Counter != ota.CounterFromUint64(7) {
		t.Fatalf("PoR by SMS %+v %v", resp, err)
	}
	run(t, c, []step{{"801400000C810301130082028281830100", "9000"}, {"80F2000C00", "9000"}})

	// An applet that seals its own response: no PoR from the card.
	a.cmds, a.seal = nil, true
	pkt, _ = ota.SealCommand(ctx, c.ks, keys, h, ota.CounterFromUint64(8), []byte("again"))
	run(t, c, []step{{envelopeFor(t, pkt) + "00", "9000"}})
	resp, err = ota.OpenResponse(ctx, c.ks, keys, h, a.sealed)
	if err != nil || !bytes.Equal(resp.Data, []byte{0xAB}) {
		t.Fatalf("applet-sealed PoR %+v %v", resp, err)
	}
}

func TestSMSPPErrors(t *testing.T) {
	t.Parallel()
	c := newCard(t, onomondoProfile)
	ctx := context.Background()
	keys := ota.Keys{KIc: "kic", KID: "kid"}
	// TAR unknown: PoR status 09, without security (the keys are not trusted).
	h := ota.CommandHeader{SPI: ota.ParseSPI(0x16, 0x39), KIc: 0x32, KID: 0x32, TAR: ota.TAR{0, 0, 1}}
	pkt, err := ota.SealCommand(ctx, c.ks, keys, h, ota.CounterFromUint64(1), []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	r := tx(t, c, envelopeFor(t, pkt)+"00")
	raw, err := ota.ParseResponse(unhex(t, r[:len(r)-4]))
	if err != nil || !strings.HasSuffix(r, "6200") || raw.TAR != h.TAR {
		t.Fatalf("TAR unknown: %s %v", r, err)
	}
	// Insufficient security: MSL 06 asks for CC + ciphering; send CC only.
	h = ota.CommandHeader{SPI: ota.ParseSPI(0x12, 0x21), KIc: 0x32, KID: 0x32, TAR: ota.TAR{0xB0, 0x00, 0x11}}
	pkt, _ = ota.SealCommand(ctx, c.ks, keys, h, ota.CounterFromUint64(1), []byte{1})
	r = tx(t, c, envelopeFor(t, pkt)+"00")
	if !strings.HasSuffix(r, "6200") {
		t.Fatalf("insufficient security: %s", r)
	}
	withTPDU := func(tp string) string {
		d1 := tlv.AppendBERFunc(nil, tlv.TagSMSPPDownload, func(b []byte) []byte {
			b = tlv.AppendBER(b, 0x82, []byte{0x83, 0x81})
			return tlv.AppendBER(b, 0x8B, unhex(t, tp))
		})
		return fmt.Sprintf("80C20000%02X%X", len(d1), d1)
	}
	run(t, c, []step{
		// onomondo-uicc's negative case: a header too short to address a PoR.
		{envelopeFor(t, unhex(t, "0005150619")), "6200"},
		{"80C2000006D10482028381", "6A80"},                             // no TPDU
		{"80C2000007D105820283818600", "6A80"},                         // address only
		{withTPDU("0403912143"), "6A80"},                               // truncated SMS-DELIVER
		{withTPDU("0103912143"), "6A80"},                               // not an SMS-DELIVER
		{withTPDU("04039121F37FF6624080119342800553686F7274"), "9000"}, // plain SMS: nothing to do
		{withTPDU("44039121F37FF662408011934280050041424344"), "6F00"}, // empty UDH
		{withTPDU("44039121F37FF662408011934280050225004142"), "9000"}, // a UDH without IEI 70
	})
	// Without a keystore secured packets cannot be opened.
	p := loadProfile(t, onomondoProfile)
	bare, err := New(p, Options{Clock: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	run(t, bare, []step{{envelopeFor(t, pkt), "6F00"}})
	_ = hex.EncodeToString
}

// TestSMSPPMoreTime: with the PoR in the deliver report, an applet that
// starts a session gets a PoR with status 08 (more time) and no PoR follows.
func TestSMSPPMoreTime(t *testing.T) {
	t.Parallel()
	prof := strings.Replace(onomondoProfile, "  - name: rfm\n", "  - name: prompt\n    tars: [{tar: \"534C41\"}]\n  - name: rfm\n", 1)
	c := newCard(t, prof)
	a := &promptApplet{cmds: [][]byte{unhex(t, displayText111)}, result: []byte{1}}
	if err := c.Install("prompt", a); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys := ota.Keys{KIc: "kic", KID: "kid"}
	h := ota.CommandHeader{SPI: ota.ParseSPI(0x16, 0x19), KIc: 0x32, KID: 0x32, TAR: ota.TAR{0x53, 0x4C, 0x41}}
	pkt, err := ota.SealCommand(ctx, c.ks, keys, h, ota.CounterFromUint64(1), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	r := tx(t, c, envelopeFor(t, pkt)+"00")
	if !strings.HasSuffix(r, "911C") {
		t.Fatalf("ENVELOPE %s", r)
	}
	resp, err := ota.OpenResponse(ctx, c.ks, keys, h, unhex(t, r[:len(r)-4]))
	if err != nil || resp.Status != ota.StatusMoreTime {
		t.Fatalf("PoR %+v %v", resp, err)
	}
	run(t, c, []step{{"801200001C", displayText111 + "9000"}, {"801400000C" + trDisplayOK, "9000"}})
}
