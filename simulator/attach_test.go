package simulator

import (
	"context"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestAttachCard attaches a card (here an emulated SIM in process; the
// PC/SC path is in simulator/pcsc) to a number outside the plan and runs
// push challenges to it over SMPP: approved while the card is in, not
// delivered while it is out, approved again once it is back.
func TestAttachCard(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startTest(t, Config{HTTPAddr: "off"})
	ks := soft.NewMemory()
	defer ks.Close()
	card, _, err := fleet.NewCard(ctx, ks, nil, fleet.FleetNumber(0), fleet.CardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const number = "4930123456"
	a, err := s.Core().Attach(ctx, "+"+number, card, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Detach()
	iccid := card.Profile().ICCID
	p, err := push.New(ctx, push.Config{
		SMPP: client.Config{Addr: s.Addrs().SMPP, SystemID: "sut", Password: "pw"},
		CardFor: func(ctx context.Context, msisdn string) (push.Card, error) {
			return push.CardByICCID(ctx, ks, iccid, false)
		},
		Keystore: ks,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())

	res, err := p.Push(ctx, push.Request{MSISDN: number, LoA: authn.LoA3, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "3" || !res.SignatureValid {
		t.Fatalf("attached card: %+v, want approved acr 3", res)
	}
	_ = a.Wait()

	// Card out: absent subscriber, the SMSC retries until validity ends.
	if err := a.SetCard(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if a.Present() {
		t.Fatal("Present after the card was taken out")
	}
	if err := a.DeliverSMS(ctx, &smsc.Message{}, nil); err != smsc.ErrAbsent {
		t.Fatalf("DeliverSMS without card = %v, want ErrAbsent", err)
	}
	res, err = p.Push(ctx, push.Request{MSISDN: number, LoA: authn.LoA2, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != push.NotDelivered && res.Outcome != push.TimedOut {
		t.Fatalf("no card: %+v, want not_delivered or timeout", res)
	}

	// Card back in.
	if err := a.SetCard(ctx, card); err != nil {
		t.Fatal(err)
	}
	res, err = p.Push(ctx, push.Request{MSISDN: number, LoA: authn.LoA2, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "2" {
		t.Fatalf("card back: %+v, want approved acr 2", res)
	}

	// Detached: the number has no route any more.
	a.Detach()
	if sink := s.Core().routes.Route(&smsc.Message{Dest: smsc.Address{Addr: number}}); sink != nil {
		t.Fatalf("route after Detach = %v", sink)
	}
}

func TestAttachOverridesPlan(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{HTTPAddr: "off"})
	n := fleet.FleetNumber(77)
	a, err := s.Core().Attach(context.Background(), n, nil, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Core().routes
	if got := r.Route(&smsc.Message{Dest: smsc.Address{Addr: n}}); got != a.sink {
		t.Fatalf("Route(%s) = %v, want the attached phone", n, got)
	}
	a.Detach()
	if got := r.Route(&smsc.Message{Dest: smsc.Address{Addr: n}}); got == nil || got == a.sink {
		t.Fatalf("Route(%s) after Detach = %v, want the fleet", n, got)
	}
}
