package mobileconnect

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// clientJWTAlgs are the algorithms of JWTs a client signs: request objects
// and login_hint_tokens. "none" is never among them.
var clientJWTAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.HS256}

// maxClientJWT bounds a client-signed JWT, in bytes.
const maxClientJWT = 16 << 10

// DecodeClientJWT parses a JWT signed by a client and verifies it: RS256
// or ES256 against the client's registered keys (by kid when the header
// names one), HS256 with the client secret (which RFC 7518 §3.2 wants at
// least 32 bytes long). It returns the claims; their meaning is the
// caller's.
func DecodeClientJWT(raw string, secret string, keys *jose.JSONWebKeySet) (map[string]any, error) {
	if len(raw) > maxClientJWT {
		return nil, errors.New("mobileconnect: JWT too long")
	}
	tok, err := jwt.ParseSigned(raw, clientJWTAlgs)
	if err != nil {
		return nil, errors.New("mobileconnect: not a JWS signed RS256, ES256 or HS256")
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("mobileconnect: JWT needs exactly one signature")
	}
	h := tok.Headers[0]
	var claims map[string]any
	switch jose.SignatureAlgorithm(h.Algorithm) {
	case jose.HS256:
		if len(secret) < 32 {
			return nil, errors.New("mobileconnect: HS256 needs a client secret of at least 32 bytes (RFC 7518 §3.2)")
		}
		if err := tok.Claims([]byte(secret), &claims); err != nil {
			return nil, errors.New("mobileconnect: HS256 signature does not verify with the client secret")
		}
	default:
		if keys == nil || len(keys.Keys) == 0 {
			return nil, errors.New("mobileconnect: the client has no registered keys (jwks)")
		}
		cands := keys.Keys
		if h.KeyID != "" {
			// The key the header names, or else the keys registered
			// without a kid.
			if cands = keys.Key(h.KeyID); len(cands) == 0 {
				for _, k := range keys.Keys {
					if k.KeyID == "" {
						cands = append(cands, k)
					}
				}
			}
		}
		ok := false
		for _, k := range cands {
			if k.Use == "enc" {
				continue
			}
			if err := tok.Claims(k.Key, &claims); err == nil {
				ok = true
				break
			}
		}
		if !ok {
			return nil, errors.New("mobileconnect: signature does not verify with the client's keys")
		}
	}
	if claims == nil {
		return nil, errors.New("mobileconnect: JWT payload is not a JSON object")
	}
	return claims, nil
}

// checkTimes applies exp, nbf and iat (with a minute of leeway) to a
// client JWT's claims.
func checkTimes(c map[string]any, now time.Time) error {
	leeway := int64(60)
	n := now.Unix()
	if exp, ok := numClaim(c, "exp"); ok && n > exp+leeway {
		return errors.New("mobileconnect: JWT expired")
	}
	if nbf, ok := numClaim(c, "nbf"); ok && n+leeway < nbf {
		return errors.New("mobileconnect: JWT not valid yet")
	}
	if iat, ok := numClaim(c, "iat"); ok && n+leeway < iat {
		return errors.New("mobileconnect: JWT issued in the future")
	}
	return nil
}

func numClaim(c map[string]any, k string) (int64, bool) {
	switch v := c[k].(type) {
	case float64:
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

func strClaim(c map[string]any, k string) string {
	s, _ := c[k].(string)
	return s
}

// audienceHas reports whether the aud claim (string or array) names want.
func audienceHas(c map[string]any, want ...string) bool {
	switch v := c["aud"].(type) {
	case string:
		return slices.Contains(want, strings.TrimRight(v, "/"))
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && slices.Contains(want, strings.TrimRight(s, "/")) {
				return true
			}
		}
	}
	return false
}

// loginHintFromToken reads a login_hint_token (OpenID MODRNA
// Authentication §6): a JWT the client signs (as its request objects),
// whose login_hint claim is a login hint ("MSISDN:…", "ENCR_MSISDN:…",
// "PCR:…"), or whose phone_number claim is the number.
func (g *Gateway) loginHintFromToken(cl *registered, raw string) (string, *Error) {
	c, err := DecodeClientJWT(raw, cl.Secret, cl.jwks)
	if err != nil {
		return "", newError(ErrInvalidRequest, "login_hint_token: "+trimPkg(err))
	}
	if err := checkTimes(c, g.deps.Now()); err != nil {
		return "", newError(ErrInvalidRequest, "login_hint_token: "+trimPkg(err))
	}
	if iss := strClaim(c, "iss"); iss != "" && iss != cl.ID {
		return "", newError(ErrInvalidRequest, "login_hint_token: iss must be the client_id")
	}
	if h := strClaim(c, "login_hint"); h != "" {
		return h, nil
	}
	if p := strClaim(c, "phone_number"); p != "" {
		// As login_hint would name it: what hashed_login_hint hashes.
		return HintMSISDN + ":" + strings.TrimPrefix(p, "+"), nil
	}
	return "", newError(ErrInvalidRequest, "login_hint_token: needs a login_hint or phone_number claim")
}
