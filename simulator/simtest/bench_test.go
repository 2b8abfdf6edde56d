//go:build unix

package simtest_test

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// BenchmarkLoA3EndToEnd pushes b.N LoA3 challenges, open loop at a fixed
// arrival rate, through simlab's whole stack in one process: push server
// (seal: AES CBC + CMAC), SMSC over SMPP (4 binds × window 50), handset,
// emulated UICC and authenticator applet (OTA unwrap, PIN, ECDSA P-256
// signature, sealed PoR), MO back over SMPP, answer opened and its signature
// verified. The phones approve (the default fleet's numbers).
//
// The arrival rate is SIMLAB_E2E_RATE per second (default 10000, the
// design's bar); the numbers used are warmed up before the timer starts:
// the phones are built and the push side knows their cards' keys.
// Metrics: the completion rate achieved over the run, lost challenges
// (failed + timed out: must be 0), end-to-end latency from each
// challenge's intended send time, and CPU time per challenge. SIMLAB_E2E_DELIVER_WINDOW=N sets the
// SMSC's deliver_sm window towards each bind (default smsc.DefaultWindow):
// every challenge comes back as two deliver_sm (the answer and the receipt),
// so that window bounds the rate. SIMLAB_E2E_CPUPROFILE=FILE writes a
// CPU profile of the measured part alone (go tool pprof -top FILE).
//
//	SIMLAB_E2E_RATE=5000 go test -run '^$' -bench LoA3EndToEnd -benchtime 20000x ./simulator/simtest/
func BenchmarkLoA3EndToEnd(b *testing.B) {
	rate := 10000.0
	if s := os.Getenv("SIMLAB_E2E_RATE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			b.Fatalf("SIMLAB_E2E_RATE=%q: want a positive number", s)
		}
		rate = v
	}
	opts := []simtest.Option{simtest.WithPromptTimeout(30 * time.Second)}
	if s := os.Getenv("SIMLAB_E2E_DELIVER_WINDOW"); s != "" {
		w, err := strconv.Atoi(s)
		if err != nil || w <= 0 {
			b.Fatalf("SIMLAB_E2E_DELIVER_WINDOW=%q: want a positive number", s)
		}
		opts = append(opts, simtest.WithAccounts(smsc.Account{SystemID: "bench", Password: "x", Window: w, DefaultMO: true}))
	}
	srv := simtest.NewServer(b, opts...)
	// One phone per challenge up to 30,000 (a phone still busy with a
	// challenge answers the next one "busy"), so short runs warm up fast.
	phones := min(max(b.N, 1000), 30000)
	nums, err := load.ParseRange(fleet.FleetNumber(0) + "-" + fleet.FleetNumber(phones-1))
	if err != nil {
		b.Fatal(err)
	}
	warm(b, srv, nums)
	ctx := context.Background()
	d, err := load.NewTarget(ctx, load.TargetConfig{
		SMPP:  client.Config{Addr: srv.SMPPAddr, SystemID: "bench", Password: "x", Window: 50},
		Binds: 4, Kind: load.KindLoA3, Numbers: nums, PromptTimeout: 30 * time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close(ctx)
	if err := d.Target.(*load.Challenges).Warm(ctx, 0); err != nil {
		b.Fatal(err)
	}

	if f := os.Getenv("SIMLAB_E2E_CPUPROFILE"); f != "" { // the measured part only, not the warm-up
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	rep, err := load.Run(ctx, load.Config{Rate: rate, Duration: time.Duration(float64(b.N) / rate * float64(time.Second)),
		Timeout: 30 * time.Second}, d)
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if !rep.Accounted() {
		b.Fatalf("sent %d != completed %d + failed %d + timed out %d", rep.Sent, rep.Completed, rep.Failed, rep.TimedOut)
	}
	b.ReportMetric(float64(rep.Completed)/wall.Seconds(), "challenges/s")
	b.ReportMetric(float64(rep.Failed+rep.TimedOut), "lost")
	b.ReportMetric(rep.Latency.P50, "p50-ms")
	b.ReportMetric(rep.Latency.P99, "p99-ms")
	b.ReportMetric(rep.Latency.Max, "max-ms")
	// CPU time of the whole process (generator, SMSC, fleet) per
	// challenge: the figure that says what the machine could do if the
	// process had it to itself.
	b.ReportMetric(float64(cpu.Microseconds())/float64(max(rep.Sent, 1)), "cpu-µs/challenge")
	b.Logf("rate %.0f/s: sent %d, completed %d (%v), failed %d, timed out %d in %v; latency %+v; submit %+v; errors %v",
		rate, rep.Sent, rep.Completed, rep.Outcomes, rep.Failed, rep.TimedOut, wall.Round(time.Millisecond), rep.Latency, rep.SubmitLatency, rep.Errors)
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// warm builds the phones behind nums before the timer starts, so the
// figure is the steady state rather than card provisioning.
func warm(b *testing.B, srv *simtest.Server, nums load.Numbers) {
	b.Helper()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	next := make(chan string)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				if _, err := srv.Fleet().Phone(context.Background(), n); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := 0; i < nums.Len(); i++ {
		next <- nums.At(i)
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}
