package mobileconnect_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// fakeClock is a settable clock for lifetimes.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// gatewayWithClock runs a gateway of its own on a fake clock, pushing
// through its own bind to a simlab server's SMSC and fleet.
func gatewayWithClock(t *testing.T, cfg mobileconnect.Config) (*rp, *fakeClock, *mobileconnect.Gateway) {
	t.Helper()
	return gatewayWithClockDeps(t, cfg, nil)
}

// gatewayWithClockDeps is gatewayWithClock with an injected timer for SI
// notification backoff.
func gatewayWithClockDeps(t *testing.T, cfg mobileconnect.Config, after func(time.Duration) <-chan time.Time) (*rp, *fakeClock, *mobileconnect.Gateway) {
	t.Helper()
	// The server is the SMSC and the fleet; the gateway is this one.
	s := simtest.NewServer(t, func(c *simulator.Config) { c.MobileConnect.Disabled = true })
	if cfg.Keystore == "" {
		cfg.Keystore = testKeystore(t)
	}
	ctx := context.Background()
	p, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "clock-test", AddressRange: "99955514"}, Source: "99955514"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	clk := &fakeClock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	dir := mobileconnect.DirectoryFunc(func(ctx context.Context, n string) (mobileconnect.Subscriber, error) {
		return mobileconnect.Subscriber{MSISDN: n, Known: true, Applet: true}, nil
	})
	hs := httptest.NewUnstartedServer(nil)
	iss := "http://" + hs.Listener.Addr().String() + "/mc"
	gw, err := mobileconnect.New(ctx, cfg, iss, mobileconnect.Deps{Challenger: p, Directory: dir, Now: clk.Now, After: after})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = gw.Handler()
	hs.Start()
	t.Cleanup(func() { hs.Close(); gw.Close() })
	r := newRP(t, nil)
	r.iss = iss
	r.await = gw.AwaitLogin
	return r, clk, gw
}

// TestCodeExpires: a code is refused once its lifetime has passed.
func TestCodeExpires(t *testing.T) {
	t.Parallel()
	r, clk, _ := gatewayWithClock(t, mobileconnect.Config{CodeTTL: time.Minute})
	res := r.authorize(r.params("99901000501", "2"))
	clk.Add(61 * time.Second)
	st, e := r.token(urlValues("grant_type", "authorization_code", "code", res.Get("code"), "redirect_uri", r.redirect))
	if st != 400 || e["error"] != "invalid_grant" {
		t.Fatalf("%d %v", st, e)
	}
}

// TestKeyRotation: a rotated key stays in the JWKS until the tokens it
// signed have expired, then leaves; new tokens carry the new kid.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	r, clk, _ := gatewayWithClock(t, mobileconnect.Config{TokenTTL: 10 * time.Minute, SITTL: time.Minute})
	_, tr := r.login(r.params("99901000502", "2"))
	oldKid := kidOf(t, tr["id_token"].(string))
	resp, err := r.hc.Post(r.iss[:strings.LastIndex(r.iss, "/mc")]+"/api/v1/mc/keys/rotate?alg=ES256", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("rotate: %v %v", err, resp)
	}
	resp.Body.Close()
	q := r.params("99901000503", "2")
	q.Set("state", "after-rotation")
	_, tr2 := r.login(q)
	newKid := kidOf(t, tr2["id_token"].(string))
	if newKid == oldKid {
		t.Fatal("the new token is signed by the old key")
	}
	set := r.jwks()
	if len(set.Key(oldKid)) != 1 || len(set.Key(newKid)) != 1 {
		t.Fatal("both keys must be published while old tokens live")
	}
	r.verify(tr["id_token"].(string)) // the old token still verifies
	clk.Add(12 * time.Minute)
	set = r.jwks()
	if len(set.Key(oldKid)) != 0 {
		t.Fatal("the old key outlived its tokens")
	}
	for _, k := range r.jwks().Keys {
		if k.KeyID == "" {
			t.Fatal("a key without kid")
		}
	}
}

// TestMaxPending: past max_pending logins under way, /authorize answers
// temporarily_unavailable instead of queueing without bound.
func TestMaxPending(t *testing.T) {
	t.Parallel()
	r, _, _ := gatewayWithClock(t, mobileconnect.Config{MaxPending: 1, ChallengeTimeout: 30 * time.Second})
	q := r.params("99900020401", "2") // ignore: stays pending
	if st, _, _ := r.get(q); st != 200 {
		t.Fatal(st)
	}
	q2 := r.params("99901000402", "2")
	q2.Set("state", "second")
	wantError(t, r.authorize(q2), "temporarily_unavailable", "second")
}
