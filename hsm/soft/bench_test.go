package soft

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
)

// BenchmarkSealAES is one OTA packet's worth of soft-store work: AES-CBC
// encryption plus AES-CMAC over a 64-byte packet.
func BenchmarkSealAES(b *testing.B) { benchSeal(b, hsm.AES128, 16) }

// BenchmarkSeal3DES is the same with 3DES-CBC and 3DES CBC-MAC.
func BenchmarkSeal3DES(b *testing.B) { benchSeal(b, hsm.TDES2, 8) }

// benchSeal MACs and CBC-encrypts a 64-byte packet under two keys of type t
// (block size bs).
func benchSeal(b *testing.B, t hsm.KeyType, bs int) {
	ctx := context.Background()
	s := NewMemory()
	if err := s.Generate(ctx, "kic", t); err != nil {
		b.Fatal(err)
	}
	if err := s.Generate(ctx, "kid", t); err != nil {
		b.Fatal(err)
	}
	pkt := make([]byte, 64)
	iv := make([]byte, bs)
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.MAC(ctx, "kid", pkt); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Encrypt(ctx, "kic", hsm.CBC, iv, pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignP256 is one ECDSA P-256 signature over a SHA-256 digest
// with an emulated card's derived key (internal/p256).
func BenchmarkSignP256(b *testing.B) {
	ctx := context.Background()
	s := NewMemory()
	if err := s.Import(ctx, "master", hsm.HMAC, make([]byte, 32)); err != nil {
		b.Fatal(err)
	}
	if err := hsm.Derive(ctx, s, "master", "ec", hsm.DeriveParams{Scheme: hsm.ECP256HMAC, Label: hsm.LabelSign,
		ICCID: "89999000000000000012", Type: hsm.ECP256}); err != nil {
		b.Fatal(err)
	}
	benchSign(b, s)
}

// BenchmarkSignP256Generated is the same with a key generated in the
// store, as a lab card's key would be (crypto/ecdsa).
func BenchmarkSignP256Generated(b *testing.B) {
	s := NewMemory()
	if err := s.Generate(context.Background(), "ec", hsm.ECP256); err != nil {
		b.Fatal(err)
	}
	benchSign(b, s)
}

func benchSign(b *testing.B, s *Store) {
	sg, err := s.Signer(context.Background(), "ec")
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("challenge"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sg.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignP256Stdlib is the baseline for BenchmarkSignP256: the same
// signature straight from crypto/ecdsa, without the store.
func BenchmarkSignP256Stdlib(b *testing.B) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("challenge"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ecdsa.SignASN1(rand.Reader, priv, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}
