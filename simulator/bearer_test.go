package simulator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestUpstreamBearer: a second simlab SMSC on loopback plays the real
// operator's SMSC. A message for a number outside the plan leaves through
// the upstream bearer, the upstream's receipt becomes our receipt, and an
// MO the upstream sends comes out of our SMSC to the ESME.
func TestUpstreamBearer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	up := startTest(t, Config{HTTPAddr: "off"})
	local := startTest(t, Config{HTTPAddr: "off"})
	b, err := local.Core().AddBearer(ctx, "smpp://bearer:secret@"+up.Addrs().SMPP, BearerOptions{ReceiptTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	mos := make(chan *client.Deliver, 4)
	esme, err := client.Dial(ctx, client.Config{Addr: local.Addrs().SMPP, SystemID: "sut", Password: "pw",
		OnDeliver: func(d *client.Deliver) uint32 {
			if d.Receipt == nil {
				mos <- d
			}
			return client.StatusOK
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer esme.Close(context.Background())

	// MT to a number outside the plan: through the upstream, DELIVRD.
	const far = "4915112345678"
	id, err := esme.Submit(ctx, &client.Message{
		Source: client.Address{TON: 1, NPI: 1, Addr: "99955500"}, Dest: client.Address{TON: 1, NPI: 1, Addr: far},
		RegisteredDelivery: 1, ShortMessage: []byte("hello over the bearer"),
	})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := esme.AwaitReceipt(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !rc.Delivered() {
		t.Fatalf("receipt %+v, want DELIVRD", rc)
	}
	page, err := up.Core().store.List(ctx, smsc.Query{Filter: smsc.Filter{AllNamespaces: true, To: far}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 1 || !strings.Contains(string(page.Messages[0].Body), "hello over the bearer") || page.Messages[0].Account != "bearer" {
		t.Fatalf("upstream holds %d messages to %s (%+v), want ours from account bearer", len(page.Messages), far, page.Messages)
	}
	// A number of the plan stays with the fleet: nothing more upstream.
	if _, err := esme.Submit(ctx, &client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "99955500"},
		Dest: client.Address{TON: 1, NPI: 1, Addr: "99901000042"}, ShortMessage: []byte("local")}); err != nil {
		t.Fatal(err)
	}

	// MO from the upstream (a real handset answering): injected here.
	if _, err := up.Core().SMSC.SubmitMO(ctx, &smsc.Message{
		Source: smsc.Address{TON: 1, NPI: 1, Addr: far}, Dest: smsc.Address{TON: 1, NPI: 1, Addr: "99955500"},
		Body: []byte("reply from afar"),
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-mos:
		if d.Source.Addr != far || string(d.ShortMessage) != "reply from afar" {
			t.Fatalf("MO %+v", d.Message)
		}
	case <-ctx.Done():
		t.Fatal("the upstream's MO did not reach the ESME")
	}
	all, err := up.Core().store.List(ctx, smsc.Query{Filter: smsc.Filter{AllNamespaces: true, To: "99901000042"}})
	if err != nil || len(all.Messages) != 0 {
		t.Fatalf("a fleet number went upstream: %v %v", all.Messages, err)
	}

	// Closing the bearer removes the route: far numbers are unrouted again.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if s := local.Core().routes.Route(&smsc.Message{Dest: smsc.Address{Addr: far}}); s != nil {
		t.Fatalf("route after Close = %v", s)
	}
}

func TestAddBearerErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := startTest(t, Config{HTTPAddr: "off"})
	for _, spec := range []string{"smtp://a:b@127.0.0.1:1", "smpp://u:topsecret@127.0.0.1", "modem:", "carrier-pigeon"} {
		_, err := s.Core().AddBearer(ctx, spec, BearerOptions{})
		if !errors.Is(err, ErrBearerSpec) {
			t.Errorf("AddBearer(%q) = %v, want ErrBearerSpec", spec, err)
		}
		if err != nil && strings.Contains(err.Error(), "topsecret") {
			t.Errorf("error reveals the password: %v", err)
		}
	}
	// Nothing listens on the port: a dial error, password hidden.
	_, err := s.Core().AddBearer(ctx, "smpp://u:topsecret@127.0.0.1:1", BearerOptions{})
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("AddBearer to a closed port = %v", err)
	}
}

func TestParseUpstream(t *testing.T) {
	t.Parallel()
	cfg, err := ParseUpstream("smpps://esme:p%40ss@smsc.example:3550?system_type=OTA")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "smsc.example:3550" || cfg.SystemID != "esme" || cfg.Password != "p@ss" || cfg.SystemType != "OTA" || cfg.TLS == nil || cfg.TLS.ServerName != "smsc.example" {
		t.Fatalf("ParseUpstream = %v (TLS %v)", cfg, cfg.TLS != nil)
	}
}
