package mobileconnect_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	zrp "github.com/zitadel/oidc/v3/pkg/client/rp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// mcClaims are the Mobile Connect claims an RP checks beyond go-oidc's.
type mcClaims struct {
	Nonce           string   `json:"nonce"`
	ACR             string   `json:"acr"`
	AMR             []string `json:"amr"`
	HashedLoginHint string   `json:"hashed_login_hint"`
	AtHash          string   `json:"at_hash"`
	Azp             string   `json:"azp"`
}

// browse plays the browser (headless, as the GSMA SDKs do) for an
// authorization URL an RP library built, and returns the callback query.
func browse(t *testing.T, r *rp, authURL string) url.Values {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(authURL, r.iss+"/authorize?") {
		t.Fatalf("the RP built %q from discovery", authURL)
	}
	return r.authorize(u.Query())
}

// mcParams are the Mobile Connect parameters an RP adds to its
// authorization URL.
func mcParams(msisdn, acr string) map[string]string {
	return map[string]string{"version": "mc_di_r2_v2.3", "acr_values": acr,
		"login_hint": "MSISDN:" + strings.TrimPrefix(msisdn, "+")}
}

// TestGoOIDC: coreos/go-oidc with golang.org/x/oauth2 as the relying
// party, with both client authentication methods; it verifies the
// signature through jwks_uri, iss, aud and exp, and the test checks nonce,
// acr, at_hash and hashed_login_hint as the seed's security
// recommendations say (go-oidc leaves those to the application).
func TestGoOIDC(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, s.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&gooidc.Config{ClientID: mobileconnect.DemoClientID})
	for i, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		h := newRP(t, s)
		cfg := oauth2.Config{ClientID: mobileconnect.DemoClientID, ClientSecret: mobileconnect.DemoClientSecret,
			Endpoint: provider.Endpoint(), RedirectURL: h.redirect, Scopes: []string{gooidc.ScopeOpenID, "mc_authn"}}
		cfg.Endpoint.AuthStyle = style
		msisdn := simtest.Number(t, "approve", 70+i)
		state, nonce := "go-oidc-state-"+string(rune('a'+i)), "go-oidc-nonce-"+string(rune('a'+i))
		var opts []oauth2.AuthCodeOption
		for k, v := range mcParams(msisdn, "3 2") {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
		verifierPKCE := oauth2.GenerateVerifier()
		opts = append(opts, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifierPKCE))
		cb := browse(t, h, cfg.AuthCodeURL(state, opts...))
		if cb.Get("state") != state {
			t.Fatalf("state %q", cb.Get("state"))
		}
		tok, err := cfg.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifierPKCE))
		if err != nil {
			t.Fatalf("exchange (%v): %v", style, err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("go-oidc verification: %v", err)
		}
		var c mcClaims
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if c.Nonce != nonce || c.ACR != "3" || c.Azp != mobileconnect.DemoClientID {
			t.Fatalf("nonce %q acr %q azp %q", c.Nonce, c.ACR, c.Azp)
		}
		if c.HashedLoginHint != mobileconnect.HashLoginHint(mcParams(msisdn, "")["login_hint"]) {
			t.Fatal("hashed_login_hint")
		}
		idt.AccessTokenHash = c.AtHash
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatalf("at_hash: %v", err)
		}
		ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil || ui.Subject != idt.Subject {
			t.Fatalf("userinfo: %v %v", err, ui)
		}
		// Refresh through the library.
		tok.Expiry = tok.Expiry.Add(-24 * 3600e9)
		ntok, err := cfg.TokenSource(ctx, tok).Token()
		if err != nil || ntok.AccessToken == tok.AccessToken {
			t.Fatalf("refresh: %v", err)
		}
	}
}

// TestZitadelRP: zitadel/oidc's relying party, which verifies signature,
// iss, aud, azp, exp, iat, nonce, acr and at_hash itself.
func TestZitadelRP(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	ctx := context.Background()
	h := newRP(t, s)
	const nonce = "zitadel-nonce"
	party, err := zrp.NewRelyingPartyOIDC(ctx, s.Issuer(), mobileconnect.DemoClientID, mobileconnect.DemoClientSecret, h.redirect,
		[]string{"openid", "mc_authn"}, zrp.WithVerifierOpts(
			zrp.WithNonce(func(context.Context) string { return nonce }),
			zrp.WithACRVerifier(zoidc.DefaultACRVerifier([]string{"3"}))))
	if err != nil {
		t.Fatal(err)
	}
	msisdn := simtest.Number(t, "approve", 72)
	var opts []zrp.AuthURLOpt
	for k, v := range mcParams(msisdn, "3") {
		opts = append(opts, zrp.AuthURLOpt(zrp.WithURLParam(k, v)))
	}
	opts = append(opts, zrp.AuthURLOpt(zrp.WithURLParam("nonce", nonce)))
	cb := browse(t, h, zrp.AuthURL("zitadel-state", party, opts...))
	if cb.Get("state") != "zitadel-state" {
		t.Fatal("state")
	}
	tokens, err := zrp.CodeExchange[*zoidc.IDTokenClaims](ctx, cb.Get("code"), party)
	if err != nil {
		t.Fatalf("zitadel code exchange and verification: %v", err)
	}
	c := tokens.IDTokenClaims
	if c.AuthenticationContextClassReference != "3" || c.Claims["hashed_login_hint"] != mobileconnect.HashLoginHint("MSISDN:"+strings.TrimPrefix(msisdn, "+")) {
		t.Fatalf("acr %q hashed_login_hint %v", c.AuthenticationContextClassReference, c.Claims["hashed_login_hint"])
	}
	if len(c.AuthenticationMethodsReferences) != 1 || c.AuthenticationMethodsReferences[0] != "SIM_PIN" {
		t.Fatalf("amr %v", c.AuthenticationMethodsReferences)
	}
	ui, err := zrp.Userinfo[*zoidc.UserInfo](ctx, tokens.AccessToken, "Bearer", c.Subject, party)
	if err != nil || ui.Subject != c.Subject {
		t.Fatalf("userinfo: %v", err)
	}
	// The same RP refuses a token for an acr it did not accept: the
	// gateway said acr 2 for "2".
	q := h.params(simtest.Number(t, "approve", 73), "2")
	q.Set("state", "zitadel-acr2")
	q.Set("nonce", nonce)
	cb = h.authorize(q)
	if _, err := zrp.CodeExchange[*zoidc.IDTokenClaims](ctx, cb.Get("code"), party); err == nil {
		t.Fatal("zitadel accepted acr 2 where only 3 is acceptable")
	}
}
