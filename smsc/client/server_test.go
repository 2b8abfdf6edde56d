package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/smsctest"
)

var quiet = slog.New(slog.DiscardHandler)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestSubmitAndReceipt: against the real server, a submit with a receipt
// requested gets an id and a receipt naming that id.
func TestSubmitAndReceipt(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	cl := srv.Dial(t, client.Config{SystemID: "sut", Password: "x", Logger: quiet})
	ctx := ctxT(t)
	parts, err := client.SplitText("Your code is 482913", 1)
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.Submit(ctx, &client.Message{
		Source: client.Address{TON: 5, Addr: "SIMLAB"}, Dest: client.Address{TON: 1, NPI: 1, Addr: "999000001"},
		DataCoding: parts[0].DataCoding, ShortMessage: parts[0].ShortMessage, RegisteredDelivery: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := cl.AwaitReceipt(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != id || !r.Delivered() || r.Source != "999000001" {
		t.Fatalf("receipt %+v for %s", r, id)
	}
	m, err := srv.Store.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := m.Text(); text != "Your code is 482913" || m.Account != "sut" {
		t.Fatalf("stored %q account %q", text, m.Account)
	}
}

// TestAsyncWindow: many asynchronous submits through a small window all
// get distinct ids and are all stored.
func TestAsyncWindow(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	cl := srv.Dial(t, client.Config{Window: 8, Logger: quiet})
	ctx := ctxT(t)
	const n = 500
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]bool{}
	wg.Add(n)
	for i := range n {
		err := cl.SubmitAsync(ctx, &client.Message{Dest: client.Address{Addr: "999000002"}, ShortMessage: []byte(fmt.Sprint(i))},
			func(id string, err error) {
				defer wg.Done()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids[id] = true
				mu.Unlock()
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if len(ids) != n {
		t.Fatalf("%d distinct ids, want %d", len(ids), n)
	}
	if _, err := srv.AwaitCount(ctx, smsc.Filter{AllNamespaces: true, To: "999000002"}, n); err != nil {
		t.Fatal(err)
	}
}

// TestThrottled: an account limited to 50 submits/s answers
// ESME_RTHROTTLED beyond it; the client backs off and every submit
// succeeds in the end.
func TestThrottled(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t, smsctest.WithAccounts(smsc.Account{SystemID: "slow", Password: "pw", Throughput: 50}))
	cl := srv.Dial(t, client.Config{SystemID: "slow", Password: "pw", Window: 10, ThrottleRetries: 50, ThrottleMin: 10 * time.Millisecond, Logger: quiet})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{Addr: "999000003"}, ShortMessage: []byte(fmt.Sprint(i))}); err != nil {
				t.Log(err)
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	s := cl.Stats()
	if failed.Load() != 0 || s.Submitted != 100 || s.Throttled == 0 {
		t.Fatalf("failed %d, stats %+v: want 100 submitted after some throttling", failed.Load(), s)
	}
}

// cutter is a TCP proxy whose connections the test can cut, to make the
// client lose its connection to a server that stays up.
type cutter struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutter(t *testing.T, target string) *cutter {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{l: l}
	t.Cleanup(func() { l.Close(); c.cut() })
	go func() {
		for {
			a, err := l.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, a, b)
			c.mu.Unlock()
			go func() { io.Copy(a, b); a.Close() }()
			go func() { io.Copy(b, a); b.Close() }()
		}
	}()
	return c
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cn := range c.conns {
		cn.Close()
	}
	c.conns = nil
}

// TestReconnect: after the connection is cut the client rebinds by itself
// and submits again.
func TestReconnect(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	px := newCutter(t, srv.Addr)
	states := make(chan bool, 16)
	ctx := ctxT(t)
	cl, err := client.Dial(ctx, client.Config{Addr: px.l.Addr().String(), SystemID: "r", Logger: quiet,
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
		OnState: func(bound bool, err error) { states <- bound }})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(ctx)
	<-states // bound
	if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{Addr: "999000004"}, ShortMessage: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	px.cut()
	if b := <-states; b {
		t.Fatal("expected a lost state")
	}
	if b := <-states; !b {
		t.Fatal("expected to be bound again")
	}
	if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{Addr: "999000004"}, ShortMessage: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	if s := cl.Stats(); s.Reconnects != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// BenchmarkSubmit measures submit_sm/s against the real server with the
// in-memory store: 4 binds × window 50, asynchronous submits.
//
//	go test -run XXX -bench Submit -benchtime 200000x ./smsc/client/
//
// With SIMLAB_BENCH_SMPP=host:port the same client measures another SMSC
// instead (a peer such as the npm smpp package's minimal server).
func BenchmarkSubmit(b *testing.B) {
	const binds, window = 4, 50
	dial := func(cfg client.Config) *client.Client {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cfg.Addr = os.Getenv("SIMLAB_BENCH_SMPP")
		cl, err := client.Dial(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cl.Close(context.Background()) })
		return cl
	}
	if os.Getenv("SIMLAB_BENCH_SMPP") == "" {
		srv := smsctest.NewServer(b)
		dial = func(cfg client.Config) *client.Client { return srv.Dial(b, cfg) }
	}
	var cls []*client.Client
	hists := make([]*hdrhistogram.Histogram, binds)
	for i := range binds {
		h := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
		hists[i] = h // each is written only by its connection's reader goroutine
		cls = append(cls, dial(client.Config{SystemID: fmt.Sprint("bench", i), Window: window, Logger: quiet,
			ObserveRTT: func(d time.Duration) { h.RecordValue(d.Microseconds()) }}))
	}
	msg := &client.Message{Source: client.Address{TON: 5, Addr: "SIMLAB"}, Dest: client.Address{TON: 1, NPI: 1, Addr: "999000009"}, ShortMessage: []byte("Your code is 123456")}
	ctx := context.Background()
	var wg sync.WaitGroup
	var errs atomic.Int64
	b.ResetTimer()
	per := b.N / binds
	for i, cl := range cls {
		n := per
		if i == 0 {
			n += b.N % binds
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
	all := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	for _, h := range hists {
		all.Merge(h)
	}
	b.ReportMetric(float64(all.ValueAtQuantile(50))/1000, "p50-ms")
	b.ReportMetric(float64(all.ValueAtQuantile(99))/1000, "p99-ms")
}

// selfSigned returns a server TLS config for 127.0.0.1 and a client config
// trusting it.
func selfSigned(t *testing.T) (*tls.Config, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "simlab test SMSC"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// TestTLS binds over TLS and submits.
func TestTLS(t *testing.T) {
	t.Parallel()
	srvTLS, cliTLS := selfSigned(t)
	srv := smsctest.NewServer(t, smsctest.WithSMSC(func(s *smsc.Server) { s.TLSConfig = srvTLS }))
	cl := srv.Dial(t, client.Config{TLS: cliTLS, Mode: client.Transmitter, Logger: quiet})
	if _, err := cl.Submit(ctxT(t), &client.Message{Dest: client.Address{Addr: "999000005"}, ShortMessage: []byte("over TLS")}); err != nil {
		t.Fatal(err)
	}
	// Without TLS the bind cannot succeed.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := client.Dial(ctx, client.Config{Addr: srv.Addr, NoReconnect: true, ResponseTimeout: time.Second, Logger: quiet}); err == nil {
		t.Fatal("plain bind to a TLS listener succeeded")
	}
}

// TestReceiverMO: a receiver bind whose account owns a short code gets the
// MO sent to it, as deliver_sm without a receipt.
func TestReceiverMO(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t, smsctest.WithAccounts(smsc.Account{SystemID: "app", Password: "pw", MORanges: []string{"12345"}}))
	got := make(chan *client.Deliver, 1)
	srv.Dial(t, client.Config{SystemID: "app", Password: "pw", Mode: client.Receiver, Logger: quiet,
		OnDeliver: func(d *client.Deliver) uint32 { got <- d; return client.StatusOK }})
	ctx := ctxT(t)
	if _, err := srv.SMSC.SubmitMO(ctx, &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: "999000006"},
		Dest: smsc.Address{Addr: "12345"}, Body: []byte("YES")}); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if d.Receipt != nil || string(d.ShortMessage) != "YES" || d.Source.Addr != "999000006" || d.Dest.Addr != "12345" {
			t.Fatalf("deliver %+v", d)
		}
	case <-ctx.Done():
		t.Fatal("no MO")
	}
}

