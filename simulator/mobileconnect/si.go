package mobileconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server-Initiated (MOBILE-CONNECT.md §1.6) and CIBA Core 1.0: the RP's
// server starts a login with the customer's number; the phone is asked at
// once; the result is pushed to the RP (SI async, CIBA ping/push) or
// polled at the token endpoint (SI polling, CIBA poll).

// SI response types.
const (
	SIAsync   = "mc_si_async_code"
	SIPolling = "mc_si_polling"
)

// backchannel is one SI or CIBA request.
type backchannel struct {
	id            string
	clientID      string
	ciba          bool
	mode          string // SI: async, polling; CIBA: poll, ping, push
	notifyURI     string
	notifyToken   string
	correlationID string
	exp           time.Time
	interval      time.Duration
	done          chan struct{}

	mu       sync.Mutex
	lastPoll time.Time
	sess     *session
	err      *Error
	redeemed bool
}

// cibaID is the auth_req_id a CIBA request's id_token names
// (urn:openid:params:jwt:claim:auth_req_id, CIBA Core §7.3); empty for SI.
func (bc *backchannel) cibaID() string {
	if bc.ciba {
		return bc.id
	}
	return ""
}

// SIRequest is a Server-Initiated request after the checks of
// ParseSIRequest: the authorization request it carries and how to answer.
type SIRequest struct {
	AuthRequest
	// ResponseType is mc_si_async_code or mc_si_polling.
	ResponseType      string
	NotificationURI   string
	NotificationToken string
}

// requiredSIClaims are the request object's mandatory claims.
var requiredSIClaims = []string{"response_type", "client_id", "scope", "version", "nonce", "login_hint", "acr_values",
	"client_notification_token", "iss", "aud"}

// ParseSIRequest checks a Server-Initiated request: the outer parameters
// (client_id, scope, response_type) and the verified request object's
// claims, which must agree with them; audience is the set of names the
// gateway answers to in aud. It does not check the client's registration
// (notification_uri, client_name): the caller does.
func ParseSIRequest(outer url.Values, claims map[string]any, audience []string) (SIRequest, *Error) {
	var r SIRequest
	str := func(k string) (string, *Error) {
		v, ok := claims[k]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok || len(s) > maxParam || !utf8Valid(s) {
			return "", newError(ErrInvalidRequestObject, "claim "+k+" must be a string")
		}
		return s, nil
	}
	for _, k := range requiredSIClaims {
		if k == "aud" {
			if _, ok := claims["aud"]; !ok {
				return r, newError(ErrInvalidRequestObject, "MANDATORY claim aud is missing / invalid.")
			}
			continue
		}
		if s, e := str(k); e != nil {
			return r, e
		} else if s == "" {
			return r, newError(ErrInvalidRequestObject, "MANDATORY claim "+k+" is missing / invalid.")
		}
	}
	get := func(k string) string { s, _ := str(k); return s }
	r.ClientID = get("client_id")
	if c := outer.Get("client_id"); c != r.ClientID {
		return r, newError(ErrInvalidRequest, "client_id differs from the request object's")
	}
	if get("iss") != r.ClientID {
		return r, newError(ErrInvalidRequestObject, "iss must be the client_id")
	}
	if !audienceHas(claims, audience...) {
		return r, newError(ErrInvalidRequestObject, "aud must name this gateway")
	}
	r.ResponseType = get("response_type")
	if o := outer.Get("response_type"); o != "" && o != r.ResponseType {
		return r, newError(ErrInvalidRequest, "response_type differs from the request object's")
	}
	if r.ResponseType != SIAsync && r.ResponseType != SIPolling {
		return r, newError(ErrUnsupportedResponseType, "response_type must be mc_si_async_code or mc_si_polling")
	}
	scope := get("scope")
	if o := outer.Get("scope"); o != "" && !sameFields(o, scope) {
		return r, newError(ErrInvalidRequest, "scope differs from the request object's")
	}
	r.Scope = strings.Fields(scope)
	if e := checkScope(&r.AuthRequest); e != nil {
		return r, e
	}
	r.Version = get("version")
	if r.Version != siVersion {
		return r, newError(ErrInvalidRequest, "MANDATORY parameter version is missing / invalid.")
	}
	var e *Error
	if r.ACR, e = parseACR(get("acr_values")); e != nil {
		return r, e
	}
	r.Nonce = get("nonce")
	if len(r.Nonce) > maxStateNonce {
		return r, newError(ErrInvalidRequestObject, "nonce is too long")
	}
	r.LoginHint = get("login_hint")
	if _, _, e := parseLoginHint(r.LoginHint); e != nil {
		return r, e
	}
	r.NotificationToken = get("client_notification_token")
	r.NotificationURI = get("notification_uri")
	if r.ResponseType == SIAsync && r.NotificationURI == "" {
		return r, newError(ErrInvalidRequestObject, "MANDATORY claim notification_uri is missing / invalid.")
	}
	r.ClientName, r.Context, r.BindingMessage = get("client_name"), get("context"), get("binding_message")
	if e := checkTexts(&r.AuthRequest); e != nil {
		return r, e
	}
	r.CorrelationID = get("correlation_id")
	if len(r.CorrelationID) > 256 {
		return r, newError(ErrInvalidRequest, "correlation_id is too long")
	}
	r.MaxAge = -1
	return r, nil
}

