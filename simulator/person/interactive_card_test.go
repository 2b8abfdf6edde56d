package person_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
)

// screen collects what the phone shows and tells when a prompt waits.
type screen struct {
	mu      sync.Mutex
	text    strings.Builder
	waiting chan struct{}
}

func (s *screen) Write(b []byte) (int, error) {
	s.mu.Lock()
	s.text.Write(b)
	s.mu.Unlock()
	if strings.HasSuffix(string(b), "> ") {
		s.waiting <- struct{}{}
	}
	return len(b), nil
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text.String()
}

// TestInteractiveAnswersARealChallenge runs a sealed challenge through the
// emulated SIM and its authenticator applet, with simlab as the handset
// and a "human" at the Interactive terminal typing the answers.
func TestInteractiveAnswersARealChallenge(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		loa     authn.LoA
		typed   []string
		outcome string
		acr     string
	}{
		{"PIN typed", authn.LoA3, []string{"24680"}, "approved", "3"},
		{"wrong PIN typed after a short one", authn.LoA3, []string{"12", "11111"}, "wrong_pin", ""},
		{"OK pressed", authn.LoA2, []string{""}, "approved", "2"},
		{"cancelled", authn.LoA3, []string{"c"}, "cancelled", ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ks := soft.NewMemory()
			card, _, err := fleet.NewCard(ctx, ks, nil, fleet.FleetNumber(700+i), fleet.CardOptions{PIN: "24680"})
			if err != nil {
				t.Fatal(err)
			}
			in, typist := io.Pipe()
			defer typist.Close()
			scr := &screen{waiting: make(chan struct{}, 4)}
			human := person.NewInteractive(in, scr)
			human.Label = "+" + fleet.FleetNumber(700+i)
			done := make(chan push.Result, 1)
			go func() {
				res, err := push.ChallengeCard(ctx, push.CardConfig{Card: card, Keystore: ks, Person: human, PIN: "24680"},
					push.Request{LoA: c.loa, ClientName: "Example Bank", BindingMessage: "Login 4F2A", Timeout: time.Minute})
				if err != nil {
					t.Error(err)
				}
				done <- res
			}()
			for _, line := range c.typed {
				<-scr.waiting
				io.WriteString(typist, line+"\n")
			}
			res := <-done
			acr := ""
			if res.ACR != nil {
				acr = *res.ACR
			}
			if res.Outcome != c.outcome || acr != c.acr || !res.SignatureValid {
				t.Errorf("%+v, want %s acr %q", res, c.outcome, acr)
			}
			if !strings.Contains(scr.String(), "phone +"+fleet.FleetNumber(700+i)) {
				t.Errorf("screen:\n%s", scr.String())
			}
		})
	}
}

// TestInteractiveNoAnswerTimesOut: nobody types; the Interactive person
// gives up at its own timeout (the handset passes no deadline with the
// prompt today) and the card answers "no response": outcome timeout,
// signed by the card. Fake time (synctest) keeps the waits instant.
//
// The handset then still waits the prompt's full timeout (30 s) after the
// person gave up, because it counts a "no answer" from when Answer returns;
// the report to the lead proposes counting from when the prompt is shown.
func TestInteractiveNoAnswerTimesOut(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ks := soft.NewMemory()
		card, _, err := fleet.NewCard(ctx, ks, nil, fleet.FleetNumber(710), fleet.CardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		in, typist := io.Pipe()
		defer typist.Close()
		human := &person.Interactive{In: in, Out: io.Discard, Timeout: 5 * time.Second}
		res, err := push.ChallengeCard(ctx, push.CardConfig{Card: card, Keystore: ks, Person: human},
			push.Request{LoA: authn.LoA2, ClientName: "Example Bank", Timeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != "timeout" || res.ACR != nil || !res.SignatureValid {
			t.Errorf("%+v", res)
		}
	})
}
