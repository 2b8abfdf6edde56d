package mobileconnect

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// SILogin is a Server-Initiated login for RP.SI.
type SILogin struct {
	LoginRequest
	// Mode is "async" (mc_si_async_code: the gateway notifies a listener
	// the RP opens on loopback; default) or "polling" (mc_si_polling).
	Mode string
	// Key signs the request object (ES256 for EC keys, RS256 for RSA);
	// nil signs HS256 with the client secret (at least 32 bytes).
	Key           crypto.Signer
	CorrelationID string
	// NotificationURI, in polling mode, is the notification_uri the
	// request object names (registered for the client): the id_token's
	// recipient then. Async mode names the listener it opens.
	NotificationURI string
}

// SI runs a Server-Initiated login: it signs the request object, posts it
// to si_authorization_endpoint, then takes the tokens from the
// notification (async) or by polling the token endpoint with the SI grant
// (polling), and checks the id_token as Login does (plus recipient when
// the request named a notification_uri).
func (r *RP) SI(ctx context.Context, req SILogin) (*LoginResult, error) {
	d, err := r.Discover(ctx)
	if err != nil {
		return nil, err
	}
	if req.ACR == "" {
		req.ACR = "3 2"
	}
	nonce, err := randomToken(cryptoRand{}, 12)
	if err != nil {
		return nil, err
	}
	notifyToken, err := randomToken(cryptoRand{}, 16)
	if err != nil {
		return nil, err
	}
	hint := HintMSISDN + ":" + strings.TrimPrefix(req.MSISDN, "+")
	scope := "openid mc_authn"
	if req.Authz {
		scope = "openid mc_authz"
	}
	rt := SIAsync
	if req.Mode == "polling" {
		rt = SIPolling
	}
	now := time.Now()
	claims := map[string]any{"response_type": rt, "client_id": r.ClientID, "scope": scope, "version": siVersion,
		"nonce": nonce, "login_hint": hint, "acr_values": req.ACR, "client_notification_token": notifyToken,
		"iss": r.ClientID, "aud": d.Issuer, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range map[string]string{"client_name": req.ClientName, "context": req.Context,
		"binding_message": req.BindingMessage, "correlation_id": req.CorrelationID} {
		if v != "" {
			claims[k] = v
		}
	}
	var notes chan map[string]any
	if rt == SIAsync {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		notes = make(chan map[string]any, 1)
		srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: notificationHandler(notifyToken, notes)}
		go srv.Serve(ln)
		defer srv.Close()
		claims["notification_uri"] = "http://" + ln.Addr().String() + "/notify"
	} else if req.NotificationURI != "" {
		claims["notification_uri"] = req.NotificationURI
	}
	obj, err := signRequestObject(claims, req.Key, r.ClientSecret)
	if err != nil {
		return nil, err
	}
	form := url.Values{"client_id": {r.ClientID}, "scope": {scope}, "response_type": {rt}, "request": {obj}}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, d.SIAuthorizationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := r.client().Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("mobileconnect: si-authorize: %w", err)
	}
	var ack struct {
		AuthReqID     string `json:"auth_req_id"`
		ExpiresIn     int    `json:"expires_in"`
		CorrelationID string `json:"correlation_id"`
		Error
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ack)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("mobileconnect: si-authorize answered %s", resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &ack.Error
	}
	if ack.AuthReqID == "" || ack.CorrelationID != req.CorrelationID {
		return nil, errors.New("mobileconnect: si-authorize acknowledged without auth_req_id or with another correlation_id")
	}
	var tr *TokenResponse
	if rt == SIAsync {
		var n map[string]any
		select {
		case n = <-notes:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if n["auth_req_id"] != ack.AuthReqID {
			return nil, errors.New("mobileconnect: a notification for another auth_req_id")
		}
		if e, _ := n["error"].(string); e != "" {
			desc, _ := n["error_description"].(string)
			return nil, &Error{Code: e, Description: desc}
		}
		tr = &TokenResponse{}
		tr.AccessToken, _ = n["access_token"].(string)
		tr.IDToken, _ = n["id_token"].(string)
	} else if tr, err = r.pollSI(ctx, d.TokenEndpoint, ack.AuthReqID, GrantSI); err != nil {
		return nil, err
	}
	c, hdr, err := r.Verify(ctx, d, tr.IDToken, tr.AccessToken, nonce, strings.Fields(req.ACR), hint)
	if err != nil {
		return nil, err
	}
	if uri, named := claims["notification_uri"]; named && c["recipient"] != uri {
		return nil, errors.New("mobileconnect: SI id_token recipient is not our notification_uri")
	}
	return &LoginResult{IDToken: tr.IDToken, AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Claims: c,
		Alg: hdr.Algorithm, KeyID: hdr.KeyID}, nil
}

// pollSI polls the token endpoint with grant until tokens or an error
// other than authorization_pending and slow_down.
func (r *RP) pollSI(ctx context.Context, endpoint, id, grant string) (*TokenResponse, error) {
	poll := max(r.Poll, time.Second)
	if r.WaitBackchannel != nil {
		if err := r.WaitBackchannel(ctx, id); err != nil {
			return nil, err
		}
	}
	for {
		tr, err := r.exchange(ctx, endpoint, url.Values{"grant_type": {grant}, "auth_req_id": {id}})
		var e *Error
		if !errors.As(err, &e) || (e.Code != ErrAuthorizationPending && e.Code != ErrSlowDown) {
			return tr, err
		}
		if e.Code == ErrSlowDown {
			poll += 5 * time.Second // CIBA Core §11
		}
		select {
		case <-time.After(poll):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// notificationHandler receives the gateway's SI notification: a POST with
// the client_notification_token as Bearer.
func notificationHandler(token string, out chan<- map[string]any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var n map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&n); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		select {
		case out <- n:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// signRequestObject signs claims with key (ES256/RS256, kid = its RFC 7638
// thumbprint) or, without one, HS256 with secret.
func signRequestObject(claims map[string]any, key crypto.Signer, secret string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	var sk jose.SigningKey
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if key == nil {
		sk = jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)}
	} else {
		alg := jose.RS256
		if _, ok := key.Public().(*ecdsa.PublicKey); ok {
			alg = jose.ES256
		}
		j := jose.JSONWebKey{Key: key.Public()}
		op := cryptosigner.Opaque(key)
		op.Public().KeyID = thumbprint(&j)
		sk = jose.SigningKey{Algorithm: alg, Key: op}
	}
	s, err := jose.NewSigner(sk, opts)
	if err != nil {
		return "", fmt.Errorf("mobileconnect: request object: %w", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("mobileconnect: request object: %w", err)
	}
	return jws.CompactSerialize()
}
