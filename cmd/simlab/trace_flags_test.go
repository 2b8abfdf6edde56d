package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// smppCommands returns the SMPP command ids tshark reads in a capture,
// one per PDU, and the bind passwords.
func smppCommands(t *testing.T, path string) (cmds []string, passwords []string) {
	t.Helper()
	tshark := needs.Command(t, "tshark", "tshark")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tshark, "-r", path, "-Y", "smpp", "-T", "fields", "-E", "separator=|", "-e", "smpp.command_id", "-e", "smpp.password")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		cmds = append(cmds, strings.Split(f[0], ",")...)
		if len(f) > 1 && f[1] != "" {
			passwords = append(passwords, f[1])
		}
	}
	return cmds, passwords
}

// TestTraceFlags: sms send, push and load take --pcap: each capture holds
// the command's SMPP session as tshark decodes it, its bind password
// masked and nowhere in the file.
func TestTraceFlags(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	const password = "hunter22"
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		want []string // command ids the capture must hold
	}{
		{"sms send", []string{"sms", "send", "--to", "+999000801", "--text", "traced", "--dlr"},
			[]string{"0x00000009", "0x00000004", "0x80000004", "0x00000005", "0x80000005", "0x00000006"}},
		{"push", []string{"push", "--to", simtest.Number(t, "approve", 11), "--loa", "2", "--json"},
			[]string{"0x00000009", "0x00000004", "0x80000004", "0x00000005", "0x80000005"}},
		{"load", []string{"load", "--to", "+99901000900-+99901000909", "--loa", "2", "--rate", "10", "--duration", "1s", "--binds", "1", "--json", "--progress", "never"},
			[]string{"0x00000009", "0x00000004", "0x80000004", "0x00000005", "0x80000005"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".pcap")
			args := append(c.args, "--smpp", srv.SMPPAddr, "--password", password, "--pcap", path)
			var out, errb bytes.Buffer
			if code := run(context.Background(), args, nil, &out, &errb); code != 0 {
				t.Fatalf("simlab %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(password)) {
				t.Fatal("the capture holds the bind password")
			}
			cmds, pws := smppCommands(t, path)
			for _, want := range c.want {
				if !strings.Contains(strings.Join(cmds, " "), want) {
					t.Errorf("no %s in %v", want, cmds)
				}
			}
			if len(pws) == 0 || pws[0] != strings.Repeat("*", len(password)) {
				t.Errorf("smpp.password %q, want the binds' masked", pws)
			}
		})
	}
}
