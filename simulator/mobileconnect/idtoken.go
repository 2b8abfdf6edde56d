package mobileconnect

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/simlab-dev/simlab/applet/authn"
)

// HashLoginHint is the hashed_login_hint claim: lowercase hex SHA-256 of
// the login_hint as sent, prefix included (MOBILE-CONNECT.md §1.4).
func HashLoginHint(hint string) string {
	h := sha256.Sum256([]byte(hint))
	return hex.EncodeToString(h[:])
}

// atHash is OpenID Connect Core §3.1.3.6's at_hash for ES256 and RS256:
// base64url of the left half of SHA-256 of the access token.
func atHash(accessToken string) string {
	h := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// DTS encodes the card's signed answer as the dts claim: base64url of the
// challenge template (A0 …) followed by the response template (A1 …), both
// self-delimiting BER-TLV. An RP splits them and checks the signature with
// the upk claim as docs/applet-protocol.md says.
func DTS(challenge []byte, resp *authn.Response) string {
	b := append([]byte(nil), challenge...)
	b = authn.AppendResponse(b, resp)
	return base64.RawURLEncoding.EncodeToString(b)
}

// subject returns the session's sub: its PCR for the client.
func (g *Gateway) subject(ctx context.Context, sess *session) (string, error) {
	return g.keys.pcr(ctx, sess.clientID, sess.msisdn)
}

// idTokenClaims builds the id_token of a session (OpenID Connect Core §2
// plus Mobile Connect's claims). accessToken may be empty (no at_hash).
func (g *Gateway) idTokenClaims(ctx context.Context, sess *session, accessToken string, withNonce bool) (map[string]any, error) {
	sub, err := g.subject(ctx, sess)
	if err != nil {
		return nil, err
	}
	jti, err := randomToken(g.deps.Rand, 12)
	if err != nil {
		return nil, err
	}
	now := g.deps.Now()
	c := map[string]any{
		"iss": g.issuer, "aud": sess.clientID, "azp": sess.clientID, "sub": sub,
		"acr": sess.acr, "amr": sess.amr, "auth_time": sess.authTime.Unix(),
		"iat": now.Unix(), "exp": now.Add(g.cfg.TokenTTL).Unix(), "jti": jti,
	}
	if withNonce && sess.nonce != "" {
		c["nonce"] = sess.nonce
	}
	if accessToken != "" {
		c["at_hash"] = atHash(accessToken)
	}
	if sess.loginHint != "" {
		c["hashed_login_hint"] = HashLoginHint(sess.loginHint)
	}
	if sess.authz {
		c["displayed_data"] = sess.displayed
	}
	if a := sess.answer; a != nil {
		c["dts"] = DTS(a.Challenge, &a.Response)
		c["dts_time"] = int64(a.Response.DTSTime)
		if a.Public != nil {
			c["upk"] = jose.JSONWebKey{Key: a.Public, Use: "sig", Algorithm: "ES256"}
		}
	}
	if sess.recipient != "" {
		c["recipient"] = sess.recipient
	}
	applyFaults(c, sess, now)
	return c, nil
}

// sign signs a session's claims with the client's algorithm (the current
// key), or as an injected fault says.
func (g *Gateway) sign(cl *registered, sess *session, claims map[string]any) (string, error) {
	if out, faulty, err := g.signFaulty(sess, claims); faulty {
		return out, err
	}
	sk := g.keys.signer(g.algFor(&cl.Client))
	if sk == nil {
		return "", fmt.Errorf("mobileconnect: no signing key")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := sk.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("mobileconnect: signing: %w", err)
	}
	return jws.CompactSerialize()
}
