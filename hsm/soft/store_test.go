package soft

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"github.com/simlab-dev/simlab/internal/p256"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/hsmtest"
)

func TestConformanceMemory(t *testing.T) {
	t.Parallel()
	hsmtest.Run(t, func(t *testing.T) hsm.Keystore { return NewMemory() })
}

// TestCMACSubkeys checks K1 and K2 against RFC 4493 §4 ("Subkey Generation").
func TestCMACSubkeys(t *testing.T) {
	t.Parallel()
	key, _ := hex.DecodeString("2b7e151628aed2a6abf7158809cf4f3c")
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	c := newCMAC(b)
	if got := hex.EncodeToString(c.k1); got != "fbeed618357133667c85e08f7236a8de" {
		t.Errorf("K1 = %s", got)
	}
	if got := hex.EncodeToString(c.k2); got != "f7ddac306ae266ccf90bc11ee46d513b" {
		t.Errorf("K2 = %s", got)
	}
}

func TestOddParity(t *testing.T) {
	t.Parallel()
	b := []byte{0x00, 0x01, 0xfe, 0xff, 0x12, 0x34}
	hsm.SetDESParity(b)
	want := []byte{0x01, 0x01, 0xfe, 0xfe, 0x13, 0x34}
	if !bytes.Equal(b, want) {
		t.Errorf("setOddParity = %x, want %x", b, want)
	}
}

// TestSignerHidesKey: the Signer handed out must not be the private key,
// nor a value a caller can type-assert its way to it from.
func TestSignerHidesKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemory()
	for _, k := range []struct {
		ref string
		typ hsm.KeyType
	}{{"ec", hsm.ECP256}, {"rsa", hsm.RSA2048}} {
		if err := s.Generate(ctx, k.ref, k.typ); err != nil {
			t.Fatal(err)
		}
		sg, err := s.Signer(ctx, k.ref)
		if err != nil {
			t.Fatal(err)
		}
		switch sg.(type) {
		case *p256.Key, *ecdsa.PrivateKey, *rsa.PrivateKey:
			t.Errorf("%s: Signer is the private key (%T)", k.ref, sg)
		}
		if _, err := x509.MarshalPKCS8PrivateKey(sg); err == nil {
			t.Errorf("%s: Signer marshals as a private key", k.ref)
		}
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemory()
	if err := s.Import(ctx, "k", hsm.AES128, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MAC(ctx, "k", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("MAC after Close: %v", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("List after Close: %v", err)
	}
}

func TestHas(t *testing.T) {
	s := NewMemory()
	ctx := context.Background()
	if err := s.Import(ctx, "k", hsm.AES128, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	if !s.Has("k") || s.Has("missing") {
		t.Errorf("Has(k) = %v, Has(missing) = %v", s.Has("k"), s.Has("missing"))
	}
	s.Close()
	if s.Has("k") {
		t.Error("Has is true on a closed store")
	}
}
