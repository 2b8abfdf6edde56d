package modem_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet"
	"github.com/simlab-dev/simlab/simulator/atmodem"
	"github.com/simlab-dev/simlab/simulator/modem"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

// testCard is a small card for the CSIM and toolkit round trips: SELECT
// answers 9000, TERMINAL PROFILE raises a DISPLAY TEXT (91xx), FETCH
// returns it, TERMINAL RESPONSE ends the session, ENVELOPE answers 9F02 and
// GET RESPONSE returns two bytes.
type testCard struct {
	mu   sync.Mutex
	seen [][]byte
}

// displayText is DISPLAY TEXT "Toolkit Test 1" from TS 31.124 27.22.4.1.1
// (applet/cat/testdata/vectors.txt, OF stk-test-data.h display_text_111).
var displayText, _ = hex.DecodeString("D01A8103012180820281028D0F04546F6F6C6B697420546573742031")

func (c *testCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	c.mu.Lock()
	c.seen = append(c.seen, append([]byte(nil), capdu...))
	c.mu.Unlock()
	if len(capdu) < 4 {
		return []byte{0x67, 0x00}, nil
	}
	switch capdu[1] {
	case 0xA4:
		return []byte{0x90, 0x00}, nil
	case 0x10: // TERMINAL PROFILE
		return []byte{0x91, byte(len(displayText))}, nil
	case 0x12: // FETCH
		return append(append([]byte(nil), displayText...), 0x90, 0x00), nil
	case 0x14: // TERMINAL RESPONSE
		return []byte{0x90, 0x00}, nil
	case 0xC2: // ENVELOPE
		return []byte{0x9F, 0x02}, nil
	case 0xC0: // GET RESPONSE
		return []byte{0xAB, 0xCD, 0x90, 0x00}, nil
	}
	return []byte{0x6D, 0x00}, nil
}

func (c *testCard) Reset(ctx context.Context, cold bool) ([]byte, error) {
	return []byte{0x3B, 0x00}, nil
}

func (c *testCard) apdus() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.seen...)
}

type bench struct {
	backend *atmodem.MemoryBackend
	card    *testCard
	path    string
}

// startEmulator serves an emulated modem holding a testCard on a pty for
// the test's lifetime.
func startEmulator(t *testing.T) *bench {
	t.Helper()
	c := &testCard{}
	b := startEmulatorWith(t, c)
	b.card = c
	return b
}

