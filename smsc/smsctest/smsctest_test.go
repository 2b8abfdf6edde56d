package smsctest_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/smsctest"
)

var quiet = slog.New(slog.DiscardHandler)

// TestZeroValueAndHooks: a zero Server starts; hooks see the stored
// message; AwaitMessage and AwaitState return it.
func TestZeroValueAndHooks(t *testing.T) {
	t.Parallel()
	var srv smsctest.Server
	var stored atomic.Int32
	srv.OnStored = func(m *smsc.Message) { stored.Add(1) }
	srv.Start(t)
	cl := srv.Dial(t, client.Config{Logger: quiet})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := cl.Submit(ctx, &client.Message{Dest: client.Address{TON: 1, NPI: 1, Addr: "999000701"}, ShortMessage: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := srv.AwaitMessage(ctx, smsc.Filter{AllNamespaces: true, To: "999000701"})
	if err != nil || m.ID != id {
		t.Fatalf("AwaitMessage: %v %v", m, err)
	}
	if m, err = srv.AwaitState(ctx, id, smsc.Delivered); err != nil || m.State != smsc.Delivered {
		t.Fatalf("AwaitState: %v %v", m, err)
	}
	if stored.Load() != 1 {
		t.Fatalf("OnStored saw %d", stored.Load())
	}
}

// TestAwaitTimesOut: Await gives up with the context.
func TestAwaitTimesOut(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := srv.AwaitMessage(ctx, smsc.Filter{AllNamespaces: true, To: "nobody"}); err == nil {
		t.Fatal("AwaitMessage returned without a message")
	}
}

// TestAccountsAndRouter: WithAccounts makes credentials matter, WithRouter
// routes MT to a sink of the test.
func TestAccountsAndRouter(t *testing.T) {
	t.Parallel()
	got := make(chan *smsc.Message, 1)
	routes := &smsc.Routes{}
	routes.AddNumber("999000702", smsc.SinkFunc(func(_ context.Context, m *smsc.Message) error { got <- m; return nil }))
	srv := smsctest.NewServer(t, smsctest.WithAccounts(smsc.Account{SystemID: "sut", Password: "pw"}), smsctest.WithRouter(routes))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.Dial(ctx, client.Config{Addr: srv.Addr, SystemID: "sut", Password: "wrong", NoReconnect: true, Logger: quiet}); err == nil {
		t.Fatal("bind with a wrong password succeeded")
	}
	cl := srv.Dial(t, client.Config{SystemID: "sut", Password: "pw", Logger: quiet})
	if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{Addr: "999000702"}, ShortMessage: []byte("routed")}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if string(m.Body) != "routed" {
			t.Fatalf("sink got %q", m.Body)
		}
	case <-ctx.Done():
		t.Fatal("the sink got nothing")
	}
}
