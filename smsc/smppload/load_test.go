package smppload

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/simlab-dev/simlab/smsc"
)

// TestRun drives an in-process SMSC with a small load and checks the
// counts, including receipts matched to their ids.
func TestRun(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &smsc.Server{}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	res, err := Run(context.Background(), Config{Addr: l.Addr().String(), SystemID: "load", Password: "x",
		Binds: 2, Window: 5, Messages: 501, Receipts: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Submitted != 501 || res.Errors != 0 || res.Receipts != 501 || res.Matched != 501 || res.PerSecond <= 0 || res.P99 < res.P50 {
		t.Errorf("%+v", res)
	}
	if _, err := Run(context.Background(), Config{Addr: "127.0.0.1:1", Messages: 1}); err == nil {
		t.Error("dial to a closed port succeeded")
	}
}

// TestExternal measures an SMSC running in another process (simlab smsc
// serve, or a peer simulator):
//
//	SMPPLOAD_ADDR=127.0.0.1:2775 SMPPLOAD_N=400000 go test -run TestExternal -v ./smsc/smppload/
func TestExternal(t *testing.T) {
	addr := os.Getenv("SMPPLOAD_ADDR")
	if addr == "" {
		t.Skip("SMPPLOAD_ADDR not set")
	}
	n, _ := strconv.Atoi(os.Getenv("SMPPLOAD_N"))
	if n <= 0 {
		n = 200_000
	}
	cfg := Config{Addr: addr, SystemID: "load", Password: "load", Binds: 4, Window: 50, Messages: n,
		Receipts: os.Getenv("SMPPLOAD_RECEIPTS") != "", Transmitter: os.Getenv("SMPPLOAD_TX") != ""}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", res)
}
