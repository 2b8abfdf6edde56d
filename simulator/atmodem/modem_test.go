package atmodem

import (
	"bufio"
	"context"
	"encoding/hex"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

// term is a terminal talking to an emulated modem over net.Pipe.
type term struct {
	t       *testing.T
	conn    net.Conn
	r       *bufio.Reader
	backend *MemoryBackend
	modem   *Modem
}

var finalRe = regexp.MustCompile(`(\r\nOK\r\n|\r\nERROR\r\n|\r\n\+CM[ES] ERROR: [^\r]*\r\n|\r\n> |^0\r|^4\r|\n0\r|\n4\r)$`)

func newTerm(t *testing.T, card *fakeCard) *term {
	t.Helper()
	b := NewMemoryBackend()
	b.StatusReports = true
	cfg := Config{Backend: b, MSISDN: "+999001234567",
		Now: func() time.Time { return time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC) }}
	if card != nil {
		cfg.Card = card
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cli, srv := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, srv) }()
	t.Cleanup(func() {
		cancel()
		cli.Close()
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &term{t: t, conn: cli, r: bufio.NewReader(cli), backend: b, modem: m}
}

// readUntil reads until the text read so far matches re at its end.
func (tm *term) readUntil(re *regexp.Regexp) string {
	tm.t.Helper()
	tm.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var sb strings.Builder
	for {
		c, err := tm.r.ReadByte()
		if err != nil {
			tm.t.Fatalf("read after %q: %v", sb.String(), err)
		}
		sb.WriteByte(c)
		if re.MatchString(sb.String()) {
			return sb.String()
		}
	}
}

// chat sends a command line and returns everything up to its final result.
func (tm *term) chat(line string) string {
	tm.t.Helper()
	if _, err := tm.conn.Write([]byte(line + "\r")); err != nil {
		tm.t.Fatal(err)
	}
	return tm.readUntil(finalRe)
}

func TestEchoAndResultModes(t *testing.T) {
	t.Parallel()
	tm := newTerm(t, nil)
	if got := tm.chat("AT"); got != "AT\r\r\nOK\r\n" {
		t.Errorf("AT with echo: %q", got)
	}
	if got := tm.chat("ATE0"); got != "ATE0\r\r\nOK\r\n" {
		t.Errorf("ATE0: %q", got)
	}
	if got := tm.chat("AT+CGSN"); got != "\r\n359881030000008\r\n\r\nOK\r\n" {
		t.Errorf("AT+CGSN: %q", got)
	}
	if got := tm.chat("AT+GCAP"); got != "\r\n+GCAP: +CGSM\r\n\r\nOK\r\n" {
		t.Errorf("AT+GCAP: %q", got)
	}
	if got := tm.chat("ATV0"); got != "0\r" {
		t.Errorf("ATV0: %q", got)
	}
	if got := tm.chat("AT+CGMI"); got != "simlab\r\n0\r" {
		t.Errorf("AT+CGMI with V0: %q", got)
	}
	if got := tm.chat("AT+NOPE"); got != "4\r" {
		t.Errorf("unknown with V0: %q", got)
	}
	if got := tm.chat("ATZ"); got != "\r\nOK\r\n" {
		t.Errorf("ATZ restores V1: %q", got)
	}
	if got := tm.chat("AT"); got != "AT\r\r\nOK\r\n" {
		t.Errorf("ATZ restores echo: %q", got)
	}
}

func TestErrorsAndChains(t *testing.T) {
	t.Parallel()
	tm := newTerm(t, nil)
	tm.chat("ATE0")
	cases := []struct{ line, want string }{
		{"AT+MODE=2", "\r\nERROR\r\n"}, // gammu's Motorola probe
		{"AT+CMEE=1", "\r\nOK\r\n"},
		{"AT+CMEE?", "\r\n+CMEE: 1\r\n\r\nOK\r\n"},
		{"AT+CPIN=1234", "\r\n+CME ERROR: 3\r\n"},
		{"AT+CMEE=2", "\r\nOK\r\n"},
		{"AT+CPIN=1234", "\r\n+CME ERROR: operation not allowed\r\n"},
		{"AT+CMGR=9", "\r\n+CMS ERROR: 321\r\n"},
		{"AT+CMEE=0", "\r\nOK\r\n"},
		{"AT+CMGR=9", "\r\nERROR\r\n"},
		{"AT+CMGF=1;+CMGF?;+CSCS?", "\r\n+CMGF: 1\r\n\r\n+CSCS: \"IRA\"\r\n\r\nOK\r\n"},
		{"AT+CMGF=0;+NOPE;+CMGF=1", "\r\nERROR\r\n"},
		{"AT+CMGF?", "\r\n+CMGF: 0\r\n\r\nOK\r\n"},
		{"AT+CSQ", "\r\n+CSQ: 20,99\r\n\r\nOK\r\n"},
		{"AT+CREG=2;+CREG?", "\r\n+CREG: 2,1,\"00A1\",\"0000B2C3\",0\r\n\r\nOK\r\n"},
		{"AT+CEREG?", "\r\n+CEREG: 0,1\r\n\r\nOK\r\n"},
		{"AT+COPS?", "\r\n+COPS: 0,0,\"simlab\",7\r\n\r\nOK\r\n"},
		{"AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n"},
		{"AT+CSCA?", "\r\n+CSCA: \"+999000\",145\r\n\r\nOK\r\n"},
		{"AT+CNUM", "\r\n+CNUM: \"\",\"+999001234567\",145\r\n\r\nOK\r\n"},
		{"ATS3?", "\r\n013\r\n\r\nOK\r\n"},
		{"AT+CPMS?", "\r\n+CPMS: \"SM\",0,30,\"SM\",0,30,\"SM\",0,30\r\n\r\nOK\r\n"},
		{"AT+CSIM=14,\"00A40004023F00\"", "\r\nERROR\r\n"}, // no card, CMEE=0
		{"junk without prefix", ""},
	}
	for _, c := range cases {
		if c.want == "" {
			tm.conn.Write([]byte(c.line + "\r"))
			continue
		}
		if got := tm.chat(c.line); got != c.want {
			t.Errorf("%s: %q, want %q", c.line, got, c.want)
		}
	}
	// ESC discards a partial line; the next line is answered normally.
	tm.conn.Write([]byte("AT+CG\x1b"))
	if got := tm.chat("AT"); got != "\r\nOK\r\n" {
		t.Errorf("after ESC: %q", got)
	}
}

func TestSendPDUAndText(t *testing.T) {
	t.Parallel()
	tm := newTerm(t, nil)
	tm.chat("ATE0")
	// SMS-SUBMIT "hellohello" to +4412345678 from the warthog618/sms README
	// form: no SMSC (00), MR 0, DA 0A 91 4421436587, PID 0, DCS 0, UDL 0A.
	pdus, err := sms.Encode([]byte("hellohello"), sms.To("+4412345678"))
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := pdus[0].MarshalBinary()
	if got := tm.chat("AT+CMGS=" + itoa(len(tp))); got != "\r\n> " {
		t.Fatalf("prompt: %q", got)
	}
	tm.conn.Write([]byte("00" + strings.ToUpper(hex.EncodeToString(tp)) + "\x1a"))
	if got := tm.readUntil(finalRe); got != "\r\n+CMGS: 1\r\n\r\nOK\r\n" {
		t.Errorf("CMGS result: %q", got)
	}
	// Wrong length: +CMS ERROR 304 with CMEE=1.
	tm.chat("AT+CMEE=1")
	tm.chat("AT+CMGS=" + itoa(len(tp)+1))
	tm.conn.Write([]byte("00" + hex.EncodeToString(tp) + "\x1a"))
	if got := tm.readUntil(finalRe); got != "\r\n+CMS ERROR: 304\r\n" {
		t.Errorf("bad length: %q", got)
	}
	// ESC aborts the message.
	tm.chat("AT+CMGS=" + itoa(len(tp)))
	tm.conn.Write([]byte("0011\x1b"))
	if got := tm.readUntil(finalRe); got != "\r\nOK\r\n" {
		t.Errorf("ESC abort: %q", got)
	}
	// Text mode, two lines.
	tm.chat("AT+CMGF=1")
	if got := tm.chat(`AT+CMGS="+4412345678"`); got != "\r\n> " {
		t.Fatalf("text prompt: %q", got)
	}
	tm.conn.Write([]byte("line one\r"))
	tm.readUntil(regexp.MustCompile(`\r\n> $`))
	tm.conn.Write([]byte("line two\x1a"))
	if got := tm.readUntil(finalRe); got != "\r\n+CMGS: 2\r\n\r\nOK\r\n" {
		t.Errorf("text CMGS: %q", got)
	}
	subs := tm.backend.Submitted()
	if len(subs) != 2 {
		t.Fatalf("%d submitted", len(subs))
	}
	var p tpdu.TPDU
	p.Direction = tpdu.MO
	if err := p.UnmarshalBinary(subs[1].TPDU); err != nil {
		t.Fatal(err)
	}
	text, _ := sms.Decode([]*tpdu.TPDU{&p})
	if string(text) != "line one\nline two" || p.DA.Number() != "+4412345678" || p.MR != 2 {
		t.Errorf("text mode submit: %q to %s mr %d", text, p.DA.Number(), p.MR)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestIncomingRouting(t *testing.T) {
	t.Parallel()
	tm := newTerm(t, nil)
	ctx := context.Background()
	tm.chat("ATE0")
	deliver := func(text string) []byte {
		pdus, err := sms.Encode([]byte(text), sms.AsDeliver, sms.From("+4412345678"))
		if err != nil {
			t.Fatal(err)
		}
		pdus[0].SCTS = tpdu.Timestamp{Time: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)}
		b, _ := pdus[0].MarshalBinary()
		return b
	}
	// Default +CNMI=0,0: stored silently; +CMGL lists it.
	first := deliver("first")
	tm.backend.Deliver(ctx, first)
	pdu := pduHex("+999000", first)
	// The message is stored when the modem has read it from the backend;
	// AT+CPMS? answers after that read (one goroutine serves both).
	for i := 0; !strings.Contains(tm.chat("AT+CPMS?"), `"SM",1,30`); i++ {
		if i == 1000 {
			t.Fatal("message never stored")
		}
	}
	if got := tm.chat("AT+CMGL=4"); got != "\r\n+CMGL: 1,0,,"+itoa(len(first))+"\r\n"+pdu+"\r\n\r\nOK\r\n" {
		t.Errorf("CMGL: %q", got)
	}
	if got := tm.chat("AT+CMGR=1"); got != "\r\n+CMGR: 1,,"+itoa(len(first))+"\r\n"+pdu+"\r\n\r\nOK\r\n" {
		t.Errorf("CMGR after CMGL marks read: %q", got)
	}
	tm.chat("AT+CMGF=1")
	if got := tm.chat(`AT+CMGL="ALL"`); got != "\r\n+CMGL: 1,\"REC READ\",\"+4412345678\",,\"26/11/22,01:00:00+00\"\r\nfirst\r\n\r\nOK\r\n" {
		t.Errorf("text CMGL: %q", got)
	}
	tm.chat("AT+CMGF=0")
	if got := tm.chat("AT+CMGD=1"); got != "\r\nOK\r\n" {
		t.Errorf("CMGD: %q", got)
	}
	// +CNMI=2,1: stored and announced.
	tm.chat("AT+CNMI=2,1,0,1,0")
	tm.backend.Deliver(ctx, deliver("second"))
	if got := tm.readUntil(regexp.MustCompile(`\+CMTI: "SM",\d+\r\n$`)); got != "\r\n+CMTI: \"SM\",1\r\n" {
		t.Errorf("CMTI: %q", got)
	}
	// +CNMI=2,2: routed directly.
	tm.chat("AT+CNMI=2,2,0,1,0")
	third := deliver("third")
	tm.backend.Deliver(ctx, third)
	want := "\r\n+CMT: ," + itoa(len(third)) + "\r\n" + pduHex("+999000", third) + "\r\n"
	if got := tm.readUntil(regexp.MustCompile(`\+CMT: ,\d+\r\n[0-9A-F]+\r\n$`)); got != want {
		t.Errorf("CMT: %q, want %q", got, want)
	}
	// A status report for a message sent with TP-SRR arrives as +CDS.
	pdus, _ := sms.Encode([]byte("srr"), sms.To("+4412345678"))
	pdus[0].FirstOctet |= tpdu.FoSRR
	tp, _ := pdus[0].MarshalBinary()
	tm.chat("AT+CMGS=" + itoa(len(tp)))
	tm.conn.Write([]byte("00" + hex.EncodeToString(tp) + "\x1a"))
	got := tm.readUntil(regexp.MustCompile(`\+CDS: \d+\r\n[0-9A-F]+\r\n$`))
	if !strings.HasPrefix(got, "\r\n+CMGS: 1\r\n\r\nOK\r\n\r\n+CDS: ") {
		t.Errorf("CMGS then CDS: %q", got)
	}
}

// fakeCard answers SELECT and ENVELOPE with 9000 and everything else with
// 6D00, and remembers the last command.
type fakeCard struct {
	mu   sync.Mutex
	last []byte
}

func (c *fakeCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	c.mu.Lock()
	c.last = append([]byte(nil), capdu...)
	c.mu.Unlock()
	if len(capdu) >= 2 && (capdu[1] == 0xA4 || capdu[1] == 0xC2) {
		return []byte{0x90, 0x00}, nil
	}
	return []byte{0x6D, 0x00}, nil
}

func (c *fakeCard) apdu() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *fakeCard) Reset(ctx context.Context, cold bool) ([]byte, error) {
	return []byte{0x3B, 0x00}, nil
}

func TestCSIM(t *testing.T) {
	t.Parallel()
	tm := newTerm(t, &fakeCard{})
	tm.chat("ATE0")
	if got := tm.chat(`AT+CSIM=14,"00A40004023F00"`); got != "\r\n+CSIM: 4,\"9000\"\r\n\r\nOK\r\n" {
		t.Errorf("CSIM: %q", got)
	}
	if got := tm.chat(`AT+CSIM=10,"00A40004023F00"`); got != "\r\nERROR\r\n" {
		t.Errorf("CSIM with a wrong length: %q", got)
	}
	if got := tm.chat(`AT+CUSATA?`); got != "\r\n+CUSATA: 4,0\r\n\r\nOK\r\n" {
		t.Errorf("CUSATA?: %q", got)
	}
}

// FuzzInput feeds arbitrary terminal input through the line discipline and
// every command handler: the modem must never panic, whatever a terminal
// sends.
func FuzzInput(f *testing.F) {
	for _, s := range []string{
		"AT\r", "ATE0V0Q1\r", "AT+CMGF=1;+CMGS=\"+44\"\rhi\x1a", "AT+CMGS=5\r0011\x1b",
		"AT+CSIM=14,\"00A40004023F00\"\r", "AT+CNMI=2,2,0,1,0;+CPMS=\"ME\"\rAT+CMGL=4\r",
		"AT+CUSATA=1\rAT+CUSATT=\"810301218082028281830100\"\rAT+CUSATE=\"D3\"\r", "ATS3=10\nAT\n", "A/\r",
		"AT+CMGW=3\r001100\x1aAT+CMGR=1;+CMGD=1,4\r",
		"AT+CPIN?;+CPIN=1234;+CCID;+CIMI\r", "AT+CRSM=176,12258,0,0,10\rAT+CRSM=192,28423,,,,,3F007F20\rAT+CRSM=214,12258,0,0,1,\"00\"\r",
		"AT+CMGF=1;+CSCS=\"UCS2\";+CSMP=17,167,0,8\rAT+CMGS=\"002B0034\"\r0041\x1a",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := New(Config{Backend: NewMemoryBackend(), Card: &fakeCard{}, MSISDN: "+999001"})
		if err != nil {
			t.Fatal(err)
		}
		s := &session{m: m, w: io.Discard}
		ctx := context.Background()
		s.input(ctx, in)
		s.flushURCs()
		if s.err != nil {
			t.Fatal(s.err)
		}
	})
}

