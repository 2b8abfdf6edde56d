package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc/client"
)

func startTest(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.SMPPAddr == "" {
		cfg.SMPPAddr = "127.0.0.1:0"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func TestHealthzAndShutdownClosesListeners(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	addrs := s.Addrs()
	resp, err := http.Get("http://" + addrs.HTTP + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || h.Status != "ok" {
		t.Fatalf("healthz = %d %+v, want 200 ok", resp.StatusCode, h)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{addrs.HTTP, addrs.SMPP} {
		if c, err := net.Dial("tcp", a); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Shutdown", a)
		}
	}
}

type fakeSub struct {
	ready    bool
	shutdown bool
}

func (f *fakeSub) Name() string                       { return "fake" }
func (f *fakeSub) Ready() bool                        { return f.ready }
func (f *fakeSub) Shutdown(ctx context.Context) error { f.shutdown = true; return nil }

func TestHealthzReportsSubsystemNotReady(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off"})
	sub := &fakeSub{}
	s.Add(sub)
	resp, err := http.Get("http://" + s.Addrs().HTTP + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("healthz with a subsystem not ready = %d, want 503", resp.StatusCode)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !sub.shutdown {
		t.Error("subsystem was not shut down")
	}
	if s.Addrs().SMPP != "" {
		t.Errorf("SMPP listener opened although off")
	}
}

func TestBeyondLoopbackNeedsToken(t *testing.T) {
	t.Parallel()
	_, err := Start(Config{HTTPAddr: "0.0.0.0:0", SMPPAddr: "off"})
	if err == nil || !strings.Contains(err.Error(), "API token") {
		t.Fatalf("Start beyond loopback without a token: err = %v, want an API token error", err)
	}
}

func TestTokenRequiredForAPI(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{APIToken: "s3cret-0123456789", SMPPAddr: "off"})
	s.Mux().HandleFunc("GET /api/v1/ping", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("pong")) })
	base := "http://" + s.Addrs().HTTP
	for _, tc := range []struct {
		path, auth string
		want       int
	}{
		{"/healthz", "", 200},
		{"/api/v1/ping", "", 401},
		{"/api/v1/ping", "Bearer wrong", 401},
		{"/api/v1/ping", "Bearer s3cret-0123456789", 200},
	} {
		req, _ := http.NewRequest("GET", base+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s with %q = %d, want %d", tc.path, tc.auth, resp.StatusCode, tc.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:2775": true, "localhost:1": true, "[::1]:8775": true, "127.1.2.3:9": true,
		":2775": false, "0.0.0.0:2775": false, "10.0.0.1:1": false, "example.org:1": false, "bad": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestSMPPConnectionCap: beyond the per-source cap an SMPP connection is
// closed at once; the bound session goes on.
func TestSMPPConnectionCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startTest(t, Config{HTTPAddr: "off", NoFleet: true, SMPPLimits: ConnLimits{MaxConnsPerSource: 1}})
	cl, err := client.Dial(ctx, client.Config{Addr: s.Addrs().SMPP, SystemID: "first", Password: "x", NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(ctx)
	c, err := net.Dial("tcp", s.Addrs().SMPP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("second connection from one address: read %d, %v; want it closed", n, err)
	}
	if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{Addr: "4912345"}, ShortMessage: []byte("still here")}); err != nil {
		t.Fatalf("the first session after the refusal: %v", err)
	}
}
