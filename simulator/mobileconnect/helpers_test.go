package mobileconnect_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/simlab-dev/simlab/internal/testlog"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// server starts simlab with the gateway; mc changes its gateway config.
func server(t *testing.T, mc func(*mobileconnect.Config)) (*simtest.Server, *testlog.Buffer) {
	t.Helper()
	return serverWith(t, func(c *simulator.Config) {
		if mc != nil {
			mc(&c.MobileConnect)
		}
	})
}

// serverWith starts simlab with the gateway; opt changes its config.
func serverWith(t *testing.T, opt func(*simulator.Config)) (*simtest.Server, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	s := simtest.NewServer(t, func(c *simulator.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.MobileConnect.Keystore = testKeystore(t)
		opt(c)
	})
	if s.Issuer() == "" {
		t.Fatal("the gateway is not running")
	}
	return s, logs
}

// rp is a hand-rolled relying party for the gateway's own tests; the
// interop tests use real libraries.
type rp struct {
	t        *testing.T
	s        *simtest.Server
	iss      string
	hc       *http.Client
	id       string
	secret   string
	redirect string
	// await waits for a login to end (the gateway's AwaitLogin).
	await func(ctx context.Context, clientID, state, nonce string) error
}

func newRP(t *testing.T, s *simtest.Server) *rp {
	r := &rp{t: t, s: s, id: mobileconnect.DemoClientID, secret: mobileconnect.DemoClientSecret,
		redirect: "http://127.0.0.1:9/cb",
		hc:       &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if s != nil {
		r.iss, r.await = s.Issuer(), s.Gateway().AwaitLogin
	}
	return r
}

func urlValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func kidOf(t *testing.T, idt string) string {
	t.Helper()
	tok, err := jwt.ParseSigned(idt, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Headers[0].KeyID
}

// params returns a valid authorize request for msisdn with acr.
func (r *rp) params(msisdn, acr string) url.Values {
	return url.Values{"client_id": {r.id}, "redirect_uri": {r.redirect}, "response_type": {"code"},
		"scope": {"openid mc_authn"}, "version": {"mc_di_r2_v2.3"}, "acr_values": {acr},
		"state": {"state-" + r.t.Name()}, "nonce": {"nonce-" + r.t.Name()},
		"login_hint": {"MSISDN:" + strings.TrimPrefix(msisdn, "+")}}
}

// get fetches the authorize URL once.
func (r *rp) get(q url.Values) (int, string, string) {
	r.t.Helper()
	resp, err := r.hc.Get(r.iss + "/authorize?" + q.Encode())
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// authorize runs the authorize step as the headless SDKs do: GET (200
// waiting page), wait for the login to end, GET again (302). It returns
// the redirect's query.
func (r *rp) authorize(q url.Values) url.Values {
	r.t.Helper()
	code, loc, body := r.get(q)
	if code == http.StatusOK {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if err := r.await(ctx, q.Get("client_id"), q.Get("state"), q.Get("nonce")); err != nil {
			r.t.Fatalf("await login: %v (page: %.200s)", err, body)
		}
		code, loc, body = r.get(q)
	}
	if code != http.StatusFound {
		r.t.Fatalf("authorize: %d %.300s", code, body)
	}
	if !strings.HasPrefix(loc, q.Get("redirect_uri")) {
		r.t.Fatalf("authorize redirected to %q", loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		r.t.Fatal(err)
	}
	return u.Query()
}

// token posts a token request with client_secret_basic.
func (r *rp) token(form url.Values) (int, map[string]any) {
	r.t.Helper()
	return r.tokenAuth(form, true)
}

func (r *rp) tokenAuth(form url.Values, basic bool) (int, map[string]any) {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.iss+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(r.id), url.QueryEscape(r.secret))
	} else {
		form.Set("client_id", r.id)
		form.Set("client_secret", r.secret)
		req.Body = io.NopCloser(strings.NewReader(form.Encode()))
		req.ContentLength = int64(len(form.Encode()))
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		r.t.Fatalf("token answer is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

// exchange redeems a code and returns the token response.
func (r *rp) exchange(code string) map[string]any {
	r.t.Helper()
	st, out := r.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {r.redirect}})
	if st != http.StatusOK {
		r.t.Fatalf("token: %d %v", st, out)
	}
	return out
}

// login runs authorize and token exchange, returning the verified
// id_token claims and the token response.
func (r *rp) login(q url.Values) (map[string]any, map[string]any) {
	r.t.Helper()
	res := r.authorize(q)
	if e := res.Get("error"); e != "" {
		r.t.Fatalf("login failed: %s: %s", e, res.Get("error_description"))
	}
	if res.Get("state") != q.Get("state") {
		r.t.Fatalf("state %q, want %q", res.Get("state"), q.Get("state"))
	}
	tr := r.exchange(res.Get("code"))
	return r.verify(tr["id_token"].(string)), tr
}

// jwks fetches the gateway's key set.
func (r *rp) jwks() jose.JSONWebKeySet {
	r.t.Helper()
	resp, err := r.hc.Get(r.iss + "/jwks")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		r.t.Fatal(err)
	}
	return set
}

// verify checks an id_token's signature against the JWKS (by kid) and
// returns its claims.
func (r *rp) verify(idt string) map[string]any {
	r.t.Helper()
	tok, err := jwt.ParseSigned(idt, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		r.t.Fatalf("id_token: %v", err)
	}
	set := r.jwks()
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		r.t.Fatalf("kid %q not in the JWKS once", tok.Headers[0].KeyID)
	}
	var c map[string]any
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		r.t.Fatalf("id_token signature: %v", err)
	}
	return c
}

// wantError checks a redirect's error and state.
func wantError(t *testing.T, res url.Values, code, state string) {
	t.Helper()
	if res.Get("error") != code {
		t.Fatalf("error %q (%s), want %q", res.Get("error"), res.Get("error_description"), code)
	}
	if res.Get("state") != state {
		t.Fatalf("state %q on the error redirect, want %q", res.Get("state"), state)
	}
	if res.Get("code") != "" {
		t.Fatal("an error redirect carries a code")
	}
}
