// Package p256 signs with ECDSA over NIST P-256 (FIPS 186-5 §6.4) about
// twice as fast as crypto/ecdsa on the machines simlab runs on, for the
// emulated cards and the software key store, where one signature per
// authentication session is most of a session's CPU time.
//
// The signatures are ordinary ECDSA signatures: crypto/ecdsa and any other
// implementation verify them. What differs from crypto/ecdsa is how the
// work is done:
//
//   - the nonce k is derived, not drawn from an HMAC_DRBG: k = the first
//     320 bits of SHA-512(nk ‖ ctr ‖ digest ‖ 32 bytes of entropy), mod n
//     (ctr a retry counter, 0 but with probability 2^-190), where nk is a secret derived once
//     per key from d (the construction EdDSA uses, hedged with entropy as in
//     draft-irtf-cfrg-det-sigs-with-noise). One SHA-512 instead of the
//     dozen HMAC computations of a DRBG. With a fixed entropy source the
//     signatures are reproducible, which tests use;
//   - k·G is computed by crypto/ecdh (the same assembly as crypto/ecdsa);
//   - k⁻¹ mod n is computed by math/big on a blinded value (k·β for a
//     random β), so its variable running time reveals nothing about k.
//
// The mod-n arithmetic on d uses math/big and is not constant-time: this
// signer is meant for simulated cards and test or lab keys. Keys that must
// resist timing attacks belong in a PKCS#11 token (hsm/pkcs11).
package p256

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// n is the order of the P-256 base point (FIPS 186-5 / SP 800-186 §3.2.1.3).
var n = elliptic.P256().Params().N

// Key is a P-256 private key prepared for fast signing. It implements
// crypto.Signer and is safe for concurrent use.
type Key struct {
	d  *big.Int // read-only after creation
	nk [32]byte // nonce key, derived from d

	// The public key is computed on first use: a card that only signs never
	// needs it, and computing it costs as much as half a signature.
	pubOnce sync.Once
	priv    *ecdsa.PrivateKey
}

// NewKey prepares priv (a P-256 key) for signing.
func NewKey(priv *ecdsa.PrivateKey) (*Key, error) {
	if priv == nil || priv.Curve != elliptic.P256() {
		return nil, errors.New("p256: not a P-256 private key")
	}
	db, err := priv.Bytes()
	if err != nil {
		return nil, fmt.Errorf("p256: %w", err)
	}
	defer clear(db)
	k := newKey(db)
	k.pubOnce.Do(func() { k.priv = priv })
	return k, nil
}

// newKey returns the Key of the valid scalar d (32 bytes).
func newKey(d []byte) *Key {
	k := &Key{d: new(big.Int).SetBytes(d)}
	h := sha512.New()
	h.Write([]byte("simlab p256 nonce key\x00"))
	h.Write(d)
	copy(k.nk[:], h.Sum(nil))
	return k
}

// Public returns the *ecdsa.PublicKey.
func (k *Key) Public() crypto.PublicKey { return &k.private().PublicKey }

// ECDSA returns the key as crypto/ecdsa's, whose signing is constant-time,
// for a holder of a key that must resist timing attacks
// (hsm/soft's Signer(…).ConstantTime()).
func (k *Key) ECDSA() *ecdsa.PrivateKey { return k.private() }

// private returns the key as crypto/ecdsa's, computing the public point on
// first use.
func (k *Key) private() *ecdsa.PrivateKey {
	k.pubOnce.Do(func() {
		var d [32]byte
		k.d.FillBytes(d[:])
		defer clear(d[:])
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
		if err != nil {
			panic("p256: a validated scalar was refused: " + err.Error())
		}
		k.priv = priv
	})
	return k.priv
}

// Sign signs digest (a hash output; longer ones are truncated to 256 bits
// as FIPS 186-5 says) and returns the ASN.1 DER signature crypto/ecdsa's
// SignASN1 would. Entropy comes from rnd, or crypto/rand when rnd is nil.
// opts is ignored, as crypto/ecdsa ignores it.
func (k *Key) Sign(rnd io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	var rs [64]byte
	if err := k.SignRaw(rnd, digest, &rs); err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addASN1Int(b, rs[:32])
		addASN1Int(b, rs[32:])
	})
	return b.Bytes()
}

