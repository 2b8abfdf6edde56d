package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestNewTargetWarmVerify: a challenge target from NewTarget, two binds,
// warmed, verifies the sampled answers with the keys it derived.
func TestNewTargetWarmVerify(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	ctx := context.Background()
	nums, err := load.ParseRange(fleet.FleetNumber(50) + "-" + fleet.FleetNumber(55))
	if err != nil {
		t.Fatal(err)
	}
	d, err := load.NewTarget(ctx, load.TargetConfig{Kind: load.KindLoA2, Binds: 2, Numbers: nums, PromptTimeout: 10 * time.Second, VerifyEvery: 2,
		SMPP: client.Config{Addr: srv.SMPPAddr, SystemID: "warm-verify", Password: "x", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	c := d.Target.(*load.Challenges)
	if err := c.Warm(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var verified []int
	for i := range 6 {
		r := c.Do(ctx, i)
		if r.Err != nil || r.Outcome != "approved" {
			t.Fatalf("challenge %d: %+v", i, r)
		}
		if r.Verified {
			verified = append(verified, i)
		}
	}
	if len(verified) != 3 || verified[0] != 0 || verified[1] != 2 || verified[2] != 4 {
		t.Errorf("verified %v, want [0 2 4]", verified)
	}
}
