package mobileconnect_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

func TestDiscovery(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	resp, err := http.Get(s.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	str := func(k string) string { b, _ := json.Marshal(d[k]); return string(b) }
	want := map[string]string{
		"issuer":                                     `"` + s.Issuer() + `"`,
		"mc_version":                                 `["mc_v1.1","mc_v2.0","mc_di_r2_v2.3","mc_si_r2_v1.0"]`,
		"acr_values_supported":                       `["2","3"]`,
		"login_hint_methods_supported":               `["MSISDN","ENCR_MSISDN","PCR"]`,
		"mc_amr_values_supported":                    `["SIM_OK","SIM_PIN","SMS_URL_OK","OTP_OK"]`,
		"si_authorization_endpoint":                  `"` + s.Issuer() + `/si-authorize"`,
		"jwks_uri":                                   `"` + s.Issuer() + `/jwks"`,
		"token_endpoint_auth_methods_supported":      `["client_secret_basic","client_secret_post"]`,
		"backchannel_token_delivery_modes_supported": `["poll","ping","push"]`,
	}
	for k, v := range want {
		if str(k) != v {
			t.Errorf("%s = %s, want %s", k, str(k), v)
		}
	}
	for _, sc := range []string{"openid", "mc_authn", "mc_authz"} {
		if !strings.Contains(str("scopes_supported"), `"`+sc+`"`) {
			t.Errorf("scopes_supported lacks %s", sc)
		}
	}
}

// TestHeadlessIdempotent: the GSMA SDKs re-GET the same authorize URL; the
// same (client_id, state, nonce) is one login: 200 while the phone is
// asked (here without the holds of a first or a repeated look), then the
// same 302 every time.
func TestHeadlessIdempotent(t *testing.T) {
	t.Parallel()
	s, _ := server(t, func(c *mobileconnect.Config) { c.AuthorizeHold, c.AuthorizeFirstHold = -1, -1 })
	r := newRP(t, s)
	n := simtest.Number(t, "slow", 20) // answers after 2 s
	q := r.params(n, "2")
	q.Set("max-age", "3600") // the SDKs' misspelt max_age is ignored
	for i := 0; i < 3; i++ {
		st, _, body := r.get(q)
		if st != http.StatusOK || !strings.Contains(body, "Check your phone") || !strings.Contains(body, `http-equiv="refresh"`) {
			t.Fatalf("look %d: %d %.200s", i, st, body)
		}
	}
	first := r.authorize(q)
	_, again, _ := r.get(q)
	u, _ := url.Parse(again)
	if u.Query().Get("code") != first.Get("code") || first.Get("code") == "" {
		t.Fatal("a second look after the redirect gave another answer")
	}
	// One challenge only reached the phone. The phone records its
	// "session" event after it has answered, which may be after the
	// redirect: wait for it to finish.
	ph := s.Phone(t, n)
	ph.Wait()
	sessions := 0
	for _, e := range ph.Events() {
		if e.Kind == "session" {
			sessions++
		}
	}
	if sessions != 1 {
		t.Fatalf("%d toolkit sessions for one login", sessions)
	}
}

// TestAuthorizeHold: a repeated look at a login under way waits for it to
// end, so the headless SDK's next poll gets the redirect as soon as the
// phone has answered: the first GET (not held here: authorize_first_hold
// -1) answers the waiting page at once, the second the redirect, with
// nothing between.
func TestAuthorizeHold(t *testing.T) {
	t.Parallel()
	s, _ := server(t, func(c *mobileconnect.Config) { c.AuthorizeFirstHold = -1 })
	r := newRP(t, s)
	q := r.params(simtest.Number(t, "slow", 20), "2") // answers after 2 s
	if st, _, _ := r.get(q); st != http.StatusOK {
		t.Fatalf("first look: %d", st)
	}
	st, loc, _ := r.get(q)
	u, _ := url.Parse(loc)
	if st != http.StatusFound || u.Query().Get("code") == "" {
		t.Fatalf("second look: %d %s, want the redirect with a code", st, loc)
	}
}

// TestAuthorizePOST: POST /authorize is answered 303 to the same request as
// a GET.
func TestAuthorizePOST(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	r := newRP(t, s)
	q := r.params(simtest.Number(t, "approve", 21), "2")
	resp, err := r.hc.PostForm(r.iss+"/authorize", q)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Path != "/mc/authorize" || loc.Query().Get("nonce") != q.Get("nonce") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	r.login(loc.Query())
}

// TestNumberPage: without login_hint the page asks for the number, with
// an accessible label; posting it starts the login.
func TestNumberPage(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	r := newRP(t, s)
	n := simtest.Number(t, "approve", 22)
	q := r.params(n, "2")
	q.Del("login_hint")
	st, _, body := r.get(q)
	if st != http.StatusOK || !strings.Contains(body, `<label for="msisdn">`) || !strings.Contains(body, `id="msisdn"`) {
		t.Fatalf("%d %.400s", st, body)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "src=") {
		t.Fatal("the page loads external assets or scripts")
	}
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	form.Set("login_hint_msisdn", n)
	resp, err := r.hc.PostForm(r.iss+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("login_hint") != "MSISDN:"+strings.TrimPrefix(n, "+") {
		t.Fatalf("login_hint %q", loc.Query().Get("login_hint"))
	}
	claims, _ := r.login(loc.Query())
	if claims["hashed_login_hint"] != mobileconnect.HashLoginHint("MSISDN:"+strings.TrimPrefix(n, "+")) {
		t.Fatal("hashed_login_hint")
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&#43;", "+").Replace(s)
}

// TestRedirectErrors: errors go to the redirect_uri with state, except
// when client_id or redirect_uri cannot be trusted.
func TestRedirectErrors(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	r := newRP(t, s)
	n := simtest.Number(t, "approve", 23)

	q := r.params(n, "2")
	q.Set("redirect_uri", "https://evil.example/cb")
	if st, loc, body := r.get(q); st != http.StatusBadRequest || loc != "" || !strings.Contains(body, "redirect_uri") {
		t.Fatalf("unregistered redirect_uri: %d %q", st, loc)
	}
	q = r.params(n, "2")
	q.Set("client_id", "nobody")
	if st, loc, _ := r.get(q); st != http.StatusBadRequest || loc != "" {
		t.Fatalf("unknown client: %d %q", st, loc)
	}
	q = r.params(n, "2")
	q.Del("version")
	res := r.authorize(q)
	wantError(t, res, "invalid_request", q.Get("state"))
	if res.Get("error_description") != "MANDATORY parameter version is missing / invalid." {
		t.Fatalf("%q", res.Get("error_description"))
	}
	q = r.params(n, "2")
	q.Set("prompt", "none")
	wantError(t, r.authorize(q), "login_required", q.Get("state"))
	q = r.params(n, "2")
	q.Set("scope", "openid mc_authz")
	q.Set("client_name", "evilcorp")
	q.Set("context", "pay")
	wantError(t, r.authorize(q), "invalid_request", q.Get("state"))
	q = r.params(n, "2")
	q.Set("login_hint", "PCR:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	wantError(t, r.authorize(q), "invalid_request", q.Get("state"))
}

// TestTokenEndpoint: both client authentication methods, single-use codes
// with revocation on reuse, redirect_uri binding, PKCE, refresh, userinfo.
func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	r := newRP(t, s)

	t.Run("post auth, reuse revokes", func(t *testing.T) {
		t.Parallel()
		r := newRP(t, s)
		res := r.authorize(r.params(simtest.Number(t, "approve", 30), "2"))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {r.redirect}}
		st, tr := r.tokenAuth(form, false)
		if st != 200 || tr["token_type"] != "Bearer" || tr["expires_in"].(float64) <= 0 || tr["id_token"] == nil {
			t.Fatalf("%d %v", st, tr)
		}
		if st, _ := r.userinfo(tr["access_token"].(string)); st != 200 {
			t.Fatalf("userinfo %d", st)
		}
		form = url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {r.redirect}}
		st, e := r.token(form)
		if st != 400 || e["error"] != "invalid_grant" {
			t.Fatalf("reuse: %d %v", st, e)
		}
		if st, _ := r.userinfo(tr["access_token"].(string)); st != 401 {
			t.Fatalf("the access token of a replayed code still works: %d", st)
		}
		st, e = r.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr["refresh_token"].(string)}})
		if st != 400 || e["error"] != "invalid_grant" {
			t.Fatalf("the refresh token of a replayed code still works: %d %v", st, e)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		t.Parallel()
		r := newRP(t, s)
		r.secret = "wrong"
		st, e := r.token(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {r.redirect}})
		if st != 401 || e["error"] != "invalid_client" {
			t.Fatalf("%d %v", st, e)
		}
	})
	t.Run("no client auth", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("POST", r.iss+"/token", strings.NewReader("grant_type=authorization_code&code=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("JSON body refused", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("POST", r.iss+"/token", strings.NewReader(`{"grant_type":"authorization_code"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e map[string]string
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 400 || e["error"] != "invalid_request" {
			t.Fatalf("%d %v", resp.StatusCode, e)
		}
	})
	t.Run("redirect_uri mismatch", func(t *testing.T) {
		t.Parallel()
		r := newRP(t, s)
		res := r.authorize(r.params(simtest.Number(t, "approve", 31), "2"))
		st, e := r.token(url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {"http://127.0.0.1:9/other"}})
		if st != 400 || e["error"] != "invalid_grant" {
			t.Fatalf("%d %v", st, e)
		}
	})
	t.Run("PKCE", func(t *testing.T) {
		t.Parallel()
		r := newRP(t, s)
		verifier := strings.Repeat("v", 50)
		sum := sha256.Sum256([]byte(verifier))
		q := r.params(simtest.Number(t, "approve", 32), "2")
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
		res := r.authorize(q)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {r.redirect}, "code_verifier": {strings.Repeat("w", 50)}}
		if st, e := r.token(form); st != 400 || e["error"] != "invalid_grant" {
			t.Fatalf("wrong verifier: %d %v", st, e)
		}
		// The failed attempt did not use the code up.
		form.Set("code_verifier", verifier)
		if st, e := r.token(form); st != 200 {
			t.Fatalf("right verifier: %d %v", st, e)
		}
	})
	t.Run("refresh", func(t *testing.T) {
		t.Parallel()
		r := newRP(t, s)
		claims, tr := r.login(r.params(simtest.Number(t, "approve", 33), "3"))
		st, tr2 := r.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr["refresh_token"].(string)}})
		if st != 200 {
			t.Fatalf("%d %v", st, tr2)
		}
		c2 := r.verify(tr2["id_token"].(string))
		if c2["sub"] != claims["sub"] || c2["acr"] != "3" || c2["auth_time"] != claims["auth_time"] {
			t.Fatalf("refreshed id_token %v", c2)
		}
		// The rotated-out token presented again is a reuse: refused, and
		// the tokens of its grant, the refreshed ones too, are revoked.
		st, e := r.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr["refresh_token"].(string)}})
		if st != 400 || e["error"] != "invalid_grant" || !strings.Contains(fmt.Sprint(e["error_description"]), "already used") {
			t.Fatalf("a rotated refresh token presented again: %d %v", st, e)
		}
		if st, _ := r.userinfo(tr2["access_token"].(string)); st != 401 {
			t.Fatalf("the refreshed access token outlives the reuse: %d", st)
		}
		if st, _ := r.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr2["refresh_token"].(string)}}); st != 400 {
			t.Fatal("the refreshed refresh token outlives the reuse")
		}
	})
	t.Run("code replay revokes refreshed tokens", func(t *testing.T) {
		t.Parallel()
		r := newRP(t, s)
		res := r.authorize(r.params(simtest.Number(t, "approve", 34), "2"))
		tr := r.exchange(res.Get("code"))
		st, tr2 := r.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr["refresh_token"].(string)}})
		if st != 200 {
			t.Fatalf("%d %v", st, tr2)
		}
		if st, e := r.token(url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {r.redirect}}); st != 400 || e["error"] != "invalid_grant" {
			t.Fatalf("replay: %d %v", st, e)
		}
		if st, _ := r.userinfo(tr2["access_token"].(string)); st != 401 {
			t.Fatalf("a token refreshed from a replayed code still works: %d", st)
		}
	})
	t.Run("refresh with a scope not granted", func(t *testing.T) {
		t.Parallel()
		r := newRP(t, s)
		res := r.authorize(r.params(simtest.Number(t, "approve", 36), "2"))
		tr := r.exchange(res.Get("code"))
		rt := tr["refresh_token"].(string)
		st, e := r.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"openid mc_authz"}})
		if st != 400 || e["error"] != "invalid_scope" {
			t.Fatalf("a wider scope: %d %v", st, e)
		}
		// The refused request did not spend the token.
		if st, tr2 := r.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"openid"}}); st != 200 {
			t.Fatalf("a scope within the grant after a refusal: %d %v", st, tr2)
		}
	})
	t.Run("PKCE downgrade", func(t *testing.T) {
		t.Parallel()
		r := newRP(t, s)
		res := r.authorize(r.params(simtest.Number(t, "approve", 35), "2"))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {r.redirect}, "code_verifier": {strings.Repeat("v", 50)}}
		if st, e := r.token(form); st != 400 || e["error"] != "invalid_grant" {
			t.Fatalf("a verifier for a code without challenge: %d %v", st, e)
		}
	})
}

