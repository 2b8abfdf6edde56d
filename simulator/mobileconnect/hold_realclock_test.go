package mobileconnect_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestAuthorizeHoldRealClock: with the real clock (no Deps.After, so the
// holds wait on the gateway's pooled timers) every held GET of a login
// the phone never answers lasts at least its hold and is the waiting
// page: a timer reused from an earlier hold brings no value of its last
// use, which would end the GET at once. hold_test.go's tests run the
// holds in fake time; this is the path the server runs.
func TestAuthorizeHoldRealClock(t *testing.T) {
	t.Parallel()
	const hold = 20 * time.Millisecond
	r, _, _ := gatewayWithClockDeps(t, mobileconnect.Config{AuthorizeFirstHold: hold, AuthorizeHold: hold}, nil)
	q := r.params(simtest.Number(t, "ignore", 791), "2")
	for i := range 6 {
		start := time.Now()
		st, _, body := getAccept(t, r, q, "*/*")
		if took := time.Since(start); took < hold {
			t.Fatalf("GET %d ended after %v, before its hold of %v", i, took, hold)
		}
		if st != http.StatusOK || !strings.Contains(body, "Check your phone") {
			t.Fatalf("GET %d: %d %.200s, want the waiting page", i, st, body)
		}
	}
}
