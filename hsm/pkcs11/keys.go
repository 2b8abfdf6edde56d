//go:build cgo

package pkcs11

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"

	p11 "github.com/miekg/pkcs11"

	"github.com/simlab-dev/simlab/hsm"
)

func ellipticP256() elliptic.Curve { return elliptic.P256() }

// p256Params is CKA_EC_PARAMS for P-256: the DER OID 1.2.840.10045.3.1.7
// (RFC 5480 §2.1.1.1, secp256r1).
var p256Params = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}

// keyTypeOf maps a symmetric hsm.KeyType to its CKK_ value.
func keyTypeOf(typ hsm.KeyType) (uint, error) {
	switch {
	case typ == hsm.DES:
		return p11.CKK_DES, nil
	case typ == hsm.TDES2:
		return p11.CKK_DES2, nil
	case typ == hsm.TDES3:
		return p11.CKK_DES3, nil
	case typ.IsAES():
		return p11.CKK_AES, nil
	case typ == hsm.HMAC:
		return p11.CKK_GENERIC_SECRET, nil
	}
	return 0, fmt.Errorf("pkcs11: unsupported key type %q: %w", typ, hsm.ErrKeyType)
}

// secretTemplate is the attribute template of a token secret key.
func secretTemplate(label string, typ hsm.KeyType, exportable bool) ([]*p11.Attribute, error) {
	kt, err := keyTypeOf(typ)
	if err != nil {
		return nil, err
	}
	t := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, kt),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_SENSITIVE, !exportable),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, exportable),
		p11.NewAttribute(p11.CKA_SIGN, true),
		p11.NewAttribute(p11.CKA_VERIFY, true),
		p11.NewAttribute(p11.CKA_DERIVE, true),
	}
	if typ != hsm.HMAC {
		t = append(t, p11.NewAttribute(p11.CKA_ENCRYPT, true), p11.NewAttribute(p11.CKA_DECRYPT, true))
	}
	return t, nil
}

// exists reports whether any object is labelled ref.
func (s *Store) exists(sh p11.SessionHandle, ref string) (bool, error) {
	hs, err := s.findHandles(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, s.label(ref))})
	return len(hs) > 0, err
}

// create runs build under a temporary label and then gives its objects
// ref's label, replacing an existing key only when opts.Replace is set, so
// a failure never leaves ref half-made or destroys the old key first.
func (s *Store) create(ctx context.Context, ref string, opts hsm.KeyOptions, build func(sh p11.SessionHandle, label string) ([]p11.ObjectHandle, error)) error {
	if ref == "" {
		return fmt.Errorf("pkcs11: empty key label: %w", hsm.ErrNotFound)
	}
	defer s.forget(ref)
	return s.withExclusive(ctx, func(sh p11.SessionHandle) error {
		c := s.mod.ctx
		found, err := s.exists(sh, ref)
		if err != nil {
			return err
		}
		if found && !opts.Replace {
			return fmt.Errorf("pkcs11: key %q: %w", ref, hsm.ErrExists)
		}
		label := s.label(ref)
		if found {
			label += "\x00simlab-new"
		}
		hs, err := build(sh, label)
		if err != nil {
			for _, h := range hs {
				c.DestroyObject(sh, h)
			}
			return err
		}
		if !found {
			return nil
		}
		old, err := s.findHandles(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, s.label(ref))})
		if err != nil {
			return err
		}
		for _, h := range old {
			if err := c.DestroyObject(sh, h); err != nil {
				return fmt.Errorf("pkcs11: replace %q: destroy old key: %w", ref, err)
			}
		}
		for _, h := range hs {
			if err := c.SetAttributeValue(sh, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, s.label(ref))}); err != nil {
				return fmt.Errorf("pkcs11: replace %q: relabel: %w", ref, err)
			}
		}
		return nil
	})
}

// Generate creates a new random, non-exportable key on the token.
func (s *Store) Generate(ctx context.Context, ref string, typ hsm.KeyType) error {
	return s.GenerateKey(ctx, ref, typ, hsm.KeyOptions{})
}

