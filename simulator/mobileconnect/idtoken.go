package mobileconnect

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/simlab-dev/simlab/applet/authn"
)

// HashLoginHint is the hashed_login_hint claim: lowercase hex SHA-256 of
// the login_hint as sent, prefix included (MOBILE-CONNECT.md §1.4).
func HashLoginHint(hint string) string {
	h := sum256(hint)
	var enc [64]byte // hex on the stack: the string is the one allocation
	hex.Encode(enc[:], h[:])
	return string(enc[:])
}

// atHash is OpenID Connect Core §3.1.3.6's at_hash for ES256 and RS256:
// base64url of the left half of SHA-256 of the access token.
func atHash(accessToken string) string {
	h := sum256(accessToken)
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// DTS encodes the card's signed answer as the dts claim: base64url of the
// challenge template (A0 …) followed by the response template (A1 …), both
// self-delimiting BER-TLV. An RP splits them and checks the signature with
// the upk claim as docs/applet-protocol.md says.
func DTS(challenge []byte, resp *authn.Response) string {
	// The raw bytes in one buffer of their usual size (a LoA3 answer's
	// are about 150 bytes), the base64url on the stack: two allocations,
	// the buffer and the string, where growing and encoding made five.
	var raw [256]byte
	var enc [344]byte
	b := append(raw[:0], challenge...)
	b = authn.AppendResponse(b, resp)
	return string(base64.RawURLEncoding.AppendEncode(enc[:0], b))
}

// subject returns the session's sub: its PCR for the client.
func (g *Gateway) subject(ctx context.Context, sess *session) (string, error) {
	return g.keys.pcr(ctx, sess.clientID, sess.msisdn)
}

// idClaims is an id_token's claim set (OpenID Connect Core §2 plus
// Mobile Connect's, MOBILE-CONNECT.md §1.4). A struct, not a map: it
// encodes in a fixed order without sorting keys or boxing values.
type idClaims struct {
	Iss           string          `json:"iss"`
	Aud           string          `json:"aud"`
	Azp           string          `json:"azp"`
	Sub           string          `json:"sub"`
	ACR           string          `json:"acr,omitempty"`
	AMR           []string        `json:"amr"`
	AuthTime      int64           `json:"auth_time"`
	Iat           int64           `json:"iat"`
	Exp           int64           `json:"exp"`
	JTI           string          `json:"jti"`
	Nonce         string          `json:"nonce,omitempty"`
	AtHash        string          `json:"at_hash,omitempty"`
	HashedHint    string          `json:"hashed_login_hint,omitempty"`
	DisplayedData *displayedData  `json:"displayed_data,omitempty"`
	DTS           string          `json:"dts,omitempty"`
	DTSTime       *int64          `json:"dts_time,omitempty"`
	UPK           json.RawMessage `json:"upk,omitempty"`
	Recipient     string          `json:"recipient,omitempty"`
	CIBAAuthReqID string          `json:"urn:openid:params:jwt:claim:auth_req_id,omitempty"`
	// dtsTime is what DTSTime points to, held here rather than in an
	// allocation of its own.
	dtsTime int64
}

// idTokenClaims builds the id_token of a session. accessToken may be
// empty (no at_hash).
func (g *Gateway) idTokenClaims(ctx context.Context, sess *session, accessToken string, withNonce bool) (*idClaims, error) {
	sub, err := g.subject(ctx, sess)
	if err != nil {
		return nil, err
	}
	jti, err := randomToken(g.deps.Rand, 12)
	if err != nil {
		return nil, err
	}
	now := g.deps.Now()
	c := &idClaims{Iss: g.issuer, Aud: sess.clientID, Azp: sess.clientID, Sub: sub, ACR: sess.acr, AMR: sess.amr,
		AuthTime: sess.authTime.Unix(), Iat: now.Unix(), Exp: now.Add(g.cfg.TokenTTL).Unix(), JTI: jti, Recipient: sess.recipient}
	if withNonce {
		c.Nonce = sess.nonce
	}
	if accessToken != "" {
		c.AtHash = atHash(accessToken)
	}
	if sess.loginHint != "" {
		c.HashedHint = HashLoginHint(sess.loginHint)
	}
	if sess.authz {
		c.DisplayedData = &sess.displayed
	}
	if a := sess.answer; a != nil {
		c.DTS = DTS(a.Challenge, &a.Response)
		c.dtsTime = int64(a.Response.DTSTime)
		c.DTSTime = &c.dtsTime
		if a.Public != nil {
			c.UPK = ecJWK(a.Public)
		}
	}
	applyFaults(c, sess, now)
	return c, nil
}

// ecJWK is a P-256 public key as a JWK (RFC 7518 §6.2.1) for the upk
// claim: written directly, since go-jose's JSONWebKey would check and
// re-encode the key through reflection on every login.
func ecJWK(pub *ecdsa.PublicKey) json.RawMessage {
	raw, err := pub.Bytes() // 0x04 ‖ x ‖ y (SEC 1 §2.3.3)
	if err != nil || len(raw) != 65 {
		return nil
	}
	b := make([]byte, 0, 160)
	b = append(b, `{"use":"sig","kty":"EC","crv":"P-256","alg":"ES256","x":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, raw[1:33])
	b = append(b, `","y":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, raw[33:])
	return append(b, `"}`...)
}

// IssuedIDToken is an id_token the gateway issued, decoded for a list of
// logins: its JOSE header and its claim set, never the token itself.
type IssuedIDToken struct {
	// Alg and Kid are the JOSE header's (alg "none" and no kid under the
	// alg_none fault).
	Alg string
	Kid string
	// Published is false when no key of the JWKS signed it (the
	// unknown_key and alg_none faults).
	Published bool
	// Faults are the faults injected into this token.
	Faults []string
	// Claims is the claim set exactly as encoded for signing (JSON). It
	// holds the CIBA auth_req_id claim when there is one: a reader keeps
	// only the claims it shows.
	Claims []byte
}

// sign signs a session's claims with the client's algorithm (the current
// key), or as an injected fault says. When the session's login is traced
// it also returns the token decoded: the payload already encoded for
// signing, kept rather than encoded again.
func (g *Gateway) sign(cl *registered, sess *session, claims *idClaims) (string, *IssuedIDToken, error) {
	// Written into a pooled buffer (the same bytes as json.Marshal,
	// appendClaims), kept only when the login is traced.
	buf := getBuffer()
	defer putBuffer(buf)
	payload := appendClaims(buf.AvailableBuffer(), claims)
	var info *IssuedIDToken
	if sess.trace != nil {
		info = &IssuedIDToken{Claims: bytes.Clone(payload), Faults: sess.faults, Published: true}
	}
	if out, faulty, err := g.signFaulty(sess, payload, info); faulty {
		return out, info, err
	}
	sk := g.keys.signer(g.algFor(&cl.Client))
	if sk == nil {
		return "", nil, fmt.Errorf("mobileconnect: no signing key")
	}
	if info != nil {
		info.Alg, info.Kid = string(sk.alg), sk.kid
	}
	out, err := sk.signCompact(payload)
	return out, info, err
}

// signCompact is the JWS compact serialisation (RFC 7515 §7.1) of payload
// signed with the key: the protected header is encoded once per key, the
// payload once, and the key store's signer sees only the SHA-256 digest.
// go-jose (which verifies these tokens in the tests, as go-oidc, zitadel
// and openid-client do) re-encodes its header for every signature.
func (sk *sigKey) signCompact(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	// Put together in a pooled buffer: the token's one allocation is the
	// string returned.
	buf := getBuffer()
	defer putBuffer(buf)
	buf.Grow(len(sk.header) + 1 + enc.EncodedLen(len(payload)) + 1 + enc.EncodedLen(512))
	b := buf.AvailableBuffer()
	b = append(b, sk.header...)
	b = append(b, '.')
	b = enc.AppendEncode(b, payload)
	digest := sha256.Sum256(b)
	// No Reader: crypto/ecdsa (the soft key store's constant-time signer)
	// then signs deterministically as RFC 6979 says, in constant time,
	// its nonce from an HMAC-DRBG over SHA-256 instead of the hedged
	// SHA-512 one: 24.9-37.0 µs a signature against 33.9-47.3 µs
	// (BenchmarkES256Sign, docs/benchmarks.md (v)). RSA PKCS #1 v1.5 takes
	// no randomness, and a PKCS #11 token its own.
	sig, err := sk.key.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("mobileconnect: signing: %w", err)
	}
	if sk.alg == jose.ES256 {
		// crypto.Signer gives ECDSA signatures in ASN.1; JWS wants r ‖ s,
		// each 32 bytes (RFC 7518 §3.4).
		if sig, err = rawECDSA(sig); err != nil {
			return "", err
		}
	}
	b = append(b, '.')
	b = enc.AppendEncode(b, sig)
	return string(b), nil
}

// rawECDSA converts an ASN.1 ECDSA-Sig-Value (RFC 3279 §2.2.3) to the
// 64-byte r ‖ s.
func rawECDSA(der []byte) ([]byte, error) {
	in := cryptobyte.String(der)
	var seq, r, s cryptobyte.String
	out := make([]byte, 64)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1(&r, asn1.INTEGER) || !seq.ReadASN1(&s, asn1.INTEGER) ||
		!seq.Empty() || !fixed32(out[:32], r) || !fixed32(out[32:], s) {
		return nil, errors.New("mobileconnect: signing: the key store's ECDSA signature is malformed")
	}
	return out, nil
}

// fixed32 writes a positive ASN.1 INTEGER's content bytes right-aligned
// into dst (32 bytes); false for a negative or too long one.
func fixed32(dst []byte, v []byte) bool {
	if len(v) == 0 || v[0]&0x80 != 0 {
		return false
	}
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > len(dst) {
		return false
	}
	copy(dst[len(dst)-len(v):], v)
	return true
}
