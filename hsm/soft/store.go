// Package soft is simlab's software key store, the default hsm.Keystore
// backend: keys live in process memory (NewMemory) or in a file encrypted at
// rest with AES-256-GCM under a passphrase-derived key (Open). Keys are used
// by label; key material leaves the store only through Export, and only for
// keys created exportable.
package soft

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"sync"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/internal/p256"
)

// ErrClosed is returned by every operation on a closed Store.
var ErrClosed = errors.New("hsm/soft: store is closed")

// Store is the software key store. The zero value is not usable: call
// NewMemory or Open. A Store is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	keys   map[string]*key
	closed bool
	// save, when set, persists the key set after every change; it is called
	// with mu held for writing, so changes are durable before they return.
	save func(keys map[string]*key) error
	// onClose releases the file lock in file mode.
	onClose func()
}

// key is one stored key: its public description, its material, and the
// objects precomputed from it.
type key struct {
	info     hsm.KeyInfo
	material []byte // raw symmetric/HMAC key, or PKCS#8 DER for private keys

	block  cipher.Block // DES, 3DES, AES
	mac    *cmac        // AES only
	signer crypto.Signer
	// hmacs holds HMAC-SHA256 states keyed with material, reused across
	// calls (HMAC keys only): crypto/hmac's Reset returns a state to its
	// keyed start, so a call costs no key schedule and no allocation but
	// its result. The states are as secret as the key and never leave
	// the store.
	hmacs *sync.Pool
}

// NewMemory returns an empty in-memory Store whose keys vanish with it. It
// draws key material from crypto/rand.
func NewMemory() *Store {
	return &Store{keys: make(map[string]*key)}
}

var _ hsm.Keystore = (*Store)(nil)