// TestSMSPPDataDownload: a class 2 message with PID 7F goes to the card in
// ENVELOPE(SMS-PP download), not to storage (TS 31.111 §7.1.1.2).
func TestSMSPPDataDownload(t *testing.T) {
	t.Parallel()
	card := &fakeCard{}
	tm := newTerm(t, card)
	tm.chat("ATE0")
	// TPDU of TS 31.124 27.22.5.1 SMS-PP data download 1.6.2 (applet/cat/testdata/vectors.txt
	// §7): DELIVER, OA "1234", PID 7F, DCS F6, UD "Short Message".
	tp, _ := hex.DecodeString("04049121437ff6891010000000000d53686f7274204d657373616765")
	tm.backend.Deliver(context.Background(), tp)
	// The envelope is sent while the modem handles the delivery; the next
	// command is answered after that.
	want := "80c2000024d122820283818b1c" + hex.EncodeToString(tp)
	for i := 0; hex.EncodeToString(card.apdu()) != want; i++ {
		if i == 1000 {
			t.Fatalf("card got %X, want %s", card.apdu(), want)
		}
		tm.chat("AT")
	}
	if got := tm.chat("AT+CPMS?"); !strings.Contains(got, `"SM",0,30`) {
		t.Errorf("data download message was stored: %q", got)
	}
}
