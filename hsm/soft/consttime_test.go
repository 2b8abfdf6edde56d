package soft

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/internal/p256"
)

// TestConstantTimeSigner: a key hsm.Derive makes in memory (an emulated
// card's) signs with internal/p256, and with crypto/ecdsa through
// ConstantTime; a generated key signs with crypto/ecdsa already; both
// verify against the same public key. An RSA key's signer is its own
// constant-time one.
func TestConstantTimeSigner(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	if err := s.Generate(ctx, "gen", hsm.ECP256); err != nil {
		t.Fatal(err)
	}
	gen, err := s.Signer(ctx, "gen")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := gen.(signer).s.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("a generated P-256 key signs with %T", gen.(signer).s)
	}
	if ct := gen.(interface{ ConstantTime() crypto.Signer }).ConstantTime(); ct != gen {
		t.Fatal("a generated key's constant-time signer is another one")
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ImportKey(ctx, "ec", hsm.ECP256, der, hsm.KeyOptions{Derived: true}); err != nil {
		t.Fatal(err)
	}
	fast, err := s.Signer(ctx, "ec")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fast.(signer).s.(*p256.Key); !ok {
		t.Fatalf("a derived P-256 key in memory signs with %T", fast.(signer).s)
	}
	ct := fast.(interface{ ConstantTime() crypto.Signer }).ConstantTime()
	if _, ok := ct.(signer).s.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("the constant-time P-256 signer is %T", ct.(signer).s)
	}
	digest := sha256.Sum256([]byte("id_token"))
	for _, sg := range []crypto.Signer{fast, ct} {
		sig, err := sg.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(fast.Public().(*ecdsa.PublicKey), digest[:], sig) {
			t.Fatalf("%T: the signature does not verify", sg.(signer).s)
		}
	}
	if err := s.Generate(ctx, "rsa", hsm.RSA2048); err != nil {
		t.Fatal(err)
	}
	rs, _ := s.Signer(ctx, "rsa")
	if got := rs.(interface{ ConstantTime() crypto.Signer }).ConstantTime(); got != rs {
		t.Fatal("an RSA key's constant-time signer is another one")
	}
}
