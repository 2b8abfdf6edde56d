package mobileconnect

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Faults an RP's tests can inject (docs/mobile-connect.md, "Faults"), in
// the manner of the GOV.UK One Login simulator's error lists.
const (
	FaultUnknownKey      = "unknown_key"             // id_token signed by a key not in the JWKS
	FaultAlgNone         = "alg_none"                // id_token unsigned, alg "none"
	FaultWrongIss        = "wrong_iss"               // another iss
	FaultWrongAud        = "wrong_aud"               // another aud (and azp)
	FaultWrongNonce      = "wrong_nonce"             // another nonce
	FaultExpired         = "expired"                 // exp an hour ago
	FaultACRMissing      = "acr_missing"             // no acr claim
	FaultACRLower        = "acr_lower"               // acr lower than achieved
	FaultWrongLoginHint  = "wrong_hashed_login_hint" // hashed_login_hint of another number
	FaultSlowToken       = "slow_token"              // the token endpoint answers after token_delay
	defaultSlowTokenWait = 5 * time.Second
)

var allFaults = []string{FaultUnknownKey, FaultAlgNone, FaultWrongIss, FaultWrongAud, FaultWrongNonce, FaultExpired,
	FaultACRMissing, FaultACRLower, FaultWrongLoginHint, FaultSlowToken}

// FaultRule injects faults into the tokens of a client's logins (every
// client when ClientID is empty): into every login, or with Next only into
// the next one to finish.
type FaultRule struct {
	ClientID string   `json:"client_id,omitempty"`
	Faults   []string `json:"faults"`
	Next     bool     `json:"next,omitempty"`
	// TokenDelay is how long slow_token holds the token endpoint (default
	// 5 s), as a Go duration ("2s").
	TokenDelay string `json:"token_delay,omitempty"`
}

// faults holds the rules, per client.
type faults struct {
	mu    sync.Mutex
	rules []FaultRule
	// unknown is the key that signs unknown_key tokens: never published.
	unknown    jose.Signer
	unknownKid string
}

func (f *faults) validate(r FaultRule) error {
	if len(r.Faults) == 0 {
		return fmt.Errorf("faults: name at least one of %v", allFaults)
	}
	for _, x := range r.Faults {
		if !slices.Contains(allFaults, x) {
			return fmt.Errorf("faults: unknown fault %q (want one of %v)", x, allFaults)
		}
	}
	if r.TokenDelay != "" {
		d, err := time.ParseDuration(r.TokenDelay)
		if err != nil || d < 0 || d > 5*time.Minute {
			return fmt.Errorf("faults: token_delay %q: want a duration up to 5m", r.TokenDelay)
		}
	}
	return nil
}

// take returns the faults for a login of clientID that has just finished,
// consuming a Next rule.
func (f *faults) take(clientID string) (names []string, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	keep := f.rules[:0]
	for _, r := range f.rules {
		if r.ClientID != "" && r.ClientID != clientID {
			keep = append(keep, r)
			continue
		}
		names = append(names, r.Faults...)
		if r.TokenDelay != "" {
			delay, _ = time.ParseDuration(r.TokenDelay)
		}
		if !r.Next {
			keep = append(keep, r)
		}
	}
	f.rules = keep
	if delay == 0 && slices.Contains(names, FaultSlowToken) {
		delay = defaultSlowTokenWait
	}
	return names, delay
}

// applyFaults changes an id_token's claims as the session's faults say.
func applyFaults(c *idClaims, sess *session, now time.Time) {
	for _, f := range sess.faults {
		switch f {
		case FaultWrongIss:
			c.Iss += "/not-the-issuer"
		case FaultWrongAud:
			c.Aud, c.Azp = "some-other-client", "some-other-client"
		case FaultWrongNonce:
			c.Nonce = "not-your-nonce"
		case FaultExpired:
			c.Iat, c.Exp = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		case FaultACRMissing:
			c.ACR = ""
		case FaultACRLower:
			if c.ACR == "3" {
				c.ACR = "2"
			} else {
				c.ACR = "1"
			}
		case FaultWrongLoginHint:
			c.HashedHint = HashLoginHint("MSISDN:0")
		}
	}
}

