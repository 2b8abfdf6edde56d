package mobileconnect

import (
	"context"
	"crypto"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
)

// TestSignCompactVerifies: the hand-assembled JWS of both algorithms
// verifies with go-jose against the published key, with the header the
// key's kid and typ JWT.
func TestSignCompactVerifies(t *testing.T) {
	ctx := context.Background()
	ks := soft.NewMemory()
	for _, c := range []struct {
		alg jose.SignatureAlgorithm
		typ hsm.KeyType
	}{{jose.ES256, hsm.ECP256}, {jose.RS256, hsm.RSA2048}} {
		label := signLabel(c.alg, 1)
		if err := ks.Generate(ctx, label, c.typ); err != nil {
			t.Fatal(err)
		}
		k := &keyRing{ks: ks}
		sk, err := k.load(ctx, c.alg, 1)
		if err != nil {
			t.Fatal(err)
		}
		payload := []byte(`{"iss":"https://op.example","sub":"x"}`)
		for range 50 { // ECDSA's r and s are sometimes shorter than 32 bytes
			tok, err := sk.signCompact(payload)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{c.alg})
			if err != nil {
				t.Fatal(err)
			}
			h := jws.Signatures[0].Protected
			if h.KeyID != sk.kid || h.ExtraHeaders["typ"] != "JWT" {
				t.Fatalf("header %+v", h)
			}
			got, err := jws.Verify(sk.public)
			if err != nil || string(got) != string(payload) {
				t.Fatalf("%s: %v", c.alg, err)
			}
		}
	}
}

// TestRawECDSARefusesMalformed: anything but two positive INTEGERs of at
// most 32 bytes in a SEQUENCE is refused.
func TestRawECDSARefusesMalformed(t *testing.T) {
	for _, der := range [][]byte{
		nil,
		{0x30, 0x00},
		{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00},                                      // trailing byte
		{0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01},                                            // negative r
		{0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01},                                                  // empty r
		append([]byte{0x30, 0x25, 0x02, 0x21, 0x01}, append(make([]byte, 32), 0x02, 0x01, 0x01)...), // r of 33 bytes
	} {
		if _, err := rawECDSA(der); err == nil {
			t.Errorf("% x accepted", der)
		}
	}
	out, err := rawECDSA([]byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x05})
	if err != nil || out[31] != 0x80 || out[63] != 0x05 || len(out) != 64 {
		t.Fatalf("% x %v", out, err)
	}
}

// ctStore is a key store whose signers have a constant-time variant, as
// hsm/soft's do; the variant is marked so the test sees which one signs.
type ctStore struct{ hsm.Keystore }

type ctSigner struct {
	crypto.Signer
}

type markedSigner struct{ crypto.Signer }

func (s ctSigner) ConstantTime() crypto.Signer { return markedSigner(s) }

func (c ctStore) Signer(ctx context.Context, ref string) (crypto.Signer, error) {
	s, err := c.Keystore.Signer(ctx, ref)
	if err != nil {
		return nil, err
	}
	return ctSigner{s}, nil
}

// TestSigningKeyConstantTime: the id_token keys sign through the key
// store's constant-time signer when it has one (hsm/soft's P-256 keys
// otherwise sign with the fleet's variable-time internal/p256).
func TestSigningKeyConstantTime(t *testing.T) {
	ctx := context.Background()
	ks := ctStore{soft.NewMemory()}
	for _, c := range []struct {
		alg jose.SignatureAlgorithm
		typ hsm.KeyType
	}{{jose.ES256, hsm.ECP256}, {jose.RS256, hsm.RSA2048}} {
		if err := ks.Generate(ctx, signLabel(c.alg, 1), c.typ); err != nil {
			t.Fatal(err)
		}
		sk, err := (&keyRing{ks: ks}).load(ctx, c.alg, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sk.key.(markedSigner); !ok {
			t.Fatalf("%s signs with %T, not the key store's constant-time signer", c.alg, sk.key)
		}
		if _, err := sk.signCompact([]byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
}
