package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/cards"
	"github.com/simlab-dev/simlab/internal/testlog"
)

// TestCardEmulateServesUICC plays vpcd on 127.0.0.1 and checks that
// `simlab card emulate` connects, answers GET ATR with the emulated UICC's
// ATR and SELECT MF in T=0 style, and stops cleanly on cancel.
func TestCardEmulateServesUICC(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb testlog.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"card", "emulate", "--vpcd", ln.Addr().String()}, strings.NewReader(""), &out, &errb)
	}()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("card emulate did not connect: %v (stderr %s)", err, errb.String())
	}
	defer c.Close()
	r := bufio.NewReader(c)
	frame := func(payload ...byte) []byte {
		t.Helper()
		if _, err := c.Write(append([]byte{byte(len(payload) >> 8), byte(len(payload))}, payload...)); err != nil {
			t.Fatal(err)
		}
		var hdr [2]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			t.Fatal(err)
		}
		p := make([]byte, int(hdr[0])<<8|int(hdr[1]))
		if _, err := io.ReadFull(r, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := uicc.ParseProfile(cards.Default)
	if err != nil {
		t.Fatal(err)
	}
	want := uicc.DefaultATR
	if len(p.ATR) > 0 {
		want = p.ATR
	}
	if atr := frame(0x04); !bytes.Equal(atr, want) {
		t.Fatalf("ATR = %X, want %X", atr, want)
	}
	if resp := frame(0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00); len(resp) != 2 || resp[0] != 0x61 {
		t.Fatalf("SELECT MF = %X, want 61xx", resp)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d, stderr %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("card emulate did not stop on cancel")
	}
	if s := out.String(); !strings.Contains(s, "ICCID "+p.ICCID) || !strings.Contains(s, "stopped after 1 APDUs") {
		t.Fatalf("stdout = %q", s)
	}
}

func TestCardEmulateBadProfile(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI(t, "card", "emulate", "--profile", "testdata/does-not-exist.yaml", "--vpcd", "127.0.0.1:1")
	if code != exitFailure || !strings.Contains(stderr, "does-not-exist") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
