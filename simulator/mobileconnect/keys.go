package mobileconnect

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/simlab-dev/simlab/hsm"
)

// Key labels in the key store. Signing keys are numbered; the highest
// number of an algorithm signs.
const (
	labelSignPrefix = "mc/sign/"
	labelPCR        = "mc/pcr"
	labelEncrMSISDN = "mc/encr-msisdn"
)

// sigKey is one id_token signing key: a key store reference and its
// public half. retire is when a rotated-out key leaves the JWKS (the last
// token it signed has expired); zero while it signs.
type sigKey struct {
	label  string
	alg    jose.SignatureAlgorithm
	kid    string
	key    crypto.Signer // the key store's
	header []byte        // the JWS protected header, base64url, encoded once
	public jose.JSONWebKey
	retire time.Time
}

// keyRing holds the gateway's keys, all in the key store: the signing
// keys (ES256 and RS256), the PCR key (HMAC-SHA256) and the ENCR_MSISDN
// key (RSA). Rotation makes a new key current and keeps the old one
// published until the tokens it signed have expired.
type keyRing struct {
	ks  hsm.Keystore
	now func() time.Time
	ttl time.Duration // the longest lifetime of a signed token

	mu      sync.RWMutex
	current map[jose.SignatureAlgorithm]*sigKey
	retired []*sigKey
	seq     map[jose.SignatureAlgorithm]int
	encr    crypto.Decrypter
	encrJWK jose.JSONWebKey
	// jwksBytes is the encoded JWKS until jwksUntil (zero: until the
	// next rotation).
	jwksBytes []byte
	jwksUntil time.Time
	// The RSA keys (RS256 signing, ENCR_MSISDN) are readied on first
	// need (the JWKS, an RS256 client, an ENCR_MSISDN hint), in the
	// background: generating them takes a few hundred milliseconds of CPU,
	// which a server whose gateway is never asked for them (most test
	// servers) does not spend. rsaDone is closed once they are ready or
	// will never be; rsaErr says whether that failed.
	rsaOnce  sync.Once
	rsaDone  chan struct{}
	rsaErr   error
	haveEncr bool // the key store held the ENCR_MSISDN key at start
}

// errKeysClosed is the RSA keys' error once the gateway has closed before
// they were asked for.
var errKeysClosed = errors.New("mobileconnect: the gateway is closed")

func newKeyRing(ctx context.Context, ks hsm.Keystore, now func() time.Time, ttl time.Duration) (*keyRing, error) {
	k := &keyRing{ks: ks, now: now, ttl: ttl, current: map[jose.SignatureAlgorithm]*sigKey{}, seq: map[jose.SignatureAlgorithm]int{}}
	infos, err := ks.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("mobileconnect: key store: %w", err)
	}
	have := map[string]bool{}
	for _, in := range infos {
		have[in.Label] = true
		// Keep numbering where a durable key store left off.
		if rest, ok := strings.CutPrefix(in.Label, labelSignPrefix); ok {
			alg, n, ok := strings.Cut(rest, "/")
			if i, err := strconv.Atoi(n); ok && err == nil && i > k.seq[jose.SignatureAlgorithm(strings.ToUpper(alg))] {
				k.seq[jose.SignatureAlgorithm(strings.ToUpper(alg))] = i
			}
		}
	}
	if err := k.ensureSigner(ctx, jose.ES256); err != nil {
		return nil, err
	}
	if !have[labelPCR] {
		if err := ks.Generate(ctx, labelPCR, hsm.HMAC); err != nil {
			return nil, fmt.Errorf("mobileconnect: PCR key: %w", err)
		}
	}
	k.rsaDone, k.haveEncr = make(chan struct{}), have[labelEncrMSISDN]
	return k, nil
}

// startRSA starts readying the RSA keys, once.
func (k *keyRing) startRSA() {
	k.rsaOnce.Do(func() {
		go func() {
			defer close(k.rsaDone)
			k.rsaErr = k.loadRSA(context.Background(), k.haveEncr)
		}()
	})
}

// settle waits for RSA keys being readied, and makes sure they will not be
// started later: the key store is about to close.
func (k *keyRing) settle() {
	k.rsaOnce.Do(func() {
		k.rsaErr = errKeysClosed
		close(k.rsaDone)
	})
	<-k.rsaDone
}

