package mobileconnect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

func addFault(t *testing.T, base string, rule mobileconnect.FaultRule) {
	t.Helper()
	b, _ := json.Marshal(rule)
	resp, err := http.Post(base+"/api/v1/mc/faults", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("fault rule %v: %d", rule, resp.StatusCode)
	}
}

// TestFaults: each injected fault makes the id_token of the next login
// fail a relying party's checks — go-oidc's where it checks them, the
// Mobile Connect checks (mobileconnect.RP.Verify) for the rest — and the
// login after it is clean again.
func TestFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fault  string
		goOIDC bool // go-oidc itself refuses it
	}{
		{mobileconnect.FaultUnknownKey, true},
		{mobileconnect.FaultAlgNone, true},
		{mobileconnect.FaultWrongIss, true},
		{mobileconnect.FaultWrongAud, true},
		{mobileconnect.FaultExpired, true},
		{mobileconnect.FaultWrongNonce, false},
		{mobileconnect.FaultACRMissing, false},
		{mobileconnect.FaultACRLower, false},
		{mobileconnect.FaultWrongLoginHint, false},
	}
	for i, c := range cases {
		t.Run(c.fault, func(t *testing.T) {
			t.Parallel()
			s, _ := server(t, nil)
			ctx := context.Background()
			addFault(t, s.URL, mobileconnect.FaultRule{ClientID: mobileconnect.DemoClientID, Faults: []string{c.fault}, Next: true})
			r := newRP(t, s)
			n := simtest.Number(t, "approve", 130+i)
			q := r.params(n, "3")
			tr := r.exchange(r.authorize(q).Get("code"))
			idt := tr["id_token"].(string)
			provider, err := gooidc.NewProvider(ctx, s.Issuer())
			if err != nil {
				t.Fatal(err)
			}
			_, err = provider.Verifier(&gooidc.Config{ClientID: mobileconnect.DemoClientID}).Verify(ctx, idt)
			if (err != nil) != c.goOIDC {
				t.Fatalf("go-oidc verification error %v, want refused=%v", err, c.goOIDC)
			}
			mc := s.RP()
			d, err := mc.Discover(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := mc.Verify(ctx, d, idt, tr["access_token"].(string), q.Get("nonce"), []string{"3"}, q.Get("login_hint")); err == nil {
				t.Fatal("the Mobile Connect checks accepted a faulty id_token")
			}
			// The rule was for the next login only.
			if res := s.Login(t, simtest.Number(t, "approve", 150+i), "3"); res.Claims["acr"] != "3" {
				t.Fatal(res.Claims)
			}
		})
	}
}

// TestFaultRules: a rule for every login stays until deleted; bad rules
// are refused; the list shows the rules.
func TestFaultRules(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	b, _ := json.Marshal(map[string]any{"faults": []string{"make_it_weird"}})
	resp, _ := http.Post(s.URL+"/api/v1/mc/faults", "application/json", bytes.NewReader(b))
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("unknown fault: %d", resp.StatusCode)
	}
	addFault(t, s.URL, mobileconnect.FaultRule{Faults: []string{mobileconnect.FaultACRMissing}})
	for i := 0; i < 2; i++ {
		r := newRP(t, s)
		q := r.params(simtest.Number(t, "approve", 160+i), "2")
		q.Set("state", "rule-"+string(rune('a'+i)))
		c, _ := r.login(q)
		if _, ok := c["acr"]; ok {
			t.Fatalf("login %d has acr", i)
		}
	}
	resp, _ = http.Get(s.URL + "/api/v1/mc/faults")
	var list struct {
		Rules []mobileconnect.FaultRule `json:"rules"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Rules) != 1 {
		t.Fatalf("%+v", list)
	}
	req, _ := http.NewRequest(http.MethodDelete, s.URL+"/api/v1/mc/faults", nil)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if res := s.Login(t, simtest.Number(t, "approve", 162), "2"); res.Claims["acr"] != "2" {
		t.Fatal("the rule outlived DELETE")
	}
}

// TestSlowTokenAndQuota on a fake clock: slow_token holds the token
// endpoint for token_delay; the quota answers 429 with Retry-After until
// the window has passed.
func TestSlowTokenAndQuota(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var held []time.Duration
	after := func(d time.Duration) <-chan time.Time {
		mu.Lock()
		held = append(held, d)
		mu.Unlock()
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	// No hold of the first GET: after records the token endpoint's wait only.
	r, clk, _ := gatewayWithClockDeps(t, mobileconnect.Config{Quota: 3, QuotaWindow: time.Hour, AuthorizeFirstHold: -1}, after)
	base := strings.TrimSuffix(r.iss, "/mc")
	addFault(t, base, mobileconnect.FaultRule{Faults: []string{mobileconnect.FaultSlowToken}, TokenDelay: "7s", Next: true})
	res := r.authorize(r.params("99901000601", "2")) // call 1
	if st, _ := r.token(url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {r.redirect}}); st != 200 {
		t.Fatal(st) // call 2
	}
	mu.Lock()
	if len(held) != 1 || held[0] != 7*time.Second {
		t.Fatalf("token endpoint held %v", held)
	}
	mu.Unlock()
	q := r.params("99901000602", "2")
	q.Set("state", "third")
	r.authorize(q) // call 3
	q.Set("state", "fourth")
	st, _, _ := r.get(q)
	if st != http.StatusTooManyRequests {
		t.Fatalf("over quota: %d", st)
	}
	resp, err := r.hc.Get(r.iss + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ra := resp.Header.Get("Retry-After"); ra != "3600" {
		t.Fatalf("Retry-After %q", ra)
	}
	st, e := r.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
	if st != http.StatusTooManyRequests || e["error"] != "quota_exceeded" {
		t.Fatalf("token over quota: %d %v", st, e)
	}
	clk.Add(time.Hour)
	// A new window takes the request again: the waiting page (200) while
	// the phone is asked, or already the redirect (302) when the phone
	// answered before the page was written (the held GET's timer fires at
	// once here).
	if st, _, _ := r.get(q); st != http.StatusOK && st != http.StatusFound {
		t.Fatalf("after the window: %d", st)
	}
}
