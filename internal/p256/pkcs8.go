package p256

import (
	encasn1 "encoding/asn1"
	"errors"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of RFC 5480 §2.1.1 and §2.1.1.1.
var (
	oidECPublicKey = encasn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256        = encasn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
)

// ErrNotP256 is returned by ParsePKCS8 for a well-formed PKCS #8 key that is
// not an EC P-256 key (RSA, another curve), which callers hand to
// crypto/x509.
var ErrNotP256 = errors.New("p256: PKCS #8 key is not EC P-256")

// ValidScalar reports whether d (32 bytes, big-endian) is a P-256 private
// scalar, 1 ≤ d < n.
func ValidScalar(d []byte) bool {
	if len(d) != 32 {
		return false
	}
	v := new(big.Int).SetBytes(d)
	return v.Sign() > 0 && v.Cmp(n) < 0
}

// MarshalPKCS8 encodes the private scalar d as PKCS #8 (RFC 5208) holding an
// RFC 5915 ECPrivateKey with the curve named in the algorithm identifier and
// no public key (the field is optional; crypto/x509, OpenSSL and PKCS #11
// importers compute it). Not computing the public key is what makes this
// cheap.
func MarshalPKCS8(d []byte) ([]byte, error) {
	if !ValidScalar(d) {
		return nil, errors.New("p256: private scalar out of range")
	}
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidECPublicKey)
			b.AddASN1ObjectIdentifier(oidP256)
		})
		b.AddASN1(asn1.OCTET_STRING, func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1OctetString(d)
			})
		})
	})
	return b.Bytes()
}

// ParsePKCS8 decodes a PKCS #8 EC P-256 private key without computing its
// public key (Key.Public computes it on first use). A public key embedded in
// the ECPrivateKey is not checked here, as crypto/x509 does not check it
// either. It returns ErrNotP256 for other well-formed keys.
func ParsePKCS8(der []byte) (*Key, error) {
	in := cryptobyte.String(der)
	var info, alg, inner cryptobyte.String
	var version int64
	var algOID encasn1.ObjectIdentifier
	if !in.ReadASN1(&info, asn1.SEQUENCE) || !in.Empty() ||
		!info.ReadASN1Integer(&version) || version != 0 ||
		!info.ReadASN1(&alg, asn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&algOID) {
		return nil, errors.New("p256: malformed PKCS #8 PrivateKeyInfo")
	}
	if !algOID.Equal(oidECPublicKey) {
		return nil, ErrNotP256
	}
	var curve encasn1.ObjectIdentifier
	if !alg.ReadASN1ObjectIdentifier(&curve) || !alg.Empty() {
		return nil, errors.New("p256: PKCS #8 EC key without a named curve")
	}
	if !curve.Equal(oidP256) {
		return nil, ErrNotP256
	}
	var ecKey, d cryptobyte.String
	var ecVersion int64
	if !info.ReadASN1(&inner, asn1.OCTET_STRING) ||
		!inner.ReadASN1(&ecKey, asn1.SEQUENCE) || !inner.Empty() ||
		!ecKey.ReadASN1Integer(&ecVersion) || ecVersion != 1 ||
		!ecKey.ReadASN1(&d, asn1.OCTET_STRING) {
		return nil, errors.New("p256: malformed RFC 5915 ECPrivateKey")
	}
	// [0] parameters, when present, must name the same curve.
	var params cryptobyte.String
	var has bool
	if !ecKey.ReadOptionalASN1(&params, &has, asn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errors.New("p256: malformed ECPrivateKey parameters")
	}
	if has {
		var c encasn1.ObjectIdentifier
		if !params.ReadASN1ObjectIdentifier(&c) || !c.Equal(oidP256) {
			return nil, errors.New("p256: ECPrivateKey parameters name another curve")
		}
	}
	// Keys written by some encoders drop leading zero bytes (SEC 1 §C.4
	// says the octet string is ⌈log2(n)/8⌉ long; crypto/x509 pads too).
	if len(d) > 32 {
		return nil, errors.New("p256: private key longer than 32 bytes")
	}
	var scalar [32]byte
	copy(scalar[32-len(d):], d)
	defer clear(scalar[:])
	if !ValidScalar(scalar[:]) {
		return nil, errors.New("p256: private scalar out of range")
	}
	return newKey(scalar[:]), nil
}