// ensureSigner loads the newest key of alg, generating the first one.
func (k *keyRing) ensureSigner(ctx context.Context, alg jose.SignatureAlgorithm) error {
	k.mu.RLock()
	n := k.seq[alg]
	k.mu.RUnlock()
	if n == 0 {
		_, err := k.rotate(ctx, alg)
		return err
	}
	sk, err := k.load(ctx, alg, n)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.current[alg] = sk
	k.mu.Unlock()
	return nil
}

// loadRSA readies the RS256 signing key and the ENCR_MSISDN key.
func (k *keyRing) loadRSA(ctx context.Context, haveEncr bool) error {
	if err := k.ensureSigner(ctx, jose.RS256); err != nil {
		return err
	}
	if !haveEncr {
		if err := k.ks.Generate(ctx, labelEncrMSISDN, hsm.RSA2048); err != nil {
			return fmt.Errorf("mobileconnect: ENCR_MSISDN key: %w", err)
		}
	}
	s, err := k.ks.Signer(ctx, labelEncrMSISDN)
	if err != nil {
		return fmt.Errorf("mobileconnect: ENCR_MSISDN key: %w", err)
	}
	// A key store whose RSA keys cannot decrypt (PKCS#11 here) still
	// publishes the key; ENCR_MSISDN hints then fail with a clear error.
	d, _ := s.(crypto.Decrypter)
	j := jose.JSONWebKey{Key: s.Public(), Use: "enc", Algorithm: "RSA1_5"}
	j.KeyID = thumbprint(&j)
	k.mu.Lock()
	k.encr, k.encrJWK = d, j
	k.mu.Unlock()
	return nil
}

// waitRSA readies the RSA keys if need be and waits until they are.
func (k *keyRing) waitRSA() error {
	k.startRSA()
	<-k.rsaDone
	return k.rsaErr
}

// constantTimer is a key store's signer that has a constant-time variant
// (hsm/soft's).
type constantTimer interface {
	ConstantTime() crypto.Signer
}

func signLabel(alg jose.SignatureAlgorithm, n int) string {
	return labelSignPrefix + strings.ToLower(string(alg)) + "/" + strconv.Itoa(n)
}

// load builds the signer of key number n of alg.
func (k *keyRing) load(ctx context.Context, alg jose.SignatureAlgorithm, n int) (*sigKey, error) {
	label := signLabel(alg, n)
	s, err := k.ks.Signer(ctx, label)
	if err != nil {
		return nil, fmt.Errorf("mobileconnect: signing key %s: %w", label, err)
	}
	if ct, ok := s.(constantTimer); ok {
		// The software key store signs P-256 with internal/p256, whose
		// mod-n arithmetic is variable-time: fine for the fleet's
		// emulated cards, not for the key whose signatures every RP
		// trusts. Its constant-time signer is crypto/ecdsa's.
		s = ct.ConstantTime()
	}
	sk := &sigKey{label: label, alg: alg, key: s, public: jose.JSONWebKey{Key: s.Public(), Use: "sig", Algorithm: string(alg)}}
	sk.kid = thumbprint(&sk.public)
	if sk.kid == "" {
		return nil, fmt.Errorf("mobileconnect: signing key %s: not an %s key", label, alg)
	}
	sk.public.KeyID = sk.kid
	hdr, err := json.Marshal(struct {
		Alg jose.SignatureAlgorithm `json:"alg"`
		Kid string                  `json:"kid"`
		Typ string                  `json:"typ"`
	}{alg, sk.kid, "JWT"})
	if err != nil {
		return nil, err
	}
	sk.header = base64.RawURLEncoding.AppendEncode(nil, hdr)
	return sk, nil
}

// rotate generates the next key of alg and makes it current; the previous
// one stays published until the tokens it signed have expired. It returns
// the new key's kid.
func (k *keyRing) rotate(ctx context.Context, alg jose.SignatureAlgorithm) (string, error) {
	keyType := hsm.ECP256
	if alg == jose.RS256 {
		keyType = hsm.RSA2048
	}
	k.mu.Lock()
	k.seq[alg]++
	n := k.seq[alg]
	k.mu.Unlock()
	if err := k.ks.Generate(ctx, signLabel(alg, n), keyType); err != nil {
		return "", fmt.Errorf("mobileconnect: new signing key: %w", err)
	}
	sk, err := k.load(ctx, alg, n)
	if err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.jwksBytes = nil
	if old := k.current[alg]; old != nil {
		old.retire = k.now().Add(k.ttl)
		k.retired = append(k.retired, old)
	}
	k.current[alg] = sk
	return sk.kid, nil
}

