package soft

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/internal/p256"
)

// TestConstantTimeSigner: a P-256 key signs with internal/p256 by default
// and with crypto/ecdsa through ConstantTime; both verify against the
// same public key. An RSA key's signer is its own constant-time one.
func TestConstantTimeSigner(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	if err := s.Generate(ctx, "ec", hsm.ECP256); err != nil {
		t.Fatal(err)
	}
	fast, err := s.Signer(ctx, "ec")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fast.(signer).s.(*p256.Key); !ok {
		t.Fatalf("the default P-256 signer is %T", fast.(signer).s)
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
