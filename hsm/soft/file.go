package soft

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"golang.org/x/crypto/scrypt"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/internal/flock"
)

// File format (docs/hsm.md, "Soft key store file"): one JSON header line,
// then the AES-256-GCM ciphertext of a JSON key list. The GCM key is
// scrypt(passphrase, salt, N, r, p, 32); the header line (newline included)
// is the GCM additional data, so the parameters cannot be altered unnoticed.
const fileFormat = "simlab-keystore"

// Errors of the file mode.
var (
	// ErrPassphrase means the passphrase is wrong or the file was altered:
	// AES-GCM cannot tell the two apart. Nothing is changed on disk.
	ErrPassphrase = errors.New("hsm/soft: wrong passphrase, or the key store file was altered")
	// ErrFileFormat means the file is not a simlab key store.
	ErrFileFormat = errors.New("hsm/soft: not a simlab key store file")
	// ErrLocked means another process has the key store file open.
	ErrLocked = errors.New("hsm/soft: key store file is in use by another process")
	// ErrNoPassphrase means an empty passphrase was given.
	ErrNoPassphrase = errors.New("hsm/soft: empty passphrase")
)

// FileOptions are the scrypt cost parameters for Create (RFC 7914 §2). The
// zero value selects N = 32768, r = 8, p = 1.
type FileOptions struct {
	ScryptN, ScryptR, ScryptP int
}

// fileHeader is the clear first line of a key store file.
type fileHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	KDF     string `json:"kdf"`
	N       int    `json:"n"`
	R       int    `json:"r"`
	P       int    `json:"p"`
	Salt    []byte `json:"salt"`
	Nonce   []byte `json:"nonce"`
}

// fileKey is one key in the encrypted payload.
type fileKey struct {
	Label      string      `json:"label"`
	Type       hsm.KeyType `json:"type"`
	Exportable bool        `json:"exportable,omitempty"`
	Material   []byte      `json:"material"`
}

// fileBackend holds what a file-backed Store needs to save itself.
type fileBackend struct {
	path   string
	hdr    fileHeader
	aead   cipher.AEAD
	unlock func()
}

// Create makes a new, empty key store file at path (mode 0600), encrypted
// under passphrase. It fails if the file exists.
func Create(path string, passphrase []byte, opts FileOptions) (*Store, error) {
	if len(passphrase) == 0 {
		return nil, ErrNoPassphrase
	}
	if opts.ScryptN == 0 {
		opts = FileOptions{ScryptN: 1 << 15, ScryptR: 8, ScryptP: 1}
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err == nil {
		unlock()
		return nil, fmt.Errorf("hsm/soft: %s already exists", path)
	}
	hdr := fileHeader{Format: fileFormat, Version: 1, KDF: "scrypt", N: opts.ScryptN, R: opts.ScryptR, P: opts.ScryptP, Salt: make([]byte, 16)}
	if _, err := rand.Read(hdr.Salt); err != nil {
		unlock()
		return nil, err
	}
	aead, err := deriveAEAD(passphrase, hdr)
	if err != nil {
		unlock()
		return nil, err
	}
	fb := &fileBackend{path: path, hdr: hdr, aead: aead, unlock: unlock}
	s := NewMemory()
	if err := fb.save(s.keys); err != nil {
		unlock()
		return nil, err
	}
	s.save = fb.save
	s.onClose = unlock
	return s, nil
}

// Open opens the key store file at path with passphrase. A wrong passphrase
// gives ErrPassphrase and leaves the file untouched. Only one process may
// have the file open at a time.
func Open(path string, passphrase []byte) (*Store, error) {
	if len(passphrase) == 0 {
		return nil, ErrNoPassphrase
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	s, err := openLocked(path, passphrase, unlock)
	if err != nil {
		unlock()
		return nil, err
	}
	return s, nil
}

func openLocked(path string, passphrase []byte, unlock func()) (*Store, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hsm/soft: %w", err)
	}
	hdr, aad, body, err := parseFile(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	aead, err := deriveAEAD(passphrase, hdr)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, hdr.Nonce, body, aad)
	if err != nil {
		return nil, ErrPassphrase
	}
	defer clear(plain)
	var payload struct {
		Keys []fileKey `json:"keys"`
	}
	if err := json.Unmarshal(plain, &payload); err != nil {
		return nil, fmt.Errorf("%w: %s: payload: %v", ErrFileFormat, path, err)
	}
	s := NewMemory()
	for _, fk := range payload.Keys {
		k, err := newKey(fk.Label, fk.Type, fk.Material, fk.Exportable, false)
		clear(fk.Material)
		if err != nil {
			return nil, err
		}
		s.keys[fk.Label] = k
	}
	fb := &fileBackend{path: path, hdr: hdr, aead: aead, unlock: unlock}
	s.save = fb.save
	s.onClose = unlock
	return s, nil
}

// parseFile splits a key store file into its header (checked: format,
// version, KDF, scrypt bounds, nonce size), the header line (the GCM
// additional data) and the ciphertext.
func parseFile(data []byte) (hdr fileHeader, aad, body []byte, err error) {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		return hdr, nil, nil, fmt.Errorf("%w: no header line", ErrFileFormat)
	}
	if err := json.Unmarshal(data[:nl], &hdr); err != nil || hdr.Format != fileFormat {
		return hdr, nil, nil, fmt.Errorf("%w: header line (bytes 0-%d) is not a %s header", ErrFileFormat, nl, fileFormat)
	}
	if hdr.Version != 1 || hdr.KDF != "scrypt" {
		return hdr, nil, nil, fmt.Errorf("%w: version %d, kdf %q (want 1, scrypt)", ErrFileFormat, hdr.Version, hdr.KDF)
	}
	if err := checkScrypt(hdr); err != nil {
		return hdr, nil, nil, err
	}
	if len(hdr.Nonce) != 12 {
		return hdr, nil, nil, fmt.Errorf("%w: nonce of %d bytes, want 12", ErrFileFormat, len(hdr.Nonce))
	}
	return hdr, data[:nl+1], data[nl+1:], nil
}

