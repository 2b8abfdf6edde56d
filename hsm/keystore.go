// Package hsm is simlab's key store: keys are used by reference (a label)
// and never leave the store unless a caller explicitly exports an exportable
// key. Backends: a software store (in memory, or a file encrypted at rest) and
// a PKCS#11 store for real HSMs (SoftHSM2 in CI).
package hsm

import (
	"context"
	"crypto"
	"errors"
	"fmt"
)

// KeyType names the algorithm and size a key is for.
type KeyType string

// Key types. Symmetric key lengths: DES 8, 3DES two-key 16, 3DES three-key 24,
// AES 16/24/32 bytes.
const (
	DES     KeyType = "des"
	TDES2   KeyType = "3des2"
	TDES3   KeyType = "3des3"
	AES128  KeyType = "aes128"
	AES192  KeyType = "aes192"
	AES256  KeyType = "aes256"
	HMAC    KeyType = "hmac-sha256"
	ECP256  KeyType = "ec-p256"
	RSA2048 KeyType = "rsa2048"
	Unknown KeyType = ""
)

// Mode is a block cipher mode of operation.
type Mode int

// Modes of operation. IV for CBC is given by the caller (TS 102 225 uses an
// all-zero IV); ECB ignores it. Input lengths must be a multiple of the block
// size: padding is the caller's business (OTA pads with zeros).
const (
	CBC Mode = iota + 1
	ECB
)

// KeyInfo describes a key without revealing it.
type KeyInfo struct {
	Label      string  `json:"label"`
	Type       KeyType `json:"type"`
	Exportable bool    `json:"exportable"`
	// KCV is the key check value where the backend can compute it (first 3
	// bytes of encrypting zeros for DES/3DES, of CMAC(zeros) for AES), hex.
	KCV string `json:"kcv,omitempty"`
}

// Keystore is the seam every user of keys goes through (DESIGN.md, "Key
// seams"). Implementations are safe for concurrent use.
type Keystore interface {
	// Encrypt and Decrypt use the DES, 3DES or AES key ref.
	Encrypt(ctx context.Context, ref string, mode Mode, iv, data []byte) ([]byte, error)
	Decrypt(ctx context.Context, ref string, mode Mode, iv, data []byte) ([]byte, error)
	// MAC returns the full-block MAC of data under the symmetric key ref,
	// with no padding added: DES/3DES CBC-MAC (ISO 9797-1 algorithm 1, IV 0,
	// data a multiple of 8 bytes, 8 bytes out) or AES-CMAC (RFC 4493, any
	// length, 16 bytes out). Callers truncate (OTA keeps 8 bytes).
	MAC(ctx context.Context, ref string, data []byte) ([]byte, error)
	// HMAC returns HMAC-SHA256 of data under the HMAC key ref.
	HMAC(ctx context.Context, ref string, data []byte) ([]byte, error)
	// Signer returns a crypto.Signer for the EC or RSA key ref; its Public
	// method gives the public key.
	Signer(ctx context.Context, ref string) (crypto.Signer, error)
	// Generate creates a new random key; Import stores known key material
	// (raw bytes for symmetric keys, PKCS#8 DER for private keys).
	Generate(ctx context.Context, ref string, typ KeyType) error
	Import(ctx context.Context, ref string, typ KeyType, material []byte) error
	// Info and List describe keys; they never reveal key material.
	Info(ctx context.Context, ref string) (KeyInfo, error)
	List(ctx context.Context) ([]KeyInfo, error)
	Close() error
}

// Errors shared by every backend. They never carry key material.
var (
	ErrNotFound      = errors.New("hsm: no such key")
	ErrExists        = errors.New("hsm: key already exists")
	ErrKeyType       = errors.New("hsm: key type does not fit the operation")
	ErrBadLength     = errors.New("hsm: data length is not a multiple of the block size")
	ErrNotExportable = errors.New("hsm: key is not exportable")
	// ErrUnsupported means the backend lacks the algorithm (for example a
	// PKCS#11 token without single DES).
	ErrUnsupported = errors.New("hsm: algorithm not supported by this key store")
)

// KeyLen returns the length in bytes of a symmetric key of type t (DES 8,
// 3DES two-key 16, three-key 24, AES 16/24/32, HMAC-SHA256 32: HMAC keys
// are generated with 32 bytes and imported with at least 32)
// and 0 for asymmetric or unknown types.
func (t KeyType) KeyLen() int {
	switch t {
	case DES:
		return 8
	case TDES2, AES128:
		return 16
	case TDES3, AES192:
		return 24
	case AES256, HMAC:
		return 32
	}
	return 0
}

