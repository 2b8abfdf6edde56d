package hsm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/simlab-dev/simlab/internal/p256"
)

// Scheme names a key diversification scheme (docs/hsm.md, "Key
// diversification", states each one byte by byte with a worked example).
type Scheme string

// Diversification schemes.
const (
	// KDFCMAC is the NIST SP 800-108 Rev. 1 §4.1 KDF in counter mode with
	// AES-CMAC (SP 800-38B) as PRF, r = 8: block i (from 1) is
	// CMAC(master, [i]_8 ‖ Label ‖ 0x00 ‖ EF_ICCID ‖ [L]_16), L the derived key
	// length in bits; the key is the first L bits of block 1 ‖ block 2 ‖ ….
	// The master is an AES key; the derived key may be any symmetric type
	// (DES types get odd parity).
	KDFCMAC Scheme = "sp800-108-cmac"
	// TDESECB is the scheme common in OTA platforms for two-key 3DES card
	// keys: with D the rightmost 16 ICCID digits packed as 8 bytes of BCD,
	// left = 3DES-ECB(master, D), right = 3DES-ECB(master, D XOR FF…FF), and
	// the card key is left ‖ right with each byte set to odd parity (as
	// HSMs do for derived DES keys; the KCV does not change). The master
	// is a 3DES key; the derived key is TDES2. Label is not used.
	TDESECB Scheme = "3des-ecb-iccid"
	// ECP256HMAC derives a P-256 private key from an HMAC-SHA256 master: for
	// j = 0, 1, …, T_j = HMAC(master, Label ‖ 0x00 ‖ EF_ICCID ‖ [j]_8) read as a
	// big-endian integer; the first T_j with 1 ≤ T_j ≤ n-1 (n the P-256 group
	// order) is the private scalar d (rejection sampling as in RFC 6979
	// §3.2 step h.3). The derived key is ECP256.
	ECP256HMAC Scheme = "ec-p256-hmac"
)

// Default labels for the KDF (SP 800-108 "Label") used by simlab's fleet.
const (
	LabelKIc  = "simlab-ota-kic"
	LabelKID  = "simlab-ota-kid"
	LabelSign = "simlab-card-sig"
)

// ErrICCID reports an ICCID that is not 1 to 20 decimal digits.
var ErrICCID = errors.New("hsm: ICCID must be 1 to 20 decimal digits")

// DeriveParams say how to derive a card key from a master key.
type DeriveParams struct {
	Scheme Scheme
	// Label is the SP 800-108 Label (KDFCMAC) or the HMAC prefix (ECP256HMAC).
	Label string
	// ICCID is the card's ICCID as decimal digits, check digit included,
	// e.g. "89999000000000000012".
	ICCID string
	// Type is the type of the derived key.
	Type KeyType
	// Options apply to the derived key (exportable, replace).
	Options KeyOptions
}

// Deriver is implemented by backends that derive keys inside the key store
// (the derived key never exists outside it). Derive stores the key derived
// from master as ref.
type Deriver interface {
	Derive(ctx context.Context, master, ref string, p DeriveParams) error
}

// Derive stores under ref the card key derived from the key master as p
// says, without returning it. It uses the backend's Deriver when it has one;
// otherwise it computes the derivation with the backend's own MAC, Encrypt
// or HMAC operations and stores the result with Creator.ImportKey, wiping
// the intermediate buffer.
func Derive(ctx context.Context, ks Keystore, master, ref string, p DeriveParams) error {
	if d, ok := ks.(Deriver); ok {
		return d.Derive(ctx, master, ref, p)
	}
	return DeriveWithPrimitives(ctx, ks, master, ref, p)
}

// DeriveWithPrimitives is Derive built from the Keystore operations. Backends
// use it for the schemes they cannot run natively.
func DeriveWithPrimitives(ctx context.Context, ks Keystore, master, ref string, p DeriveParams) error {
	cr, ok := ks.(Creator)
	if !ok {
		return fmt.Errorf("hsm: derive %q: backend cannot import keys: %w", ref, ErrKeyType)
	}
	material, err := DeriveMaterial(ctx, ks, master, p)
	if err != nil {
		return fmt.Errorf("hsm: derive %q from %q: %w", ref, master, err)
	}
	defer clear(material)
	opts := p.Options
	opts.Derived = true
	return cr.ImportKey(ctx, ref, p.Type, material, opts)
}

