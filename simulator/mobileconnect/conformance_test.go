package mobileconnect_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestOIDCCBasic ports the checks of the OpenID conformance suite's
// oidcc-basic-certification-test-plan (and the discovery checks of
// oidcc-config) that apply to a Mobile Connect gateway; each subtest is
// named after its module. Covered elsewhere: oidcc-codereuse(-30seconds)
// and oidcc-server-client-secret-post (TestTokenEndpoint),
// oidcc-ensure-registered-redirect-uri and
// oidcc-ensure-redirect-uri-in-authorization-request (TestRedirectErrors),
// oidcc-prompt-none-not-logged-in (TestRedirectErrors), oidcc-login-hint
// (TestPCR, TestEncryptedMSISDN), oidcc-refresh-token (TestTokenEndpoint),
// oidcc-server with real RPs (TestGoOIDC, TestZitadelRP). Deviation by the
// Mobile Connect profile: oidcc-ensure-request-without-nonce-succeeds-for-
// code-flow fails on purpose (nonce is MANDATORY in MC).
func TestOIDCCBasic(t *testing.T) {
	t.Parallel()
	s, _ := server(t, func(c *mobileconnect.Config) {
		c.Clients = []mobileconnect.Client{{ID: "rs256", Secret: "rs256-secret", LoopbackRedirects: true, IDTokenAlg: "RS256"}}
	})
	idx := 80
	next := func(t *testing.T) (*rp, url.Values) {
		idx++
		r := newRP(t, s)
		return r, r.params(simtest.Number(t, "approve", idx), "2")
	}

	t.Run("oidcc-server/state-and-nonce-round-trip", func(t *testing.T) {
		r, q := next(t)
		q.Set("state", "s t&ate=é")
		q.Set("nonce", "n=o&nce é")
		claims, _ := r.login(q)
		if claims["nonce"] != q.Get("nonce") {
			t.Fatalf("nonce %q", claims["nonce"])
		}
	})
	t.Run("oidcc-response-type-missing", func(t *testing.T) {
		r, q := next(t)
		q.Del("response_type")
		wantError(t, r.authorize(q), "invalid_request", q.Get("state"))
	})
	t.Run("oidcc-idtoken-signature/alg-none-never", func(t *testing.T) {
		r, q := next(t)
		resp, err := http.Get(r.iss + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var d mobileconnect.Discovery
		json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if slices.Contains(d.IDTokenSigningAlgs, "none") || slices.Contains(d.RequestObjectSigningAlgs, "none") {
			t.Fatal("discovery offers alg none")
		}
		_, tr := r.login(q)
		tok, err := jwt.ParseSigned(tr["id_token"].(string), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil || tok.Headers[0].KeyID == "" {
			t.Fatalf("id_token is not ES256 with a kid: %v", err)
		}
	})
	t.Run("oidcc-idtoken-rs256", func(t *testing.T) {
		r, q := next(t)
		r.id, r.secret = "rs256", "rs256-secret"
		q.Set("client_id", "rs256")
		_, tr := r.login(q)
		if _, err := jwt.ParseSigned(tr["id_token"].(string), []jose.SignatureAlgorithm{jose.RS256}); err != nil {
			t.Fatalf("a client registered for RS256 got: %v", err)
		}
	})
	t.Run("oidcc-userinfo-get-post-header-post-body", func(t *testing.T) {
		r, q := next(t)
		_, tr := r.login(q)
		at := tr["access_token"].(string)
		for _, mk := range []func() *http.Request{
			func() *http.Request {
				req, _ := http.NewRequest("GET", r.iss+"/userinfo", nil)
				req.Header.Set("Authorization", "Bearer "+at)
				return req
			},
			func() *http.Request {
				req, _ := http.NewRequest("POST", r.iss+"/userinfo", nil)
				req.Header.Set("Authorization", "Bearer "+at)
				return req
			},
			func() *http.Request {
				req, _ := http.NewRequest("POST", r.iss+"/userinfo", strings.NewReader("access_token="+at))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return req
			},
		} {
			resp, err := http.DefaultClient.Do(mk())
			if err != nil {
				t.Fatal(err)
			}
			var ui map[string]any
			json.NewDecoder(resp.Body).Decode(&ui)
			resp.Body.Close()
			if resp.StatusCode != 200 || ui["sub"] == nil {
				t.Fatalf("%d %v", resp.StatusCode, ui)
			}
		}
	})
	t.Run("oidcc-ensure-request-without-nonce-fails-in-mc", func(t *testing.T) {
		r, q := next(t)
		q.Del("nonce")
		res := r.authorize(q)
		wantError(t, res, "invalid_request", q.Get("state"))
		if !strings.Contains(res.Get("error_description"), "nonce") {
			t.Fatal(res.Get("error_description"))
		}
	})
	t.Run("oidcc-ensure-other-scope-order-succeeds", func(t *testing.T) {
		r, q := next(t)
		q.Set("scope", "mc_authn openid")
		r.login(q)
	})
	t.Run("oidcc-ensure-request-with-unknown-parameter-succeeds", func(t *testing.T) {
		r, q := next(t)
		q.Set("extra", "foobar")
		q.Set("max-age", "3600")
		r.login(q)
	})
	t.Run("oidcc-display-page-ui-locales-claims-locales", func(t *testing.T) {
		r, q := next(t)
		q.Set("display", "page")
		q.Set("ui_locales", "se nl en")
		q.Set("claims_locales", "se")
		r.login(q)
	})
	t.Run("oidcc-prompt-login-and-max-age-1", func(t *testing.T) {
		r, q := next(t)
		q.Set("prompt", "login")
		q.Set("max_age", "1")
		before := time.Now().Unix()
		claims, _ := r.login(q)
		at, ok := claims["auth_time"].(float64)
		if !ok || int64(at) < before {
			t.Fatalf("auth_time %v before the request (%d)", claims["auth_time"], before)
		}
	})
	t.Run("oidcc-id-token-hint-prompt-none", func(t *testing.T) {
		r, q := next(t)
		_, tr := r.login(q)
		q.Set("state", "hint")
		q.Set("prompt", "none")
		q.Set("id_token_hint", tr["id_token"].(string))
		wantError(t, r.authorize(q), "login_required", "hint")
	})
	t.Run("oidcc-claims-essential", func(t *testing.T) {
		r, q := next(t)
		q.Set("claims", `{"userinfo":{"name":{"essential":true}},"id_token":{"acr":{"essential":true,"values":["2"]}}}`)
		claims, _ := r.login(q)
		if claims["acr"] != "2" {
			t.Fatal(claims["acr"])
		}
	})
	t.Run("oidcc-ensure-request-with-acr-values-succeeds", func(t *testing.T) {
		r, q := next(t)
		q.Set("acr_values", "3 2")
		claims, _ := r.login(q)
		if claims["acr"] != "3" {
			t.Fatal(claims["acr"])
		}
	})
	t.Run("oidcc-config/endpoints-and-jwks", func(t *testing.T) {
		r, _ := next(t)
		set := r.jwks()
		sig := 0
		for _, k := range set.Keys {
			if !k.IsPublic() || k.KeyID == "" || k.Use == "" || k.Algorithm == "" {
				t.Fatalf("key %+v", k)
			}
			if k.Use == "sig" {
				sig++
			}
		}
		if sig < 2 {
			t.Fatalf("%d signing keys, want ES256 and RS256", sig)
		}
	})
}