// BlockSize returns the cipher block size in bytes for a block-cipher key
// type (8 for DES/3DES, 16 for AES) and 0 for every other type.
func (t KeyType) BlockSize() int {
	switch t {
	case DES, TDES2, TDES3:
		return 8
	case AES128, AES192, AES256:
		return 16
	}
	return 0
}

// IsAES reports whether t is an AES key type.
func (t KeyType) IsAES() bool { return t == AES128 || t == AES192 || t == AES256 }

// IsDES reports whether t is a single, two-key or three-key DES type.
func (t KeyType) IsDES() bool { return t == DES || t == TDES2 || t == TDES3 }

// IsAsymmetric reports whether t is a private-key type used through Signer.
func (t KeyType) IsAsymmetric() bool { return t == ECP256 || t == RSA2048 }

// Valid reports whether t is one of the key types above (not Unknown).
func (t KeyType) Valid() bool {
	return t.KeyLen() > 0 || t.IsAsymmetric()
}

// ParseKeyType returns the KeyType named s ("aes128", "3des2", "ec-p256", …).
func ParseKeyType(s string) (KeyType, error) {
	t := KeyType(s)
	if !t.Valid() {
		return Unknown, fmt.Errorf("hsm: unknown key type %q (want des, 3des2, 3des3, aes128, aes192, aes256, hmac-sha256, ec-p256 or rsa2048)", s)
	}
	return t, nil
}

// String returns the name of mode m ("cbc", "ecb").
func (m Mode) String() string {
	switch m {
	case CBC:
		return "cbc"
	case ECB:
		return "ecb"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// KeyOptions are the creation options that the Keystore method set leaves at
// their defaults (Generate and Import create non-exportable keys and refuse
// to replace an existing label).
type KeyOptions struct {
	// Exportable lets Export return the key material later. Secret keys are
	// created non-exportable unless this is set.
	Exportable bool
	// Replace overwrites an existing key with the same label instead of
	// failing with ErrExists.
	Replace bool
	// Derived marks a key computed by Derive from a master: an emulated
	// card's key. The soft backend's in-memory store signs with such
	// EC P-256 keys through its fast signer (internal/p256, not
	// constant-time); keys generated or imported by a user, and keys in a
	// key store file, are signed by crypto/ecdsa (docs/hsm.md).
	Derived bool
}

// Creator is implemented by backends that take KeyOptions when creating
// keys. Every simlab backend implements it.
type Creator interface {
	GenerateKey(ctx context.Context, ref string, typ KeyType, opts KeyOptions) error
	ImportKey(ctx context.Context, ref string, typ KeyType, material []byte, opts KeyOptions) error
}

// Exporter is implemented by backends that can return key material. Export
// fails with ErrNotExportable unless the key was created with
// KeyOptions.Exportable; it returns raw bytes for symmetric and HMAC keys and
// PKCS#8 DER for private keys.
type Exporter interface {
	Export(ctx context.Context, ref string) ([]byte, error)
}

// Deleter is implemented by backends that can remove a key.
type Deleter interface {
	Delete(ctx context.Context, ref string) error
}

// Counters are monotonic counters, one per key string (simlab uses
// "<ICCID>/<keyset>/<TAR>", the TS 102 225 §5.1.1 replay counter of one
// card, keyset and application). Implementations are safe for concurrent use
// and never hand out the same value twice for a key, across restarts too.
type Counters interface {
	// Next increments the counter key and returns the new value (1 for a new
	// key). The value is durable before Next returns.
	Next(ctx context.Context, key string) (uint64, error)
	// Get returns the counter's current value (0 for a new key).
	Get(ctx context.Context, key string) (uint64, error)
	// Advance sets the counter to to, failing with ErrCounterBackwards when
	// that is lower than its current value.
	Advance(ctx context.Context, key string, to uint64) error
	Close() error
}

// Counter errors.
var (
	ErrCounterBackwards = errors.New("hsm: counter cannot go backwards")
	ErrCounterExhausted = errors.New("hsm: counter is at its maximum")
)

// SetDESParity sets the low bit of every byte of a DES key so that each
// byte has odd parity (FIPS 46-3 §3: "the eighth bit of each byte is used
// for odd parity"). DES ignores these bits; HSMs and OTA platforms set them.
func SetDESParity(b []byte) {
	for i, v := range b {
		v &^= 1
		p := v ^ v>>4
		p ^= p >> 2
		p ^= p >> 1
		b[i] = v | (^p & 1)
	}
}

// Renamer is implemented by backends that can give a key a new label (used
// by `simlab hsm rotate` to keep the previous key). Rename fails with
// ErrExists when to is taken and ErrNotFound when from is missing.
type Renamer interface {
	Rename(ctx context.Context, from, to string) error
}
