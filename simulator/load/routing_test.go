package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
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
