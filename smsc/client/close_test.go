package client_test

import (
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// pipeDial serves one end of a net.Pipe on srv for each dial, so that a
// client and the real SMSC run together in a synctest bubble.
func pipeDial(srv *smsc.Server) func(context.Context, string) (net.Conn, error) {
	return func(context.Context, string) (net.Conn, error) {
		c, s := net.Pipe()
		if !srv.ServeConn(s) {
			c.Close()
			return nil, net.ErrClosed
		}
		return c, nil
	}
}

// TestCloseFromDeliverHandler: an OnDeliver that hands its message on to
// code that closes the client before the handler has returned (a test
// that got its MO and is done) still answers the deliver_sm: the SMSC sees
// the deliver_sm_resp before the unbind, marks the MO delivered and does
// not deliver it again to the next bind (before f50e667 the unbind went
// first and the next receiver got the message twice).
//
// The handler starts Close and waits, with synctest.Wait, until every
// other goroutine is blocked: Close has then either sent its unbind and
// closed the connection (the bug) or is waiting for the handler.
func TestCloseFromDeliverHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "app", Password: "pw", MORanges: []string{"12345"}}}, Logger: quiet}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			srv.Shutdown(ctx)
		}()
		cfg := client.Config{Addr: "pipe", SystemID: "app", Password: "pw", Mode: client.Receiver, NoReconnect: true,
			Dial: pipeDial(srv), Logger: quiet}
		ctx := t.Context()

		closed := make(chan error, 1)
		var first *client.Client
		dialed := make(chan struct{})
		cfg.OnDeliver = func(d *client.Deliver) uint32 {
			<-dialed
			go func() { closed <- first.Close(context.Background()) }()
			synctest.Wait()
			return client.StatusOK
		}
		var err error
		if first, err = client.Dial(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		close(dialed)
		id, err := srv.SubmitMO(ctx, &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: "999000006"},
			Dest: smsc.Address{Addr: "12345"}, Body: []byte("YES")})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		synctest.Wait()
		m, err := srv.Store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != smsc.Delivered {
			t.Fatalf("MO after the handler answered and the client closed: %v, want DELIVERED (the unbind went before the deliver_sm_resp)", m.State)
		}

		// The next bind of the account gets nothing again.
		again := make(chan *client.Deliver, 1)
		cfg.OnDeliver = func(d *client.Deliver) uint32 { again <- d; return client.StatusOK }
		second, err := client.Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close(context.Background())
		time.Sleep(time.Hour) // fake time: any retry of the MO would be due
		select {
		case d := <-again:
			t.Fatalf("the MO the first bind answered came again: %q", d.ShortMessage)
		default:
		}
	})
}
