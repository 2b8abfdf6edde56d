package trace

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/needs"
)

// The secrets of maskedExchanges: PIN1 "1234" in a VERIFY block, and
// "2345678" typed into a hidden GET INPUT (TS 31.124 §27.22.4.3 GET INPUT
// 1.4.1's answer, ofono unit/stk-test-data.h).
var (
	pinBlock    = []byte{0x31, 0x32, 0x33, 0x34, 0xFF, 0xFF, 0xFF, 0xFF}
	hiddenInput = []byte("2345678")
)

var maskedExchanges = []struct{ c, r string }{
	{"002000010831323334FFFFFFFF", "9000"},
	{"80140000168103012304820282818301008D080432333435363738", "9000"},
	{"00A40004023F00", "6116"},
}

// TestPINsMaskedInCapture: a pcap and live GSMTAP of a VERIFY PIN and of
// the answer to a hidden GET INPUT hold neither secret (issue 16), and
// tshark still decodes every frame as the command it is.
func TestPINsMaskedInCapture(t *testing.T) {
	tshark := needs.Command(t, "tshark", "tshark")
	t.Parallel()
	lis, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	path := filepath.Join(t.TempDir(), "pins.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := New(Options{PCAP: f, Live: lis.LocalAddr().String(), Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range maskedExchanges {
		if err := rec.APDU(time.Time{}, unhex(t, x.c), unhex(t, x.r)); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	capture, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Live: the datagrams arrive (loopback, in order) and hold no secret.
	lis.SetReadDeadline(time.Now().Add(10 * time.Second))
	var live []byte
	for range maskedExchanges {
		buf := make([]byte, 2048)
		n, err := lis.Read(buf)
		if err != nil {
			t.Fatalf("live GSMTAP: %v", err)
		}
		live = append(live, buf[:n]...)
	}
	for name, b := range map[string][]byte{"pcap": capture, "GSMTAP": live} {
		if bytes.Contains(b, pinBlock) || bytes.Contains(b, hiddenInput) {
			t.Errorf("%s holds a PIN", name)
		}
		if !bytes.Contains(b, []byte("XXXXXXXX")) || !bytes.Contains(b, []byte("XXXXXXX")) {
			t.Errorf("%s lacks the masked bytes", name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tshark, "-r", path, "-T", "fields", "-E", "separator=|",
		"-e", "gsm_sim.apdu.ins", "-e", "_ws.expert.message").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	var ins []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Split(line, "|")
		ins = append(ins, fields[0])
		if len(fields) > 1 && strings.Contains(strings.ToLower(fields[1]), "malformed") {
			t.Errorf("tshark: %s", fields[1])
		}
	}
	if got := strings.Join(ins, ","); got != "0x20,0x14,0xa4" {
		t.Errorf("gsm_sim.apdu.ins = %s\n%s", got, out)
	}
	out, err = exec.CommandContext(ctx, tshark, "-r", path, "-V").Output()
	if err != nil {
		t.Fatalf("tshark -V: %v", err)
	}
	for _, want := range []string{"VERIFY CHV", "TERMINAL RESPONSE", "Command Type: GET INPUT"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tshark -V lacks %q:\n%s", want, out)
		}
	}
}