// BenchmarkReceipts submits b.N messages with a receipt requested over 4
// transceiver binds and checks that every receipt arrives and names the id
// of a message that was submitted on the same bind.
//
//	go test -run XXX -bench Receipts -benchtime 100000x ./smsc/client/
func BenchmarkReceipts(b *testing.B) {
	srv := smsctest.NewServer(b)
	const binds = 4
	type bindState struct {
		mu       sync.Mutex
		ids      map[string]bool
		receipts map[string]int
		got      atomic.Int64
	}
	states := make([]*bindState, binds)
	var all sync.WaitGroup // one count per expected receipt
	var cls []*client.Client
	for i := range binds {
		st := &bindState{ids: map[string]bool{}, receipts: map[string]int{}}
		states[i] = st
		cls = append(cls, srv.Dial(b, client.Config{SystemID: fmt.Sprint("rcpt", i), Window: 50, Logger: quiet, KeepReceipts: -1,
			OnDeliver: func(d *client.Deliver) uint32 {
				if d.Receipt != nil {
					st.mu.Lock()
					st.receipts[d.Receipt.ID]++
					st.mu.Unlock()
					st.got.Add(1)
					all.Done()
				}
				return client.StatusOK
			}}))
	}
	msg := &client.Message{Dest: client.Address{TON: 1, NPI: 1, Addr: "999000010"}, ShortMessage: []byte("receipt me"), RegisteredDelivery: 1}
	ctx := context.Background()
	all.Add(b.N)
	b.ResetTimer()
	var subs sync.WaitGroup
	for i, cl := range cls {
		n := b.N / binds
		if i == 0 {
			n += b.N % binds
		}
		st := states[i]
		subs.Add(1)
		go func() {
			defer subs.Done()
			for range n {
				cl.SubmitAsync(ctx, msg, func(id string, err error) {
					if err != nil {
						b.Error(err)
						all.Done()
						return
					}
					st.mu.Lock()
					st.ids[id] = true
					st.mu.Unlock()
				})
			}
		}()
	}
	subs.Wait()
	all.Wait()
	b.StopTimer()
	for i, st := range states {
		if len(st.receipts) != len(st.ids) {
			b.Fatalf("bind %d: %d submitted, receipts for %d ids", i, len(st.ids), len(st.receipts))
		}
		for id := range st.ids {
			if st.receipts[id] != 1 {
				b.Fatalf("bind %d: message %s has %d receipts", i, id, st.receipts[id])
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg+receipt/s")
}
