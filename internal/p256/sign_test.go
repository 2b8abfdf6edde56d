package p256

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	mrand "math/rand/v2"
	"testing"
)

// seeded returns a deterministic reader for keys and entropy.
func seeded(seed uint64) *mrand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return mrand.NewChaCha8(s)
}

// TestVerifiesWithCryptoECDSA signs with many keys and digest lengths and
// checks every signature with crypto/ecdsa, an independent implementation.
func TestVerifiesWithCryptoECDSA(t *testing.T) {
	rnd := seeded(1)
	for i := range 200 {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
		if err != nil {
			t.Fatal(err)
		}
		k, err := NewKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, i)
		rnd.Read(msg)
		d256 := sha256.Sum256(msg)
		d512 := sha512.Sum512(msg)
		for _, digest := range [][]byte{d256[:], d512[:], d256[:20], {}} {
			der, err := k.Sign(rnd, digest, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !ecdsa.VerifyASN1(&priv.PublicKey, digest, der) {
				t.Fatalf("key %d, %d-byte digest: crypto/ecdsa rejects the signature", i, len(digest))
			}
			var rs [64]byte
			if err := k.SignRaw(rnd, digest, &rs); err != nil {
				t.Fatal(err)
			}
			r := new(big.Int).SetBytes(rs[:32])
			s := new(big.Int).SetBytes(rs[32:])
			if !ecdsa.Verify(&priv.PublicKey, digest, r, s) {
				t.Fatalf("key %d, %d-byte digest: raw signature rejected", i, len(digest))
			}
			// A signature over another digest must not verify.
			other := sha256.Sum256(append(msg, 1))
			if ecdsa.Verify(&priv.PublicKey, other[:], r, s) {
				t.Fatalf("key %d: signature verifies for another digest", i)
			}
		}
	}
}

// TestNonce checks that the nonce depends on the entropy and the digest,
// and that a fixed entropy source gives reproducible signatures.
func TestNonce(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), seeded(2))
	k, _ := NewKey(priv)
	d := sha256.Sum256([]byte("challenge"))
	sig := func(seed uint64, digest []byte) []byte {
		var rs [64]byte
		if err := k.SignRaw(seeded(seed), digest, &rs); err != nil {
			t.Fatal(err)
		}
		return rs[:]
	}
	if !bytes.Equal(sig(7, d[:]), sig(7, d[:])) {
		t.Error("same entropy, same digest: signatures differ")
	}
	if bytes.Equal(sig(7, d[:])[:32], sig(8, d[:])[:32]) {
		t.Error("different entropy gave the same r (same nonce)")
	}
	d2 := sha256.Sum256([]byte("challenge2"))
	if bytes.Equal(sig(7, d[:])[:32], sig(7, d2[:])[:32]) {
		t.Error("different digests gave the same r (same nonce)")
	}
	// crypto/rand when no reader is given.
	var a, b [64]byte
	if err := k.SignRaw(nil, d[:], &a); err != nil {
		t.Fatal(err)
	}
	if err := k.SignRaw(rand.Reader, d[:], &b); err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two signatures from crypto/rand are identical")
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, bytes.ErrTooLarge }

func TestErrors(t *testing.T) {
	if _, err := NewKey(nil); err == nil {
		t.Error("NewKey(nil) accepted")
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), seeded(3))
	if _, err := NewKey(p384); err == nil {
		t.Error("P-384 key accepted")
	}
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), seeded(4))
	k, _ := NewKey(priv)
	if _, err := k.Sign(failReader{}, make([]byte, 32), nil); err == nil {
		t.Error("failing entropy source: no error")
	}
	if k.Public().(*ecdsa.PublicKey) != &priv.PublicKey {
		t.Error("Public is not the key's public key")
	}
}

// BenchmarkSign compares this signer with crypto/ecdsa in one run.
func BenchmarkSign(b *testing.B) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), seeded(5))
	k, _ := NewKey(priv)
	d := sha256.Sum256([]byte("x"))
	b.Run("p256", func(b *testing.B) {
		b.ReportAllocs()
		var rs [64]byte
		for b.Loop() {
			if err := k.SignRaw(nil, d[:], &rs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("crypto-ecdsa", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ecdsa.SignASN1(rand.Reader, priv, d[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
