package mobileconnect

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// issueCode records a session's authorization code and returns it.
func (g *Gateway) issueCode(sess *session, ar *AuthRequest) (string, error) {
	code, err := randomToken(g.deps.Rand, 32)
	if err != nil {
		return "", err
	}
	now := g.deps.Now()
	exp := now.Add(g.cfg.CodeTTL)
	g.st.codes.put(tokenKey(code), &codeGrant{sess: sess, redirectURI: ar.RedirectURI, codeChallenge: ar.CodeChallenge, exp: exp,
		fam: &family{}}, now, exp)
	return code, nil
}

// TokenResponse is the token endpoint's answer (RFC 6749 §5.1, OpenID
// Connect Core §3.1.3.3).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	// issued is the id_token decoded, for the login's trace (nil unless
	// someone listens).
	issued *IssuedIDToken
}

// handleToken is /token: form-encoded only, client_secret_basic or
// client_secret_post, grants authorization_code (single use, PKCE S256),
// refresh_token, and the SI and CIBA polling grants.
func (g *Gateway) handleToken(w http.ResponseWriter, r *http.Request) {
	tr, e := tokenForm(w, r)
	if e != nil {
		e.writeJSON(w)
		return
	}
	cl, e := g.authenticateClient(r, tr)
	if e != nil {
		e.writeJSON(w)
		return
	}
	if e := g.quota.take(cl.ID, g.deps.Now()); e != nil {
		e.writeJSON(w)
		return
	}
	var resp *TokenResponse
	switch tr.GrantType {
	case grantCode:
		resp, e = g.redeemCode(r, cl, tr)
	case grantRefresh:
		resp, e = g.refresh(r, cl, tr)
	case GrantSI, GrantCIBA:
		resp, e = g.pollBackchannel(r.Context(), cl, tr)
	default:
		e = newError(ErrUnsupportedGrantType, "grant_type is not supported")
	}
	if e != nil {
		e.writeJSON(w)
		return
	}
	h := w.Header()
	h["Cache-Control"], h["Pragma"] = hdrNoStore, hdrNoCache
	writeJSON(w, http.StatusOK, resp)
}

// authenticateClient checks client_secret_basic (RFC 6749 §2.3.1: the id
// and secret form-urlencoded, then Basic) or client_secret_post; not both.
func (g *Gateway) authenticateClient(r *http.Request, tr tokenRequest) (*registered, *Error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		if tr.ClientSecret != "" {
			return nil, newError(ErrInvalidRequest, "use one client authentication method, not two")
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, newError(ErrInvalidClient, "client authentication failed")
		}
		if tr.ClientID != "" && tr.ClientID != id {
			return nil, newError(ErrInvalidRequest, "client_id differs from the authenticated client")
		}
	} else {
		id, secret = tr.ClientID, tr.ClientSecret
	}
	if id == "" || secret == "" {
		return nil, newError(ErrInvalidClient, "client authentication is required (client_secret_basic or client_secret_post)")
	}
	cl := g.clients.get(id)
	if cl == nil || !cl.secretMatches(secret) {
		return nil, newError(ErrInvalidClient, "client authentication failed")
	}
	if cl.Disabled {
		return nil, newError(ErrUnauthorizedClient, "The client is not allowed to make MC service requests")
	}
	return cl, nil
}

