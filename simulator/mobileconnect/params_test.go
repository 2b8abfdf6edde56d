package mobileconnect

import (
	"net/url"
	"strings"
	"testing"
)

func validAuthorize() url.Values {
	return url.Values{"client_id": {"c"}, "redirect_uri": {"http://127.0.0.1/cb"}, "response_type": {"code"},
		"scope": {"openid mc_authn"}, "version": {"mc_v1.1"}, "acr_values": {"3 2"}, "state": {"s"}, "nonce": {"n"},
		"login_hint": {"MSISDN:99900000001"}}
}

// TestParseAuthorize: the parameter rules of /authorize, with the GSMA
// wording for missing mandatory parameters.
func TestParseAuthorize(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 47) // 94 bytes
	cases := []struct {
		name   string
		edit   func(url.Values)
		code   string
		desc   string
		redir  bool // the error may be redirected (client and redirect_uri read)
		verify func(t *testing.T, a AuthRequest)
	}{
		{name: "valid", edit: func(url.Values) {}, verify: func(t *testing.T, a AuthRequest) {
			if strings.Join(a.ACR, " ") != "3 2" || a.MaxAge != -1 || a.Authz {
				t.Fatalf("%+v", a)
			}
		}},
		{name: "no client_id", edit: func(v url.Values) { v.Del("client_id") }, code: "invalid_request", desc: "MANDATORY parameter client_id is missing / invalid."},
		{name: "no redirect_uri", edit: func(v url.Values) { v.Del("redirect_uri") }, code: "invalid_request", desc: "MANDATORY parameter redirect_uri"},
		{name: "relative redirect_uri", edit: func(v url.Values) { v.Set("redirect_uri", "/cb") }, code: "invalid_request", desc: "redirect_uri"},
		{name: "no version", edit: func(v url.Values) { v.Del("version") }, code: "invalid_request", desc: "MANDATORY parameter version is missing / invalid.", redir: true},
		{name: "bad version", edit: func(v url.Values) { v.Set("version", "mc_v9") }, code: "invalid_request", desc: "version", redir: true},
		{name: "si version on authorize", edit: func(v url.Values) { v.Set("version", "mc_si_r2_v1.0") }, code: "invalid_request", desc: "version", redir: true},
		{name: "no acr", edit: func(v url.Values) { v.Del("acr_values") }, code: "invalid_request", desc: "acr_values", redir: true},
		{name: "acr 4", edit: func(v url.Values) { v.Set("acr_values", "4") }, code: "invalid_request", desc: "acr_values", redir: true},
		{name: "acr twice", edit: func(v url.Values) { v.Set("acr_values", "2 2") }, code: "invalid_request", desc: "acr_values", redir: true},
		{name: "no state", edit: func(v url.Values) { v.Del("state") }, code: "invalid_request", desc: "state", redir: true},
		{name: "no nonce", edit: func(v url.Values) { v.Del("nonce") }, code: "invalid_request", desc: "nonce", redir: true},
		{name: "token flow", edit: func(v url.Values) { v.Set("response_type", "token") }, code: "unsupported_response_type", redir: true},
		{name: "no scope", edit: func(v url.Values) { v.Del("scope") }, code: "invalid_request", desc: "scope", redir: true},
		{name: "no openid", edit: func(v url.Values) { v.Set("scope", "mc_authn") }, code: "invalid_scope", redir: true},
		{name: "no product", edit: func(v url.Values) { v.Set("scope", "openid profile") }, code: "invalid_scope", redir: true},
		{name: "unknown scope ignored", edit: func(v url.Values) { v.Set("scope", "openid mc_authn mc_identity_x") }},
		{name: "authz without client_name", edit: func(v url.Values) { v.Set("scope", "openid mc_authz"); v.Set("context", "c") }, code: "invalid_request", desc: "client_name", redir: true},
		{name: "authz without context", edit: func(v url.Values) { v.Set("scope", "openid mc_authz"); v.Set("client_name", "pay") }, code: "invalid_request", desc: "context", redir: true},
		{name: "authz", edit: func(v url.Values) {
			v.Set("scope", "openid mc_authz")
			v.Set("client_name", "pay")
			v.Set("context", strings.Repeat("é", 40))
			v.Set("binding_message", "0123456789abc") // 80 + 13 = 93 bytes
		}, verify: func(t *testing.T, a AuthRequest) {
			if !a.Authz {
				t.Fatal("not authz")
			}
		}},
		{name: "texts over 93 bytes", edit: func(v url.Values) { v.Set("context", long) }, code: "invalid_request", desc: "93 bytes", redir: true},
		{name: "texts over 93 bytes together", edit: func(v url.Values) {
			v.Set("context", strings.Repeat("x", 50))
			v.Set("binding_message", strings.Repeat("y", 44))
		}, code: "invalid_request", desc: "93 bytes", redir: true},
		{name: "repeated parameter", edit: func(v url.Values) { v.Add("nonce", "m") }, code: "invalid_request", desc: "repeated", redir: true},
		{name: "unknown parameters ignored, max-age too", edit: func(v url.Values) { v.Set("max-age", "3600"); v.Set("foo", "bar") }},
		{name: "max_age", edit: func(v url.Values) { v.Set("max_age", "0") }, verify: func(t *testing.T, a AuthRequest) {
			if a.MaxAge != 0 {
				t.Fatal(a.MaxAge)
			}
		}},
		{name: "bad max_age", edit: func(v url.Values) { v.Set("max_age", "-1") }, code: "invalid_request", desc: "max_age", redir: true},
		{name: "prompt none login", edit: func(v url.Values) { v.Set("prompt", "none login") }, code: "invalid_request", desc: "prompt", redir: true},
		{name: "prompt unknown", edit: func(v url.Values) { v.Set("prompt", "shout") }, code: "invalid_request", desc: "prompt", redir: true},
		{name: "prompt no_seam", edit: func(v url.Values) { v.Set("prompt", "no_seam login") }},
		{name: "claims not JSON", edit: func(v url.Values) { v.Set("claims", "{") }, code: "invalid_request", desc: "claims", redir: true},
		{name: "claims essential acr narrows", edit: func(v url.Values) {
			v.Set("claims", `{"id_token":{"acr":{"essential":true,"values":["3"]}}}`)
		}, verify: func(t *testing.T, a AuthRequest) {
			if strings.Join(a.ACR, " ") != "3" {
				t.Fatal(a.ACR)
			}
		}},
		{name: "claims essential acr unmet", edit: func(v url.Values) {
			v.Set("acr_values", "2")
			v.Set("claims", `{"id_token":{"acr":{"essential":true,"value":"3"}}}`)
		}, code: "invalid_request", desc: "essential acr", redir: true},
		{name: "login_hint kind", edit: func(v url.Values) { v.Set("login_hint", "EMAIL:a@b") }, code: "invalid_request", desc: "login_hint", redir: true},
		{name: "login_hint digits", edit: func(v url.Values) { v.Set("login_hint", "MSISDN:12ab") }, code: "invalid_request", desc: "login_hint", redir: true},
		{name: "login_hint PCR", edit: func(v url.Values) { v.Set("login_hint", "PCR:abc") }},
		{name: "login_hint and token", edit: func(v url.Values) { v.Set("login_hint_token", "x.y.z") }, code: "invalid_request", desc: "exclusive", redir: true},
		{name: "pkce plain", edit: func(v url.Values) {
			v.Set("code_challenge", strings.Repeat("a", 43))
			v.Set("code_challenge_method", "plain")
		}, code: "invalid_request", desc: "S256", redir: true},
		{name: "pkce S256", edit: func(v url.Values) {
			v.Set("code_challenge", strings.Repeat("a", 43))
			v.Set("code_challenge_method", "S256")
		}},
		{name: "request object", edit: func(v url.Values) { v.Set("request", "x") }, code: "request_not_supported", redir: true},
		{name: "not UTF-8", edit: func(v url.Values) { v.Set("binding_message", "\xff") }, code: "invalid_request", desc: "UTF-8", redir: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := validAuthorize()
			c.edit(v)
			a, e := ParseAuthorize(v)
			if c.code == "" {
				if e != nil {
					t.Fatalf("unexpected error %v", e)
				}
				if c.verify != nil {
					c.verify(t, a)
				}
				return
			}
			if e == nil || e.Code != c.code || !strings.Contains(e.Description, c.desc) {
				t.Fatalf("error %v, want %s containing %q", e, c.code, c.desc)
			}
			if got := a.ClientID != "" && a.RedirectURI != ""; got != c.redir {
				t.Fatalf("redirectable %v, want %v", got, c.redir)
			}
			if c.redir && a.State != v.Get("state") {
				t.Fatal("state lost")
			}
		})
	}
}

