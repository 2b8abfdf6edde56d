package mobileconnect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// RP is a small Mobile Connect relying party: it runs a whole
// authorization code flow against a gateway (this one or another) the way
// the GSMA SDKs do in headless mode, and checks the id_token as the
// seed's security recommendations say: signature through jwks_uri, iss,
// aud, azp, exp, nonce, acr among those asked, at_hash and
// hashed_login_hint. `simlab mc login` and simtest use it.
type RP struct {
	// Issuer is the gateway's issuer URL (discovery is read from it).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURI is where the gateway sends the code; it is never
	// fetched (the RP reads the redirect's Location), so any registered
	// URI works (default http://127.0.0.1:9/callback, for the demo client).
	RedirectURI string
	// HTTPClient talks to the gateway (default: 30 s timeout).
	HTTPClient *http.Client
	// Poll is the headless re-GET interval while the phone is asked
	// (default 1 s; the GSMA SDKs use 5 s).
	Poll time.Duration
	// Wait, when set, replaces polling: it returns once the login of
	// (client_id, state, nonce) has ended (Gateway.AwaitLogin in tests).
	Wait func(ctx context.Context, clientID, state, nonce string) error
	// WaitBackchannel, when set, replaces polling for SI and CIBA: it
	// returns once the request has been answered
	// (Gateway.AwaitBackchannel in tests).
	WaitBackchannel func(ctx context.Context, authReqID string) error
}

// LoginRequest is what to log in.
type LoginRequest struct {
	MSISDN string
	// ACR is acr_values, in order of preference ("3 2" by default).
	ACR string
	// Authz asks for mc_authz with these texts (ClientName and Context
	// required).
	Authz          bool
	ClientName     string
	Context        string
	BindingMessage string
	// Version is the MC version (default mc_di_r2_v2.3).
	Version string
	// Extra parameters for the authorization request.
	Extra url.Values
}

// LoginResult is a checked login.
type LoginResult struct {
	IDToken      string         `json:"id_token"`
	AccessToken  string         `json:"access_token"`
	RefreshToken string         `json:"refresh_token,omitempty"`
	Claims       map[string]any `json:"claims"`
	// Alg and KeyID are the id_token's JWS header.
	Alg   string `json:"alg"`
	KeyID string `json:"kid"`
}

