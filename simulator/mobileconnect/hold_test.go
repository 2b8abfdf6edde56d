package mobileconnect_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// holdRecorder is a Deps.After that records the waits asked of it and
// either lets them pass at once (expired) or never (blocked): the first
// GET's hold in fake time.
type holdRecorder struct {
	mu     sync.Mutex
	asked  []time.Duration
	expire bool
}

func (h *holdRecorder) after(d time.Duration) <-chan time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, d)
	c := make(chan time.Time, 1)
	if h.expire {
		c <- time.Time{}
	}
	return c
}

func (h *holdRecorder) waits() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.asked...)
}

// getAccept fetches the authorize URL once with an Accept header.
func getAccept(t *testing.T, r *rp, q url.Values, accept string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.iss+"/authorize?"+q.Encode(), nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestAuthorizeFirstHoldFastPhone: a headless client's first GET waits
// for the phone (here a hold that never expires, so only the phone's
// answer ends it) and is the redirect with the code; the same GET again
// is the same redirect (idempotent), and the code redeems.
func TestAuthorizeFirstHoldFastPhone(t *testing.T) {
	t.Parallel()
	h := &holdRecorder{}
	r, _, _ := gatewayWithClockDeps(t, mobileconnect.Config{AuthorizeFirstHold: time.Hour}, h.after)
	q := r.params("99901000701", "2")
	for _, accept := range []string{"", "*/*", "application/json"} {
		q.Set("state", "fast-"+accept)
		st, loc, body := getAccept(t, r, q, accept)
		u, _ := url.Parse(loc)
		if st != http.StatusFound || u.Query().Get("code") == "" || u.Query().Get("state") != q.Get("state") {
			t.Fatalf("Accept %q: first GET %d %s %.200s, want the redirect with a code", accept, st, loc, body)
		}
		if st2, loc2, _ := getAccept(t, r, q, accept); st2 != http.StatusFound || loc2 != loc {
			t.Fatalf("Accept %q: GET again %d %s, want the same redirect %s", accept, st2, loc2, loc)
		}
		if tr := r.exchange(u.Query().Get("code")); tr["id_token"] == nil {
			t.Fatalf("Accept %q: %v", accept, tr)
		}
	}
	for _, d := range h.waits() {
		if d != time.Hour {
			t.Fatalf("holds asked %v, want only the first GET's (1h)", h.waits())
		}
	}
	if len(h.waits()) == 0 {
		t.Fatal("the first GET was not held")
	}
}

// TestAuthorizeFirstHoldSlowPhone: when the hold passes (in fake time)
// before the phone answers, the first GET is the waiting page, and a GET
// again finds the same login.
func TestAuthorizeFirstHoldSlowPhone(t *testing.T) {
	t.Parallel()
	h := &holdRecorder{expire: true}
	r, _, _ := gatewayWithClockDeps(t, mobileconnect.Config{AuthorizeHold: -1}, h.after)
	q := r.params("99900020701", "2") // ignore: never answers
	st, _, body := getAccept(t, r, q, "*/*")
	if st != http.StatusOK || !strings.Contains(body, "Check your phone") {
		t.Fatalf("first GET: %d %.200s, want the waiting page", st, body)
	}
	if w := h.waits(); len(w) != 1 || w[0] != mobileconnect.DefaultAuthorizeFirstHold {
		t.Fatalf("holds asked %v, want one of %v", w, mobileconnect.DefaultAuthorizeFirstHold)
	}
	if st, _, _ := getAccept(t, r, q, "*/*"); st != http.StatusOK {
		t.Fatalf("GET again: %d", st)
	}
	if w := h.waits(); len(w) != 1 {
		t.Fatalf("holds asked %v: a GET again (authorize_hold -1) must not wait", w)
	}
}

// TestAuthorizeFirstHoldBrowser: a browser (Accept names text/html) gets
// the waiting page at once, without a hold, so that a person sees it
// while the phone is asked.
func TestAuthorizeFirstHoldBrowser(t *testing.T) {
	t.Parallel()
	h := &holdRecorder{}
	r, _, _ := gatewayWithClockDeps(t, mobileconnect.Config{AuthorizeFirstHold: time.Hour, AuthorizeHold: -1}, h.after)
	q := r.params("99900020702", "2") // ignore: never answers
	const chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
	st, _, body := getAccept(t, r, q, chrome)
	if st != http.StatusOK || !strings.Contains(body, "Check your phone") {
		t.Fatalf("first GET: %d %.200s, want the waiting page", st, body)
	}
	if w := h.waits(); len(w) != 0 {
		t.Fatalf("a browser's first GET was held: %v", w)
	}
}
