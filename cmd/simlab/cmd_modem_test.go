package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/modem"
)

func TestModemUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"modem", "info"},
		{"modem", "send", "--port", "/dev/null", "--text", "x"},
		{"modem", "send", "--port", "/dev/null", "--to", "1"},
		{"modem", "send", "--port", "/dev/null", "--to", "1", "--text", "x", "--ota", "00"},
		{"modem", "send", "--port", "/dev/null", "--to", "1", "--ota", "zz"},
		{"modem", "listen"},
		{"modem", "emulate"},
		{"modem", "emulate", "--link", "/tmp/x", "--smpp", "127.0.0.1:1"},
		{"modem", "list", "extra"},
	} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, stderr)
		}
	}
	if code, out, _ := runCLI(t, "modem", "--help"); code != exitOK || !strings.Contains(out, "emulate") {
		t.Errorf("modem --help: %d\n%s", code, out)
	}
	if code, _, stderr := runCLI(t, "modem", "info", "--port", filepath.Join(t.TempDir(), "ttyNONE")); code != exitFailure {
		t.Errorf("info on a missing port: exit %d (%s)", code, stderr)
	}
}

func TestModemList(t *testing.T) {
	t.Parallel()
	code, out, stderr := runCLI(t, "modem", "list", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var ports []modemPort
	if err := json.Unmarshal([]byte(out), &ports); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

// startEmulate runs `simlab modem emulate` until the test ends and returns
// the link once the pty is ready.
func startEmulate(t *testing.T, extra ...string) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "ttySIM0")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	args := append([]string{"modem", "emulate", "--link", link}, extra...)
	go func() { done <- run(ctx, args, strings.NewReader(""), pw, &stderr); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("emulate exited %d: %s", code, stderr.String())
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.Contains(line, link) {
		t.Fatalf("emulate printed %q, %v (%s)", line, err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	return link
}

// TestModemEmulateSMPP is the acceptance path without gammu: emulate bound
// to simlab's SMSC, info and send through the pty, the message in the
// capture API, and listen printing what a SUT sends to the modem's number.
func TestModemEmulateSMPP(t *testing.T) {
	ready := startSMSC(t)
	link := startEmulate(t, "--msisdn", "+999001234567", "--smpp", ready.SMPP, "--system-id", "modem", "--password", "pw")

	code, out, stderr := runCLI(t, "modem", "info", "--port", link, "--json")
	if code != exitOK {
		t.Fatalf("info: exit %d: %s", code, stderr)
	}
	var info modem.Info
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.IMEI != "359881030000008" {
		t.Fatalf("info %+v, %v", info, err)
	}

	code, out, stderr = runCLI(t, "modem", "send", "--port", link, "--to", "+4412345678", "--text", "Hello via modem", "--json")
	if code != exitOK {
		t.Fatalf("send: exit %d: %s", code, stderr)
	}
	var sent sendResult
	if err := json.Unmarshal([]byte(out), &sent); err != nil || len(sent.References) != 1 {
		t.Fatalf("send %+v, %v", sent, err)
	}
	resp, err := http.Get(ready.HTTP + "/api/v1/messages/latest?to=4412345678")
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Text *string `json:"text"`
	}
	json.NewDecoder(resp.Body).Decode(&msg)
	resp.Body.Close()
	if msg.Text == nil || *msg.Text != "Hello via modem" {
		r, _ := http.Get(ready.HTTP + "/api/v1/messages")
		all, _ := io.ReadAll(r.Body)
		t.Fatalf("capture API: %+v; all: %s", msg, all)
	}

	// listen prints what the SMSC delivers to +999001234567.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	lpr, lpw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"modem", "listen", "--port", link}, strings.NewReader(""), pw, lpw)
		pw.Close()
		lpw.Close()
	}()
	if l, err := bufio.NewReader(lpr).ReadString('\n'); err != nil || !strings.Contains(l, "listening") {
		t.Fatalf("listen: %q %v", l, err)
	}
	go io.Copy(io.Discard, lpr)
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"sms", "send", "--smpp", ready.SMPP, "--system-id", "sut", "--from", "12345",
		"--to", "+999001234567", "--text", "Your code is 482913", "--timeout", "10s"}, nil, &so, &se); code != 0 {
		t.Fatalf("sms send: %d %s", code, se.String())
	}
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.Contains(line, `deliver from +12345`) || !strings.Contains(line, `"Your code is 482913"`) {
		t.Fatalf("listen printed %q, %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("listen exited %d", code)
	}
}

// TestModemEmulateCard: with --card the emulated UICC answers AT+CSIM and
// the SIM toolkit can be activated towards the terminal.
func TestModemEmulateCard(t *testing.T) {
	t.Parallel()
	link := startEmulate(t, "--card")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := modem.Open(ctx, link, modem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// SELECT MF without response data (TS 102 221 §11.1.1): 9000.
	r, err := m.Card().Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00})
	if err != nil || len(r) != 2 || r[0] != 0x90 {
		t.Fatalf("CSIM SELECT MF: %X %v", r, err)
	}
	tk, err := m.Toolkit(ctx, nil)
	if err != nil {
		t.Fatalf("toolkit: %v", err)
	}
	tk.Close()
}

// TestWriteJSONLine: one object per line, and the text inside it untouched
// (an earlier version squeezed runs of spaces in strings).
func TestWriteJSONLine(t *testing.T) {
	var b bytes.Buffer
	writeJSONLine(&b, map[string]string{"text": "Code:  1234   x\tend"})
	writeJSONLine(&b, map[string]int{"n": 2})
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), b.String())
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil || got["text"] != "Code:  1234   x\tend" {
		t.Errorf("line %q: %v %q", lines[0], err, got["text"])
	}
}