// startEmulatorWith serves an emulated modem holding card (none when nil).
func startEmulatorWith(t *testing.T, card applet.Card) *bench {
	t.Helper()
	b := &bench{backend: atmodem.NewMemoryBackend()}
	b.backend.StatusReports = true
	em, err := atmodem.New(atmodem.Config{Backend: b.backend, Card: card, MSISDN: "+999001234567",
		IMEI: "359881030000008", Now: func() time.Time { return time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	p, err := atmodem.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	b.path = p.Path
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- em.Serve(ctx, p.Master()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emulator: %v", err)
		}
		p.Close()
	})
	return b
}

func openModem(t *testing.T, ctx context.Context, b *bench) *modem.Modem {
	t.Helper()
	m, err := modem.Open(ctx, b.path, modem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestInfo: a modem without a SIM card behind it reports its configured
// identity.
func TestInfo(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	b := startEmulatorWith(t, nil)
	m := openModem(t, ctx, b)
	info, err := m.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.IMEI != "359881030000008" || info.Manufacturer != "simlab" || info.IMSI != "999990000000001" ||
		info.ICCID != "8999900000000000018" || info.SMSC != "+999000" || info.SIM != "READY" {
		t.Errorf("identity: %+v", info)
	}
	if info.Signal == nil || info.Signal.RSSI != 20 || info.Signal.DBM != -73 {
		t.Errorf("signal: %+v", info.Signal)
	}
	if !info.Registered() || len(info.Registrations) != 3 {
		t.Errorf("registrations: %+v", info.Registrations)
	}
	if info.Operator == nil || info.Operator.Name != "simlab" {
		t.Errorf("operator: %+v", info.Operator)
	}
	if info.Errors != nil {
		t.Errorf("errors: %v", info.Errors)
	}
}

func decodeSubmit(t *testing.T, b []byte) *tpdu.TPDU {
	t.Helper()
	var p tpdu.TPDU
	p.Direction = tpdu.MO
	if err := p.UnmarshalBinary(b); err != nil {
		t.Fatalf("submitted TPDU %X: %v", b, err)
	}
	return &p
}

func TestSendText(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	b := startEmulator(t)
	m := openModem(t, ctx, b)
	long := ""
	for len(long) < 200 {
		long += "0123456789"
	}
	cases := []struct {
		name, text string
		segs       int
		dcs        tpdu.DCS
	}{
		{"gsm7", "Your code is 123456", 1, 0x00},
		{"ucs2", "Код 123456 ✓", 1, 0x08},
		{"concatenated", long, 2, 0x00},
	}
	total := 0
	for _, c := range cases {
		mrs, err := m.SendText(ctx, "+4412345678", c.text, modem.SendOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(mrs) != c.segs {
			t.Fatalf("%s: %d references, want %d", c.name, len(mrs), c.segs)
		}
		total += c.segs
		subs, err := b.backend.AwaitSubmitted(ctx, total)
		if err != nil {
			t.Fatal(err)
		}
		var segs []*tpdu.TPDU
		for i, s := range subs[total-c.segs:] {
			p := decodeSubmit(t, s.TPDU)
			if int(s.MR) != mrs[i] {
				t.Errorf("%s: MR %d reported as %d", c.name, s.MR, mrs[i])
			}
			if p.DA.Number() != "+4412345678" || p.DCS != c.dcs {
				t.Errorf("%s: DA %s DCS %02X", c.name, p.DA.Number(), byte(p.DCS))
			}
			segs = append(segs, p)
		}
		got, err := sms.Decode(segs)
		if err != nil || string(got) != c.text {
			t.Errorf("%s: text %q, %v", c.name, got, err)
		}
	}
}

func TestSendOTA(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	b := startEmulator(t)
	m := openModem(t, ctx, b)
	// The 3DES command packet of applet/ota/testdata/vectors.txt (pySim test_ota.py).
	pkt, _ := hex.DecodeString("00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f")
	mrs, err := m.SendOTA(ctx, "+999001234567", pkt, modem.SendOptions{StatusReport: true})
	if err != nil || len(mrs) != 1 {
		t.Fatalf("SendOTA: %v %v", mrs, err)
	}
	subs, err := b.backend.AwaitSubmitted(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := decodeSubmit(t, subs[0].TPDU)
	if p.PID != 0x7F || p.DCS != 0xF6 || !bytes.Equal(p.UD, pkt) || !p.FirstOctet.SRR() {
		t.Errorf("OTA TPDU %X: PID %02X DCS %02X UD %X", subs[0].TPDU, p.PID, byte(p.DCS), p.UD)
	}
	if ie, ok := p.UDH.IE(0x70); !ok || len(ie.Data) != 0 || len(p.UDH) != 1 {
		t.Errorf("UDH %+v, want only IEI 70 of length 0", p.UDH)
	}

	// A packet needing three segments: IEI 70 in the first only.
	big := bytes.Repeat([]byte{0xA5}, 300)
	segs, err := modem.OTASubmits("+999001234567", big, 7)
	if err != nil || len(segs) != 3 {
		t.Fatalf("OTASubmits: %d segments, %v", len(segs), err)
	}
	var all []byte
	for i, s := range segs {
		_, hasCPI := s.UDH.IE(0x70)
		n, seq, ref, ok := s.ConcatInfo()
		if hasCPI != (i == 0) || !ok || n != 3 || seq != i+1 || ref != 7 {
			t.Errorf("segment %d: UDH %+v", i+1, s.UDH)
		}
		b, err := s.MarshalBinary()
		if err != nil || len(b) > 140+20 {
			t.Errorf("segment %d: %d octets, %v", i+1, len(b), err)
		}
		all = append(all, s.UD...)
	}
	if !bytes.Equal(all, big) {
		t.Error("segments do not reassemble the packet")
	}
}

// deliverTPDU is an SMS-DELIVER from +4412345678 with text.
func deliverTPDU(t *testing.T, text string) []byte {
	t.Helper()
	pdus, err := sms.Encode([]byte(text), sms.AsDeliver, sms.From("+4412345678"))
	if err != nil || len(pdus) != 1 {
		t.Fatalf("encode: %v", err)
	}
	pdus[0].SCTS = tpdu.Timestamp{Time: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)}
	b, err := pdus[0].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestListen(t *testing.T) {
	t.Parallel()
	for _, store := range []bool{false, true} {
		name := "cmt"
		if store {
			name = "cmti"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			b := startEmulator(t)
			m := openModem(t, ctx, b)
			lctx, stop := context.WithCancel(ctx)
			events := make(chan modem.Event, 8)
			done := make(chan error, 1)
			ready := make(chan struct{})
			go func() {
				done <- m.Listen(lctx, modem.ListenOptions{Store: store, Ready: func() { close(ready) }},
					func(e modem.Event) { events <- e })
			}()
			<-ready
			if err := b.backend.Deliver(ctx, deliverTPDU(t, "MO reply 42")); err != nil {
				t.Fatal(err)
			}
			e := <-events
			want := modem.KindDeliver
			if store {
				want = modem.KindStored
			}
			if e.Kind != want || e.Text != "MO reply 42" || e.From != "+4412345678" || e.SMSC != "+999000" {
				t.Errorf("event %+v", e)
			}
			// A status report for a message we send with TP-SRR.
			mrs, err := m.SendText(ctx, "+4412345678", "receipt please", modem.SendOptions{StatusReport: true})
			if err != nil {
				t.Fatal(err)
			}
			e = <-events
			if e.Kind != modem.KindStatusReport || e.MR != mrs[0] || !e.Delivered() || e.Recipient != "+4412345678" {
				t.Errorf("status report %+v (mr %v)", e, mrs)
			}
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCardAndToolkit(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	b := startEmulator(t)
	m := openModem(t, ctx, b)
	card := m.Card()
	r, err := card.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	if err != nil || !bytes.Equal(r, []byte{0x90, 0x00}) {
		t.Fatalf("CSIM SELECT: %X %v", r, err)
	}
	if got := b.card.apdus(); len(got) != 1 || hex.EncodeToString(got[0]) != "00a40004023f00" {
		t.Fatalf("card saw %X", got)
	}
	if _, err := card.Reset(ctx, false); err != nil {
		t.Fatal(err)
	}

	tk, err := m.Toolkit(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Close()
	ev := <-tk.Events()
	if ev.Err != nil || !bytes.Equal(ev.Command, displayText) {
		t.Fatalf("proactive command %X, %v", ev.Command, ev.Err)
	}
	// TERMINAL RESPONSE OK for DISPLAY TEXT (applet/cat/testdata/vectors.txt).
	trOK, _ := hex.DecodeString("810301218082028281830100")
	if err := tk.TerminalResponse(ctx, trOK); err != nil {
		t.Fatal(err)
	}
	if ev := <-tk.Events(); !ev.End {
		t.Fatalf("after TERMINAL RESPONSE: %+v", ev)
	}
	res, err := tk.Envelope(ctx, []byte{0xD3, 0x07, 0x82, 0x02, 0x01, 0x81, 0x90, 0x01, 0x01})
	if err != nil || !bytes.Equal(res.Response, []byte{0xAB, 0xCD}) || res.SW != 0x9000 || res.Busy {
		t.Fatalf("envelope: %+v %v", res, err)
	}
	seen := b.card.apdus()
	last := seen[len(seen)-1]
	if !bytes.Equal(last, []byte{0x80, 0xC0, 0x00, 0x00, 0x02}) {
		t.Errorf("last APDU %X, want GET RESPONSE in ENVELOPE's class 80", last)
	}
}

func TestOpenMissingPort(t *testing.T) {
	t.Parallel()
	_, err := modem.Open(context.Background(), "/nonexistent/ttyUSB9", modem.Options{})
	if err == nil {
		t.Fatal("open of a missing port succeeded")
	}
	var pe interface{ Error() string }
	if !errors.As(err, &pe) {
		t.Fatal(err)
	}
}

// TestSink: the SMSC's messages for non-simulated numbers go out over the
// modem with their PID, DCS, UDH and receipt request, and what the modem
// receives becomes an MO message.
func TestSink(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	b := startEmulator(t)
	m := openModem(t, ctx, b)
	var sentMRs []int
	sink := &modem.Sink{Bearer: modem.NewBearer(m), OnSent: func(_ *smsc.Message, mrs []int) { sentMRs = mrs }}
	pkt, _ := hex.DecodeString("00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f")
	ota := &smsc.Message{Dest: smsc.Address{TON: 1, NPI: 1, Addr: "447700900123"}, PID: 0x7F, DCS: 0xF6,
		UDH: []byte{0x02, 0x70, 0x00}, Body: pkt, RegisteredDelivery: 1}
	if err := sink.Deliver(ctx, ota); err != nil {
		t.Fatal(err)
	}
	latin1 := &smsc.Message{Dest: smsc.Address{TON: 0, NPI: 1, Addr: "07700900123"}, DCS: 0x03, Body: []byte("caf\xe9")}
	if err := sink.Deliver(ctx, latin1); err != nil {
		t.Fatal(err)
	}
	subs, err := b.backend.AwaitSubmitted(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := decodeSubmit(t, subs[0].TPDU)
	if p.DA.Number() != "+447700900123" || p.PID != 0x7F || p.DCS != 0xF6 || !p.FirstOctet.SRR() ||
		!bytes.Equal(p.UD, pkt) || len(p.UDH) != 1 || p.UDH[0].ID != 0x70 {
		t.Errorf("OTA over the bearer: %X", subs[0].TPDU)
	}
	if len(sentMRs) != 1 || sentMRs[0] != int(subs[1].MR) {
		t.Errorf("OnSent got %v, last MR %d", sentMRs, subs[1].MR)
	}
	p = decodeSubmit(t, subs[1].TPDU)
	text, _ := sms.Decode([]*tpdu.TPDU{p})
	if p.DA.Number() != "07700900123" || p.DCS != 0x00 || string(text) != "café" {
		t.Errorf("Latin-1 over the bearer: %q DCS %02X to %s", text, byte(p.DCS), p.DA.Number())
	}

	mo := modem.Event{Kind: modem.KindDeliver, From: "+447700900123", Text: "YES", PID: 0, DCS: 0}.MO("12345")
	if mo.Source.Addr != "447700900123" || mo.Source.TON != 1 || mo.Dest.Addr != "12345" || string(mo.Body) != "YES" || mo.DCS != 0 {
		t.Errorf("MO %+v", mo)
	}
	if (modem.Event{Kind: modem.KindStatusReport}).MO("12345") != nil {
		t.Error("a status report became an MO message")
	}
}

// BenchmarkSendTPDU measures one AT+CMGS round trip: driver → pty →
// emulated modem → MemoryBackend and back.
func BenchmarkSendTPDU(b *testing.B) {
	bench := startEmulatorB(b)
	ctx := context.Background()
	m, err := modem.Open(ctx, bench.path, modem.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	pdus, _ := sms.Encode([]byte("Your code is 123456"), sms.To("+4412345678"))
	tp, _ := pdus[0].MarshalBinary()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.SendTPDU(ctx, tp); err != nil {
			b.Fatal(err)
		}
	}
}

func startEmulatorB(b *testing.B) *bench {
	be := &bench{backend: atmodem.NewMemoryBackend(), card: &testCard{}}
	em, err := atmodem.New(atmodem.Config{Backend: be.backend})
	if err != nil {
		b.Fatal(err)
	}
	p, err := atmodem.OpenPTY("")
	if err != nil {
		b.Fatal(err)
	}
	be.path = p.Path
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- em.Serve(ctx, p.Master()) }()
	b.Cleanup(func() { cancel(); <-done; p.Close() })
	return be
}