// GenerateKey creates a new key on the token with CKM_*_KEY_GEN or
// CKM_{EC,RSA_PKCS}_KEY_PAIR_GEN.
func (s *Store) GenerateKey(ctx context.Context, ref string, typ hsm.KeyType, opts hsm.KeyOptions) error {
	switch typ {
	case hsm.ECP256, hsm.RSA2048:
		return s.create(ctx, ref, opts, func(sh p11.SessionHandle, label string) ([]p11.ObjectHandle, error) {
			pub := []*p11.Attribute{
				p11.NewAttribute(p11.CKA_TOKEN, true),
				p11.NewAttribute(p11.CKA_LABEL, label),
				p11.NewAttribute(p11.CKA_VERIFY, true),
			}
			priv := []*p11.Attribute{
				p11.NewAttribute(p11.CKA_TOKEN, true),
				p11.NewAttribute(p11.CKA_PRIVATE, true),
				p11.NewAttribute(p11.CKA_LABEL, label),
				p11.NewAttribute(p11.CKA_SIGN, true),
				p11.NewAttribute(p11.CKA_SENSITIVE, !opts.Exportable),
				p11.NewAttribute(p11.CKA_EXTRACTABLE, opts.Exportable),
			}
			mech := uint(p11.CKM_EC_KEY_PAIR_GEN)
			if typ == hsm.ECP256 {
				pub = append(pub, p11.NewAttribute(p11.CKA_EC_PARAMS, p256Params))
			} else {
				mech = p11.CKM_RSA_PKCS_KEY_PAIR_GEN
				pub = append(pub, p11.NewAttribute(p11.CKA_MODULUS_BITS, 2048), p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}))
			}
			hp, hk, err := s.mod.ctx.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(mech, nil)}, pub, priv)
			if err != nil {
				return nil, fmt.Errorf("pkcs11: generate %s %q: %w", typ, ref, err)
			}
			return []p11.ObjectHandle{hp, hk}, nil
		})
	}
	t, err := secretTemplate("", typ, opts.Exportable)
	if err != nil {
		return err
	}
	var mech uint
	switch {
	case typ == hsm.DES:
		mech = p11.CKM_DES_KEY_GEN
	case typ == hsm.TDES2:
		mech = p11.CKM_DES2_KEY_GEN
	case typ == hsm.TDES3:
		mech = p11.CKM_DES3_KEY_GEN
	case typ.IsAES():
		mech = p11.CKM_AES_KEY_GEN
		t = append(t, p11.NewAttribute(p11.CKA_VALUE_LEN, typ.KeyLen()))
	default: // HMAC
		mech = p11.CKM_GENERIC_SECRET_KEY_GEN
		t = append(t, p11.NewAttribute(p11.CKA_VALUE_LEN, typ.KeyLen()))
	}
	return s.create(ctx, ref, opts, func(sh p11.SessionHandle, label string) ([]p11.ObjectHandle, error) {
		t[4] = p11.NewAttribute(p11.CKA_LABEL, label)
		h, err := s.mod.ctx.GenerateKey(sh, []*p11.Mechanism{p11.NewMechanism(mech, nil)}, t)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: generate %s %q: %w", typ, ref, err)
		}
		return []p11.ObjectHandle{h}, nil
	})
}

// Import stores known key material as a non-exportable token key.
func (s *Store) Import(ctx context.Context, ref string, typ hsm.KeyType, material []byte) error {
	return s.ImportKey(ctx, ref, typ, material, hsm.KeyOptions{})
}

// ImportKey stores known key material (raw bytes for symmetric and HMAC
// keys, PKCS#8 DER for EC and RSA private keys) on the token.
func (s *Store) ImportKey(ctx context.Context, ref string, typ hsm.KeyType, material []byte, opts hsm.KeyOptions) error {
	if typ.IsAsymmetric() {
		priv, err := parsePKCS8(ref, typ, material)
		if err != nil {
			return err
		}
		return s.create(ctx, ref, opts, func(sh p11.SessionHandle, label string) ([]p11.ObjectHandle, error) {
			return s.importPrivate(sh, label, priv, opts.Exportable)
		})
	}
	n := typ.KeyLen()
	if n == 0 || typ != hsm.HMAC && len(material) != n || typ == hsm.HMAC && len(material) < 32 {
		return fmt.Errorf("pkcs11: %s key %q of %d bytes: %w", typ, ref, len(material), hsm.ErrKeyType)
	}
	t, err := secretTemplate("", typ, opts.Exportable)
	if err != nil {
		return err
	}
	t = append(t, p11.NewAttribute(p11.CKA_VALUE, material))
	return s.create(ctx, ref, opts, func(sh p11.SessionHandle, label string) ([]p11.ObjectHandle, error) {
		t[4] = p11.NewAttribute(p11.CKA_LABEL, label)
		h, err := s.mod.ctx.CreateObject(sh, t)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: import %s %q: %w", typ, ref, err)
		}
		return []p11.ObjectHandle{h}, nil
	})
}

