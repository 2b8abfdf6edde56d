package fleet_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

var (
	e2ePhones = flag.Int("fleet.e2e.phones", 10_000, "distinct phones BenchmarkE2ELoA3 challenges (a multiple of -fleet.e2e.inflight)")
	e2eFlight = flag.Int("fleet.e2e.inflight", 1000, "challenges BenchmarkE2ELoA3 keeps in flight")
	e2eWarm   = flag.Bool("fleet.e2e.warm", true, "challenge every phone once before timing (phones built, keys derived)")
	e2eVerify = flag.Int("fleet.e2e.verify-every", 1, "the sender checks the signature of one answer in N (load.Challenges.VerifyEvery)")
	e2eData   = flag.Bool("fleet.e2e.data", false, "serve as with --data, in a temporary directory: durable messages and phone records")
)

// BenchmarkE2ELoA3 is the whole path of a LoA3 challenge through SMPP:
// push.Pusher (4 binds, window 50) seals and submits, the SMSC delivers to
// the fleet, the handset runs the applet (PIN, ECDSA signature), the MO
// answer goes back through the SMSC as deliver_sm, and the pusher opens and
// verifies it. Every challenge must come back approved with a valid
// signature; it reports challenges/s and latency percentiles. Profile with
//
//	go test ./simulator/fleet -run '^$' -bench E2ELoA3 -benchtime 20000x -cpuprofile cpu.out
func BenchmarkE2ELoA3(b *testing.B) {
	phones, inflight := *e2ePhones, *e2eFlight
	if inflight <= 0 || phones%inflight != 0 {
		b.Fatalf("-fleet.e2e.phones %d must be a multiple of -fleet.e2e.inflight %d", phones, inflight)
	}
	// simlab serve's collector setting (cmd/simlab: GOGC=200 unless set).
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	var opts []simtest.Option
	if *e2eData {
		dir := b.TempDir()
		opts = append(opts, func(c *simulator.Config) { c.DataDir = dir })
	}
	s := simtest.NewServer(b, opts...)
	ctx := context.Background()
	p, err := push.New(ctx, push.Config{Binds: 4, SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "bench", Password: "x", NoReconnect: true, Window: 50}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)

	// run pushes n challenges, worker w using only phones w, w+inflight, …
	// so that no phone gets two challenges at once.
	run := func(n int) (lat []time.Duration, failed map[string]int) {
		lat = make([]time.Duration, n)
		failed = map[string]int{}
		var mu sync.Mutex
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < inflight; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; ; k++ {
					i := int(next.Add(1) - 1)
					if i >= n {
						return
					}
					num := fleet.FleetNumber((w + k*inflight) % phones)
					t0 := time.Now()
					verify := *e2eVerify <= 1 || i%*e2eVerify == 0
					res, err := p.Push(ctx, push.Request{MSISDN: num, LoA: authn.LoA3, Timeout: 30 * time.Second, NoVerify: !verify})
					lat[i] = time.Since(t0)
					why := ""
					switch {
					case err != nil:
						why = "error: " + err.Error()
					case res.Outcome != "approved" || verify && !res.SignatureValid:
						why = fmt.Sprintf("%s (signature_valid=%v) %s", res.Outcome, res.SignatureValid, res.Detail)
					}
					if why != "" {
						mu.Lock()
						failed[why]++
						if len(failed) == 1 && failed[why] == 1 {
							if ph, ok := s.Fleet().Lookup(num); ok {
								evs := ph.Events()
								for _, e := range evs[max(0, len(evs)-8):] {
									b.Logf("%s: %s %s: %s", num, e.Time.Format("15:04:05.000"), e.Kind, e.Detail)
								}
							}
							for _, q := range []smsc.Filter{{AllNamespaces: true, From: num}, {AllNamespaces: true, To: num}} {
								pg, err := s.SMSC().Store.List(ctx, smsc.Query{Filter: q, Limit: 3})
								if err != nil {
									b.Logf("store: %v", err)
									continue
								}
								for _, m := range pg.Messages {
									b.Logf("smsc: %s %s %s→%s state %v attempts? submitted %s", m.ID, m.Direction, m.Source.Addr, m.Dest.Addr, m.State, m.SubmitTime.Format("15:04:05.000"))
								}
							}
						}
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		return lat, failed
	}
	if *e2eWarm {
		if _, failed := run(phones); len(failed) > 0 {
			b.Fatalf("warm-up: %v", failed)
		}
	}
	b.ResetTimer()
	start := time.Now()
	lat, failed := run(b.N)
	elapsed := time.Since(start)
	b.StopTimer()
	if len(failed) > 0 {
		b.Fatalf("%d challenges not approved: %v", sum(failed), failed)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "challenges/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
