package mobileconnect

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// FuzzParseAuthorize: any query either parses or gives an *Error, never a
// panic; a request that parses obeys the rules it was checked against;
// and the handler's one-pass reader (readAuthorizeQuery) reads exactly
// what url.ParseQuery does, so both give the same request and error.
func FuzzParseAuthorize(f *testing.F) {
	f.Add(validAuthorize().Encode())
	f.Add("client_id=c&redirect_uri=http://127.0.0.1/cb&response_type=code&scope=openid+mc_authz&version=mc_di_r2_v2.3&acr_values=3+2&state=s&nonce=n&client_name=pay&context=x&binding_message=y&claims=%7B%22id_token%22%3A%7B%22acr%22%3A%7B%22essential%22%3Atrue%2C%22values%22%3A%5B%223%22%5D%7D%7D%7D")
	f.Add("client_id=c&redirect_uri=x&max-age=3600&prompt=none+login&login_hint=ENCR_MSISDN:00")
	// What url.ParseQuery drops or rewrites: escaped names, ";", bad
	// escapes, repeats, empty pairs, names without "=".
	f.Add("client%5Fid=c&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&state=a;b&nonce=%zz&nonce=n&&scope&state=s+t&client_id=%63")
	f.Add("client_id=c&client_id=c&redirect_uri=http://h/&state=%E2%82&nonce=n%2&x=%&=v&scope=openid%20mc_authn")
	f.Fuzz(func(t *testing.T, q string) {
		// The reference: r.URL.Query() (url.ParseQuery, errors ignored)
		// then the url.Values reader.
		v, _ := url.ParseQuery(q)
		want := authorizeQueryOf(v)
		got := readAuthorizeQuery(q)
		if *got != *want {
			t.Fatalf("readAuthorizeQuery(%q)\n = %+v\nurl.ParseQuery gives %+v", q, *got, *want)
		}
		a, e := ParseAuthorize(v)
		if a2, e2 := got.parse(); !reflect.DeepEqual(a, a2) || !reflect.DeepEqual(e, e2) {
			t.Fatalf("the one-pass reader's request differs: %+v, %+v; want %+v, %+v", a2, e2, a, e)
		}
		if e != nil {
			if e.Code == "" || e.Description == "" {
				t.Fatalf("error without code or description: %+v", e)
			}
			return
		}
		if len(a.ACR) == 0 || a.Nonce == "" || a.State == "" || a.ClientID == "" || a.RedirectURI == "" {
			t.Fatalf("accepted without a mandatory parameter: %+v", a)
		}
		if len(a.BindingMessage)+len(a.Context) > maxTexts {
			t.Fatal("accepted texts over 93 bytes")
		}
	})
}

// TestReadAuthorizeQueryMany: past queryFallback pairs the query goes to
// url.ParseQuery, whose parameter limit (10,000) then applies as on
// r.URL.Query(): over it, nothing is read.
func TestReadAuthorizeQueryMany(t *testing.T) {
	for _, n := range []int{queryFallback, queryFallback + 1, 10000, 10001} {
		q := validAuthorize().Encode() + strings.Repeat("&x=1", n-len(validAuthorize()))
		v, _ := url.ParseQuery(q)
		if got, want := readAuthorizeQuery(q), authorizeQueryOf(v); *got != *want {
			t.Fatalf("%d pairs: %+v, want %+v", n, *got, *want)
		}
		if over := len(v) == 0; over != (n > 10000) {
			t.Fatalf("%d pairs: url.ParseQuery read %d names", n, len(v))
		}
	}
}