// importPrivate creates the private and public key objects of priv.
func (s *Store) importPrivate(sh p11.SessionHandle, label string, priv any, exportable bool) ([]p11.ObjectHandle, error) {
	common := func(class uint) []*p11.Attribute {
		return []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, class),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_LABEL, label),
		}
	}
	var privT, pubT []*p11.Attribute
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		d, err := k.Bytes()
		if err != nil {
			return nil, err
		}
		point, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, err
		}
		ecPoint, err := asn1.Marshal(point)
		if err != nil {
			return nil, err
		}
		privT = append(common(p11.CKO_PRIVATE_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_EC),
			p11.NewAttribute(p11.CKA_EC_PARAMS, p256Params),
			p11.NewAttribute(p11.CKA_VALUE, d))
		pubT = append(common(p11.CKO_PUBLIC_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_EC),
			p11.NewAttribute(p11.CKA_EC_PARAMS, p256Params),
			p11.NewAttribute(p11.CKA_EC_POINT, ecPoint))
	case *rsa.PrivateKey:
		k.Precompute()
		e := big.NewInt(int64(k.E)).Bytes()
		privT = append(common(p11.CKO_PRIVATE_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_RSA),
			p11.NewAttribute(p11.CKA_MODULUS, k.N.Bytes()),
			p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, e),
			p11.NewAttribute(p11.CKA_PRIVATE_EXPONENT, k.D.Bytes()),
			p11.NewAttribute(p11.CKA_PRIME_1, k.Primes[0].Bytes()),
			p11.NewAttribute(p11.CKA_PRIME_2, k.Primes[1].Bytes()),
			p11.NewAttribute(p11.CKA_EXPONENT_1, k.Precomputed.Dp.Bytes()),
			p11.NewAttribute(p11.CKA_EXPONENT_2, k.Precomputed.Dq.Bytes()),
			p11.NewAttribute(p11.CKA_COEFFICIENT, k.Precomputed.Qinv.Bytes()))
		pubT = append(common(p11.CKO_PUBLIC_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_RSA),
			p11.NewAttribute(p11.CKA_MODULUS, k.N.Bytes()),
			p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, e))
	}
	privT = append(privT,
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SIGN, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, !exportable),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, exportable))
	pubT = append(pubT, p11.NewAttribute(p11.CKA_VERIFY, true))
	hk, err := s.mod.ctx.CreateObject(sh, privT)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: import private key: %w", err)
	}
	hp, err := s.mod.ctx.CreateObject(sh, pubT)
	if err != nil {
		return []p11.ObjectHandle{hk}, fmt.Errorf("pkcs11: import public key: %w", err)
	}
	return []p11.ObjectHandle{hk, hp}, nil
}

// Export returns the material of key ref (raw bytes; PKCS#8 DER for
// private keys) when it was created exportable (CKA_EXTRACTABLE true,
// CKA_SENSITIVE false), and hsm.ErrNotExportable otherwise.
func (s *Store) Export(ctx context.Context, ref string) ([]byte, error) {
	o, err := s.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !o.info.Exportable {
		return nil, fmt.Errorf("pkcs11: key %q: %w", ref, hsm.ErrNotExportable)
	}
	var out []byte
	err = s.with(ctx, func(sh p11.SessionHandle) error {
		get := func(types ...uint) ([][]byte, error) {
			q := make([]*p11.Attribute, len(types))
			for i, t := range types {
				q[i] = p11.NewAttribute(t, nil)
			}
			a, err := s.mod.ctx.GetAttributeValue(sh, o.handle, q)
			if err != nil {
				return nil, fmt.Errorf("pkcs11: export %q: %w", ref, err)
			}
			v := make([][]byte, len(a))
			for i := range a {
				v[i] = a[i].Value
			}
			return v, nil
		}
		switch o.typ {
		case hsm.ECP256:
			v, err := get(p11.CKA_VALUE)
			if err != nil {
				return err
			}
			d := make([]byte, 32)
			copy(d[32-len(v[0]):], v[0])
			priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
			clear(d)
			if err != nil {
				return fmt.Errorf("pkcs11: export %q: %w", ref, err)
			}
			out, err = x509.MarshalPKCS8PrivateKey(priv)
			return err
		case hsm.RSA2048:
			v, err := get(p11.CKA_PRIVATE_EXPONENT, p11.CKA_PRIME_1, p11.CKA_PRIME_2)
			if err != nil {
				return err
			}
			pub := o.pub.(*rsa.PublicKey)
			priv := &rsa.PrivateKey{PublicKey: *pub, D: new(big.Int).SetBytes(v[0]),
				Primes: []*big.Int{new(big.Int).SetBytes(v[1]), new(big.Int).SetBytes(v[2])}}
			priv.Precompute()
			out, err = x509.MarshalPKCS8PrivateKey(priv)
			return err
		}
		v, err := get(p11.CKA_VALUE)
		if err != nil {
			return err
		}
		out = v[0]
		return nil
	})
	return out, err
}

