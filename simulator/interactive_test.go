package simulator_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestInteractiveServe: with Interactive set, a phone's prompts go to a
// human at the terminal (here a pipe) and their answers decide the outcome.
func TestInteractiveServe(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	const n = "99901000077"
	s, err := simulator.Start(simulator.Config{SMPPAddr: "127.0.0.1:0", HTTPAddr: "off",
		Interactive: []string{"+" + n}, InteractiveIn: inR, InteractiveOut: outW, PromptTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()); inW.Close(); outW.Close() })
	// The human: answer each prompt as it appears.
	answers := make(chan string, 2)
	answers <- "ok"
	answers <- "c"
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Example Bank") {
				if _, err := io.WriteString(inW, <-answers+"\n"); err != nil {
					return
				}
			}
		}
	}()
	p, err := push.New(context.Background(), push.Config{SMPP: client.Config{Addr: s.Addrs().SMPP, SystemID: "ci", Password: "x", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	for _, want := range []string{"approved", "cancelled"} {
		res, err := p.Push(context.Background(), push.Request{MSISDN: n, LoA: authn.LoA2, ClientName: "Example Bank", Timeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != want {
			t.Fatalf("outcome %s (%s), want %s from the human's answer", res.Outcome, res.Detail, want)
		}
		ph, _ := s.Core().Fleet.Lookup(n)
		ph.Wait()
	}
}

func TestFleetFileServe(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../fixtures/fleets/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(good, src, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := simulator.Start(simulator.Config{SMPPAddr: "off", HTTPAddr: "off", Fleet: good})
	if err != nil {
		t.Fatalf("serve with the default plan as a file: %v", err)
	}
	s.Shutdown(context.Background())
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("ranges: [{prefix: \"99901\", nope: 1}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := simulator.Start(simulator.Config{SMPPAddr: "off", HTTPAddr: "off", Fleet: bad}); err == nil || !strings.Contains(err.Error(), "--fleet") {
		t.Fatalf("a bad fleet file: err = %v, want a --fleet error", err)
	}
}
