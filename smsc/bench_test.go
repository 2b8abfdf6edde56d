package smsc_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/smppload"
)

// BenchmarkSubmitSM measures submit_sm throughput and latency over 4 binds
// with a window of 50 each, in-memory store, messages captured (unrouted).
//
//	go test -run '^$' -bench SubmitSM -benchtime 400000x ./smsc/
func BenchmarkSubmitSM(b *testing.B) {
	benchSubmitSM(b, 0)
}

// BenchmarkSubmitSMScraped is BenchmarkSubmitSM while a Prometheus
// registry holding the server's collector is gathered every 100 ms (a
// scrape interval a hundred times shorter than usual).
//
//	go test -run '^$' -bench SubmitSMScraped -benchtime 400000x ./smsc/
func BenchmarkSubmitSMScraped(b *testing.B) {
	benchSubmitSM(b, 100*time.Millisecond)
}

func benchSubmitSM(b *testing.B, scrapeEvery time.Duration) {
	srv := &smsc.Server{Store: smsc.NewMemStore(200_000)}
	addr := startServerB(b, srv)
	if scrapeEvery > 0 {
		reg := prometheus.NewRegistry()
		reg.MustRegister(srv.Collector())
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(scrapeEvery)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if _, err := reg.Gather(); err != nil {
						b.Error(err)
					}
				}
			}
		}()
		b.Cleanup(func() { close(stop); <-done })
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	res, err := smppload.Run(context.Background(), smppload.Config{Addr: addr, SystemID: "bench", Password: "x",
		Binds: 4, Window: 50, Messages: b.N})
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors != 0 || res.Submitted != int64(b.N) {
		b.Fatalf("%v", res)
	}
	b.ReportMetric(res.PerSecond, "submit/s")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
	// CPU time (server and client, user and system) per message: the
	// figure that does not depend on what else runs on the machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	b.Logf("%v", res)
}

// BenchmarkReceipts submits b.N messages asking for receipts and waits for
// every receipt, matched to its submit_sm_resp id.
//
//	go test -run '^$' -bench Receipts -benchtime 100000x ./smsc/
func BenchmarkReceipts(b *testing.B) {
	srv := &smsc.Server{Store: smsc.NewMemStore(200_000), Accounts: nil}
	addr := startServerB(b, srv)
	b.ResetTimer()
	res, err := smppload.Run(context.Background(), smppload.Config{Addr: addr, SystemID: "bench", Password: "x",
		Binds: 4, Window: 50, Messages: b.N, Receipts: true})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.Receipts != int64(b.N) || res.Matched != int64(b.N) {
		b.Fatalf("receipts %d matched %d of %d", res.Receipts, res.Matched, b.N)
	}
	b.ReportMetric(res.ReceiptsPS, "receipt/s")
	b.Logf("%v", res)
}

func startServerB(b *testing.B, srv *smsc.Server) string {
	b.Helper()
	l, err := listenLoopback()
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return l.Addr().String()
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
