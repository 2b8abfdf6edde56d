package mobileconnect_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

func siRP(s *simtest.Server) *mobileconnect.RP {
	r := s.RP()
	r.WaitBackchannel = s.Gateway().AwaitBackchannel
	return r
}

// TestSIAsync: a Server-Initiated login notified to the SP's
// notification_uri, signed with the demo client's published key.
func TestSIAsync(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	ctx := context.Background()
	r := siRP(s)
	res, err := r.SI(ctx, mobileconnect.SILogin{LoginRequest: mobileconnect.LoginRequest{MSISDN: simtest.Number(t, "approve", 110), ACR: "3 2",
		Authz: true, ClientName: "bevestig", Context: "Sign contract 7"}, Key: mobileconnect.DemoRequestKey(), CorrelationID: "corr-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Claims["acr"] != "3" || res.Claims["recipient"] == nil || res.Claims["displayed_data"] == nil {
		t.Fatalf("%v", res.Claims)
	}
	// A cancel arrives as an error notification.
	_, err = r.SI(ctx, mobileconnect.SILogin{LoginRequest: mobileconnect.LoginRequest{MSISDN: simtest.Number(t, "cancel", 110)},
		Key: mobileconnect.DemoRequestKey()})
	var e *mobileconnect.Error
	if !errors.As(err, &e) || e.Code != "access_denied" {
		t.Fatalf("%v", err)
	}
}

// TestSIPolling: mc_si_polling through the token endpoint's SI grant,
// with a client signing HS256 and with one signing RS256... here ES256
// with a key registered at run time.
func TestSIPolling(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("h", 40)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), Use: "sig", Algorithm: "ES256"}}})
	s, _ := server(t, func(c *mobileconnect.Config) {
		c.Clients = []mobileconnect.Client{{ID: "hs", Secret: secret, RedirectURIs: []string{"http://127.0.0.1:9/cb"},
			NotificationURIs: []string{"http://127.0.0.1:9/mc-notify"}},
			{ID: "es", JWKS: string(jwks), Secret: "es-secret", RedirectURIs: []string{"http://127.0.0.1:9/cb"}}}
	})
	ctx := context.Background()
	r := siRP(s)
	r.ClientID, r.ClientSecret = "hs", secret
	res, err := r.SI(ctx, mobileconnect.SILogin{LoginRequest: mobileconnect.LoginRequest{MSISDN: simtest.Number(t, "no-pin-support", 111), ACR: "3 2"}, Mode: "polling"})
	if err != nil {
		t.Fatal(err)
	}
	// No notification_uri in the request: nothing for recipient to name.
	if res.Claims["acr"] != "2" || res.Claims["recipient"] != nil {
		t.Fatalf("%v", res.Claims)
	}
	// A polling request naming its (registered) notification_uri gets it
	// back as recipient, as async ones do; an unregistered one is refused.
	res, err = r.SI(ctx, mobileconnect.SILogin{LoginRequest: mobileconnect.LoginRequest{MSISDN: simtest.Number(t, "approve", 112), ACR: "2"},
		Mode: "polling", NotificationURI: "http://127.0.0.1:9/mc-notify"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Claims["recipient"] != "http://127.0.0.1:9/mc-notify" {
		t.Fatalf("polling recipient %v, want the request's notification_uri", res.Claims["recipient"])
	}
	_, err = r.SI(ctx, mobileconnect.SILogin{LoginRequest: mobileconnect.LoginRequest{MSISDN: simtest.Number(t, "approve", 113), ACR: "2"},
		Mode: "polling", NotificationURI: "http://127.0.0.1:9/elsewhere"})
	if e := (*mobileconnect.Error)(nil); !errors.As(err, &e) || e.Code != "invalid_request" {
		t.Fatalf("unregistered notification_uri on polling: %v", err)
	}
	r.ClientID, r.ClientSecret = "es", "es-secret"
	if _, err := r.SI(ctx, mobileconnect.SILogin{LoginRequest: mobileconnect.LoginRequest{MSISDN: simtest.Number(t, "approve", 111), ACR: "3"},
		Mode: "polling", Key: key}); err != nil {
		t.Fatal(err)
	}
	_, err = r.SI(ctx, mobileconnect.SILogin{LoginRequest: mobileconnect.LoginRequest{MSISDN: simtest.Number(t, "pin-blocked", 111), ACR: "3"},
		Mode: "polling", Key: key})
	var e *mobileconnect.Error
	if !errors.As(err, &e) || e.Code != "access_denied" {
		t.Fatalf("%v", err)
	}
}

// siPost posts a raw request object to /si-authorize.
func siPost(t *testing.T, iss string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(iss+"/si-authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestSIRequestObjectRefused: unsigned, wrongly signed, inconsistent or
// incomplete request objects are refused with a clear error.
func TestSIRequestObjectRefused(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	iss := s.Issuer()
	n := strings.TrimPrefix(simtest.Number(t, "approve", 112), "+")
	base := func() map[string]any {
		return map[string]any{"response_type": "mc_si_polling", "client_id": mobileconnect.DemoClientID, "scope": "openid mc_authn",
			"version": "mc_si_r2_v1.0", "nonce": "n", "login_hint": "MSISDN:" + n, "acr_values": "2",
			"client_notification_token": "tok", "iss": mobileconnect.DemoClientID, "aud": iss}
	}
	sign := func(c map[string]any, key any, alg jose.SignatureAlgorithm) string {
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := jwt.Signed(sig).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	demo := mobileconnect.DemoRequestKey()
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	form := func(obj string) url.Values {
		return url.Values{"client_id": {mobileconnect.DemoClientID}, "scope": {"openid mc_authn"}, "response_type": {"mc_si_polling"}, "request": {obj}}
	}
	if st, out := siPost(t, iss, form(sign(base(), demo, jose.ES256))); st != 200 || out["auth_req_id"] == nil {
		t.Fatalf("a good request: %d %v", st, out)
	}
	cases := map[string]struct {
		obj  string
		code string
	}{
		"alg none":           {"eyJhbGciOiJub25lIn0." + b64json(base()) + ".", "invalid_request_object"},
		"unknown key":        {sign(base(), other, jose.ES256), "invalid_request_object"},
		"HS256 short secret": {sign(base(), []byte(strings.Repeat("x", 32)), jose.HS256), "invalid_request_object"},
	}
	edit := func(name string, f func(map[string]any), code string) {
		c := base()
		f(c)
		cases[name] = struct {
			obj  string
			code string
		}{sign(c, demo, jose.ES256), code}
	}
	edit("no nonce", func(c map[string]any) { delete(c, "nonce") }, "invalid_request_object")
	edit("bad version", func(c map[string]any) { c["version"] = "mc_v1.1" }, "invalid_request")
	edit("other client_id", func(c map[string]any) { c["client_id"] = "x"; c["iss"] = "x" }, "invalid_request")
	edit("wrong aud", func(c map[string]any) { c["aud"] = "https://elsewhere" }, "invalid_request_object")
	edit("expired", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, "invalid_request_object")
	edit("acr 4", func(c map[string]any) { c["acr_values"] = "4" }, "invalid_request")
	edit("async without uri", func(c map[string]any) { c["response_type"] = "mc_si_async_code" }, "invalid_request_object")
	edit("foreign notification_uri", func(c map[string]any) {
		c["response_type"] = "mc_si_async_code"
		c["notification_uri"] = "https://sp.example/notify"
	}, "invalid_request")
	for name, c := range cases {
		f := form(c.obj)
		if strings.Contains(name, "async") || strings.Contains(name, "notification") {
			f.Set("response_type", "mc_si_async_code")
		}
		st, out := siPost(t, iss, f)
		if st != 400 || out["error"] != c.code {
			t.Errorf("%s: %d %v, want %s", name, st, out, c.code)
		}
	}
}

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// notifySink is an SP notification endpoint that fails its first fails
// requests.
type notifySink struct {
	mu    sync.Mutex
	fails int
	got   []map[string]any
	auth  []string
	seen  chan struct{}
}

func (n *notifySink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fails > 0 {
		n.fails--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	n.got = append(n.got, m)
	n.auth = append(n.auth, r.Header.Get("Authorization"))
	w.WriteHeader(http.StatusNoContent)
	select {
	case n.seen <- struct{}{}:
	default:
	}
}

// TestSIPollingStates and notification retries, on a fake clock:
// authorization_pending, slow_down, expired_token; a notification retried
// with backoff until the SP answers 2xx.
func TestSIPollingStates(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var waits []time.Duration
	after := func(d time.Duration) <-chan time.Time {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	r, clk, gw := gatewayWithClockDeps(t, mobileconnect.Config{SITTL: time.Minute, ChallengeTimeout: 30 * time.Second}, after)
	iss := r.iss
	demo := mobileconnect.DemoRequestKey()
	sign := func(c map[string]any) string {
		op := jose.SigningKey{Algorithm: jose.ES256, Key: demo}
		sig, _ := jose.NewSigner(op, nil)
		out, _ := jwt.Signed(sig).Claims(c).Serialize()
		return out
	}
	claims := func(rt, n string) map[string]any {
		return map[string]any{"response_type": rt, "client_id": mobileconnect.DemoClientID, "scope": "openid mc_authn",
			"version": "mc_si_r2_v1.0", "nonce": "n", "login_hint": "MSISDN:" + n, "acr_values": "2",
			"client_notification_token": "sp-token", "iss": mobileconnect.DemoClientID, "aud": iss}
	}
	// "ignore" never answers within the test.
	st, ack := siPost(t, iss, url.Values{"client_id": {mobileconnect.DemoClientID}, "request": {sign(claims("mc_si_polling", "99900020301"))}})
	if st != 200 {
		t.Fatalf("%d %v", st, ack)
	}
	id := ack["auth_req_id"].(string)
	poll := func() string {
		_, out := r.token(url.Values{"grant_type": {mobileconnect.GrantSI}, "auth_req_id": {id}})
		e, _ := out["error"].(string)
		return e
	}
	if e := poll(); e != "authorization_pending" {
		t.Fatal(e)
	}
	if e := poll(); e != "slow_down" {
		t.Fatal(e)
	}
	// slow_down made the interval 1 s + 5 s (CIBA Core §11): 2 s later is
	// still too soon, and grows it again to 11 s.
	clk.Add(2 * time.Second)
	if e := poll(); e != "slow_down" {
		t.Fatalf("2 s after a slow_down: %s", e)
	}
	clk.Add(11 * time.Second)
	if e := poll(); e != "authorization_pending" {
		t.Fatal(e)
	}
	clk.Add(2 * time.Minute)
	if e := poll(); e != "expired_token" {
		t.Fatal(e)
	}

	// Async with an SP that fails twice: delivered on the third try after
	// backoff waits of 0.5 s and 1 s.
	sink := &notifySink{fails: 2, seen: make(chan struct{}, 1)}
	hs := httptest.NewServer(sink)
	defer hs.Close()
	c := claims("mc_si_async_code", "99901000302")
	c["notification_uri"] = hs.URL + "/notify"
	c["correlation_id"] = "corr-9"
	st, ack = siPost(t, iss, url.Values{"client_id": {mobileconnect.DemoClientID}, "request": {sign(c)}})
	if st != 200 || ack["correlation_id"] != "corr-9" {
		t.Fatalf("%d %v", st, ack)
	}
	if err := gw.AwaitBackchannel(context.Background(), ack["auth_req_id"].(string)); err != nil {
		t.Fatal(err)
	}
	<-sink.seen
	sink.mu.Lock()
	defer sink.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if len(sink.got) != 1 || sink.auth[0] != "Bearer sp-token" || sink.got[0]["correlation_id"] != "corr-9" || sink.got[0]["id_token"] == nil {
		t.Fatalf("notification %v %v", sink.got, sink.auth)
	}
	if len(waits) != 2 || waits[0] != 500*time.Millisecond || waits[1] != time.Second {
		t.Fatalf("backoff waits %v", waits)
	}
}

// TestCIBA: standard CIBA at the backchannel endpoint in poll, ping and
// push modes.
func TestCIBA(t *testing.T) {
	t.Parallel()
	sink := &notifySink{seen: make(chan struct{}, 4)}
	hs := httptest.NewServer(sink)
	defer hs.Close()
	s, _ := server(t, func(c *mobileconnect.Config) {
		c.Clients = []mobileconnect.Client{
			{ID: "poll", Secret: "poll-secret", RedirectURIs: []string{"http://127.0.0.1:9/cb"}},
			{ID: "ping", Secret: "ping-secret", RedirectURIs: []string{"http://127.0.0.1:9/cb"}, CIBAMode: "ping", CIBANotificationURI: hs.URL + "/ping"},
			{ID: "push", Secret: "push-secret", RedirectURIs: []string{"http://127.0.0.1:9/cb"}, CIBAMode: "push", CIBANotificationURI: hs.URL + "/push"},
		}
	})
	bc := func(id string, form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest("POST", s.Issuer()+"/bc-authorize", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, id+"-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	ctx := context.Background()
	for i, mode := range []string{"poll", "ping", "push"} {
		n := strings.TrimPrefix(simtest.Number(t, "approve", 120+i), "+")
		st, ack := bc(mode, url.Values{"scope": {"openid"}, "login_hint": {"MSISDN:" + n}, "acr_values": {"3"},
			"binding_message": {"CIBA " + mode}, "client_notification_token": {"nt-" + mode}})
		if st != 200 || ack["auth_req_id"] == nil {
			t.Fatalf("%s: %d %v", mode, st, ack)
		}
		id := ack["auth_req_id"].(string)
		if err := s.Gateway().AwaitBackchannel(ctx, id); err != nil {
			t.Fatal(err)
		}
		r := newRP(t, s)
		r.id, r.secret = mode, mode+"-secret"
		var idt string
		switch mode {
		case "poll", "ping":
			if mode == "ping" {
				<-sink.seen
				sink.mu.Lock()
				last := sink.got[len(sink.got)-1]
				sink.mu.Unlock()
				if last["auth_req_id"] != id || len(last) != 1 {
					t.Fatalf("ping %v", last)
				}
			}
			st, tr := r.token(url.Values{"grant_type": {mobileconnect.GrantCIBA}, "auth_req_id": {id}})
			if st != 200 {
				t.Fatalf("%s poll: %d %v", mode, st, tr)
			}
			idt = tr["id_token"].(string)
			if st, _ := r.token(url.Values{"grant_type": {mobileconnect.GrantCIBA}, "auth_req_id": {id}}); st != 400 {
				t.Fatal("an auth_req_id redeemed twice")
			}
		case "push":
			<-sink.seen
			sink.mu.Lock()
			last := sink.got[len(sink.got)-1]
			auth := sink.auth[len(sink.auth)-1]
			sink.mu.Unlock()
			if last["auth_req_id"] != id || auth != "Bearer nt-push" || last["access_token"] == nil {
				t.Fatalf("push %v", last)
			}
			idt = last["id_token"].(string)
		}
		c := r.verify(idt)
		if c["acr"] != "3" || c["urn:openid:params:jwt:claim:auth_req_id"] != id {
			t.Fatalf("%s: %v", mode, c)
		}
	}
	if st, out := bc("poll", url.Values{"scope": {"openid"}}); st != 400 || out["error"] != "invalid_request" {
		t.Fatalf("no hint: %d %v", st, out)
	}
	if st, out := bc("ping", url.Values{"scope": {"openid"}, "login_hint": {"MSISDN:99901000001"}}); st != 400 {
		t.Fatalf("ping without client_notification_token: %d %v", st, out)
	}
}
