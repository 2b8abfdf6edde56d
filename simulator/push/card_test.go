package push_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
)

// TestChallengeCard runs whole challenges against an emulated SIM of the
// default fleet in process, keys found from the ICCID the card reports.
func TestChallengeCard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		loa     authn.LoA
		answer  string
		outcome string
		acr     string
		tries   int // -1: not reported
	}{
		{"loa3-approve", authn.LoA3, person.AnswerApprove, "approved", "3", 3},
		{"loa2-approve", authn.LoA2, person.AnswerApprove, "approved", "2", -1},
		{"loa3-cancel", authn.LoA3, person.AnswerCancel, "cancelled", "", -1},
		{"loa3-wrong-pin", authn.LoA3, person.AnswerWrongPIN, "wrong_pin", "", 2},
		{"loa2-ignore", authn.LoA2, person.AnswerIgnore, "timeout", "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ks := soft.NewMemory()
			defer ks.Close()
			msisdn := fleet.FleetNumber(7)
			card, _, err := fleet.NewCard(ctx, ks, nil, msisdn, fleet.CardOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var apdus atomic.Int32
			res, err := push.ChallengeCard(ctx, push.CardConfig{
				Card:   card,
				Person: person.New(person.Behaviour{Then: person.Step{Answer: tc.answer}}, 1),
				PIN:    fleet.DefaultPIN, MSISDN: msisdn,
				PromptTimeout: time.Second,
				Trace:         func(c, r []byte) { apdus.Add(1) },
			}, push.Request{LoA: tc.loa, BindingMessage: "test " + tc.name, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome || res.MSISDN != msisdn || !res.SignatureValid {
				t.Fatalf("result %+v, want outcome %s, msisdn %s, valid signature", res, tc.outcome, msisdn)
			}
			if got := ""; res.ACR != nil {
				got = *res.ACR
				if got != tc.acr {
					t.Fatalf("acr %s, want %s", got, tc.acr)
				}
			} else if tc.acr != "" {
				t.Fatalf("no acr, want %s", tc.acr)
			}
			if tc.tries >= 0 && (res.TriesLeft == nil || *res.TriesLeft != tc.tries) {
				t.Fatalf("tries left %v, want %d", res.TriesLeft, tc.tries)
			}
			if n := apdus.Load(); n < 4 {
				t.Fatalf("only %d APDUs traced", n)
			}
		})
	}
}

// promptWriter is a terminal's screen: it keeps what is shown and says
// when a prompt waits for a line ("> ").
type promptWriter struct {
	mu       sync.Mutex
	b        bytes.Buffer
	prompted chan struct{}
}

func (w *promptWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.HasSuffix(p, []byte("> ")) {
		select {
		case w.prompted <- struct{}{}:
		default:
		}
	}
	return w.b.Write(p)
}

func (w *promptWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestChallengeCardTerminal answers the PIN prompt as a human at a
// terminal would (person.Interactive, what `simlab card push` uses without
// --answer), and checks the PIN is not echoed.
func TestChallengeCardTerminal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ks := soft.NewMemory()
	defer ks.Close()
	card, _, err := fleet.NewCard(ctx, ks, nil, fleet.FleetNumber(8), fleet.CardOptions{PIN: "24680"})
	if err != nil {
		t.Fatal(err)
	}
	in, typed := io.Pipe()
	defer typed.Close()
	out := &promptWriter{prompted: make(chan struct{}, 1)}
	go func() {
		select {
		case <-out.prompted:
			io.WriteString(typed, "24680\n")
		case <-ctx.Done():
		}
	}()
	var echo []bool
	term := &person.Interactive{In: in, Out: out, Timeout: 10 * time.Second,
		Echo: func(on bool) { echo = append(echo, on) }}
	res, err := push.ChallengeCard(ctx, push.CardConfig{Card: card, Person: term},
		push.Request{LoA: authn.LoA3, ClientName: "Bank", BindingMessage: "login 42", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "3" || !res.SignatureValid {
		t.Fatalf("result %+v, want approved acr 3", res)
	}
	s := out.String()
	if !strings.Contains(s, "login 42") || !strings.Contains(s, "PIN") || strings.Contains(s, "24680") {
		t.Fatalf("terminal output %q: want the binding message and a PIN prompt, never the PIN", s)
	}
	if len(echo) != 2 || echo[0] || !echo[1] {
		t.Fatalf("echo switched %v, want off then on around the PIN", echo)
	}
}

// TestChallengeCardWrongKeys: keys of another card make the card reject
// the packet; the outcome says so instead of hanging.
func TestChallengeCardWrongKeys(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ks := soft.NewMemory()
	defer ks.Close()
	card, _, err := fleet.NewCard(ctx, ks, nil, fleet.FleetNumber(9), fleet.CardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := fleet.Identity(nil, fleet.FleetNumber(10))
	if err != nil {
		t.Fatal(err)
	}
	res, err := push.ChallengeCard(ctx, push.CardConfig{Card: card, ICCID: other,
		Person: person.New(person.Default(), 1)}, push.Request{LoA: authn.LoA2, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != push.SIMError {
		t.Fatalf("result %+v, want %s", res, push.SIMError)
	}
}

func TestReadICCID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ks := soft.NewMemory()
	defer ks.Close()
	msisdn := fleet.FleetNumber(123)
	card, _, err := fleet.NewCard(ctx, ks, nil, msisdn, fleet.CardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := fleet.Identity(nil, msisdn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := card.Reset(ctx, true); err != nil {
		t.Fatal(err)
	}
	got, err := push.ReadICCID(ctx, card)
	if err != nil || got != want {
		t.Fatalf("ReadICCID = %q, %v; want %q", got, err, want)
	}
}

// BenchmarkChallengeCard: one whole LoA3 challenge (seal, ENVELOPE,
// proactive session with GET INPUT, SEND SHORT MESSAGE, open and verify)
// against an emulated SIM in process.
func BenchmarkChallengeCard(b *testing.B) {
	ctx := context.Background()
	ks := soft.NewMemory()
	defer ks.Close()
	msisdn := fleet.FleetNumber(1)
	card, _, err := fleet.NewCard(ctx, ks, nil, msisdn, fleet.CardOptions{})
	if err != nil {
		b.Fatal(err)
	}
	iccid, _, _ := fleet.Identity(nil, msisdn)
	keys, err := push.CardByICCID(ctx, ks, iccid, false)
	if err != nil {
		b.Fatal(err)
	}
	cfg := push.CardConfig{Card: card, Keystore: ks, Keys: &keys, PIN: fleet.DefaultPIN,
		Person: person.New(person.Default(), 1)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := push.ChallengeCard(ctx, cfg, push.Request{LoA: authn.LoA3, Timeout: 10 * time.Second})
		if err != nil || res.Outcome != "approved" {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
