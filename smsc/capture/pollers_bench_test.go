package capture_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
	"github.com/simlab-dev/simlab/smsc/smppload"
)

// BenchmarkSubmitWithPollers measures submit_sm throughput and latency
// (4 binds × window 50, in-memory store holding 300,000 messages) while
// 0 or 4 clients poll the capture API with a text search that scans the
// whole store (the campaign: submit p50 0.25 → 64 ms).
//
//	go test -run '^$' -bench SubmitWithPollers -benchtime 100000x ./smsc/capture/
func BenchmarkSubmitWithPollers(b *testing.B) {
	for _, pollers := range []int{0, 4} {
		b.Run(fmt.Sprintf("pollers=%d", pollers), func(b *testing.B) {
			st := smsc.NewMemStore(0)
			ctx := context.Background()
			batch := make([]*smsc.Message, 0, 1000)
			t0 := time.Now()
			for i := range 300_000 {
				dcs, body := smsc.EncodeText(fmt.Sprintf("Your code is %06d", i))
				batch = append(batch, &smsc.Message{ID: fmt.Sprint("pre", i), Namespace: "pre", Dest: smsc.Address{Addr: fmt.Sprint(99900000000 + i%1000)},
					DCS: dcs, Body: body, State: smsc.Delivered, SubmitTime: t0})
				if len(batch) == cap(batch) {
					if err := st.Append(ctx, batch...); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			srv := &smsc.Server{Store: st}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go srv.Serve(l)
			defer srv.Shutdown(ctx)
			api := httptest.NewServer(capture.New(st))
			defer api.Close()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var polls int64
			var pmu sync.Mutex
			for range pollers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						resp, err := http.Get(api.URL + "/api/v1/messages?text=no-such-text&limit=100")
						if err != nil {
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						pmu.Lock()
						polls++
						pmu.Unlock()
					}
				}()
			}
			b.ResetTimer()
			res, err := smppload.Run(ctx, smppload.Config{Addr: l.Addr().String(), SystemID: "bench", Password: "x", Binds: 4, Window: 50, Messages: b.N})
			b.StopTimer()
			close(stop)
			wg.Wait()
			if err != nil || res.Errors != 0 {
				b.Fatalf("%v %v", res, err)
			}
			b.ReportMetric(res.PerSecond, "submit/s")
			b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(polls)/res.Elapsed.Seconds(), "polls/s")
		})
	}
}