// newKey validates material for typ and precomputes what operations need.
// An EC P-256 key signs through crypto/ecdsa (constant-time) unless fast
// is set: then through internal/p256, about twice as fast but with
// variable-time scalar arithmetic, which is for the emulated fleet's
// derived card keys only.
func newKey(ref string, typ hsm.KeyType, material []byte, exportable, fast bool) (*key, error) {
	if ref == "" {
		return nil, fmt.Errorf("hsm/soft: empty key label: %w", hsm.ErrNotFound)
	}
	k := &key{
		info:     hsm.KeyInfo{Label: ref, Type: typ, Exportable: exportable},
		material: append([]byte(nil), material...),
	}
	var err error
	switch {
	case typ.IsDES():
		if len(material) != typ.KeyLen() {
			return nil, fmt.Errorf("hsm/soft: %s key %q must be %d bytes, got %d: %w", typ, ref, typ.KeyLen(), len(material), hsm.ErrKeyType)
		}
		switch typ {
		case hsm.DES:
			k.block, err = des.NewCipher(material)
		case hsm.TDES2:
			k3 := make([]byte, 0, 24)
			k3 = append(append(k3, material...), material[:8]...)
			k.block, err = des.NewTripleDESCipher(k3)
		default:
			k.block, err = des.NewTripleDESCipher(material)
		}
		if err != nil {
			return nil, fmt.Errorf("hsm/soft: %s key %q: %w", typ, ref, hsm.ErrKeyType)
		}
		kcv := make([]byte, 8)
		k.block.Encrypt(kcv, kcv)
		k.info.KCV = hex.EncodeToString(kcv[:3])
	case typ.IsAES():
		if len(material) != typ.KeyLen() {
			return nil, fmt.Errorf("hsm/soft: %s key %q must be %d bytes, got %d: %w", typ, ref, typ.KeyLen(), len(material), hsm.ErrKeyType)
		}
		if k.block, err = aes.NewCipher(material); err != nil {
			return nil, fmt.Errorf("hsm/soft: %s key %q: %w", typ, ref, hsm.ErrKeyType)
		}
		k.mac = newCMAC(k.block)
		k.info.KCV = hex.EncodeToString(k.mac.sum(make([]byte, 16))[:3])
	case typ == hsm.HMAC:
		if len(material) < 32 {
			return nil, fmt.Errorf("hsm/soft: HMAC key %q must be at least 32 bytes, got %d: %w", ref, len(material), hsm.ErrKeyType)
		}
		m := hmac.New(sha256.New, material)
		m.Write(make([]byte, 32))
		k.info.KCV = hex.EncodeToString(m.Sum(nil)[:3])
		keyed := k.material
		k.hmacs = &sync.Pool{New: func() any { return hmac.New(sha256.New, keyed) }}
	case typ == hsm.ECP256 && fast:
		// The fast parser leaves the public point uncomputed until it is
		// asked for: a fleet card derives its key and only ever signs.
		if k.signer, err = p256.ParsePKCS8(material); err != nil {
			if errors.Is(err, p256.ErrNotP256) {
				return nil, fmt.Errorf("hsm/soft: key %q holds a key that is not %s: %w", ref, typ, hsm.ErrKeyType)
			}
			return nil, fmt.Errorf("hsm/soft: %s key %q is not PKCS#8 DER: %w", typ, ref, hsm.ErrKeyType)
		}
	case typ == hsm.ECP256:
		priv, err := x509.ParsePKCS8PrivateKey(material)
		if err != nil {
			return nil, fmt.Errorf("hsm/soft: %s key %q is not PKCS#8 DER: %w", typ, ref, hsm.ErrKeyType)
		}
		ec, ok := priv.(*ecdsa.PrivateKey)
		if !ok || ec.Curve != elliptic.P256() {
			return nil, fmt.Errorf("hsm/soft: key %q holds a key that is not %s: %w", ref, typ, hsm.ErrKeyType)
		}
		k.signer = ec
	case typ == hsm.RSA2048:
		priv, err := x509.ParsePKCS8PrivateKey(material)
		if err != nil {
			return nil, fmt.Errorf("hsm/soft: %s key %q is not PKCS#8 DER: %w", typ, ref, hsm.ErrKeyType)
		}
		switch p := priv.(type) {
		case *rsa.PrivateKey:
			if p.N.BitLen() != 2048 {
				return nil, fmt.Errorf("hsm/soft: key %q holds an RSA-%d key, not %s: %w", ref, p.N.BitLen(), typ, hsm.ErrKeyType)
			}
			k.signer = p
		default:
			return nil, fmt.Errorf("hsm/soft: key %q holds a %T, not %s: %w", ref, priv, typ, hsm.ErrKeyType)
		}
	default:
		return nil, fmt.Errorf("hsm/soft: key %q: unsupported key type %q: %w", ref, typ, hsm.ErrKeyType)
	}
	return k, nil
}

// Has reports whether the store holds a key ref (false once closed).
func (s *Store) Has(ref string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.keys[ref]
	return ok && !s.closed
}

// lookup returns the key ref under the read lock.
func (s *Store) lookup(ref string) (*key, error) {
	s.mu.RLock()
	k, ok := s.keys[ref]
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if !ok {
		return nil, fmt.Errorf("hsm/soft: key %q: %w", ref, hsm.ErrNotFound)
	}
	return k, nil
}

// add stores k, failing with hsm.ErrExists when its label is taken unless
// replace is set, and persists the change in file mode.
func (s *Store) add(k *key, replace bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	old, exists := s.keys[k.info.Label]
	if exists && !replace {
		return fmt.Errorf("hsm/soft: key %q: %w", k.info.Label, hsm.ErrExists)
	}
	s.keys[k.info.Label] = k
	if s.save != nil {
		if err := s.save(s.keys); err != nil {
			if exists {
				s.keys[k.info.Label] = old
			} else {
				delete(s.keys, k.info.Label)
			}
			return err
		}
	}
	return nil
}

