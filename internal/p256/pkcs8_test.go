package p256

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"testing"
)

// TestPKCS8AgainstX509 checks both directions against crypto/x509.
func TestPKCS8AgainstX509(t *testing.T) {
	rnd := seeded(9)
	for i := range 50 {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
		if err != nil {
			t.Fatal(err)
		}
		// x509 → ours.
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParsePKCS8(der)
		if err != nil {
			t.Fatalf("key %d: x509's PKCS #8 refused: %v", i, err)
		}
		if !k.Public().(*ecdsa.PublicKey).Equal(&priv.PublicKey) {
			t.Fatalf("key %d: public keys differ", i)
		}
		// ours → x509.
		d, _ := priv.Bytes()
		mine, err := MarshalPKCS8(d)
		if err != nil {
			t.Fatal(err)
		}
		back, err := x509.ParsePKCS8PrivateKey(mine)
		if err != nil {
			t.Fatalf("key %d: x509 refuses our PKCS #8: %v", i, err)
		}
		if !back.(*ecdsa.PrivateKey).Equal(priv) {
			t.Fatalf("key %d: x509 read another key", i)
		}
		k2, err := ParsePKCS8(mine)
		if err != nil || k2.d.Cmp(k.d) != 0 {
			t.Fatalf("key %d: round trip: %v", i, err)
		}
	}
}

// pkcs8Hex is the RFC 6979 §A.2.5 P-256 private key as OpenSSL 3.0.19
// writes it (`openssl pkcs8 -topk8 -nocrypt -outform DER`): its ECPrivateKey
// carries the public key and no [0] parameters.
const pkcs8Hex = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420" +
	"c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721" +
	"a14403420004" +
	"60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6" +
	"7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"

func TestPKCS8Vector(t *testing.T) {
	der, _ := hex.DecodeString(pkcs8Hex)
	k, err := ParsePKCS8(der)
	if err != nil {
		t.Fatal(err)
	}
	// The RFC 6979 §A.2.5 P-256 key pair: x = C9AF…6721, U = (60FE…9FB6, 7903…2299).
	pub := k.Public().(*ecdsa.PublicKey)
	u, _ := pub.Bytes()
	if got := hex.EncodeToString(u[1:33]); got != "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6" {
		t.Errorf("Ux = %s", got)
	}
}

func TestPKCS8Errors(t *testing.T) {
	rnd := seeded(10)
	rsaKey, err := rsa.GenerateKey(rnd, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rnd)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	for _, c := range []struct {
		name  string
		der   []byte
		notEC bool
	}{
		{"RSA", rsaDER, true},
		{"P-384", p384DER, true},
		{"empty", nil, false},
		{"truncated", rsaDER[:20], false},
		{"trailing byte", append(append([]byte{}, mustHex(pkcs8Hex)...), 0), false},
	} {
		_, err := ParsePKCS8(c.der)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if errors.Is(err, ErrNotP256) != c.notEC {
			t.Errorf("%s: error %v, ErrNotP256 should be %v", c.name, err, c.notEC)
		}
	}
	// Scalars 0 and n are refused both ways.
	nBytes := n.FillBytes(make([]byte, 32))
	for _, d := range [][]byte{make([]byte, 32), nBytes, make([]byte, 31)} {
		if _, err := MarshalPKCS8(d); err == nil {
			t.Errorf("MarshalPKCS8(%x) accepted", d)
		}
	}
	bad := mustHex(pkcs8Hex)
	i := bytes.Index(bad, mustHex("c9afa9d8"))
	copy(bad[i:], nBytes)
	if _, err := ParsePKCS8(bad); err == nil {
		t.Error("scalar n accepted")
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzParsePKCS8 checks the parser never panics and agrees with
// crypto/x509 on every P-256 key it accepts.
func FuzzParsePKCS8(f *testing.F) {
	f.Add(mustHex(pkcs8Hex))
	d := mustHex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
	mine, _ := MarshalPKCS8(d)
	f.Add(mine)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := ParsePKCS8(der)
		if err != nil {
			return
		}
		x, xerr := x509.ParsePKCS8PrivateKey(der)
		if xerr != nil {
			return // x509 is stricter about some encodings (for example a public key that is not on the curve)
		}
		ek, ok := x.(*ecdsa.PrivateKey)
		if !ok {
			t.Fatalf("x509 reads a %T", x)
		}
		want, err := ek.Bytes()
		if err != nil || !bytes.Equal(want, k.d.FillBytes(make([]byte, 32))) {
			t.Fatalf("x509 reads another scalar (%v)", err)
		}
	})
}
