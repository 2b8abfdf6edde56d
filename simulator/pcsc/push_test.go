//go:build cgo && linux

package pcsc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/simlab-dev/simlab/internal/needs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/pcsc"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
)

// TestPushThroughPCSCD runs whole challenges through pcscd and vpcd: the
// emulated SIM of the default fleet's first subscriber (what `simlab card
// emulate` serves) in the virtual reader, simlab's handset on the PC/SC
// terminal, the keys found by the push side from the ICCID it reads through
// PC/SC, in a key store of its own.
func TestPushThroughPCSCD(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	ctx := testContext(t, 60*time.Second)
	ks := soft.NewMemory()
	t.Cleanup(func() { ks.Close() })
	card, _, err := fleet.NewCard(ctx, ks, nil, fleet.FleetNumber(0), fleet.CardOptions{PIN: fleet.DefaultPIN})
	if err != nil {
		t.Fatal(err)
	}
	plugCard(t, 0, card, false)
	for _, tc := range []struct {
		loa     authn.LoA
		answer  string
		outcome string
		acr     string
	}{
		{authn.LoA3, person.AnswerApprove, "approved", "3"},
		{authn.LoA2, person.AnswerApprove, "approved", "2"},
		{authn.LoA3, person.AnswerCancel, "cancelled", ""},
	} {
		t.Run(tc.loa.String()+"-"+tc.answer, func(t *testing.T) {
			c, err := pcsc.Open(ctx, reader0)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			res, err := push.ChallengeCard(ctx, push.CardConfig{
				Card: c, PIN: fleet.DefaultPIN,
				Person: person.New(person.Behaviour{Then: person.Step{Answer: tc.answer}}, 1),
			}, push.Request{LoA: tc.loa, BindingMessage: "through pcscd", Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			acr := ""
			if res.ACR != nil {
				acr = *res.ACR
			}
			if res.Outcome != tc.outcome || acr != tc.acr || !res.SignatureValid {
				t.Fatalf("result %+v (acr %q), want %s acr %q with a valid signature", res, acr, tc.outcome, tc.acr)
			}
		})
	}
}

// TestCardPushCLIAcceptance is the acceptance run, with the binaries:
// `simlab card emulate --vpcd …` serving the virtual card and `simlab card
// push --reader "Virtual PCD 00 00" --loa 3 --answer approve --json`.
func TestCardPushCLIAcceptance(t *testing.T) {
	gotool := needs.Command(t, "go", "golang-go")
	port := startPCSCD(t)
	virtualCards.Lock()
	defer virtualCards.Unlock()
	bin := filepath.Join(t.TempDir(), "simlab")
	build := exec.Command(gotool, "build", "-o", bin, "github.com/simlab-dev/simlab/cmd/simlab")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	emu := exec.CommandContext(ctx, bin, "card", "emulate", "--vpcd", fmt.Sprintf("127.0.0.1:%d", port))
	var emuOut strings.Builder
	emu.Stdout, emu.Stderr = &emuOut, &emuOut
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = emu.Wait()
		waitFor(t, pcsc.CardRemoved, reader0)
	})
	waitFor(t, pcsc.CardInserted, reader0)
	out, err := exec.CommandContext(ctx, bin, "card", "push", "--reader", reader0, "--loa", "3", "--answer", "approve", "--json").Output()
	if err != nil {
		t.Fatalf("card push: %v\n%s\nemulate: %s", err, out, emuOut.String())
	}
	var res push.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("card push printed %q: %v", out, err)
	}
	if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "3" || !res.SignatureValid {
		t.Fatalf("card push result %s, want approved with acr 3 and a valid signature", out)
	}
	// A wrong PIN counts down on the same card.
	out, _ = exec.CommandContext(ctx, bin, "card", "push", "--reader", reader0, "--loa", "3", "--answer", "wrong-pin", "--json").Output()
	res = push.Result{}
	if err := json.Unmarshal(out, &res); err != nil || res.Outcome != "wrong_pin" || res.TriesLeft == nil || *res.TriesLeft != 2 {
		t.Fatalf("card push --answer wrong-pin printed %s (%v), want wrong_pin with 2 tries left", out, err)
	}
	// The doctor sees pcscd and the virtual card (issue 2).
	out, err = exec.CommandContext(ctx, bin, "doctor", "--json").Output()
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	var rep struct {
		Checks []struct{ Name, Status, Detail string }
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, c := range rep.Checks {
		seen[c.Name] = c.Status + ": " + c.Detail
	}
	if !strings.HasPrefix(seen["pcscd reachable"], "ok") || !strings.Contains(seen["readers and cards"], reader0+" (card, ATR") {
		t.Fatalf("doctor with pcscd and a virtual card: %q / %q", seen["pcscd reachable"], seen["readers and cards"])
	}
	// simlab's own `card apdu` (issue 16 items 4 and 5): STATUS in class 80
	// without Le gets 61xx, and the GET RESPONSE it sends in class 80 gets
	// the FCP; VERIFY PIN1 in case 1 T=0 form is the retry counter query.
	out, err = exec.CommandContext(ctx, bin, "card", "apdu", "--reader", reader0, "--json", "80F20000", "00 20 00 01 00").Output()
	if err != nil {
		t.Fatalf("card apdu: %v\n%s", err, out)
	}
	var ap struct {
		APDUs []struct {
			Response, SW string
			Exchanges    []struct{ Command, SW string }
		}
	}
	if err := json.Unmarshal(out, &ap); err != nil || len(ap.APDUs) != 2 {
		t.Fatalf("card apdu printed %s: %v", out, err)
	}
	st, verify := ap.APDUs[0], ap.APDUs[1]
	if st.SW != "9000" || !strings.HasPrefix(st.Response, "62") || len(st.Exchanges) != 2 ||
		!strings.HasPrefix(st.Exchanges[0].SW, "61") || !strings.HasPrefix(st.Exchanges[1].Command, "80C00000") {
		t.Errorf("STATUS through card apdu: %+v, want 61xx then GET RESPONSE 80 C0 and the FCP", st)
	}
	if verify.SW != "63C3" {
		t.Errorf("VERIFY 00 20 00 01 00 through card apdu: %+v, want 63C3", verify)
	}
}

// BenchmarkPushThroughPCSCD: one whole LoA3 challenge through pcscd and
// vpcd (keys given, so no EF_ICCID read per challenge).
func BenchmarkPushThroughPCSCD(b *testing.B) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	ctx := context.Background()
	ks := soft.NewMemory()
	defer ks.Close()
	card, _, err := fleet.NewCard(ctx, ks, nil, fleet.FleetNumber(0), fleet.CardOptions{})
	if err != nil {
		b.Fatal(err)
	}
	plugCard(b, 0, card, false)
	c, err := pcsc.Open(ctx, reader0)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys, err := push.CardByICCID(ctx, ks, card.Profile().ICCID, false)
	if err != nil {
		b.Fatal(err)
	}
	cfg := push.CardConfig{Card: c, Keystore: ks, Keys: &keys, PIN: fleet.DefaultPIN, Person: person.New(person.Default(), 1)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := push.ChallengeCard(ctx, cfg, push.Request{LoA: authn.LoA3, Timeout: 10 * time.Second})
		if err != nil || res.Outcome != "approved" {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