// blockOp checks the key and lengths shared by Encrypt and Decrypt.
func (s *Store) blockOp(ref string, mode hsm.Mode, iv, data []byte) (*key, error) {
	k, err := s.lookup(ref)
	if err != nil {
		return nil, err
	}
	if k.block == nil {
		return nil, fmt.Errorf("hsm/soft: key %q is %s, not a block cipher key: %w", ref, k.info.Type, hsm.ErrKeyType)
	}
	bs := k.block.BlockSize()
	if len(data)%bs != 0 {
		return nil, fmt.Errorf("hsm/soft: %d bytes for a %d-byte block: %w", len(data), bs, hsm.ErrBadLength)
	}
	switch mode {
	case hsm.CBC:
		if len(iv) != bs {
			return nil, fmt.Errorf("hsm/soft: CBC IV is %d bytes, want %d: %w", len(iv), bs, hsm.ErrBadLength)
		}
	case hsm.ECB:
	default:
		return nil, fmt.Errorf("hsm/soft: unknown mode %v: %w", mode, hsm.ErrKeyType)
	}
	return k, nil
}

// Encrypt enciphers data under the DES, 3DES or AES key ref in CBC (with iv)
// or ECB mode. data must be a multiple of the block size.
func (s *Store) Encrypt(_ context.Context, ref string, mode hsm.Mode, iv, data []byte) ([]byte, error) {
	k, err := s.blockOp(ref, mode, iv, data)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(data))
	bs := k.block.BlockSize()
	if mode == hsm.ECB {
		for i := 0; i < len(data); i += bs {
			k.block.Encrypt(out[i:i+bs], data[i:i+bs])
		}
		return out, nil
	}
	// CBC by hand, not cipher.NewCBCEncrypter: for an OTA packet of a few
	// blocks the library's mode object (576 B for AES) costs more than the
	// blocks themselves.
	prev := iv
	for i := 0; i < len(data); i += bs {
		subtle.XORBytes(out[i:i+bs], data[i:i+bs], prev)
		k.block.Encrypt(out[i:i+bs], out[i:i+bs])
		prev = out[i : i+bs]
	}
	return out, nil
}

// Decrypt deciphers data under the DES, 3DES or AES key ref in CBC (with iv)
// or ECB mode. data must be a multiple of the block size.
func (s *Store) Decrypt(_ context.Context, ref string, mode hsm.Mode, iv, data []byte) ([]byte, error) {
	k, err := s.blockOp(ref, mode, iv, data)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(data))
	bs := k.block.BlockSize()
	if mode == hsm.ECB {
		for i := 0; i < len(data); i += bs {
			k.block.Decrypt(out[i:i+bs], data[i:i+bs])
		}
		return out, nil
	}
	prev := iv
	for i := 0; i < len(data); i += bs {
		k.block.Decrypt(out[i:i+bs], data[i:i+bs])
		subtle.XORBytes(out[i:i+bs], out[i:i+bs], prev)
		prev = data[i : i+bs]
	}
	return out, nil
}

// MAC returns DES/3DES CBC-MAC (ISO/IEC 9797-1 MAC algorithm 1, padding
// method "none", IV zero; data a multiple of 8 bytes; 8 bytes out) or AES-CMAC
// (RFC 4493; any length; 16 bytes out) of data under key ref.
func (s *Store) MAC(_ context.Context, ref string, data []byte) ([]byte, error) {
	k, err := s.lookup(ref)
	if err != nil {
		return nil, err
	}
	switch {
	case k.mac != nil:
		return k.mac.sum(data), nil
	case k.block != nil:
		if len(data) == 0 || len(data)%8 != 0 {
			return nil, fmt.Errorf("hsm/soft: CBC-MAC over %d bytes, want a non-zero multiple of 8: %w", len(data), hsm.ErrBadLength)
		}
		x := make([]byte, 8)
		for i := 0; i < len(data); i += 8 {
			subtle.XORBytes(x, x, data[i:i+8])
			k.block.Encrypt(x, x)
		}
		return x, nil
	}
	return nil, fmt.Errorf("hsm/soft: key %q is %s, not a MAC key: %w", ref, k.info.Type, hsm.ErrKeyType)
}

