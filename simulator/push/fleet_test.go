package push_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// withFleet runs the server on a fleet file.
func withFleet(path string) simtest.Option {
	return func(c *simulator.Config) { c.Fleet = path }
}

// TestPushCustomFleet is issue #12's sixth report: a server running a
// fleet file can be pushed to, with the cards' keys derived from that plan,
// read from the file or from the server's API. Without it the sender
// cannot find the numbers.
func TestPushCustomFleet(t *testing.T) {
	t.Parallel()
	const file = "../../fixtures/fleets/lab.yaml"
	s := simtest.NewServer(t, withFleet(file))
	ctx := context.Background()
	smpp := client.Config{Addr: s.SMPPAddr, SystemID: "fleet", Password: "x", NoReconnect: true}
	for _, ref := range []string{file, s.URL} {
		d, err := push.OpenFleet(ctx, ref, "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := push.New(ctx, push.Config{SMPP: smpp, Fleet: d})
		if err != nil {
			t.Fatal(err)
		}
		for n, want := range map[string]string{"+447700900042": "approved", "+447700900901": "cancelled"} {
			res, err := p.Push(ctx, push.Request{MSISDN: n, LoA: authn.LoA3, Timeout: 5 * time.Second})
			if err != nil || res.Outcome != want || (want == "approved" && !res.SignatureValid) {
				t.Errorf("fleet from %s, %s: %+v %v, want %s", ref, n, res, err, want)
			}
		}
		p.Close(ctx)
	}
	p, err := push.New(ctx, push.Config{SMPP: smpp})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if _, err := p.Push(ctx, push.Request{MSISDN: "+447700900042", LoA: authn.LoA2}); !errors.Is(err, fleet.ErrNotInPlan) {
		t.Errorf("without the fleet: %v, want ErrNotInPlan", err)
	}
	if _, err := push.OpenFleet(ctx, s.URL+"/nothing", ""); err == nil {
		t.Error("a URL that serves no plan was accepted")
	}
}