func (r *rp) userinfo(at string) (int, map[string]any) {
	r.t.Helper()
	req, _ := http.NewRequest("GET", r.iss+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := r.hc.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestPCR: sub is the PCR: stable for a subscriber and client, different
// for another client, and login_hint=PCR:<sub> logs the same person in.
func TestPCR(t *testing.T) {
	t.Parallel()
	s, _ := server(t, func(c *mobileconnect.Config) {
		c.Clients = []mobileconnect.Client{{ID: "other", Secret: "other-secret", LoopbackRedirects: true, ClientNames: []string{"other"}}}
	})
	n := simtest.Number(t, "approve", 40)
	a := newRP(t, s)
	c1, tr := a.login(a.params(n, "2"))
	q := a.params(n, "2")
	q.Set("state", "again")
	c2, _ := a.login(q)
	if c1["sub"] != c2["sub"] {
		t.Fatal("the PCR changed between logins")
	}
	b := newRP(t, s)
	b.id, b.secret = "other", "other-secret"
	c3, _ := b.login(b.params(n, "2"))
	if c3["sub"] == c1["sub"] {
		t.Fatal("two clients got the same PCR")
	}
	if strings.Contains(c1["sub"].(string), strings.TrimPrefix(n, "+")) {
		t.Fatal("the PCR shows the number")
	}
	if _, ui := a.userinfo(tr["access_token"].(string)); ui["sub"] != c1["sub"] {
		t.Fatal("userinfo sub differs")
	}
	q = a.params(n, "2")
	q.Set("state", "by-pcr")
	q.Set("login_hint", "PCR:"+c1["sub"].(string))
	c4, _ := a.login(q)
	if c4["sub"] != c1["sub"] {
		t.Fatal("login_hint=PCR: logged in someone else")
	}
	// Another client's PCR does not resolve.
	q = b.params(n, "2")
	q.Set("state", "foreign-pcr")
	q.Set("login_hint", "PCR:"+c1["sub"].(string))
	wantError(t, b.authorize(q), "invalid_request", "foreign-pcr")
}

// TestEncryptedMSISDN: ENCR_MSISDN is RSA PKCS#1 v1.5 under the "enc" key
// the gateway publishes in its JWKS.
func TestEncryptedMSISDN(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	r := newRP(t, s)
	var enc *rsa.PublicKey
	for _, k := range r.jwks().Keys {
		if k.Use == "enc" {
			enc = k.Key.(*rsa.PublicKey)
		}
	}
	if enc == nil {
		t.Fatal("no enc key in the JWKS")
	}
	n := strings.TrimPrefix(simtest.Number(t, "approve", 41), "+")
	//lint:ignore SA1019 ENCR_MSISDN is PKCS#1 v1.5 by the Mobile Connect profile
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, enc, []byte(n+"|salt123"))
	if err != nil {
		t.Fatal(err)
	}
	q := r.params(n, "2")
	q.Set("login_hint", "ENCR_MSISDN:"+hex.EncodeToString(ct))
	claims, _ := r.login(q)
	q2 := r.params(n, "2")
	q2.Set("state", "plain")
	plain, _ := r.login(q2)
	if claims["sub"] != plain["sub"] {
		t.Fatal("ENCR_MSISDN logged in someone else")
	}
	q.Set("state", "garbage")
	q.Set("login_hint", "ENCR_MSISDN:"+strings.Repeat("ab", 256))
	wantError(t, r.authorize(q), "invalid_request", "garbage")
}

// TestLoginHintToken: a login_hint_token signed by the client names the
// subscriber; the id_token's hashed_login_hint hashes the hint the token
// carried (its login_hint claim as written, or MSISDN:<digits> for a
// phone_number claim).
func TestLoginHintToken(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("k", 32)
	s, _ := server(t, func(c *mobileconnect.Config) {
		c.Clients = []mobileconnect.Client{{ID: "hs", Secret: secret, LoopbackRedirects: true, ClientNames: []string{"hs"}}}
	})
	r := newRP(t, s)
	r.id, r.secret = "hs", secret
	n := strings.TrimPrefix(simtest.Number(t, "approve", 42), "+")
	sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)}, nil)
	lht, err := jwt.Signed(sig).Claims(map[string]any{"iss": "hs", "login_hint": "MSISDN:" + n, "exp": time.Now().Add(time.Minute).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	q := r.params(n, "2")
	q.Del("login_hint")
	q.Set("login_hint_token", lht)
	claims, _ := r.login(q)
	if got, want := claims["hashed_login_hint"], mobileconnect.HashLoginHint("MSISDN:"+n); got != want {
		t.Fatalf("hashed_login_hint %v, want %s (of the token's login_hint)", got, want)
	}
	lht, err = jwt.Signed(sig).Claims(map[string]any{"iss": "hs", "phone_number": "+" + n}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	q.Set("login_hint_token", lht)
	q.Set("state", "by-phone-number")
	q.Set("nonce", "by-phone-number")
	claims, _ = r.login(q)
	if got, want := claims["hashed_login_hint"], mobileconnect.HashLoginHint("MSISDN:"+n); got != want {
		t.Fatalf("phone_number: hashed_login_hint %v, want %s", got, want)
	}
	bad, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(strings.Repeat("x", 32))}, nil)
	lht, _ = jwt.Signed(bad).Claims(map[string]any{"login_hint": "MSISDN:" + n}).Serialize()
	q.Set("login_hint_token", lht)
	q.Set("state", "forged")
	wantError(t, r.authorize(q), "invalid_request", "forged")
}