// addASN1Int appends the unsigned big-endian integer v as a DER INTEGER.
func addASN1Int(b *cryptobyte.Builder, v []byte) {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) {
		if v[0]&0x80 != 0 {
			b.AddUint8(0)
		}
		b.AddBytes(v)
	})
}

// scratch holds the big.Int temporaries of one signature, pooled so their
// backing arrays are reused.
type scratch struct {
	e, k, beta, r, inv, s, t, q, rem big.Int
	buf                              [32 + 1 + 32 + 32]byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// SignRaw signs digest like Sign and writes r ‖ s, 32 bytes each, to out.
func (k *Key) SignRaw(rnd io.Reader, digest []byte, out *[64]byte) error {
	if rnd == nil {
		rnd = rand.Reader
	}
	var seed [32]byte
	if _, err := io.ReadFull(rnd, seed[:]); err != nil {
		return fmt.Errorf("p256: reading entropy: %w", err)
	}
	if len(digest) > 32 {
		digest = digest[:32] // bits2int: the leftmost 256 bits
	}
	z := scratchPool.Get().(*scratch)
	defer func() {
		// The nonce, its blinding and its inverse do not outlive the
		// signature in the pool (the backing arrays are zeroed too).
		for _, v := range []*big.Int{&z.k, &z.beta, &z.inv, &z.t} {
			clear(v.Bits())
			v.SetInt64(0)
		}
		clear(z.buf[:])
		scratchPool.Put(z)
	}()
	z.e.SetBytes(digest)

	for ctr := byte(0); ; ctr++ {
		k.derive(z, ctr, digest, &seed)
		if z.k.Sign() == 0 || z.beta.Sign() == 0 {
			continue // probability < 2^-190
		}
		var kb [32]byte
		z.k.FillBytes(kb[:])
		priv, err := ecdh.P256().NewPrivateKey(kb[:])
		clear(kb[:])
		if err != nil {
			return fmt.Errorf("p256: nonce: %w", err)
		}
		R := priv.PublicKey().Bytes() // 04 ‖ X ‖ Y
		z.r.SetBytes(R[1:33])
		z.mod(&z.r)
		if z.r.Sign() == 0 {
			continue
		}
		// s = k⁻¹ (e + r·d) mod n, with k⁻¹ = β · (k·β)⁻¹.
		z.inv.Mul(&z.k, &z.beta)
		z.mod(&z.inv)
		z.t.ModInverse(&z.inv, n)
		z.inv.Mul(&z.t, &z.beta)
		z.mod(&z.inv)
		z.s.Mul(&z.r, k.d)
		z.s.Add(&z.s, &z.e)
		z.mod(&z.s)
		z.t.Mul(&z.s, &z.inv)
		z.mod(&z.t)
		z.s.Set(&z.t)
		if z.s.Sign() == 0 {
			continue
		}
		z.r.FillBytes(out[:32])
		z.s.FillBytes(out[32:])
		return nil
	}
}

// mod reduces the non-negative x modulo n in place, with z.q as the
// quotient's storage (big.Int.Mod allocates one each time).
func (z *scratch) mod(x *big.Int) {
	z.q.QuoRem(x, n, &z.rem)
	x.Set(&z.rem)
}

// derive sets z.k and z.beta from one H = SHA-512(nk ‖ ctr ‖ digest ‖
// seed): k = H[0:40] mod n (320 bits, so k is uniform to within 2^-64) and
// β = H[40:64] (192 bits; β only has to be secret and non-zero).
func (k *Key) derive(z *scratch, ctr byte, digest []byte, seed *[32]byte) {
	b := z.buf[:0]
	b = append(b, k.nk[:]...)
	b = append(b, ctr)
	b = append(b, digest...)
	b = append(b, seed[:]...)
	h := sha512.Sum512(b)
	z.k.SetBytes(h[:40])
	z.mod(&z.k)
	z.beta.SetBytes(h[40:])
	clear(h[:])
}
