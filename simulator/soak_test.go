package simulator_test

import (
	"context"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// liveHeap is the live heap after two collections, and what the message
// store holds of it within its own limits.
func liveHeap(st *smsc.MemStore) (heap, store int64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc), st.Usage().Bytes
}

// TestSoak runs LoA3 challenges (OTA crypto, applet, PIN, ECDSA signature,
// MO back, signature verified) for about a minute at 300 a second (not
// under the race detector: `make test` runs it on its own) against an in-process
// SMSC and fleet over 100 phones. The fleet's and store's caches are set
// small (200 traces, 20 events per phone, 4,000 messages) so that a
// warm-up of 10 s fills them; during the measured run that follows
// (SIMLAB_SOAK, default 45 s; "0" skips, as does -short) every challenge
// must be accounted for and approved, the rate held, and the live heap
// after GC, less the store's bytes, must not grow by more than 2 MB.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: -short")
	}
	if soakRace {
		t.Skip("soak: not under -race (make test runs it without)")
	}
	d := 45 * time.Second
	if v := os.Getenv("SIMLAB_SOAK"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SIMLAB_SOAK: %v", err)
		}
		if d == 0 {
			t.Skip("soak: SIMLAB_SOAK=0")
		}
	}
	const rate = 300.0
	ctx := context.Background()
	st := &smsc.MemStore{MaxMessages: 4000}
	srv := &smsc.Server{Store: st}
	fl, err := fleet.New(fleet.Config{
		MO:        func(ctx context.Context, m *smsc.Message) error { _, err := srv.SubmitMO(ctx, m); return err },
		MaxTraces: 200,
		MaxEvents: 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Router = fl
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	nums, err := load.ParseRange(fleet.FleetNumber(0) + "-" + fleet.FleetNumber(99))
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := load.NewTarget(ctx, load.TargetConfig{SMPP: client.Config{Addr: l.Addr().String(), SystemID: "soak", Password: "x"},
		Binds: 2, Kind: load.KindLoA3, Numbers: nums, PromptTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close(ctx)
	run := func(what string, d, ramp time.Duration) *load.Report {
		rep, err := load.Run(ctx, load.Config{Rate: rate, Duration: d, Ramp: ramp}, tgt)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: %d LoA3 challenges in %.0fs (%.0f/s of %.0f): completed %d %v, failed %d, timed out %d, p50 %.1f ms, p99 %.1f ms",
			what, rep.Sent, rep.DurationS, rep.Rate, rate, rep.Completed, rep.Outcomes, rep.Failed, rep.TimedOut, rep.Latency.P50, rep.Latency.P99)
		// A phone still being built answers a second challenge busy
		// (sim_error): only the measured run must be all approved.
		if !rep.Accounted() || rep.Failed != 0 || rep.TimedOut != 0 || ramp == 0 && rep.Outcomes["approved"] != rep.Completed {
			t.Errorf("%s: %d sent, %d completed (%v), %d failed %v, %d timed out", what, rep.Sent, rep.Completed, rep.Outcomes, rep.Failed, rep.Errors, rep.TimedOut)
		}
		if ramp == 0 && rep.Rate < 0.9*rate {
			t.Errorf("%s: achieved %.0f/s of %.0f/s", what, rep.Rate, rate)
		}
		return rep
	}
	run("warm-up", 10*time.Second, 5*time.Second)
	heap0, store0 := liveHeap(st)
	run("soak", d, 0)
	heap1, store1 := liveHeap(st)
	growth := (heap1 - store1) - (heap0 - store0)
	t.Logf("live heap %.1f → %.1f MB, of which the message store %.1f → %.1f MB: %+.2f MB besides the store",
		float64(heap0)/1e6, float64(heap1)/1e6, float64(store0)/1e6, float64(store1)/1e6, float64(growth)/1e6)
	if growth > 2<<20 {
		t.Errorf("the live heap grew by %.1f MB besides the message store over %v", float64(growth)/1e6, d)
	}
}
