// Package hsm is simlab's key store: keys are used by reference (a label)
// and never leave the store unless a caller explicitly exports an exportable
// key. Backends: a software store (in memory, or a file encrypted at rest) and
// a PKCS#11 store for real HSMs (SoftHSM2 in CI).
package hsm

import (
	"context"
	"crypto"
	"errors"
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
)
