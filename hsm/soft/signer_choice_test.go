package soft

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"path/filepath"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/internal/p256"
)

// TestSignerChoice: keys a user generates or imports sign through the
// standard library's constant-time crypto/ecdsa; the emulated fleet's
// derived card keys (hsm.Derive into an in-memory store) through the
// faster internal/p256; a key store file holds only crypto/ecdsa keys.
// Every signature verifies.
func TestSignerChoice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	mem := NewMemory()
	if err := mem.Import(ctx, "hmac-master", hsm.HMAC, make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	if err := mem.Generate(ctx, "generated", hsm.ECP256); err != nil {
		t.Fatal(err)
	}
	if err := mem.Import(ctx, "imported", hsm.ECP256, der); err != nil {
		t.Fatal(err)
	}
	derive := hsm.DeriveParams{Scheme: hsm.ECP256HMAC, Label: hsm.LabelSign, ICCID: "89999000000000000012", Type: hsm.ECP256}
	if err := hsm.Derive(ctx, mem, "hmac-master", "derived", derive); err != nil {
		t.Fatal(err)
	}
	file, err := Create(filepath.Join(t.TempDir(), "keys"), []byte("passphrase"), FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if err := file.Import(ctx, "hmac-master", hsm.HMAC, make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	if err := hsm.Derive(ctx, file, "hmac-master", "derived", derive); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    *Store
		ref  string
		fast bool
	}{{mem, "generated", false}, {mem, "imported", false}, {mem, "derived", true}, {file, "derived", false}} {
		k, err := tc.s.lookup(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		var fast bool
		switch k.signer.(type) {
		case *p256.Key:
			fast = true
		case *ecdsa.PrivateKey:
		default:
			t.Fatalf("%s: signer %T", tc.ref, k.signer)
		}
		if fast != tc.fast {
			t.Errorf("%s (file %v): internal/p256 %v, want %v", tc.ref, tc.s.save != nil, fast, tc.fast)
		}
		sg, err := tc.s.Signer(ctx, tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		d := sha256.Sum256([]byte(tc.ref))
		sig, err := sg.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(sg.Public().(*ecdsa.PublicKey), d[:], sig) {
			t.Errorf("%s: signature does not verify", tc.ref)
		}
	}
}