func (r *RP) client() *http.Client {
	hc := http.Client{Timeout: 30 * time.Second}
	if r.HTTPClient != nil {
		hc = *r.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// Discover reads the gateway's discovery document and checks its issuer.
func (r *RP) Discover(ctx context.Context) (*Discovery, error) {
	var d Discovery
	if err := r.getJSON(ctx, strings.TrimRight(r.Issuer, "/")+"/.well-known/openid-configuration", &d); err != nil {
		return nil, err
	}
	if d.Issuer != strings.TrimRight(r.Issuer, "/") {
		return nil, fmt.Errorf("mobileconnect: discovery names issuer %q, not %q", d.Issuer, r.Issuer)
	}
	return &d, nil
}

func (r *RP) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := r.client().Do(req)
	if err != nil {
		return fmt.Errorf("mobileconnect: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mobileconnect: GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// Login runs the code flow for req and returns the checked tokens. A
// refusal by the gateway comes back as *Error.
func (r *RP) Login(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	d, err := r.Discover(ctx)
	if err != nil {
		return nil, err
	}
	redirect := r.RedirectURI
	if redirect == "" {
		redirect = "http://127.0.0.1:9/callback"
	}
	state, err := randomToken(cryptoRand{}, 12)
	if err != nil {
		return nil, err
	}
	nonce, err := randomToken(cryptoRand{}, 12)
	if err != nil {
		return nil, err
	}
	if req.ACR == "" {
		req.ACR = "3 2"
	}
	if req.Version == "" {
		req.Version = "mc_di_r2_v2.3"
	}
	hint := HintMSISDN + ":" + strings.TrimPrefix(req.MSISDN, "+")
	q := url.Values{"client_id": {r.ClientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid mc_authn"}, "version": {req.Version}, "acr_values": {req.ACR}, "state": {state}, "nonce": {nonce},
		"login_hint": {hint}}
	if req.Authz {
		q.Set("scope", "openid mc_authz")
	}
	for k, v := range map[string]string{"client_name": req.ClientName, "context": req.Context, "binding_message": req.BindingMessage} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, vs := range req.Extra {
		q[k] = vs
	}
	loc, err := r.headless(ctx, d.AuthorizationEndpoint+"?"+q.Encode(), state, nonce)
	if err != nil {
		return nil, err
	}
	cb, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, redirect) {
		return nil, fmt.Errorf("mobileconnect: the gateway redirected to %q, not the redirect_uri", loc)
	}
	cq := cb.Query()
	if cq.Get("state") != state {
		return nil, errors.New("mobileconnect: the redirect's state is not ours")
	}
	if e := cq.Get("error"); e != "" {
		return nil, &Error{Code: e, Description: cq.Get("error_description")}
	}
	tr, err := r.exchange(ctx, d.TokenEndpoint, url.Values{"grant_type": {grantCode}, "code": {cq.Get("code")}, "redirect_uri": {redirect}})
	if err != nil {
		return nil, err
	}
	claims, hdr, err := r.Verify(ctx, d, tr.IDToken, tr.AccessToken, nonce, strings.Fields(req.ACR), hint)
	if err != nil {
		return nil, err
	}
	return &LoginResult{IDToken: tr.IDToken, AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Claims: claims,
		Alg: hdr.Algorithm, KeyID: hdr.KeyID}, nil
}

// headless fetches the authorize URL until it redirects, as the GSMA SDKs
// do, and returns the Location.
func (r *RP) headless(ctx context.Context, u, state, nonce string) (string, error) {
	poll := r.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for waited := false; ; {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", err
		}
		resp, err := r.client().Do(req)
		if err != nil {
			return "", fmt.Errorf("mobileconnect: authorize: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusFound, http.StatusSeeOther:
			return resp.Header.Get("Location"), nil
		case http.StatusOK:
		default:
			return "", fmt.Errorf("mobileconnect: authorize answered %s: %.200s", resp.Status, body)
		}
		if r.Wait != nil && !waited {
			if err := r.Wait(ctx, r.ClientID, state, nonce); err != nil {
				return "", err
			}
			waited = true
			continue
		}
		select {
		case <-time.After(poll):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// exchange posts to the token endpoint with client_secret_basic.
func (r *RP) exchange(ctx context.Context, endpoint string, form url.Values) (*TokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(r.ClientID), url.QueryEscape(r.ClientSecret))
	resp, err := r.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("mobileconnect: token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e Error
		if json.Unmarshal(body, &e) == nil && e.Code != "" {
			return nil, &e
		}
		return nil, fmt.Errorf("mobileconnect: token endpoint answered %s", resp.Status)
	}
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" || tr.IDToken == "" {
		return nil, errors.New("mobileconnect: the token response lacks access_token or id_token")
	}
	if !strings.EqualFold(tr.TokenType, "Bearer") {
		return nil, fmt.Errorf("mobileconnect: token_type %q", tr.TokenType)
	}
	return &tr, nil
}

// Verify checks an id_token: its signature with the key its kid names in
// the gateway's JWKS (ES256 or RS256 only), iss, aud, azp, exp and iat, the
// nonce, acr among acceptable, at_hash against the access token, and
// hashed_login_hint against the login_hint sent (when one was).
func (r *RP) Verify(ctx context.Context, d *Discovery, idToken, accessToken, nonce string, acceptable []string, loginHint string) (map[string]any, jose.Header, error) {
	tok, err := jwt.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return nil, jose.Header{}, fmt.Errorf("mobileconnect: id_token: %w", err)
	}
	hdr := tok.Headers[0]
	var set jose.JSONWebKeySet
	if err := r.getJSON(ctx, d.JWKSURI, &set); err != nil {
		return nil, hdr, err
	}
	keys := set.Key(hdr.KeyID)
	if hdr.KeyID == "" || len(keys) != 1 || keys[0].Use != "sig" {
		return nil, hdr, fmt.Errorf("mobileconnect: id_token kid %q names no signing key in the JWKS", hdr.KeyID)
	}
	var std jwt.Claims
	var claims map[string]any
	if err := tok.Claims(keys[0].Key, &std, &claims); err != nil {
		return nil, hdr, fmt.Errorf("mobileconnect: id_token signature: %w", err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: d.Issuer, AnyAudience: jwt.Audience{r.ClientID}, Time: time.Now()}, time.Minute); err != nil {
		return nil, hdr, fmt.Errorf("mobileconnect: id_token: %w", err)
	}
	if std.IssuedAt == nil || std.Expiry == nil {
		return nil, hdr, errors.New("mobileconnect: id_token lacks iat or exp")
	}
	if azp, ok := claims["azp"]; ok && azp != r.ClientID {
		return nil, hdr, errors.New("mobileconnect: id_token azp is another client")
	}
	if claims["nonce"] != nonce {
		return nil, hdr, errors.New("mobileconnect: id_token nonce is not ours")
	}
	acr, _ := claims["acr"].(string)
	if !slices.Contains(acceptable, acr) {
		return nil, hdr, fmt.Errorf("mobileconnect: id_token acr %q is not one of %v", acr, acceptable)
	}
	if ah, _ := claims["at_hash"].(string); accessToken != "" && ah != atHash(accessToken) {
		return nil, hdr, errors.New("mobileconnect: id_token at_hash does not match the access token")
	}
	if loginHint != "" && claims["hashed_login_hint"] != HashLoginHint(loginHint) {
		return nil, hdr, errors.New("mobileconnect: id_token hashed_login_hint does not match the login_hint sent")
	}
	return claims, hdr, nil
}
