package simtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestConnectWaitsUntilReady: a CI service still starting answers /healthz
// 503 "starting"; Connect asks again until it says ok instead of failing
// the job at the first answer (review 1, L5).
func TestConnectWaitsUntilReady(t *testing.T) {
	t.Parallel()
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if asked.Add(1) <= 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":"starting","subsystems":{"smpp":false}}`)
			return
		}
		fmt.Fprint(w, `{"status":"ok","subsystems":{"smpp":true}}`)
	}))
	defer srv.Close()
	s := simtest.Connect(t, simtest.Remote{URL: srv.URL, ReadyTimeout: 20 * time.Second})
	if !s.External() || asked.Load() != 4 {
		t.Fatalf("connected after %d health checks, want 4", asked.Load())
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as testing's does, without failing the real test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestNSWithoutSMPPAddress: a CI job that sets $SIMLAB_API but forgets
// $SIMLAB_SMPP is told which variable to set when a test binds over SMPP,
// not "dial tcp: missing address".
func TestNSWithoutSMPPAddress(t *testing.T) {
	t.Parallel()
	in := simtest.NewServer(t)
	s := simtest.Connect(t, simtest.Remote{URL: in.URL, Token: in.Token})
	rec := &fatalRecorder{TB: t}
	ns := s.NS(rec)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ns.Pusher()
		t.Error("Pusher returned without an SMPP address")
	}()
	<-done
	if !strings.Contains(rec.msg, "$SIMLAB_SMPP") {
		t.Errorf("failure %q does not name $SIMLAB_SMPP", rec.msg)
	}
}

// TestLoginExternal: s.Login, RP and Issuer work against an external
// server too (a CI's `simlab serve` through FromEnv), polling the gateway;
// they dereferenced the missing in-process server and panicked.
func TestLoginExternal(t *testing.T) {
	t.Parallel()
	in := simtest.NewServer(t)
	s := simtest.Connect(t, simtest.Remote{URL: in.URL, SMPPAddr: in.SMPPAddr, Token: in.Token})
	if s.Issuer() != in.Issuer() || s.Gateway() != nil {
		t.Errorf("external issuer %q (in process %q), gateway %v", s.Issuer(), in.Issuer(), s.Gateway())
	}
	ns := s.NS(t)
	n := ns.Number("")
	res := s.Login(t, "+"+n, "3 2")
	if acr := res.Claims["acr"]; acr != "3" {
		t.Errorf("external login: acr %v, want 3", acr)
	}
}

// TestNSWithoutToken: a server that needs an API token, connected without
// it, fails the test naming $SIMLAB_API_TOKEN, not only "401 Unauthorized".
func TestNSWithoutToken(t *testing.T) {
	t.Parallel()
	in := simtest.NewServer(t, func(c *simulator.Config) { c.APIToken = "s3cret-token" })
	s := simtest.Connect(t, simtest.Remote{URL: in.URL, SMPPAddr: in.SMPPAddr})
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.NS(rec)
		t.Error("NS returned without the token")
	}()
	<-done
	if !strings.Contains(rec.msg, "$SIMLAB_API_TOKEN") || strings.Contains(rec.msg, "s3cret") {
		t.Errorf("failure %q: want $SIMLAB_API_TOKEN named, never the token", rec.msg)
	}
}
