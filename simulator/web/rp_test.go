package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// relyingParty is a web shop's login through the Mobile Connect gateway,
// written as its developers would with go-oidc and x/oauth2: GET
// /rp/start sends the browser to the gateway without a login_hint (so the
// gateway's number page asks for the number); GET /rp/callback exchanges
// the code and checks the id_token (signature through jwks_uri, iss, aud,
// exp by go-oidc; nonce, acr and hashed_login_hint here), then says who
// logged in.
type relyingParty struct {
	base string // this RP's URL (the control server's)
	once sync.Once
	err  error
	cfg  oauth2.Config
	ver  *oidc.IDTokenVerifier
	iss  string

	mu     sync.Mutex
	nonces map[string]string // state → nonce
}

func (p *relyingParty) init(ctx context.Context) error {
	p.once.Do(func() {
		prov, err := oidc.NewProvider(ctx, p.iss)
		if err != nil {
			p.err = err
			return
		}
		p.cfg = oauth2.Config{ClientID: mobileconnect.DemoClientID, ClientSecret: mobileconnect.DemoClientSecret,
			Endpoint: prov.Endpoint(), RedirectURL: p.base + "/rp/callback", Scopes: []string{oidc.ScopeOpenID, "mc_authn"}}
		p.ver = prov.Verifier(&oidc.Config{ClientID: mobileconnect.DemoClientID})
		p.nonces = map[string]string{}
	})
	return p.err
}

func random() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var rpPage = template.Must(template.New("rp").Parse(`<!doctype html><title>Example shop</title><link rel="icon" href="data:,">
<h1>{{.Title}}</h1><p id="result">{{.Text}}</p>`))

func (p *relyingParty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := p.init(ctx); err != nil {
		http.Error(w, "discovery: "+err.Error(), 500)
		return
	}
	switch r.URL.Path {
	case "/rp/start":
		state, nonce := random(), random()
		p.mu.Lock()
		p.nonces[state] = nonce
		p.mu.Unlock()
		http.Redirect(w, r, p.cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.SetAuthURLParam("acr_values", "3 2"),
			oauth2.SetAuthURLParam("version", "mc_di_r2_v2.3"), oauth2.SetAuthURLParam("client_name", "demo")), http.StatusFound)
	case "/rp/callback":
		q := r.URL.Query()
		p.mu.Lock()
		nonce, ok := p.nonces[q.Get("state")]
		delete(p.nonces, q.Get("state"))
		p.mu.Unlock()
		show := func(title, text string) { rpPage.Execute(w, map[string]string{"Title": title, "Text": text}) }
		switch {
		case !ok:
			show("Login failed", "unknown state")
			return
		case q.Get("error") != "":
			show("Login failed", q.Get("error")+": "+q.Get("error_description"))
			return
		}
		tok, err := p.cfg.Exchange(ctx, q.Get("code"))
		if err != nil {
			show("Login failed", "token: "+err.Error())
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := p.ver.Verify(ctx, raw)
		if err != nil {
			show("Login failed", "id_token: "+err.Error())
			return
		}
		var c struct {
			Nonce, ACR      string
			HashedLoginHint string `json:"hashed_login_hint"`
		}
		if err := idt.Claims(&c); err != nil || c.Nonce != nonce || (c.ACR != "3" && c.ACR != "2") || c.HashedLoginHint == "" {
			show("Login failed", fmt.Sprintf("claims: nonce ok %v, acr %q, %v", c.Nonce == nonce, c.ACR, err))
			return
		}
		show("Logged in", fmt.Sprintf("Logged in at acr %s as %s (hashed_login_hint %.8s…)", c.ACR, idt.Subject, c.HashedLoginHint))
	default:
		http.NotFound(w, r)
	}
}
