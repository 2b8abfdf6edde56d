package fleet_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/fleet"
)

// BenchmarkServeReady is `simlab serve` in process: from simulator.Start
// (listeners, SMSC, fleet with the embedded plan and card profile, APIs) to
// GET /healthz answering 200, then Shutdown. The bar is ready in < 300 ms
// (DESIGN.md); it reports ready-ms per start.
//
//	go test ./simulator/fleet -run '^$' -bench ServeReady -benchtime 20x
func BenchmarkServeReady(b *testing.B) {
	var total time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		srv, err := simulator.Start(simulator.Config{SMPPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		resp, err := http.Get("http://" + srv.Addrs().HTTP + "/healthz")
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("healthz %s", resp.Status)
		}
		total += time.Since(t0)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ready-ms")
}

// BenchmarkFleetNew is the fleet's share of start-up: the embedded plan
// and card profile parsed, the demo masters loaded.
func BenchmarkFleetNew(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := fleet.New(fleet.Config{}); err != nil {
			b.Fatal(err)
		}
	}
}