func sameFields(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	slices.Sort(fa)
	slices.Sort(fb)
	return slices.Equal(fa, fb)
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// readForm reads a form or JSON object body into values (SI takes both).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, newError(ErrInvalidRequest, "the form could not be read")
		}
		return r.PostForm, nil
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, newError(ErrInvalidRequest, "the body is not a JSON object")
		}
		v := url.Values{}
		for k, x := range m {
			s, ok := x.(string)
			if !ok {
				return nil, newError(ErrInvalidRequest, "parameter "+k+" must be a string")
			}
			v.Set(k, s)
		}
		return v, nil
	}
	return nil, newError(ErrInvalidRequest, "the body must be a form or JSON")
}

// handleSIAuthorize is POST /si-authorize: the client's signed request
// object is its authentication.
func (g *Gateway) handleSIAuthorize(w http.ResponseWriter, r *http.Request) {
	v, e := readForm(w, r)
	if e != nil {
		e.writeJSON(w)
		return
	}
	cl := g.clients.get(v.Get("client_id"))
	if cl == nil {
		newError(ErrInvalidClient, "client_id is not registered").writeJSON(w)
		return
	}
	if cl.Disabled {
		newError(ErrUnauthorizedClient, "The client is not allowed to make MC service requests").writeJSON(w)
		return
	}
	if e := g.quota.take(cl.ID, g.deps.Now()); e != nil {
		e.writeJSON(w)
		return
	}
	if v.Get("request") == "" {
		mandatory("request").writeJSON(w)
		return
	}
	claims, err := DecodeClientJWT(v.Get("request"), cl.Secret, cl.jwks)
	if err != nil {
		newError(ErrInvalidRequestObject, trimPkg(err)).writeJSON(w)
		return
	}
	if err := checkTimes(claims, g.deps.Now()); err != nil {
		newError(ErrInvalidRequestObject, trimPkg(err)).writeJSON(w)
		return
	}
	sr, e := ParseSIRequest(v, claims, []string{g.issuer, g.issuer + "/si-authorize"})
	if e != nil {
		e.writeJSON(w)
		return
	}
	// Async needs a notification_uri (ParseSIRequest); polling may name
	// one too, which its id_token then carries as recipient: registered
	// in either case, so the claim never names a stranger's address.
	if sr.NotificationURI != "" && !cl.notificationAllowed(sr.NotificationURI) {
		newError(ErrInvalidRequest, "notification_uri is not registered for this client").writeJSON(w)
		return
	}
	if sr.ClientName != "" && !slices.Contains(cl.ClientNames, sr.ClientName) {
		newError(ErrInvalidRequest, "client_name is not one this client may use").writeJSON(w)
		return
	}
	mode, uri := "polling", sr.NotificationURI
	if sr.ResponseType == SIAsync {
		mode = "async"
	}
	bc, e := g.startBackchannel(r.Context(), cl, &sr.AuthRequest, false, mode, uri, sr.NotificationToken)
	if e != nil {
		e.writeJSON(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"auth_req_id": bc.id, "expires_in": int(g.cfg.SITTL.Seconds()),
		"correlation_id": sr.CorrelationID})
}

