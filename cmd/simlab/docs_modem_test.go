package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docsModem is the emulated modem docs/lab-modems.md's transcripts talk to
// (marker "docs-test: modem"): `simlab serve --no-fleet` and `simlab modem
// emulate` bound to it, as the page's "Emulated modem" block runs them,
// on a pty linked in a directory of the test's own and on ports the OS
// chose. One per page, started by its first modem block.
type docsModem struct {
	srv  *serveProcess
	link string
	rep  *strings.Replacer
}

// The modem and ports the page shows.
const (
	docsModemLink = "/tmp/lab/ttySIM0"
	docsModemHTTP = "127.0.0.1:18775"
	docsModemSMPP = "127.0.0.1:12775"
)

// startDocsModem starts the page's SMSC and emulated modem and returns
// once the modem is bound to the SMSC and its pty linked (it prints both).
func startDocsModem(t *testing.T) *docsModem {
	t.Helper()
	srv := startServe(t, "--no-fleet", "--log-level", "warn")
	link := filepath.Join(t.TempDir(), "ttySIM0")
	cmd := exec.Command(os.Args[0], "modem", "emulate", "--link", link, "--msisdn", "+999001234567",
		"--smpp", srv.smpp, "--system-id", "modem", "--password", "pw")
	cmd.Env = append(os.Environ(), "SIMLAB_TEST_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	bound := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var seen []string
		isBound, linked := false, false
		for sc.Scan() {
			seen = append(seen, sc.Text())
			isBound = isBound || strings.HasPrefix(sc.Text(), "smpp: bound to ")
			linked = linked || strings.HasPrefix(sc.Text(), "emulated modem on ")
			if isBound && linked {
				bound <- ""
				break
			}
		}
		if len(bound) == 0 {
			bound <- strings.Join(seen, "\n")
		}
		for sc.Scan() { // keep the pipe drained
		}
	}()
	select {
	case lines := <-bound:
		if lines != "" {
			t.Fatalf("simlab modem emulate ended before binding:\n%s", lines)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("simlab modem emulate did not bind in 30 s")
	}
	if _, err := os.Lstat(link); err != nil {
		t.Fatalf("the modem's link: %v", err)
	}
	return &docsModem{srv: srv, link: link,
		rep: strings.NewReplacer(docsModemLink, link, docsModemHTTP, srv.http, docsModemSMPP, srv.smpp)}
}

// block returns b with the page's modem and ports, in its commands and
// its outputs alike (a gammurc it shows names the modem), made this
// test's.
func (m *docsModem) block(b docBlock) docBlock {
	b.body = m.rep.Replace(b.body)
	return b
}