// signer returns the current key of alg.
func (k *keyRing) signer(alg jose.SignatureAlgorithm) *sigKey {
	if alg == jose.RS256 && k.waitRSA() != nil {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current[alg]
}

// jwksJSON is the published key set, encoded: once per change (a
// rotation, or a rotated key leaving the set), not per request.
func (k *keyRing) jwksJSON() ([]byte, error) {
	rsaErr := k.waitRSA()
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if k.jwksBytes != nil && (k.jwksUntil.IsZero() || now.Before(k.jwksUntil)) {
		return k.jwksBytes, nil
	}
	set := k.jwksLocked(now, rsaErr)
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("mobileconnect: JWKS: %w", err)
	}
	k.jwksBytes, k.jwksUntil = b, time.Time{}
	for _, sk := range k.retired {
		if k.jwksUntil.IsZero() || sk.retire.Before(k.jwksUntil) {
			k.jwksUntil = sk.retire
		}
	}
	return b, nil
}

// jwksLocked is the published key set: the current signing keys, the
// rotated ones whose tokens may still be valid, and the ENCR_MSISDN key.
func (k *keyRing) jwksLocked(now time.Time, rsaErr error) jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		if sk := k.current[alg]; sk != nil {
			set.Keys = append(set.Keys, sk.public)
		}
	}
	keep := k.retired[:0]
	for _, sk := range k.retired {
		if now.Before(sk.retire) {
			keep = append(keep, sk)
			set.Keys = append(set.Keys, sk.public)
		}
	}
	k.retired = keep
	if rsaErr == nil {
		set.Keys = append(set.Keys, k.encrJWK)
	}
	return set
}