// HMAC returns HMAC-SHA256 (RFC 2104, FIPS 198-1) of data under key ref.
func (s *Store) HMAC(_ context.Context, ref string, data []byte) ([]byte, error) {
	k, err := s.lookup(ref)
	if err != nil {
		return nil, err
	}
	if k.info.Type != hsm.HMAC {
		return nil, fmt.Errorf("hsm/soft: key %q is %s, not %s: %w", ref, k.info.Type, hsm.HMAC, hsm.ErrKeyType)
	}
	m := k.hmacs.Get().(hash.Hash)
	m.Reset()
	m.Write(data)
	out := m.Sum(make([]byte, 0, sha256.Size))
	k.hmacs.Put(m)
	return out, nil
}

// signer hides the private key behind crypto.Signer, so a caller cannot
// type-assert its way to the key material.
type signer struct{ s crypto.Signer }

// Public returns the public key (*ecdsa.PublicKey or *rsa.PublicKey).
func (g signer) Public() crypto.PublicKey { return g.s.Public() }

// Sign signs digest: ECDSA returns an ASN.1 DER signature (SEC 1 §4.1.3,
// RFC 5480 encoding); RSA signs PKCS #1 v1.5, or PSS when opts is
// *rsa.PSSOptions (RFC 8017 §8).
func (g signer) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, isRSA := g.s.(*rsa.PrivateKey); isRSA && opts == nil {
		return nil, errors.New("hsm/soft: RSA signing needs SignerOpts naming the hash")
	}
	return g.s.Sign(r, digest, opts)
}

// ConstantTime returns a signer of the same key that signs in constant
// time: for a P-256 key crypto/ecdsa instead of internal/p256, which is
// faster but variable-time and meant for the fleet's emulated cards. The
// holder of a key that must resist timing attacks (the Mobile Connect
// gateway's id_token key) signs through it.
func (g signer) ConstantTime() crypto.Signer {
	if k, ok := g.s.(*p256.Key); ok {
		return signer{k.ECDSA()}
	}
	return g
}

// Decrypt decrypts msg with an RSA key (RFC 8017: PKCS #1 v1.5 when opts
// is nil, OAEP with *rsa.OAEPOptions), so the signer of an RSA key is also
// a crypto.Decrypter (the Mobile Connect gateway's ENCR_MSISDN key). An EC
// key cannot decrypt: hsm.ErrKeyType.
func (g signer) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	d, ok := g.s.(crypto.Decrypter)
	if !ok {
		return nil, fmt.Errorf("hsm/soft: only RSA keys decrypt: %w", hsm.ErrKeyType)
	}
	return d.Decrypt(r, msg, opts)
}

// Signer returns a crypto.Signer for the EC P-256 or RSA-2048 key ref.
func (s *Store) Signer(_ context.Context, ref string) (crypto.Signer, error) {
	k, err := s.lookup(ref)
	if err != nil {
		return nil, err
	}
	if k.signer == nil {
		return nil, fmt.Errorf("hsm/soft: key %q is %s, not a signing key: %w", ref, k.info.Type, hsm.ErrKeyType)
	}
	return signer{k.signer}, nil
}

// Generate creates a new random, non-exportable key ref of type typ.
func (s *Store) Generate(ctx context.Context, ref string, typ hsm.KeyType) error {
	return s.GenerateKey(ctx, ref, typ, hsm.KeyOptions{})
}

// GenerateKey creates a new random key ref of type typ with opts.
func (s *Store) GenerateKey(_ context.Context, ref string, typ hsm.KeyType, opts hsm.KeyOptions) error {
	material, err := generateMaterial(rand.Reader, typ)
	if err != nil {
		return fmt.Errorf("hsm/soft: generate %q: %w", ref, err)
	}
	k, err := newKey(ref, typ, material, opts.Exportable, false)
	if err != nil {
		return err
	}
	return s.add(k, opts.Replace)
}

