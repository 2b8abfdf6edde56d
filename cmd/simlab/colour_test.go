package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/smsc"
)

// TestColourOnlyOnATerminal: colour needs a terminal, and NO_COLOR (set,
// not empty) or TERM=dumb turn it off; output to a pipe stays plain.
func TestColourOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, c := range []struct {
		tty  bool
		env  func(string) string
		want bool
	}{
		{true, env("TERM", "xterm-256color"), true},
		{true, env(), true},
		{false, env("TERM", "xterm"), false},
		{true, env("NO_COLOR", "1", "TERM", "xterm"), false},
		{true, env("NO_COLOR", "", "TERM", "xterm"), true},
		{true, env("TERM", "dumb"), false},
	} {
		if got := colourOn(c.tty, c.env); got != c.want {
			t.Errorf("tty %v NO_COLOR %q TERM %q: colour %v, want %v", c.tty, c.env("NO_COLOR"), c.env("TERM"), got, c.want)
		}
	}
	if p := paletteFor(&strings.Builder{}); p.on {
		t.Error("a buffer is no terminal")
	}
	on := palette{on: true}
	for o, code := range map[string]string{"approved": green, "cancelled": yellow, "wrong_pin": yellow, "timeout": red, "not_delivered": red, "pin_blocked": red} {
		if got := on.outcome(o); got != "\x1b["+code+"m"+o+"\x1b[0m" {
			t.Errorf("outcome %s: %q", o, got)
		}
		if got := (palette{}).outcome(o); got != o {
			t.Errorf("plain outcome %s: %q", o, got)
		}
	}
	// The doctor's STATUS column is coloured after alignment: the other
	// columns stay where they were.
	table := "AREA  CHECK  STATUS   DETAIL\ncore  tcp    ok       fine\nlab   pcscd  missing  install it\n            \t\n"
	got := string(on.column([]byte(table), "STATUS", func(w string) string { return "<" + w + ">" }))
	want := "AREA  CHECK  STATUS   DETAIL\ncore  tcp    <ok>       fine\nlab   pcscd  <missing>  install it\n            \t\n"
	if got != want {
		t.Errorf("column:\n%s\nwant\n%s", got, want)
	}
	var out strings.Builder
	if code := run(context.Background(), []string{"doctor"}, strings.NewReader(""), &out, io.Discard); code != exitOK || strings.Contains(out.String(), "\x1b[") {
		t.Errorf("doctor to a pipe: exit %d, escapes in %q", code, out.String())
	}
}

// TestServeReadyLineForPeople: below the line scripts read, serve names
// its web page, its API and a first command; --json carries page and api.
func TestServeReadyLineForPeople(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "error"}, strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 4 && sc.Scan() {
		if len(lines) > 0 || strings.HasPrefix(sc.Text(), "simlab: ready ") {
			lines = append(lines, sc.Text())
		}
	}
	cancel()
	go io.Copy(io.Discard, pr)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if len(lines) != 4 {
		t.Fatalf("ready lines %q", lines)
	}
	var smpp, http string
	for _, f := range strings.Fields(strings.TrimPrefix(lines[0], "simlab: ready ")) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "smpp":
			smpp = v
		case "http":
			http = v
		}
	}
	if !strings.HasPrefix(lines[1], "  page  http://"+http+"/ ") || !strings.HasPrefix(lines[2], "  api   http://"+http+"/api/v1/ ") ||
		lines[3] != "  try   simlab push --to +99900000001 --loa 3 --smpp "+smpp {
		t.Errorf("ready lines:\n%s", strings.Join(lines, "\n"))
	}
	var rl readyLine
	var out strings.Builder
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	jr, jw := io.Pipe()
	go func() {
		run(ctx2, []string{"serve", "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--json", "--log-level", "error"}, strings.NewReader(""), jw, &out)
		jw.Close()
	}()
	line, err := bufio.NewReader(jr).ReadString('\n')
	cancel2()
	go io.Copy(io.Discard, jr)
	if err != nil || json.Unmarshal([]byte(line), &rl) != nil || rl.Page != rl.HTTP+"/" || rl.API != rl.HTTP+"/api/v1/" {
		t.Errorf("--json ready line %q (%v)", line, err)
	}
}

// The ready line suggests a command that works on the server started: bound
// as an account when the SMSC has accounts (without the password, a secret),
// and no push when no fleet would answer it.
func TestTryFirstFitsTheServer(t *testing.T) {
	for _, c := range []struct {
		cfg  simulator.Config
		smpp string
		want string
	}{
		{simulator.Config{}, simulator.DefaultSMPPAddr, "simlab push --to +99900000001 --loa 3"},
		{simulator.Config{}, "127.0.0.1:2780", "simlab push --to +99900000001 --loa 3 --smpp 127.0.0.1:2780"},
		{simulator.Config{Accounts: []smsc.Account{{SystemID: "job1", Password: "secret1"}, {SystemID: "job2"}}}, simulator.DefaultSMPPAddr,
			"simlab push --to +99900000001 --loa 3 --system-id job1 --password PASSWORD"},
		{simulator.Config{NoFleet: true}, "127.0.0.1:2780", "bind your service to 127.0.0.1:2780 over SMPP (--no-fleet: messages are captured, no phone answers)"},
	} {
		if got := tryFirst(&c.cfg, c.smpp); got != c.want {
			t.Errorf("tryFirst(…, %s) = %q, want %q", c.smpp, got, c.want)
		}
	}
}