// DeriveMaterial computes the key material p describes with the key master
// (raw bytes for symmetric keys, PKCS#8 DER for ECP256HMAC). It is the clear
// derived key: backends use it to implement Derive; nothing else should.
func DeriveMaterial(ctx context.Context, ks Keystore, master string, p DeriveParams) ([]byte, error) {
	info, err := ks.Info(ctx, master)
	if err != nil {
		return nil, err
	}
	switch p.Scheme {
	case KDFCMAC:
		if !info.Type.IsAES() {
			return nil, fmt.Errorf("%s needs an AES master, %q is %s: %w", p.Scheme, master, info.Type, ErrKeyType)
		}
		n := p.Type.KeyLen()
		if n == 0 {
			return nil, fmt.Errorf("%s cannot derive a %s key: %w", p.Scheme, p.Type, ErrKeyType)
		}
		ctxBytes, err := ICCIDBytes(p.ICCID)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, n+16)
		for i := 1; len(out) < n; i++ {
			block, err := ks.MAC(ctx, master, KDFInput(i, p.Label, ctxBytes, n*8))
			if err != nil {
				return nil, err
			}
			out = append(out, block...)
			clear(block)
		}
		clear(out[n:])
		if p.Type.IsDES() {
			SetDESParity(out[:n])
		}
		return out[:n], nil
	case TDESECB:
		if info.Type != TDES2 && info.Type != TDES3 {
			return nil, fmt.Errorf("%s needs a 3DES master, %q is %s: %w", p.Scheme, master, info.Type, ErrKeyType)
		}
		if p.Type != TDES2 {
			return nil, fmt.Errorf("%s derives %s keys only, not %s: %w", p.Scheme, TDES2, p.Type, ErrKeyType)
		}
		d, err := TDESBlock(p.ICCID)
		if err != nil {
			return nil, err
		}
		k, err := ks.Encrypt(ctx, master, ECB, nil, d)
		if err != nil {
			return nil, err
		}
		SetDESParity(k)
		return k, nil
	case ECP256HMAC:
		if info.Type != HMAC {
			return nil, fmt.Errorf("%s needs an HMAC master, %q is %s: %w", p.Scheme, master, info.Type, ErrKeyType)
		}
		if p.Type != ECP256 {
			return nil, fmt.Errorf("%s derives %s keys only, not %s: %w", p.Scheme, ECP256, p.Type, ErrKeyType)
		}
		ef, err := ICCIDBytes(p.ICCID)
		if err != nil {
			return nil, err
		}
		for j := 0; j < 256; j++ {
			msg := append(append(append([]byte(p.Label), 0), ef...), byte(j))
			t, err := ks.HMAC(ctx, master, msg)
			if err != nil {
				return nil, err
			}
			if !p256.ValidScalar(t) {
				clear(t)
				continue // T_j is 0 or ≥ n: try j+1
			}
			der, err := p256.MarshalPKCS8(t)
			clear(t)
			return der, err
		}
		return nil, errors.New("no valid P-256 scalar in 256 tries")
	}
	return nil, fmt.Errorf("unknown derivation scheme %q: %w", p.Scheme, ErrKeyType)
}

// KDFInput returns the SP 800-108 counter-mode PRF input for block i:
// [i]_8 ‖ label ‖ 0x00 ‖ context ‖ [lBits]_16.
func KDFInput(i int, label string, context []byte, lBits int) []byte {
	b := make([]byte, 0, 1+len(label)+1+len(context)+2)
	b = append(b, byte(i))
	b = append(b, label...)
	b = append(b, 0)
	b = append(b, context...)
	return binary.BigEndian.AppendUint16(b, uint16(lBits))
}

// ICCIDBytes returns the ICCID as stored in EF_ICCID (ETSI TS 102 221
// §13.2): 10 bytes of BCD, digits in swapped-nibble order (first digit in
// the low nibble), padded with 'F' nibbles to 20 digits.
func ICCIDBytes(iccid string) ([]byte, error) {
	if err := checkICCID(iccid); err != nil {
		return nil, err
	}
	out := make([]byte, 10)
	for i := range 20 {
		nib := byte(0xF)
		if i < len(iccid) {
			nib = iccid[i] - '0'
		}
		if i%2 == 0 {
			out[i/2] |= nib
		} else {
			out[i/2] |= nib << 4
		}
	}
	return out, nil
}

// TDESBlock returns D ‖ (D XOR FF…FF) for the TDESECB scheme: D is the
// rightmost 16 digits of the ICCID (left-padded with '0' when shorter),
// packed BCD with the first digit in the high nibble.
func TDESBlock(iccid string) ([]byte, error) {
	if err := checkICCID(iccid); err != nil {
		return nil, err
	}
	digits := iccid
	if len(digits) > 16 {
		digits = digits[len(digits)-16:]
	}
	for len(digits) < 16 {
		digits = "0" + digits
	}
	out := make([]byte, 16)
	for i := range 8 {
		out[i] = (digits[2*i]-'0')<<4 | (digits[2*i+1] - '0')
		out[8+i] = ^out[i]
	}
	return out, nil
}

func checkICCID(iccid string) error {
	if len(iccid) == 0 || len(iccid) > 20 {
		return fmt.Errorf("%w: got %d characters", ErrICCID, len(iccid))
	}
	for i := 0; i < len(iccid); i++ {
		if iccid[i] < '0' || iccid[i] > '9' {
			return fmt.Errorf("%w: character %d is %q", ErrICCID, i, iccid[i])
		}
	}
	return nil
}