// generateMaterial draws key material for typ from r.
func generateMaterial(r io.Reader, typ hsm.KeyType) ([]byte, error) {
	switch typ {
	case hsm.ECP256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), r)
		if err != nil {
			return nil, err
		}
		return x509.MarshalPKCS8PrivateKey(priv)
	case hsm.RSA2048:
		priv, err := rsa.GenerateKey(r, 2048)
		if err != nil {
			return nil, err
		}
		return x509.MarshalPKCS8PrivateKey(priv)
	}
	n := typ.KeyLen()
	if n == 0 {
		return nil, fmt.Errorf("unsupported key type %q: %w", typ, hsm.ErrKeyType)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if typ.IsDES() {
		hsm.SetDESParity(b)
	}
	return b, nil
}

// Import stores known key material as a non-exportable key: raw bytes for
// symmetric and HMAC keys, PKCS#8 DER for EC and RSA private keys.
func (s *Store) Import(ctx context.Context, ref string, typ hsm.KeyType, material []byte) error {
	return s.ImportKey(ctx, ref, typ, material, hsm.KeyOptions{})
}

// ImportKey stores known key material ref of type typ with opts. A key
// hsm.Derive made (opts.Derived) in an in-memory store signs through the
// fast signer; every other key, and every key of a store file, through
// crypto/ecdsa.
func (s *Store) ImportKey(_ context.Context, ref string, typ hsm.KeyType, material []byte, opts hsm.KeyOptions) error {
	s.mu.RLock()
	inMemory := s.save == nil
	s.mu.RUnlock()
	k, err := newKey(ref, typ, material, opts.Exportable, opts.Derived && inMemory)
	if err != nil {
		return err
	}
	return s.add(k, opts.Replace)
}

// Export returns the material of key ref (raw bytes, or PKCS#8 DER for
// private keys) when the key was created exportable, and hsm.ErrNotExportable
// otherwise.
func (s *Store) Export(_ context.Context, ref string) ([]byte, error) {
	k, err := s.lookup(ref)
	if err != nil {
		return nil, err
	}
	if !k.info.Exportable {
		return nil, fmt.Errorf("hsm/soft: key %q: %w", ref, hsm.ErrNotExportable)
	}
	return append([]byte(nil), k.material...), nil
}

// Delete removes key ref.
func (s *Store) Delete(_ context.Context, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	old, ok := s.keys[ref]
	if !ok {
		return fmt.Errorf("hsm/soft: key %q: %w", ref, hsm.ErrNotFound)
	}
	delete(s.keys, ref)
	if s.save != nil {
		if err := s.save(s.keys); err != nil {
			s.keys[ref] = old
			return err
		}
	}
	return nil
}

// Info describes key ref without revealing it.
func (s *Store) Info(_ context.Context, ref string) (hsm.KeyInfo, error) {
	k, err := s.lookup(ref)
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	return k.info, nil
}

// List describes every key, sorted by label.
func (s *Store) List(_ context.Context) ([]hsm.KeyInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	out := make([]hsm.KeyInfo, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, k.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out, nil
}

// Close forgets every key; later operations fail with ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		clear(k.material)
	}
	s.keys = nil
	if !s.closed && s.onClose != nil {
		s.onClose()
	}
	s.closed = true
	return nil
}

// Rename gives key from the label to.
func (s *Store) Rename(_ context.Context, from, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	k, ok := s.keys[from]
	if !ok {
		return fmt.Errorf("hsm/soft: key %q: %w", from, hsm.ErrNotFound)
	}
	if _, taken := s.keys[to]; taken || to == "" {
		return fmt.Errorf("hsm/soft: key %q: %w", to, hsm.ErrExists)
	}
	nk := *k
	nk.info.Label = to
	delete(s.keys, from)
	s.keys[to] = &nk
	if s.save != nil {
		if err := s.save(s.keys); err != nil {
			delete(s.keys, to)
			s.keys[from] = k
			return err
		}
	}
	return nil
}
