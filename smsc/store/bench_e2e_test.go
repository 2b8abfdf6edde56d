package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/store"
)

// BenchmarkServerDurable measures submit_sm/s through the real SMPP server
// on the durable store (every submit_sm_resp ESME_ROK after its group
// commit reached the disk): 4 binds × window 50.
//
//	go test -run XXX -bench ServerDurable -benchtime 100000x ./smsc/store/
func BenchmarkServerDurable(b *testing.B) {
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv := &smsc.Server{Store: st, Logger: slog.New(slog.DiscardHandler)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	var cls []*client.Client
	for i := range 4 {
		cl, err := client.Dial(ctx, client.Config{Addr: l.Addr().String(), SystemID: fmt.Sprint("d", i), Window: 50, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close(ctx)
		cls = append(cls, cl)
	}
	msg := &client.Message{Dest: client.Address{TON: 1, NPI: 1, Addr: "999000500"}, ShortMessage: []byte("Your code is 123456")}
	var wg sync.WaitGroup
	var errs atomic.Int64
	b.ResetTimer()
	for i, cl := range cls {
		n := b.N / len(cls)
		if i == 0 {
			n += b.N % len(cls)
		}
		wg.Add(n)
		go func() {
			for range n {
				if err := cl.SubmitAsync(ctx, msg, func(_ string, err error) {
					if err != nil {
						errs.Add(1)
					}
					wg.Done()
				}); err != nil {
					errs.Add(1)
					wg.Done()
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if errs.Load() > 0 {
		b.Fatalf("%d submits failed", errs.Load())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submit/s")
}
