package simtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestDocsLoad runs docs/load.md's Go example (cmd/simlab's
// TestDocsExamples checks the page shows these lines): LoA3 challenges
// from the load library against an in-process server, every one approved.
func TestDocsLoad(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	ctx := context.Background()
	nums, err := load.ParseRange(fleet.FleetNumber(3000) + "-" + fleet.FleetNumber(3099))
	if err != nil {
		t.Fatal(err)
	}

	d, err := load.NewTarget(ctx, load.TargetConfig{
		SMPP: client.Config{Addr: srv.SMPPAddr, Window: 50}, Binds: 4,
		Kind: load.KindLoA3, Numbers: nums,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	rep, err := load.Run(ctx, load.Config{Rate: 100, Duration: time.Second}, d)
	if err != nil || rep.Sent != 100 || rep.Completed != 100 {
		t.Fatalf("%+v %v", rep, err)
	}
}