// TestHashLoginHint: the vector of issue #13 (from the operator gateway
// ammas4/sample.app, TokenService.GetHashedLoginHint).
func TestHashLoginHint(t *testing.T) {
	t.Parallel()
	if got := HashLoginHint("MSISDN:31612345678"); got != "ff775272c11008ebcb85d1d43b35c9871b59a83a958b74fa1697ca8480d1b08f" {
		t.Fatal(got)
	}
}

func TestParseTokenForm(t *testing.T) {
	t.Parallel()
	cases := []struct {
		form url.Values
		code string
	}{
		{url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, ""},
		{url.Values{"grant_type": {"authorization_code"}}, "invalid_request"},
		{url.Values{"code": {"x"}}, "invalid_request"},
		{url.Values{"grant_type": {"password"}}, "unsupported_grant_type"},
		{url.Values{"grant_type": {"refresh_token"}}, "invalid_request"},
		{url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}}, ""},
		{url.Values{"grant_type": {GrantSI}}, "invalid_request"},
		{url.Values{"grant_type": {GrantCIBA}, "auth_req_id": {"a"}}, ""},
		{url.Values{"grant_type": {"authorization_code", "authorization_code"}, "code": {"x"}}, "invalid_request"},
		{url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "code_verifier": {"short"}}, "invalid_request"},
	}
	for i, c := range cases {
		_, e := parseTokenForm(c.form)
		got := ""
		if e != nil {
			got = e.Code
		}
		if got != c.code {
			t.Errorf("case %d: %q, want %q", i, got, c.code)
		}
	}
}