// thumbprint is the key's RFC 7638 JWK thumbprint, base64url: the kid.
func thumbprint(j *jose.JSONWebKey) string {
	pub := *j
	pub.KeyID = ""
	b, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// PCR scheme (docs/mobile-connect.md, "The PCR"): deterministic,
// reversible by the gateway alone, different per client, not guessable.
//
//	tag = HMAC(pcr key, "simlab-pcr-tag" ‖ 0 ‖ client_id ‖ 0 ‖ msisdn)[:16]
//	pad = HMAC(pcr key, "simlab-pcr-pad" ‖ 0 ‖ client_id ‖ 0 ‖ tag)
//	PCR = base64url(tag ‖ (msisdn XOR pad))
//
// A synthetic-IV construction over a keyed MAC: the tag authenticates the
// number, so a PCR forged, altered or issued to another client does not
// resolve.
func (k *keyRing) pcr(ctx context.Context, clientID, msisdn string) (string, error) {
	if len(msisdn) > 32 {
		return "", errors.New("mobileconnect: number too long for a PCR")
	}
	// Both MAC inputs share one buffer: the tag's, then the pad's after it.
	in := make([]byte, 0, 2*(len("simlab-pcr-tag")+2+len(clientID))+len(msisdn)+16)
	in = appendPCRInput(in, "simlab-pcr-tag", clientID, msisdn)
	tag, err := k.ks.HMAC(ctx, labelPCR, in)
	if err != nil {
		return "", fmt.Errorf("mobileconnect: PCR: %w", err)
	}
	tag = tag[:16]
	pad, err := k.ks.HMAC(ctx, labelPCR, appendPCRInput(in[len(in):], "simlab-pcr-pad", clientID, tag))
	if err != nil {
		return "", fmt.Errorf("mobileconnect: PCR: %w", err)
	}
	var buf [16 + 32]byte
	out := append(buf[:0], tag...)
	for i := 0; i < len(msisdn); i++ {
		out = append(out, msisdn[i]^pad[i])
	}
	var enc [64]byte // base64url of 48 bytes: the string is the one allocation
	return string(base64.RawURLEncoding.AppendEncode(enc[:0], out)), nil
}

// resolvePCR returns the number behind a PCR issued to clientID.
func (k *keyRing) resolvePCR(ctx context.Context, clientID, pcr string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(pcr)
	if err != nil || len(b) <= 16 || len(b) > 16+32 {
		return "", errors.New("mobileconnect: PCR is malformed")
	}
	tag, ct := b[:16], b[16:]
	pad, err := k.ks.HMAC(ctx, labelPCR, pcrInput("simlab-pcr-pad", clientID, tag))
	if err != nil {
		return "", fmt.Errorf("mobileconnect: PCR: %w", err)
	}
	msisdn := make([]byte, len(ct))
	for i := range ct {
		msisdn[i] = ct[i] ^ pad[i]
	}
	want, err := k.ks.HMAC(ctx, labelPCR, pcrInput("simlab-pcr-tag", clientID, msisdn))
	if err != nil {
		return "", fmt.Errorf("mobileconnect: PCR: %w", err)
	}
	if subtle.ConstantTimeCompare(want[:16], tag) != 1 {
		return "", errors.New("mobileconnect: PCR is not one this gateway issued to the client")
	}
	return string(msisdn), nil
}

// pcrInput is domain ‖ 0 ‖ client_id ‖ 0 ‖ v, a PCR MAC's input.
func pcrInput[T string | []byte](domain, clientID string, v T) []byte {
	return appendPCRInput(make([]byte, 0, len(domain)+len(clientID)+len(v)+2), domain, clientID, v)
}

// appendPCRInput appends pcrInput's bytes to b.
func appendPCRInput[T string | []byte](b []byte, domain, clientID string, v T) []byte {
	b = append(b, domain...)
	b = append(b, 0)
	b = append(b, clientID...)
	b = append(b, 0)
	return append(b, v...)
}

// decryptMSISDN opens an ENCR_MSISDN login hint: hex of RSAES-PKCS1-v1_5
// (RFC 8017 §7.2) under the published "enc" key, whose plaintext is the
// number, optionally followed by "|" and anything (a random salt).
func (k *keyRing) decryptMSISDN(hexCT string) (string, error) {
	if err := k.waitRSA(); err != nil {
		return "", err
	}
	k.mu.RLock()
	encr := k.encr
	k.mu.RUnlock()
	if encr == nil {
		return "", errors.New("mobileconnect: this key store cannot decrypt ENCR_MSISDN")
	}
	ct, err := hex.DecodeString(hexCT)
	if err != nil {
		return "", errors.New("mobileconnect: ENCR_MSISDN is not hex")
	}
	pt, err := encr.Decrypt(nil, ct, nil)
	if err != nil {
		return "", errors.New("mobileconnect: ENCR_MSISDN does not decrypt under the published key")
	}
	num, _, _ := bytes.Cut(pt, []byte("|"))
	if !isMSISDN(num) {
		return "", errors.New("mobileconnect: ENCR_MSISDN does not hold a number")
	}
	return strings.TrimPrefix(string(num), "+"), nil
}

// parseJWKS reads a client's key set (JSON).
func parseJWKS(s string) (*jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(s), &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	for _, key := range set.Keys {
		if !key.IsPublic() || !key.Valid() {
			return nil, errors.New("jwks: holds a private or invalid key")
		}
	}
	return &set, nil
}

// randomToken returns n random bytes from r, base64url. From crypto/rand
// (the default Deps.Rand) the bytes are read into the stack: since Go
// 1.24 rand.Read keeps its buffer from escaping, where a Read through
// the io.Reader interface moves it to the heap; any other reader (a
// test's seeded one) fills a heap buffer first.
func randomToken(r io.Reader, n int) (string, error) {
	var buf [32]byte
	if n > len(buf) || (r != rand.Reader && r != io.Reader(cryptoRand{})) {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", fmt.Errorf("mobileconnect: randomness: %w", err)
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}
	b := buf[:n]
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	// Encoded on the stack too: the string is the one allocation
	// (EncodeToString makes two past 32 bytes).
	var enc [43]byte // base64url of 32 bytes, unpadded
	return string(base64.RawURLEncoding.AppendEncode(enc[:0], b)), nil
}

// tokenKey is what the gateway stores for a code or token: its SHA-256,
// so a dump of the gateway's memory holds no usable token.
func tokenKey(tok string) [32]byte { return sum256(tok) }

// sum256 is SHA-256 of s, copied through a stack buffer when it fits: a
// plain []byte(s) is a heap allocation for anything over 32 bytes, as
// every token, code and login hint is.
func sum256(s string) [32]byte {
	var buf [256]byte
	if len(s) <= len(buf) {
		return sha256.Sum256(append(buf[:0], s...))
	}
	return sha256.Sum256([]byte(s))
}

// cryptoRand reads crypto/rand (for the RP side, which has no Deps).
type cryptoRand struct{}

func (cryptoRand) Read(b []byte) (int, error) { return rand.Read(b) }
