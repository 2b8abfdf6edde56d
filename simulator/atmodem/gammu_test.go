package atmodem_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator/atmodem"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

// emulate serves an emulated modem with backend on a pty linked inside a
// temporary directory and returns the link.
func emulate(t *testing.T, backend atmodem.Backend) string {
	t.Helper()
	return emulateWith(t, atmodem.Config{Backend: backend, MSISDN: "+999001234567", IMEI: "359881030000008"})
}

// emulateWith serves an emulated modem made from cfg (see emulate).
func emulateWith(t *testing.T, cfg atmodem.Config) string {
	t.Helper()
	m, err := atmodem.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "ttyEMU0")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- atmodem.Emulate(ctx, m, link, func(*atmodem.PTY) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("emulate: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emulate: %v", err)
		}
		if _, err := os.Lstat(link); !os.IsNotExist(err) {
			t.Errorf("link %s not removed: %v", link, err)
		}
	})
	return link
}

// gammu runs gammu with a gammurc for the pty (connection = at) and
// returns its output; the debug log is shown when the test fails.
func gammu(t *testing.T, ctx context.Context, link string, args ...string) (string, error) {
	t.Helper()
	bin := needs.Command(t, "gammu", "gammu")
	dir := t.TempDir()
	rc := filepath.Join(dir, "gammurc")
	logf := filepath.Join(dir, "gammu.log")
	conf := fmt.Sprintf("[gammu]\ndevice = %s\nconnection = at\nlogfile = %s\nlogformat = textall\n", link, logf)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--config", rc}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil || t.Failed() || os.Getenv("SIMLAB_GAMMU_LOG") != "" {
		log, _ := os.ReadFile(logf)
		t.Logf("gammu %v: %v\n%s\n--- log ---\n%s", args, err, out, log)
	}
	return string(out), err
}

func TestGammuIdentify(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	link := emulate(t, atmodem.NewMemoryBackend())
	out, err := gammu(t, ctx, link, "identify")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"359881030000008", "simlab", "999990000000001"} {
		if !strings.Contains(out, want) {
			t.Errorf("gammu identify output lacks %q:\n%s", want, out)
		}
	}
}

func TestGammuSendSMS(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	backend := atmodem.NewMemoryBackend()
	link := emulate(t, backend)
	if _, err := gammu(t, ctx, link, "sendsms", "TEXT", "+4412345678", "-text", "Hello from gammu"); err != nil {
		t.Fatal(err)
	}
	p, text, err := firstSubmitted(t, ctx, backend)
	if err != nil || text != "Hello from gammu" || p.DA.Number() != "+4412345678" {
		t.Errorf("gammu sent %q to %s (%v)", text, p.DA.Number(), err)
	}
}

// TestGammuInbox: a message the network delivers is stored (+CNMI default
// <mt>=0) and gammu reads it with +CPMS/+CMGL; networkinfo sees a
// registered modem.
func TestGammuInbox(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	backend := atmodem.NewMemoryBackend()
	link := emulate(t, backend)
	pdus, err := sms.Encode([]byte("Your code is 135790"), sms.AsDeliver, sms.From("+4412345678"))
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := pdus[0].MarshalBinary()
	if err := backend.Deliver(ctx, tp); err != nil {
		t.Fatal(err)
	}
	out, err := gammu(t, ctx, link, "getallsms")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Your code is 135790") || !strings.Contains(out, `"+4412345678"`) {
		t.Errorf("getallsms:\n%s", out)
	}
	out, err = gammu(t, ctx, link, "networkinfo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "home network") || !strings.Contains(out, "simlab") {
		t.Errorf("networkinfo:\n%s", out)
	}
}

// TestGammuSendUnicode: gammu's -unicode sends UCS2 (DCS 08) through the
// emulated modem; the terminal and the network see the same text.
func TestGammuSendUnicode(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	backend := atmodem.NewMemoryBackend()
	link := emulate(t, backend)
	if _, err := gammu(t, ctx, link, "sendsms", "TEXT", "+4412345678", "-unicode", "-text", "Привет, simlab"); err != nil {
		t.Fatal(err)
	}
	p, text, err := firstSubmitted(t, ctx, backend)
	if err != nil || text != "Привет, simlab" || p.DCS&0x0C != 0x08 || p.DA.Number() != "+4412345678" {
		t.Errorf("gammu sent %q (DCS %02X) to %s (%v)", text, byte(p.DCS), p.DA.Number(), err)
	}
}

// firstSubmitted waits for the first SMS-SUBMIT the modem hands backend and
// returns it with its text.
func firstSubmitted(t *testing.T, ctx context.Context, backend *atmodem.MemoryBackend) (*tpdu.TPDU, string, error) {
	t.Helper()
	subs, err := backend.AwaitSubmitted(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := &tpdu.TPDU{Direction: tpdu.MO}
	if err := p.UnmarshalBinary(subs[0].TPDU); err != nil {
		t.Fatalf("TPDU %X: %v", subs[0].TPDU, err)
	}
	text, err := sms.Decode([]*tpdu.TPDU{p})
	return p, string(text), err
}
