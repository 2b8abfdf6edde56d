package simtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

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
