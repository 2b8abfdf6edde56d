package simulator_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestServeTracePCAP: `simlab serve --pcap FILE` puts a whole challenge in
// one capture that tshark decodes: the pusher's bind with its password
// masked, the submit_sm, the phone's SIM session (ENVELOPE SMS-PP
// download, FETCH, TERMINAL RESPONSE as GSMTAP SIM frames) and the answer
// coming back as deliver_sm. The password is nowhere in the file.
func TestServeTracePCAP(t *testing.T) {
	tshark := needs.Command(t, "tshark", "tshark")
	t.Parallel()
	const password = "s3cret42"
	path := filepath.Join(t.TempDir(), "serve.pcap")
	s, err := simulator.Start(simulator.Config{SMPPAddr: "127.0.0.1:0", HTTPAddr: "off",
		Accounts: []smsc.Account{{SystemID: "pusher", Password: password}},
		Trace:    simulator.TraceConfig{PCAP: path}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: s.Addrs().SMPP, SystemID: "pusher", Password: password, NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Push(ctx, push.Request{MSISDN: simtest.Number(t, "approve", 7), LoA: authn.LoA2, Timeout: 10 * time.Second})
	if err != nil || res.Outcome != "approved" {
		t.Fatalf("push: %+v %v", res, err)
	}
	p.Close(ctx)
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(password)) {
		t.Fatal("the capture holds the bind password")
	}
	cmd := exec.CommandContext(ctx, tshark, "-r", path, "-T", "fields", "-E", "separator=|",
		"-e", "smpp.command_id", "-e", "smpp.password", "-e", "gsm_sim.apdu.ins", "-e", "_ws.expert.message")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var cmds, pws, ins []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			t.Fatalf("tshark line %q", line)
		}
		cmds = append(cmds, strings.Split(f[0], ",")...)
		if f[1] != "" {
			pws = append(pws, f[1])
		}
		if f[2] != "" {
			ins = append(ins, f[2])
		}
		if e := strings.ToLower(f[3]); strings.Contains(e, "malformed") || strings.Contains(e, "checksum") {
			t.Errorf("tshark expert info: %s", f[3])
		}
	}
	for _, want := range []string{"0x00000009", "0x80000009", "0x00000004", "0x80000004", "0x00000005", "0x80000005", "0x00000006"} {
		if !slices.Contains(cmds, want) {
			t.Errorf("no SMPP command %s in the capture: %v", want, cmds)
		}
	}
	if len(pws) != 1 || pws[0] != strings.Repeat("*", len(password)) {
		t.Errorf("smpp.password = %q, want the bind's, masked", pws)
	}
	for _, want := range []string{"0xc2", "0x12", "0x14"} { // ENVELOPE, FETCH, TERMINAL RESPONSE
		if !slices.Contains(ins, want) {
			t.Errorf("no APDU INS %s in the capture: %v", want, ins)
		}
	}
	// The challenge's order: submit_sm before the SIM session, which
	// comes before the answer's deliver_sm.
	tree, err := exec.CommandContext(ctx, tshark, "-r", path, "-Y", "smpp.command_id == 0x00000004 || smpp.command_id == 0x00000005 || gsm_sim.apdu.ins == 0xc2",
		"-T", "fields", "-e", "frame.number", "-e", "smpp.command_id", "-e", "gsm_sim.apdu.ins").Output()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(string(tree)), "\n") {
		order = append(order, strings.Join(strings.Fields(line)[1:], ""))
	}
	if got := strings.Join(order, " "); !strings.HasPrefix(got, "0x00000004 0xc2") || !strings.Contains(got, "0xc2 0x00000005") {
		t.Errorf("submit_sm, ENVELOPE, deliver_sm out of order: %s", got)
	}
}
