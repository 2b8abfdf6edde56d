package atmodem_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/atmodem"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

// ptySession is a raw AT session on the emulated modem's pty, as a
// terminal program (minicom, a script) has it.
type ptySession struct {
	t  *testing.T
	f  *os.File
	in chan byte
}

var ptyFinal = regexp.MustCompile(`(\r\nOK\r\n|\r\nERROR\r\n|\r\n\+CM[ES] ERROR: [^\r]*\r\n|\r\n> )$`)

func openPTY(t *testing.T, link string) *ptySession {
	t.Helper()
	f, err := os.OpenFile(link, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := &ptySession{t: t, f: f, in: make(chan byte, 4096)}
	go func() {
		r := bufio.NewReader(f)
		for {
			b, err := r.ReadByte()
			if err != nil {
				close(s.in)
				return
			}
			s.in <- b
		}
	}()
	t.Cleanup(func() { f.Close() })
	return s
}

// send writes raw bytes and returns what the modem answers up to a final
// result code or the "> " prompt.
func (s *ptySession) send(raw string) string {
	s.t.Helper()
	if _, err := s.f.WriteString(raw); err != nil {
		s.t.Fatal(err)
	}
	var got []byte
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for !ptyFinal.Match(got) {
		select {
		case b, ok := <-s.in:
			if !ok {
				s.t.Fatalf("pty closed after %q", got)
			}
			got = append(got, b)
		case <-timeout.C:
			s.t.Fatalf("no final result after %q: %q", raw, got)
		}
	}
	return string(got)
}

// TestTextModeUnicode: text mode with the UCS2 character set and UCS2 or
// 8-bit data, on the pty (issue 16 item 11; TS 27.005 §3.1, §3.5.1): <da> is
// written in the TE character set ("002B…" for "+…"), the body of a UCS2 or
// 8-bit message is its octets in hex whatever +CSCS says, and what the
// network delivers in UCS2 is shown the same way.
func TestTextModeUnicode(t *testing.T) {
	t.Parallel()
	backend := atmodem.NewMemoryBackend()
	s := openPTY(t, emulate(t, backend))
	for _, c := range []string{"ATE0\r", "AT+CMEE=1\r", "AT+CMGF=1\r", `AT+CSCS="UCS2"` + "\r", "AT+CSMP=17,167,0,8\r"} {
		if got := s.send(c); !strings.HasSuffix(got, "OK\r\n") {
			t.Fatalf("%q: %q", c, got)
		}
	}
	// "+4412345678" in UCS2 hex; "Привет" as UCS2 octets.
	if got := s.send(`AT+CMGS="002B0034003400310032003300340035003600370038"` + "\r"); got != "\r\n> " {
		t.Fatalf("prompt: %q", got)
	}
	if got := s.send("041F04400438043204350442\x1a"); !strings.Contains(got, "+CMGS: 1") {
		t.Fatalf("UCS2 CMGS: %q", got)
	}
	// 7-bit data with the UCS2 character set: the text is UCS2 hex.
	s.send("AT+CSMP=17,167,0,0\r")
	s.send(`AT+CMGS="002B0034003400310032003300340035003600370038"` + "\r")
	if got := s.send("00480069\x1a"); !strings.Contains(got, "+CMGS: 2") {
		t.Fatalf("7-bit CMGS: %q", got)
	}
	// 8-bit data with the IRA character set: hex octets.
	s.send(`AT+CSCS="IRA"` + "\r")
	s.send("AT+CSMP=17,167,0,4\r")
	s.send(`AT+CMGS="+4412345678"` + "\r")
	if got := s.send("DEADBEEF\x1a"); !strings.Contains(got, "+CMGS: 3") {
		t.Fatalf("8-bit CMGS: %q", got)
	}
	// docs/lab-modems.md's session: IRA, UCS2 data as hex octets.
	s.send("AT+CSMP=17,167,0,8\r")
	s.send(`AT+CMGS="+4412345678"` + "\r")
	if got := s.send("041F04400438043204350442\x1a"); !strings.Contains(got, "+CMGS: 4\r\n\r\nOK") {
		t.Fatalf("documented CMGS: %q", got)
	}
	// Refused: a body that is not hex for UCS2, a <da> that is not UCS2 hex.
	s.send(`AT+CMGS="+4412345678"` + "\r")
	if got := s.send("Привет\x1a"); got != "\r\n+CMS ERROR: 305\r\n" {
		t.Errorf("UCS2 body as text: %q", got)
	}
	s.send(`AT+CSCS="UCS2"` + "\r")
	s.send(`AT+CMGS="+4412345678"` + "\r")
	if got := s.send("0041\x1a"); got != "\r\n+CMS ERROR: 305\r\n" {
		t.Errorf("<da> not in UCS2: %q", got)
	}

	subs := backend.Submitted()
	if len(subs) != 4 {
		t.Fatalf("%d submitted, want 4", len(subs))
	}
	want := []struct {
		dcs  tpdu.DCS
		ud   string
		text string
	}{{0x08, "041F04400438043204350442", "Привет"}, {0x00, "", "Hi"}, {0x04, "DEADBEEF", ""}, {0x08, "041F04400438043204350442", "Привет"}}
	for i, w := range want {
		var p tpdu.TPDU
		p.Direction = tpdu.MO
		if err := p.UnmarshalBinary(subs[i].TPDU); err != nil {
			t.Fatal(err)
		}
		if p.DA.Number() != "+4412345678" || p.DA.TOA != 0x91 || p.DCS != w.dcs {
			t.Errorf("submit %d: DA %s TOA %02X DCS %02X", i+1, p.DA.Number(), p.DA.TOA, byte(p.DCS))
		}
		if w.ud != "" && strings.ToUpper(hex.EncodeToString(p.UD)) != w.ud {
			t.Errorf("submit %d: UD %X, want %s", i+1, p.UD, w.ud)
		}
		if w.text != "" {
			if text, err := sms.Decode([]*tpdu.TPDU{&p}); err != nil || string(text) != w.text {
				t.Errorf("submit %d: text %q, %v; want %q", i+1, text, err, w.text)
			}
		}
	}

	// MT in UCS2, shown in text mode: octets in hex (with +CSCS="IRA" too).
	s.send(`AT+CSCS="IRA"` + "\r")
	s.send("AT+CNMI=2,2,0,0,0\r")
	ucs2, _ := hex.DecodeString("041F04400438043204350442")
	pdus, err := sms.Encode(ucs2, sms.AsDeliver, sms.AsUCS2, sms.From("+4412345678"))
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := pdus[0].MarshalBinary()
	if fcs, err := backend.DeliverReport(context.Background(), tp); err != nil || fcs != 0 {
		t.Fatalf("delivery: TP-FCS %02X, %v", fcs, err)
	}
	if got := s.send("AT\r"); !strings.Contains(got, "\r\n041F04400438043204350442\r\n") || !strings.Contains(got, `+CMT: "+4412345678"`) {
		t.Errorf("+CMT of a UCS2 message in text mode: %q", got)
	}
}