// handleBackchannel is CIBA Core §7's backchannel authentication endpoint:
// client authentication as at /token; login_hint (or login_hint_token),
// scope with openid, optional acr_values (default "2"), binding_message,
// client_notification_token for ping and push.
func (g *Gateway) handleBackchannel(w http.ResponseWriter, r *http.Request) {
	v, e := postForm(w, r, "the backchannel endpoint")
	if e != nil {
		e.writeJSON(w)
		return
	}
	cl, e := g.authenticateClient(r, tokenRequest{ClientID: v.Get("client_id"), ClientSecret: v.Get("client_secret")})
	if e != nil {
		e.writeJSON(w)
		return
	}
	if e := g.quota.take(cl.ID, g.deps.Now()); e != nil {
		e.writeJSON(w)
		return
	}
	ar, e := ParseCIBA(v)
	if e != nil {
		e.writeJSON(w)
		return
	}
	mode := cl.CIBAMode
	if mode == "" {
		mode = "poll"
	}
	if mode != "poll" && v.Get("client_notification_token") == "" {
		mandatory("client_notification_token").writeJSON(w)
		return
	}
	if ar.ClientName != "" && !slices.Contains(cl.ClientNames, ar.ClientName) {
		newError(ErrInvalidRequest, "client_name is not one this client may use").writeJSON(w)
		return
	}
	bc, e := g.startBackchannel(r.Context(), cl, &ar, true, mode, cl.CIBANotificationURI, v.Get("client_notification_token"))
	if e != nil {
		e.writeJSON(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	out := map[string]any{"auth_req_id": bc.id, "expires_in": int(g.cfg.SITTL.Seconds())}
	if mode != "push" {
		out["interval"] = int(bc.interval.Seconds())
	}
	writeJSON(w, http.StatusOK, out)
}

// ParseCIBA checks a CIBA authentication request's parameters (CIBA Core
// §7.1) and maps them onto an authorization request; Mobile Connect's
// acr_values, client_name and context are taken too.
func ParseCIBA(v url.Values) (AuthRequest, *Error) {
	a := AuthRequest{MaxAge: -1}
	for k, vs := range v {
		if len(vs) > 1 {
			return a, newError(ErrInvalidRequest, "parameter "+k+" is repeated")
		}
		if len(vs[0]) > maxParam {
			return a, newError(ErrInvalidRequest, "parameter "+k+" is too long")
		}
	}
	if v.Get("request") != "" {
		return a, newError("request_not_supported", "signed CIBA requests are not supported; send the parameters")
	}
	a.ClientID = v.Get("client_id")
	a.Scope = strings.Fields(v.Get("scope"))
	if !slices.Contains(a.Scope, "openid") {
		return a, newError(ErrInvalidScope, "scope must contain openid")
	}
	if !slices.Contains(a.Scope, "mc_authn") && !slices.Contains(a.Scope, "mc_authz") {
		a.Scope = append(a.Scope, "mc_authn")
	}
	if e := checkScope(&a); e != nil {
		return a, e
	}
	hints := 0
	for _, k := range []string{"login_hint", "login_hint_token", "id_token_hint"} {
		if v.Get(k) != "" {
			hints++
		}
	}
	if hints != 1 {
		return a, newError(ErrInvalidRequest, "exactly one of login_hint, login_hint_token and id_token_hint is required")
	}
	if v.Get("id_token_hint") != "" {
		return a, newError(ErrInvalidRequest, "id_token_hint is not supported: use login_hint")
	}
	if v.Get("user_code") != "" {
		return a, newError(ErrInvalidRequest, "user_code is not supported")
	}
	a.LoginHint, a.LoginHintToken = v.Get("login_hint"), v.Get("login_hint_token")
	if a.LoginHint != "" {
		if _, _, e := parseLoginHint(a.LoginHint); e != nil {
			return a, e
		}
	}
	acr := v.Get("acr_values")
	if acr == "" {
		acr = "2"
	}
	var e *Error
	if a.ACR, e = parseACR(acr); e != nil {
		return a, e
	}
	a.ClientName, a.Context, a.BindingMessage = v.Get("client_name"), v.Get("context"), v.Get("binding_message")
	if e := checkTexts(&a); e != nil {
		return a, e
	}
	if re := v.Get("requested_expiry"); re != "" {
		if n, err := strconv.Atoi(re); err != nil || n <= 0 {
			return a, newError(ErrInvalidRequest, "requested_expiry must be a positive integer")
		}
	}
	a.Version = siVersion
	return a, nil
}

// siInterval is the polling interval the gateway asks for; a poll sooner
// than this after the last one is answered slow_down.
const siInterval = time.Second

// slowDownStep is what a poll answered slow_down adds to the interval.
const slowDownStep = 5 * time.Second

// bcKeep is how long an SI or CIBA request is remembered after it expired.
const bcKeep = 10 * time.Minute

// startBackchannel resolves the subscriber, records the request and runs
// the authentication in the background.
func (g *Gateway) startBackchannel(ctx context.Context, cl *registered, ar *AuthRequest, ciba bool, mode, uri, token string) (*backchannel, *Error) {
	msisdn, e := g.resolveHint(ctx, cl, ar)
	if e != nil {
		return nil, e
	}
	id, err := randomToken(g.deps.Rand, 24)
	if err != nil {
		return nil, newError(ErrServerError, "no randomness")
	}
	now := g.deps.Now()
	bc := &backchannel{id: id, clientID: cl.ID, ciba: ciba, mode: mode, notifyURI: uri, notifyToken: token,
		correlationID: ar.CorrelationID, exp: now.Add(g.cfg.SITTL), interval: siInterval, done: make(chan struct{})}
	if !g.st.begin(g.cfg.MaxPending) {
		return nil, newError(ErrTemporarilyUnavailable, "too many logins under way")
	}
	// Kept past its expiry so that late polls get expired_token.
	g.st.bc.put(id, bc, now, bc.exp.Add(bcKeep))
	req := *ar
	t := g.backchannelTrace(ciba, id, cl.ID, ar, msisdn)
	g.goCtx(func(ctx context.Context) {
		sess, e := g.authenticate(withTrace(ctx, t), cl, &req, msisdn, nil)
		t.done(sess, e)
		if sess != nil && !ciba && uri != "" {
			// SI tokens name the request's notification_uri, polling
			// ones too when the request named one (CIBA has no such
			// claim).
			sess.recipient = uri
		}
		bc.mu.Lock()
		bc.sess, bc.err = sess, e
		bc.mu.Unlock()
		g.st.end()
		close(bc.done)
		g.notifyBackchannel(ctx, cl, bc)
	})
	return bc, nil
}

// notifyBackchannel tells the client the outcome: SI async and CIBA push
// with the tokens (or the error), CIBA ping with the auth_req_id only;
// retried with backoff until the client answers 2xx or the request
// expires.
func (g *Gateway) notifyBackchannel(ctx context.Context, cl *registered, bc *backchannel) {
	var body map[string]any
	switch bc.mode {
	case "polling", "poll":
		return
	case "ping":
		body = map[string]any{"auth_req_id": bc.id}
	default: // async, push
		body = map[string]any{"auth_req_id": bc.id}
		if !bc.ciba {
			body["correlation_id"] = bc.correlationID
		}
		if bc.err != nil {
			body["error"], body["error_description"] = bc.err.Code, bc.err.Description
		} else {
			resp, e := g.issueTokens(ctx, cl, bc.sess, true, bc.ciba, bc.cibaID(), &family{})
			if e != nil {
				body["error"], body["error_description"] = e.Code, e.Description
			} else {
				body["access_token"], body["token_type"], body["expires_in"], body["id_token"] = resp.AccessToken, resp.TokenType, resp.ExpiresIn, resp.IDToken
				if resp.RefreshToken != "" {
					body["refresh_token"] = resp.RefreshToken
				}
				bc.sess.tokens(resp)
			}
			bc.mu.Lock()
			bc.redeemed = true
			bc.mu.Unlock()
		}
	}
	payload, _ := json.Marshal(body)
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if g.postNotification(ctx, bc.notifyURI, bc.notifyToken, payload) {
			return
		}
		if !g.deps.Now().Add(delay).Before(bc.exp) {
			g.log.Warn("mc: notification not delivered before the request expired", "client_id", bc.clientID, "attempts", attempt)
			return
		}
		select {
		case <-g.deps.After(delay):
		case <-ctx.Done():
			return
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// postNotification POSTs one notification; it reports whether the client
// answered 2xx.
func (g *Gateway) postNotification(ctx context.Context, uri, token string, payload []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, bytes.NewReader(payload))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := g.deps.HTTPClient.Do(req)
	if err != nil {
		g.log.Debug("mc: notification failed", "err", err)
		return false
	}
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

// pollBackchannel answers the SI and CIBA polling grants (CIBA Core §11):
// authorization_pending, slow_down, expired_token, access_denied (or the
// login's error), then the tokens, once.
func (g *Gateway) pollBackchannel(ctx context.Context, cl *registered, tr tokenRequest) (*TokenResponse, *Error) {
	now := g.deps.Now()
	bc, ok := g.st.bc.get(tr.AuthReqID, now)
	if !ok || bc.clientID != cl.ID || bc.ciba != (tr.GrantType == GrantCIBA) {
		return nil, newError(ErrInvalidGrant, "auth_req_id is unknown or not this client's")
	}
	bc.mu.Lock()
	if bc.mode == "push" || bc.mode == "async" {
		bc.mu.Unlock()
		return nil, newError(ErrInvalidGrant, "this request's tokens are delivered to the notification endpoint")
	}
	if bc.redeemed {
		bc.mu.Unlock()
		return nil, newError(ErrInvalidGrant, "auth_req_id was already used")
	}
	if now.After(bc.exp) {
		bc.mu.Unlock()
		return nil, newError(ErrExpiredToken, "the request expired")
	}
	select {
	case <-bc.done:
	default:
		tooSoon := !bc.lastPoll.IsZero() && now.Sub(bc.lastPoll) < bc.interval
		bc.lastPoll = now
		if tooSoon {
			// CIBA Core §11: the interval grows by 5 s for this and
			// every later poll.
			bc.interval += slowDownStep
		}
		interval := bc.interval
		bc.mu.Unlock()
		if tooSoon {
			return nil, newError(ErrSlowDown, "poll at most every "+interval.String())
		}
		return nil, newError(ErrAuthorizationPending, "the subscriber has not answered yet")
	}
	if bc.err != nil {
		bc.redeemed = true
		e := *bc.err
		bc.mu.Unlock()
		return nil, &e
	}
	bc.redeemed = true
	sess := bc.sess
	bc.mu.Unlock()
	g.slowToken(ctx, sess)
	resp, e := g.issueTokens(ctx, cl, sess, true, true, bc.cibaID(), &family{})
	if e == nil {
		sess.tokens(resp)
	}
	return resp, e
}

// AwaitBackchannel waits until the SI or CIBA request authReqID has been
// answered by the subscriber, so a test polls once instead of in a loop.
func (g *Gateway) AwaitBackchannel(ctx context.Context, authReqID string) error {
	bc, ok := g.st.bc.get(authReqID, g.deps.Now())
	if !ok {
		return errNoRequest
	}
	select {
	case <-bc.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