// FuzzParseTokenForm: the token endpoint's form; the handler's one-pass
// reader (readTokenForm) answers as r.ParseForm (url.ParseQuery) then
// parseTokenForm do.
func FuzzParseTokenForm(f *testing.F) {
	f.Add("grant_type=authorization_code&code=abc&redirect_uri=http://x/cb&code_verifier=" + strings.Repeat("a", 43))
	f.Add("grant_type=refresh_token&refresh_token=r")
	f.Add("grant_type=" + url.QueryEscape(GrantSI) + "&auth_req_id=x")
	f.Add("grant_type=authorization_code&code=a%2Bb&x=1&x=2&&=v&redirect_uri=http%3A%2F%2Fh%2Fcb&code=c")
	f.Add("grant%5Ftype=refresh_token&refresh_token=r;s&y=%zz")
	f.Add("grant_type=refresh_token&refresh_token=" + strings.Repeat("r", maxParam+1) + "&refresh_token=x")
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		got, gotE := readTokenForm(q)
		if err != nil {
			if gotE == nil || *gotE != *errFormUnreadable() {
				t.Fatalf("readTokenForm(%q) = %+v, %+v; url.ParseQuery refuses it: %v", q, got, gotE, err)
			}
			return
		}
		want, wantE := parseTokenForm(v)
		if got != want || (gotE == nil) != (wantE == nil) {
			t.Fatalf("readTokenForm(%q) = %+v, %+v; want %+v, %+v", q, got, gotE, want, wantE)
		}
		if wantE == nil {
			if got.GrantType == "" {
				t.Fatal("accepted without grant_type")
			}
			return
		}
		// parseTokenForm names the first bad name in map order: the
		// descriptions agree when there is one.
		bad := 0
		for _, vs := range v {
			if len(vs) > 1 || len(vs[0]) > maxParam {
				bad++
			}
		}
		if gotE.Code != wantE.Code || (bad <= 1 && *gotE != *wantE) {
			t.Fatalf("readTokenForm(%q) error %+v, want %+v", q, gotE, wantE)
		}
	})
}

// FuzzDecodeClientJWT: request objects and login_hint_tokens from
// untrusted clients: an error or verified claims, never a panic, never
// alg none.
func FuzzDecodeClientJWT(f *testing.F) {
	secret := strings.Repeat("s", 32)
	sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)}, nil)
	obj, _ := sig.Sign([]byte(`{"login_hint":"MSISDN:99900000001","iss":"c"}`))
	good, _ := obj.CompactSerialize()
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.eyJsb2dpbl9oaW50IjoiTVNJU0ROOjEyMzQ1NiJ9.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := DecodeClientJWT(raw, secret, nil)
		if err == nil && c == nil {
			t.Fatal("no claims and no error")
		}
		if err == nil && strings.HasPrefix(raw, "eyJhbGciOiJub25lIn0") {
			t.Fatal("alg none accepted")
		}
	})
}

// FuzzParseSIRequest: the si-authorize parameters with a request object's
// claims (as JSON), and the CIBA parameters: an *Error or a request that
// obeys the rules.
func FuzzParseSIRequest(f *testing.F) {
	f.Add("client_id=c&scope=openid+mc_authn&response_type=mc_si_polling",
		`{"response_type":"mc_si_polling","client_id":"c","scope":"openid mc_authn","version":"mc_si_r2_v1.0","nonce":"n","login_hint":"MSISDN:99900000001","acr_values":"3 2","client_notification_token":"t","iss":"c","aud":"https://gw/mc"}`)
	f.Add("client_id=c&response_type=mc_si_async_code",
		`{"response_type":"mc_si_async_code","client_id":"c","scope":"openid mc_authz","version":"mc_si_r2_v1.0","nonce":"n","login_hint":"PCR:x","acr_values":"2","client_notification_token":"t","notification_uri":"http://127.0.0.1/n","iss":"c","aud":["x","https://gw/mc"],"client_name":"pay","context":"c","binding_message":"b","correlation_id":"k"}`)
	f.Add("scope=openid&login_hint=MSISDN:99900000001&acr_values=3&binding_message=x", `{}`)
	f.Fuzz(func(t *testing.T, outer, claimsJSON string) {
		v, err := url.ParseQuery(outer)
		if err != nil {
			return
		}
		var claims map[string]any
		if json.Unmarshal([]byte(claimsJSON), &claims) == nil {
			r, e := ParseSIRequest(v, claims, []string{"https://gw/mc"})
			if e == nil && (r.Nonce == "" || len(r.ACR) == 0 || r.Version != siVersion || len(r.BindingMessage)+len(r.Context) > maxTexts) {
				t.Fatalf("accepted %+v", r)
			}
		}
		a, e := ParseCIBA(v)
		if e == nil && (len(a.ACR) == 0 || (a.LoginHint == "" && a.LoginHintToken == "")) {
			t.Fatalf("CIBA accepted %+v", a)
		}
	})
}