// checkScrypt bounds the scrypt parameters a file may ask for, so a
// crafted header cannot make Open allocate more than 256 MiB (scrypt needs
// 128·N·r bytes) or spin for minutes.
func checkScrypt(hdr fileHeader) error {
	if hdr.N < 1024 || hdr.N > 1<<20 || hdr.N&(hdr.N-1) != 0 || hdr.R < 1 || hdr.R > 32 || hdr.P < 1 || hdr.P > 4 ||
		128*hdr.N*hdr.R > 256<<20 || len(hdr.Salt) < 16 {
		return fmt.Errorf("%w: scrypt parameters N=%d r=%d p=%d, salt of %d bytes, out of range", ErrFileFormat, hdr.N, hdr.R, hdr.P, len(hdr.Salt))
	}
	return nil
}

// deriveAEAD derives the file key from passphrase with scrypt.
func deriveAEAD(passphrase []byte, hdr fileHeader) (cipher.AEAD, error) {
	if err := checkScrypt(hdr); err != nil {
		return nil, err
	}
	key, err := scrypt.Key(passphrase, hdr.Salt, hdr.N, hdr.R, hdr.P, 32)
	if err != nil {
		return nil, fmt.Errorf("hsm/soft: scrypt: %w", err)
	}
	defer clear(key)
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// save writes every key to the file atomically: temp file in the same
// directory (mode 0600), fsync, rename over the old file, fsync the
// directory. A fresh random nonce is used for every write.
func (fb *fileBackend) save(keys map[string]*key) error {
	hdr := fb.hdr
	hdr.Nonce = make([]byte, fb.aead.NonceSize())
	if _, err := rand.Read(hdr.Nonce); err != nil {
		return err
	}
	line, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	list := make([]fileKey, 0, len(keys))
	for _, k := range keys {
		list = append(list, fileKey{Label: k.info.Label, Type: k.info.Type, Exportable: k.info.Exportable, Material: k.material})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Label < list[j].Label })
	plain, err := json.Marshal(struct {
		Keys []fileKey `json:"keys"`
	}{list})
	if err != nil {
		return err
	}
	out := fb.aead.Seal(line, hdr.Nonce, plain, line)
	clear(plain)
	if err := flock.WriteAtomic(fb.path, out); err != nil {
		return fmt.Errorf("hsm/soft: %w", err)
	}
	return nil
}
