package simtest_test

// This file shows how the CI of a Go service that logs users in with a SIM
// authenticator (or sends SMS codes) uses simtest: start simlab in the
// test, point the service's SMPP client at it, choose each phone's answer
// by its number or a script, and check what the service decides. The
// "service" here is a stand-in built on simlab's push client; yours would
// be your own code speaking SMPP and docs/applet-protocol.md.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// loginService is the system under test: it asks the subscriber to
// confirm a login and says whether it may proceed, and at which acr.
type loginService struct{ p *push.Pusher }

func newLoginService(ctx context.Context, smppAddr string) (*loginService, error) {
	p, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: smppAddr, SystemID: "bank", Password: "secret"}})
	if err != nil {
		return nil, err
	}
	return &loginService{p: p}, nil
}

// Login returns the acr achieved, or "" when the login is refused.
func (s *loginService) Login(ctx context.Context, msisdn string, loa authn.LoA) (string, error) {
	res, err := s.p.Push(ctx, push.Request{MSISDN: msisdn, LoA: loa, ClientName: "Example Bank", BindingMessage: "Login", Timeout: 5 * time.Second})
	if err != nil || res.Outcome != "approved" || !res.SignatureValid {
		return "", err
	}
	return *res.ACR, nil
}

func TestExampleServiceCI(t *testing.T) {
	t.Parallel()
	// 1. simlab in the test: SMSC and phones on loopback ports, stopped by
	//    t.Cleanup. Short prompt timeouts keep "nobody answers" quick.
	s := simtest.NewServer(t, simtest.WithPromptTimeout(5*time.Second))

	// 2. The service binds to s.SMPPAddr as it would to an operator's SMSC.
	ctx := context.Background()
	svc, err := newLoginService(ctx, s.SMPPAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.p.Close(ctx) })

	// 3. Magic numbers choose the answer by themselves (docs/numbers.md);
	//    give each parallel test its own index.
	for _, c := range []struct {
		outcome string
		loa     authn.LoA
		acr     string
	}{
		{"approve", authn.LoA3, "3"},
		{"cancel", authn.LoA2, ""},
		{"no-pin-support", authn.LoA3Fallback2, "2"},
	} {
		acr, err := svc.Login(ctx, simtest.Number(t, c.outcome, 0), c.loa)
		if err != nil || acr != c.acr {
			t.Errorf("%s: acr %q, %v; want %q", c.outcome, acr, err, c.acr)
		}
	}

	// 4. Or script any phone: a wrong PIN first, then the right one.
	n := simtest.Number(t, "approve", 1)
	s.Script(t, n, "wrong-pin", "approve")
	if acr, _ := svc.Login(ctx, n, authn.LoA3); acr != "" {
		t.Errorf("a wrong PIN logged in at acr %q", acr)
	}
	// The answer can reach the service a moment before the phone's SIM
	// Toolkit session has closed; a challenge arriving in that moment is
	// refused as "toolkit busy" and retried by the SMSC seconds later.
	// Back-to-back challenges to one phone wait for it to be idle.
	s.Phone(t, n).Wait()
	if acr, _ := svc.Login(ctx, n, authn.LoA3); acr != "3" {
		t.Errorf("the right PIN gave acr %q", acr)
	}
	if st := s.Phone(t, n).Info().PIN; st.TriesLeft != 3 {
		t.Errorf("tries left %d after a good PIN, want 3 again", st.TriesLeft)
	}

	// 5. SMS codes: read what the phone got from the capture API.
	ids, err := svc.p.SendText(ctx, n, "Your Example Bank code is 604219", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL + "/api/v1/otp?to=" + url.QueryEscape(n))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var otp struct {
		OTP       string `json:"otp"`
		MessageID string `json:"message_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&otp); err != nil || otp.OTP != "604219" || otp.MessageID != ids[0] {
		t.Errorf("OTP %+v, %v", otp, err)
	}
}