// Delete destroys every object labelled ref (secret key, or private and
// public key).
func (s *Store) Delete(ctx context.Context, ref string) error {
	defer s.forget(ref)
	return s.withExclusive(ctx, func(sh p11.SessionHandle) error {
		hs, err := s.findHandles(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, s.label(ref))})
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			return fmt.Errorf("pkcs11: key %q: %w", ref, hsm.ErrNotFound)
		}
		for _, h := range hs {
			if err := s.mod.ctx.DestroyObject(sh, h); err != nil {
				return fmt.Errorf("pkcs11: delete %q: %w", ref, err)
			}
		}
		return nil
	})
}

// Derive stores the key derived from master as ref. The 3DES-ECB-of-ICCID
// scheme runs on the token with CKM_DES3_ECB_ENCRYPT_DATA (PKCS#11 v2.40
// §2.33), so the card key never leaves it: the data D ‖ (D XOR FF…FF)
// enciphered in ECB is exactly left ‖ right. The other schemes compute
// their PRF on the token (CMAC, HMAC) and import the result, so the derived
// key passes through this process's memory once (hsm.DeriveWithPrimitives).
func (s *Store) Derive(ctx context.Context, master, ref string, p hsm.DeriveParams) error {
	if p.Scheme != hsm.TDESECB || !s.mech[p11.CKM_DES3_ECB_ENCRYPT_DATA] {
		return hsm.DeriveWithPrimitives(ctx, s, master, ref, p)
	}
	mo, err := s.find(ctx, master)
	if err != nil {
		return err
	}
	if mo.typ != hsm.TDES2 && mo.typ != hsm.TDES3 {
		return fmt.Errorf("pkcs11: %s needs a 3DES master, %q is %s: %w", p.Scheme, master, mo.typ, hsm.ErrKeyType)
	}
	if p.Type != hsm.TDES2 {
		return fmt.Errorf("pkcs11: %s derives %s keys only: %w", p.Scheme, hsm.TDES2, hsm.ErrKeyType)
	}
	data, err := hsm.TDESBlock(p.ICCID)
	if err != nil {
		return err
	}
	t, err := secretTemplate("", hsm.TDES2, p.Options.Exportable)
	if err != nil {
		return err
	}
	err = s.create(ctx, ref, p.Options, func(sh p11.SessionHandle, label string) ([]p11.ObjectHandle, error) {
		t[4] = p11.NewAttribute(p11.CKA_LABEL, label)
		param, free := derivationStringData(data)
		defer free()
		h, err := s.mod.ctx.DeriveKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_DES3_ECB_ENCRYPT_DATA, param)}, mo.handle, t)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: derive %q: %w", ref, err)
		}
		return []p11.ObjectHandle{h}, nil
	})
	return err
}

// Rename sets CKA_LABEL of every object labelled from to to.
func (s *Store) Rename(ctx context.Context, from, to string) error {
	defer s.forget(from)
	defer s.forget(to)
	return s.withExclusive(ctx, func(sh p11.SessionHandle) error {
		if taken, err := s.exists(sh, to); err != nil {
			return err
		} else if taken || to == "" {
			return fmt.Errorf("pkcs11: key %q: %w", to, hsm.ErrExists)
		}
		hs, err := s.findHandles(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, s.label(from))})
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			return fmt.Errorf("pkcs11: key %q: %w", from, hsm.ErrNotFound)
		}
		for _, h := range hs {
			if err := s.mod.ctx.SetAttributeValue(sh, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, s.label(to))}); err != nil {
				return fmt.Errorf("pkcs11: rename %q: %w", from, err)
			}
		}
		return nil
	})
}
