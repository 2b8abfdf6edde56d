package smsc_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simlab-dev/simlab/simulator/trace"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/smppload"
)

// BenchmarkSubmitSM measures submit_sm throughput and latency over 4 binds
// with a window of 50 each, in-memory store, messages captured (unrouted).
//
//	go test -run '^$' -bench SubmitSM -benchtime 400000x ./smsc/
func BenchmarkSubmitSM(b *testing.B) {
	benchSubmitSM(b, &smsc.Server{Store: smsc.NewMemStore(200_000)}, 0)
}

// BenchmarkSubmitSMScraped is BenchmarkSubmitSM while a Prometheus
// registry holding the server's collector is gathered every 100 ms (a
// scrape interval a hundred times shorter than usual).
//
//	go test -run '^$' -bench SubmitSMScraped -benchtime 400000x ./smsc/
func BenchmarkSubmitSMScraped(b *testing.B) {
	benchSubmitSM(b, &smsc.Server{Store: smsc.NewMemStore(200_000)}, 100*time.Millisecond)
}

// benchSubmitSM runs BenchmarkSubmitSM's load against srv, gathering its
// collector every scrapeEvery when positive.
func benchSubmitSM(b *testing.B, srv *smsc.Server, scrapeEvery time.Duration) {
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

// BenchmarkSubmitSMTrace is BenchmarkSubmitSM without a Tracer (off) and
// with the one `simlab serve --pcap` uses (pcap: simulator/trace.Create, a
// buffered pcap file): the cost of recording every PDU. Run the two in
// separate processes, alternating: in one process the second is favoured
// by the heap the first grew (docs/benchmarks.md (n)).
//
//	go test -c -o smsc.test ./smsc/
//	for i in 1 2 3 4 5 6; do for v in off pcap; do
//	  ./smsc.test -test.run '^$' -test.bench "SubmitSMTrace/$v\$" -test.benchtime 400000x
//	done; done
func BenchmarkSubmitSMTrace(b *testing.B) {
	for _, traced := range []bool{false, true} {
		name := "off"
		if traced {
			name = "pcap"
		}
		b.Run(name, func(b *testing.B) {
			srv := &smsc.Server{Store: smsc.NewMemStore(200_000)}
			var size func() int64
			if traced {
				path := filepath.Join(b.TempDir(), "bench.pcap")
				rec, err := trace.Create(path, "", func(err error) { b.Error(err) })
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { rec.Close() })
				srv.Tracer = rec
				size = func() int64 {
					rec.Flush()
					fi, _ := os.Stat(path)
					return fi.Size()
				}
			}
			benchSubmitSM(b, srv, 0)
			if size != nil {
				b.ReportMetric(float64(size())/float64(b.N), "pcap-B/msg")
			}
		})
	}
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

// BenchmarkReplies measures the path of a push server's challenges and
// answers: 4 transceiver binds × window 50 submit b.N messages from one
// address to distinct phones; the sink answers each at once with an MO from
// the phone back to that address (Server.SubmitMO, as the fleet's phones
// do), and the run ends when every answer has come back as deliver_sm.
//
//	go test -run '^$' -bench Replies -benchtime 100000x ./smsc/
func BenchmarkReplies(b *testing.B) {
	var srv *smsc.Server
	answer := smsc.SinkFunc(func(ctx context.Context, m *smsc.Message) error {
		_, err := srv.SubmitMO(ctx, &smsc.Message{Source: m.Dest, Dest: m.Source, Body: []byte("ok")})
		return err
	})
	routes := &smsc.Routes{}
	routes.AddPrefix("", answer)
	srv = &smsc.Server{Store: smsc.NewMemStore(400_000), Router: routes}
	addr := startServerB(b, srv)
	var got atomic.Int64
	all := make(chan struct{})
	n := int64(b.N)
	const binds = 4
	var cls []*client.Client
	for range binds {
		c, err := client.Dial(context.Background(), client.Config{Addr: addr, SystemID: "bench", Password: "x", Window: 50,
			NoReconnect: true, KeepReceipts: -1, OnDeliver: func(d *client.Deliver) uint32 {
				if got.Add(1) == n {
					close(all)
				}
				return client.StatusOK
			}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close(context.Background()) })
		cls = append(cls, c)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for k, c := range cls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < b.N; i += binds {
				m := &client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "99955500"},
					Dest:         client.Address{TON: 1, NPI: 1, Addr: strconv.Itoa(99902000000 + i)},
					ShortMessage: []byte("challenge")}
				if err := c.SubmitAsync(context.Background(), m, func(_ string, err error) {
					if err != nil {
						failed.Add(1)
					}
				}); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d answers after a minute (%d submits failed)", got.Load(), b.N, failed.Load())
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if failed.Load() != 0 {
		b.Fatalf("%d submits failed", failed.Load())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/answer")
}
