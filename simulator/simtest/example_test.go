package simtest_test

// This file shows how the CI of a Go service that logs users in with a SIM
// authenticator (or sends SMS codes) uses simtest: start simlab in the
// test, point the service's SMPP client at it, choose each phone's answer
// by its number or a script, and check what the service decides. The
// "service" here is a stand-in built on simlab's push client; yours would
// be your own code speaking SMPP and docs/applet-protocol.md.

import (
	"context"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// loginService is the system under test: it asks the subscriber to
// confirm a login and says whether it may proceed, and at which acr. It
// binds to the SMSC with the SMPP settings it is given, as yours would.
type loginService struct{ p *push.Pusher }

func newLoginService(ctx context.Context, smpp client.Config, source string) (*loginService, error) {
	p, err := push.New(ctx, push.Config{SMPP: smpp, Source: source})
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
	// 1. simlab for the test: in this process (SMSC and phones on loopback
	//    ports, stopped by t.Cleanup), or the CI job's shared `simlab
	//    serve` when $SIMLAB_API and $SIMLAB_SMPP name it. Short prompt
	//    timeouts keep "nobody answers" quick (in-process only).
	s := simtest.FromEnv(t, simtest.WithPromptTimeout(5*time.Second))

	// 2. The test's own namespace: an SMPP system_id, a reply address and
	//    phone numbers nobody else gets, so parallel tests — here or in
	//    other packages on the same server — never see each other's
	//    traffic.
	ns := s.NS(t)

	// 3. The service binds as the namespace (ns.SMPP(): system_id ns.Name,
	//    address_range ns.Source) and sends from ns.Source.
	ctx := t.Context()
	svc, err := newLoginService(ctx, ns.SMPP(), ns.Source)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.p.Close(context.Background()) })

	// 4. Magic numbers choose the answer by themselves (docs/numbers.md);
	//    ns.Number leases one of an outcome to this test alone.
	for _, c := range []struct {
		outcome string
		loa     authn.LoA
		acr     string
	}{
		{"approve", authn.LoA3, "3"},
		{"cancel", authn.LoA2, ""},
		{"no-pin-support", authn.LoA3Fallback2, "2"},
	} {
		acr, err := svc.Login(ctx, ns.Number(c.outcome), c.loa)
		if err != nil || acr != c.acr {
			t.Errorf("%s: acr %q, %v; want %q", c.outcome, acr, err, c.acr)
		}
	}

	// 5. Or script an ordinary phone: a wrong PIN next time, then as
	//    before (it approves). ns.Answer(n, "cancel") would be "always".
	n := ns.Number("")
	ns.Next(n, "wrong-pin")
	if acr, _ := svc.Login(ctx, n, authn.LoA3); acr != "" {
		t.Errorf("a wrong PIN logged in at acr %q", acr)
	}
	// Back-to-back challenges to one phone wait for its session to close.
	ns.WaitSessions(ctx, n, 1)
	if acr, _ := svc.Login(ctx, n, authn.LoA3); acr != "3" {
		t.Errorf("the right PIN gave acr %q", acr)
	}
	if pin := ns.Phone(n).PIN; pin.TriesLeft != 3 {
		t.Errorf("tries left %d after a good PIN, want 3 again", pin.TriesLeft)
	}

	// 6. SMS codes: the code the phone got, read from the capture API. A
	//    code sent before the wait is found too; each wait returns the
	//    next message to the number.
	if _, err := svc.p.SendText(ctx, n, "Your Example Bank code is 604219", time.Minute); err != nil {
		t.Fatal(err)
	}
	if code := ns.WaitOTP(ctx, n); code != "604219" {
		t.Errorf("OTP %q, want 604219", code)
	}
}