// redeemCode exchanges an authorization code (RFC 6749 §4.1.3). A code
// is used once: presented again, it is refused and every token issued for
// it, refreshed ones included, is revoked (§4.1.2).
func (g *Gateway) redeemCode(r *http.Request, cl *registered, tr tokenRequest) (*TokenResponse, *Error) {
	k := tokenKey(tr.Code)
	c, ok := g.st.codes.get(k, g.deps.Now())
	if !ok {
		return nil, newError(ErrInvalidGrant, "the code is unknown or expired")
	}
	if c.sess.clientID != cl.ID {
		return nil, newError(ErrInvalidGrant, "the code was issued to another client")
	}
	c.mu.Lock()
	if c.used {
		c.mu.Unlock()
		g.st.revokeFamily(c.fam)
		g.st.codes.delete(k)
		g.log.Warn("mc: authorization code replayed; its tokens are revoked", "client_id", cl.ID)
		return nil, newError(ErrInvalidGrant, "the code was already used; the tokens issued for it are revoked")
	}
	if tr.RedirectURI != c.redirectURI {
		c.mu.Unlock()
		return nil, newError(ErrInvalidGrant, "redirect_uri differs from the authorization request's")
	}
	switch {
	case c.codeChallenge != "":
		sum := sum256(tr.CodeVerifier)
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if tr.CodeVerifier == "" || subtle.ConstantTimeCompare([]byte(want), []byte(c.codeChallenge)) != 1 {
			c.mu.Unlock()
			return nil, newError(ErrInvalidGrant, "code_verifier does not match the code_challenge")
		}
	case tr.CodeVerifier != "":
		// A verifier for a code issued without a challenge is a PKCE
		// downgrade (RFC 9700 §4.8.2): refused.
		c.mu.Unlock()
		return nil, newError(ErrInvalidGrant, "code_verifier was sent, but the authorization request had no code_challenge")
	}
	c.used = true
	c.mu.Unlock()
	g.slowToken(r.Context(), c.sess)
	resp, e := g.issueTokens(r.Context(), cl, c.sess, true, true, "", c.fam)
	if e == nil {
		c.sess.tokens(resp)
	}
	return resp, e
}

// refresh exchanges a refresh token (RFC 6749 §6) for new tokens; the
// refresh token rotates. A rotated-out refresh token presented again
// revokes every token of its grant (RFC 9700 §4.14.2): one of the two
// holders is not the client.
func (g *Gateway) refresh(r *http.Request, cl *registered, tr tokenRequest) (*TokenResponse, *Error) {
	k := tokenKey(tr.RefreshToken)
	now := g.deps.Now()
	t, ok := g.st.refresh.get(k, now)
	if ok && t.sess.clientID == cl.ID {
		// A scope asked for must be within the one granted (RFC 6749
		// §6); the answer's scope says what the new tokens carry.
		for _, sc := range strings.Fields(tr.Scope) {
			if !slices.Contains(t.sess.scope, sc) {
				return nil, newError(ErrInvalidScope, "scope "+sc+" was not granted")
			}
		}
		// Rotation: the token is taken once, so of two requests racing
		// with the same token only one gets new tokens; the other is a
		// reuse.
		if _, ok = g.st.refresh.take(k, now); ok {
			g.st.spent.put(k, t, now, t.exp)
		}
	}
	if !ok {
		if old, spent := g.st.spent.get(k, now); spent && old.sess.clientID == cl.ID {
			g.st.revokeFamily(old.fam)
			g.log.Warn("mc: refresh token reused; its grant's tokens are revoked", "client_id", cl.ID)
			return nil, newError(ErrInvalidGrant, "the refresh token was already used; the tokens of its grant are revoked")
		}
	}
	if !ok || t.sess.clientID != cl.ID {
		return nil, newError(ErrInvalidGrant, "the refresh token is unknown, expired or not this client's")
	}
	g.slowToken(r.Context(), t.sess)
	return g.issueTokens(r.Context(), cl, t.sess, false, true, "", t.fam)
}