// signFaulty signs the claims (payload) the way the session's faults say,
// or returns false when no signing fault applies.
// info, when set, learns the header.
func (g *Gateway) signFaulty(sess *session, payload []byte, info *IssuedIDToken) (string, bool, error) {
	switch {
	case slices.Contains(sess.faults, FaultAlgNone):
		if info != nil {
			info.Alg, info.Published = "none", false
		}
		hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return hdr + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", true, nil
	case slices.Contains(sess.faults, FaultUnknownKey):
		s, kid, err := g.unknownSigner()
		if err != nil {
			return "", true, err
		}
		jws, err := s.Sign(payload)
		if err != nil {
			return "", true, err
		}
		if info != nil {
			info.Alg, info.Kid, info.Published = string(jose.ES256), kid, false
		}
		out, err := jws.CompactSerialize()
		return out, true, err
	}
	return "", false, nil
}

// unknownSigner is an ES256 key made for unknown_key and never published;
// its kid is its thumbprint, so an RP finds no such key in the JWKS.
func (g *Gateway) unknownSigner() (jose.Signer, string, error) {
	g.faults.mu.Lock()
	defer g.faults.mu.Unlock()
	if g.faults.unknown != nil {
		return g.faults.unknown, g.faults.unknownKid, nil
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	j := jose.JSONWebKey{Key: k.Public()}
	kid := thumbprint(&j)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, "", err
	}
	g.faults.unknown, g.faults.unknownKid = s, kid
	return s, kid, nil
}

// slowToken holds the token endpoint when the session's faults ask for it.
func (g *Gateway) slowToken(ctx context.Context, sess *session) {
	if sess.tokenDelay <= 0 {
		return
	}
	select {
	case <-g.deps.After(sess.tokenDelay):
	case <-ctx.Done():
	}
}

// GET /api/v1/mc/faults
func (g *Gateway) handleGetFaults(w http.ResponseWriter, r *http.Request) {
	g.faults.mu.Lock()
	rules := slices.Clone(g.faults.rules)
	g.faults.mu.Unlock()
	if rules == nil {
		rules = []FaultRule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rules, "faults": allFaults})
}

// POST /api/v1/mc/faults adds a rule.
func (g *Gateway) handleAddFault(w http.ResponseWriter, r *http.Request) {
	var rule FaultRule
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rule); err != nil {
		newError(ErrInvalidRequest, "body must be a fault rule (JSON): "+err.Error()).writeJSON(w)
		return
	}
	if err := g.faults.validate(rule); err != nil {
		newError(ErrInvalidRequest, err.Error()).writeJSON(w)
		return
	}
	g.faults.mu.Lock()
	if len(g.faults.rules) >= 1000 {
		g.faults.mu.Unlock()
		newError(ErrInvalidRequest, "too many fault rules").writeJSON(w)
		return
	}
	g.faults.rules = append(g.faults.rules, rule)
	g.faults.mu.Unlock()
	g.log.Info("mc: fault rule added", "client_id", rule.ClientID, "faults", rule.Faults, "next", rule.Next)
	writeJSON(w, http.StatusCreated, rule)
}

// DELETE /api/v1/mc/faults[?client_id=…] removes the rules (of a client).
func (g *Gateway) handleDeleteFaults(w http.ResponseWriter, r *http.Request) {
	id, only := r.URL.Query().Get("client_id"), r.URL.Query().Has("client_id")
	g.faults.mu.Lock()
	keep := g.faults.rules[:0]
	for _, rule := range g.faults.rules {
		if only && rule.ClientID != id {
			keep = append(keep, rule)
		}
	}
	g.faults.rules = keep
	g.faults.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