// TestOTP: a subscriber configured for one-time codes gets an SMS; the
// code typed on the page completes the login with amr OTP_OK; acr 3 is
// refused.
func TestOTP(t *testing.T) {
	t.Parallel()
	n := simtest.Number(t, "approve", 43)
	s, _ := server(t, func(c *mobileconnect.Config) { c.OTPNumbers = []string{n} })
	r := newRP(t, s)
	q := r.params(n, "2")
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if st, _, _ := r.get(q); st != 200 {
		t.Fatal(st)
	}
	// The code, read from the capture API as a test reads any OTP.
	resp, err := http.Get(s.URL + "/api/v1/otp?wait=10s&since=" + since + "&to=" + strings.TrimPrefix(n, "+"))
	if err != nil {
		t.Fatal(err)
	}
	var otp struct{ OTP string }
	json.NewDecoder(resp.Body).Decode(&otp)
	resp.Body.Close()
	if len(otp.OTP) != 6 {
		t.Fatalf("no code in the SMS: %q", otp.OTP)
	}
	_, _, body := r.get(q)
	if !strings.Contains(body, `<label for="code">`) {
		t.Fatalf("no code page: %.300s", body)
	}
	login := regexp.MustCompile(`name="login" value="([^"]+)"`).FindStringSubmatch(body)
	back := regexp.MustCompile(`name="back" value="([^"]+)"`).FindStringSubmatch(body)
	post := func(code string) {
		resp, err := r.hc.PostForm(r.iss+"/otp", url.Values{"login": {login[1]}, "back": {htmlUnescape(back[1])}, "code": {code}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("otp post: %d", resp.StatusCode)
		}
	}
	post("000000x")
	if _, _, body = r.get(q); !strings.Contains(body, "That code was wrong") {
		t.Fatal("a wrong code was not reported")
	}
	post(otp.OTP)
	res := r.authorize(q)
	tr := r.exchange(res.Get("code"))
	claims := r.verify(tr["id_token"].(string))
	if claims["acr"] != "2" || claims["amr"].([]any)[0] != "OTP_OK" {
		t.Fatalf("%v %v", claims["acr"], claims["amr"])
	}
	q = r.params(n, "3")
	q.Set("state", "acr3")
	wantError(t, r.authorize(q), "access_denied", "acr3")
}
