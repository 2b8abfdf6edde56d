package authn

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrSignature is returned by Verify when the signature does not match.
var ErrSignature = errors.New("authn: signature does not verify")

// Sign fills r.Signature with the card's signature over the challenge and
// the response (SignedDigest), using signer, an ECDSA P-256 key (for
// example from hsm.Keystore.Signer). rnd may be nil for crypto/rand.
func Sign(signer crypto.Signer, rnd io.Reader, challengeRaw []byte, r *Response) error {
	if rnd == nil {
		rnd = rand.Reader
	}
	d := SignedDigest(challengeRaw, r)
	der, err := signer.Sign(rnd, d[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("authn: sign: %w", err)
	}
	out, err := rawSignature(der)
	if err != nil {
		return fmt.Errorf("authn: signer returned a non-ASN.1 ECDSA signature: %w", err)
	}
	r.Signature = out
	return nil
}

// rawSignature converts an ASN.1 DER ECDSA-Sig-Value (RFC 5480 §2.2:
// SEQUENCE { r INTEGER, s INTEGER }) to r ‖ s, 32 bytes each.
func rawSignature(der []byte) ([]byte, error) {
	var seq, rb, sb cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&rb, cbasn1.INTEGER) || !seq.ReadASN1(&sb, cbasn1.INTEGER) || !seq.Empty() {
		return nil, errors.New("not SEQUENCE { INTEGER, INTEGER }")
	}
	out := make([]byte, 64)
	for i, v := range []cryptobyte.String{rb, sb} {
		if len(v) == 0 || v[0]&0x80 != 0 {
			return nil, errors.New("r or s is not a positive INTEGER")
		}
		for len(v) > 1 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > 32 {
			return nil, errors.New("r or s is longer than 32 bytes")
		}
		copy(out[32*(i+1)-len(v):32*(i+1)], v)
	}
	return out, nil
}

// Verify checks r.Signature against pub for the challenge template bytes
// challengeRaw (as sent, tag A0 included).
func Verify(pub *ecdsa.PublicKey, challengeRaw []byte, r *Response) error {
	if len(r.Signature) != 64 {
		return ErrUnsignedLen
	}
	d := SignedDigest(challengeRaw, r)
	rr := new(big.Int).SetBytes(r.Signature[:32])
	ss := new(big.Int).SetBytes(r.Signature[32:])
	if !ecdsa.Verify(pub, d[:], rr, ss) {
		return ErrSignature
	}
	return nil
}

// CompressPublicKey encodes pub as the 33-byte compressed SEC 1 point the
// response's upk field carries.
func CompressPublicKey(pub *ecdsa.PublicKey) ([]byte, error) {
	u, err := pub.Bytes() // 04 ‖ X ‖ Y
	if err != nil || len(u) != 65 {
		return nil, fmt.Errorf("authn: not a P-256 public key")
	}
	out := make([]byte, 33)
	out[0] = 0x02 | u[64]&1
	copy(out[1:], u[1:33])
	return out, nil
}

// ParsePublicKey decodes a compressed (33-byte) or uncompressed (65-byte)
// P-256 point.
func ParsePublicKey(b []byte) (*ecdsa.PublicKey, error) {
	u := b
	if len(b) == 33 {
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), b)
		if x == nil {
			return nil, fmt.Errorf("%w: upk is not a P-256 point", ErrMalformed)
		}
		u = make([]byte, 65)
		u[0] = 4
		x.FillBytes(u[1:33])
		y.FillBytes(u[33:])
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), u)
	if err != nil {
		return nil, fmt.Errorf("%w: upk is not a P-256 point: %w", ErrMalformed, err)
	}
	return pub, nil
}