// issueTokens makes an access token, an id_token and (withRefresh) a
// refresh token for a session, all of grant family fam. cibaID, when set,
// is the CIBA auth_req_id the id_token names. A family revoked meanwhile
// (its code replayed, its refresh token reused) gets nothing.
func (g *Gateway) issueTokens(ctx context.Context, cl *registered, sess *session, withNonce, withRefresh bool, cibaID string, fam *family) (*TokenResponse, *Error) {
	at, err := randomToken(g.deps.Rand, 32)
	if err != nil {
		return nil, newError(ErrServerError, "no randomness")
	}
	claims, err := g.idTokenClaims(ctx, sess, at, withNonce)
	if err != nil {
		g.log.Error("mc: id_token claims", "err", err)
		return nil, newError(ErrServerError, "the id_token could not be built")
	}
	claims.CIBAAuthReqID = cibaID
	idt, info, err := g.sign(cl, sess, claims)
	if err != nil {
		g.log.Error("mc: id_token signing", "err", err)
		return nil, newError(ErrServerError, "the id_token could not be signed")
	}
	resp := &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int(g.cfg.TokenTTL.Seconds()), IDToken: idt,
		Scope: strings.Join(sess.scope, " "), issued: info}
	var keyArr [2][32]byte // on the stack: family.add copies the keys
	keys := append(keyArr[:0], tokenKey(at))
	var rt string
	if withRefresh {
		if rt, err = randomToken(g.deps.Rand, 32); err != nil {
			return nil, newError(ErrServerError, "no randomness")
		}
		resp.RefreshToken = rt
		keys = append(keys, tokenKey(rt))
	}
	if !fam.add(keys) {
		return nil, newError(ErrInvalidGrant, "the grant was revoked (its code replayed or its refresh token reused)")
	}
	now := g.deps.Now()
	exp := now.Add(g.cfg.TokenTTL)
	g.st.access.put(keys[0], &tokenInfo{sess: sess, exp: exp, fam: fam}, now, exp)
	if withRefresh {
		exp := now.Add(g.cfg.RefreshTTL)
		g.st.refresh.put(keys[1], &tokenInfo{sess: sess, exp: exp, fam: fam}, now, exp)
	}
	if fam.isRevoked() {
		// Revoked between add and put: these are the family's too.
		g.st.revoke(keys)
		return nil, newError(ErrInvalidGrant, "the grant was revoked (its code replayed or its refresh token reused)")
	}
	return resp, nil
}

// handleUserinfo is /userinfo (OpenID Connect Core §5.3): the Bearer
// access token in the Authorization header (or access_token in a POST
// form, RFC 6750 §2.2).
func (g *Gateway) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
		if err := r.ParseForm(); err == nil {
			tok = r.PostForm.Get("access_token")
		}
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		newError(ErrInvalidToken, "a Bearer access token is required").writeJSON(w)
		return
	}
	t, ok := g.st.access.get(tokenKey(tok), g.deps.Now())
	if !ok {
		newError(ErrInvalidToken, "the access token is unknown, expired or revoked").writeJSON(w)
		return
	}
	sub, err := g.subject(r.Context(), t.sess)
	if err != nil {
		newError(ErrServerError, "the subject could not be computed").writeJSON(w)
		return
	}
	out := map[string]any{"sub": sub}
	if t.sess.hasScope("phone") {
		out["phone_number"] = "+" + t.sess.msisdn
		out["phone_number_verified"] = true
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// tokenForm reads and checks /token's form as postForm then
// parseTokenForm do, in one pass over the body (readTokenForm) unless the
// request also has a query, which r.ParseForm would read too (and refuse
// malformed).
func tokenForm(w http.ResponseWriter, r *http.Request) (tokenRequest, *Error) {
	if r.URL.RawQuery != "" {
		form, e := postForm(w, r, "the token endpoint")
		if e != nil {
			return tokenRequest{}, e
		}
		return parseTokenForm(form)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		// What postForm and then r.ParseForm make of any other header.
		mt, _, err := mime.ParseMediaType(ct)
		if mt != "application/x-www-form-urlencoded" {
			return tokenRequest{}, newError(ErrInvalidRequest, "the token endpoint takes application/x-www-form-urlencoded")
		}
		if err != nil {
			return tokenRequest{}, errFormUnreadable()
		}
	}
	if r.Body == nil {
		return tokenRequest{}, errFormUnreadable()
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		return tokenRequest{}, errFormUnreadable()
	}
	return readTokenForm(string(b))
}

// postForm reads a POST body that must be a form (RFC 6749 §3.2), at most
// maxRequestBytes long.
func postForm(w http.ResponseWriter, r *http.Request, endpoint string) (url.Values, *Error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return nil, newError(ErrInvalidRequest, endpoint+" takes application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		return nil, errFormUnreadable()
	}
	return r.PostForm, nil
}
