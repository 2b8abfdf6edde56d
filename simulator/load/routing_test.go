package load_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestLoadAfterPush is issue #12's first report: a `simlab push` (system_id
// simlab-push, address_range 99955500) ran and ended, then a `simlab load`
// on the same server must get its answers, not see every challenge time out.
func TestLoadAfterPush(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	ctx := context.Background()
	p, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "simlab-push", Password: "x",
		AddressRange: "99955500", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Push(ctx, push.Request{MSISDN: simtest.Number(t, "approve", 1), LoA: authn.LoA2, Timeout: 5 * time.Second})
	if err != nil || res.Outcome != "approved" {
		t.Fatalf("push: %+v %v", res, err)
	}
	p.Close(ctx)

	nums, err := load.ParseRange("+99901010000-+99901010049")
	if err != nil {
		t.Fatal(err)
	}
	d, err := load.NewTarget(ctx, load.TargetConfig{SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "load", Password: "x", NoReconnect: true},
		Binds: 2, Kind: load.KindLoA3, Numbers: nums, PromptTimeout: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	rep, err := load.Run(ctx, load.Config{Rate: 50, Duration: time.Second, Timeout: 5 * time.Second}, d)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 50 || rep.Completed != 50 || rep.Outcomes["approved"] != 50 {
		t.Fatalf("sent %d = completed %d + failed %d + timed out %d, outcomes %v; want 50 approved",
			rep.Sent, rep.Completed, rep.Failed, rep.TimedOut, rep.Outcomes)
	}
}

// runLoad runs rate×1 s of kind against the target and fails the test
// unless every challenge completed with outcome want.
func runLoad(t *testing.T, cfg load.TargetConfig, rate int, want string) {
	t.Helper()
	ctx := context.Background()
	d, err := load.NewTarget(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	if ch, ok := d.Target.(*load.Challenges); ok {
		if err := ch.Warm(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := load.Run(ctx, load.Config{Rate: float64(rate), Duration: time.Second, Timeout: 5 * time.Second}, d)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != int64(rate) || rep.Completed != rep.Sent || rep.Outcomes[want] != rep.Sent {
		t.Errorf("%s: sent %d = completed %d + failed %d + timed out %d, outcomes %v, errors %v; want %d %s",
			cfg.Kind, rep.Sent, rep.Completed, rep.Failed, rep.TimedOut, rep.Outcomes, rep.Errors, rate, want)
	}
}

// TestLoadWithAccounts: with accounts configured, a load works with an
// account that has neither mo_ranges nor default_mo, challenges and texts
// alike; an account that cannot take answers is refused at once.
func TestLoadWithAccounts(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t, simtest.WithAccounts(
		smsc.Account{SystemID: "ci", Password: "secret"},
		smsc.Account{SystemID: "tx", Password: "secret", BindTypes: smsc.BindTransmitter},
	))
	nums, err := load.ParseRange("+99901020000-+99901020019")
	if err != nil {
		t.Fatal(err)
	}
	smpp := client.Config{Addr: s.SMPPAddr, SystemID: "ci", Password: "secret", NoReconnect: true}
	runLoad(t, load.TargetConfig{SMPP: smpp, Binds: 2, Kind: load.KindLoA2, Numbers: nums, PromptTimeout: 4 * time.Second}, 20, "approved")
	runLoad(t, load.TargetConfig{SMPP: smpp, Binds: 2, Kind: load.KindText, Numbers: nums}, 20, "delivered")
	for _, kind := range []string{load.KindLoA2, load.KindText} {
		smpp.SystemID = "tx"
		_, err := load.NewTarget(context.Background(), load.TargetConfig{SMPP: smpp, Kind: kind, Numbers: nums})
		if err == nil || !strings.Contains(err.Error(), "transceiver") {
			t.Errorf("%s on a transmitter-only account: %v, want a refused bind that says why", kind, err)
		}
	}
}

// TestLoadCustomFleet: a load against a server running a fleet file, with
// the plan read from the server's API; a number outside it fails the warm
// up, before anything is sent.
func TestLoadCustomFleet(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t, func(c *simulator.Config) { c.Fleet = "../../fixtures/fleets/lab.yaml" })
	ctx := context.Background()
	d, err := push.OpenFleet(ctx, s.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	nums, err := load.ParseRange("+447700900100-+447700900119")
	if err != nil {
		t.Fatal(err)
	}
	smpp := client.Config{Addr: s.SMPPAddr, SystemID: "lab", Password: "x", NoReconnect: true}
	runLoad(t, load.TargetConfig{SMPP: smpp, Binds: 2, Kind: load.KindLoA3, Numbers: nums, PromptTimeout: 4 * time.Second, Fleet: d}, 20, "approved")

	tgt, err := load.NewTarget(ctx, load.TargetConfig{SMPP: smpp, Kind: load.KindLoA3, Numbers: nums})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close(ctx)
	if err := tgt.Target.(*load.Challenges).Warm(ctx, 0); !errors.Is(err, fleet.ErrNotInPlan) {
		t.Errorf("warming numbers of another plan: %v, want ErrNotInPlan", err)
	}
}
