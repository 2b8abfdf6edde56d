package soft

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/hsmtest"
)

// fastScrypt keeps tests quick; real stores use the default N = 32768.
var fastScrypt = FileOptions{ScryptN: 1024, ScryptR: 8, ScryptP: 1}

func TestConformanceFile(t *testing.T) {
	t.Parallel()
	hsmtest.Run(t, func(t *testing.T) hsm.Keystore {
		s, err := Create(filepath.Join(t.TempDir(), "keys"), []byte("pass"), fastScrypt)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestFileReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keys")
	pass := []byte("correct horse")
	s, err := Create(path, pass, fastScrypt)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("0123456789ABCDEF")
	if err := s.ImportKey(ctx, "aes", hsm.AES128, secret, hsm.KeyOptions{Exportable: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Generate(ctx, "ec", hsm.ECP256); err != nil {
		t.Fatal(err)
	}
	if err := s.Generate(ctx, "gone", hsm.TDES2); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	sg, _ := s.Signer(ctx, "ec")
	pub := sg.Public().(*ecdsa.PublicKey)
	before, _ := s.List(ctx)
	if _, err := Open(path, pass); !errors.Is(err, ErrLocked) {
		t.Errorf("Open while open: %v, want ErrLocked", err)
	}
	s.Close()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, secret) {
		t.Error("key material in clear in the file")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}

	// Wrong passphrase: clear error, file untouched.
	if _, err := Open(path, []byte("wrong")); !errors.Is(err, ErrPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, raw) {
		t.Error("wrong passphrase changed the file")
	}
	if _, err := Open(path, nil); !errors.Is(err, ErrNoPassphrase) {
		t.Errorf("empty passphrase: %v", err)
	}

	s2, err := Open(path, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	after, _ := s2.List(ctx)
	if len(after) != 2 || after[0] != before[0] || after[1] != before[1] {
		t.Errorf("List after reopen = %+v, want %+v", after, before)
	}
	if got, err := s2.Export(ctx, "aes"); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("Export after reopen = %x, %v", got, err)
	}
	sg2, err := s2.Signer(ctx, "ec")
	if err != nil || !pub.Equal(sg2.Public()) {
		t.Errorf("EC key changed across reopen: %v", err)
	}
	if _, err := Create(path, pass, fastScrypt); err == nil {
		t.Error("Create over an existing file succeeded")
	}
}

func TestFileTampered(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "keys")
	s, err := Create(path, []byte("p"), fastScrypt)
	if err != nil {
		t.Fatal(err)
	}
	s.Import(context.Background(), "k", hsm.AES128, make([]byte, 16))
	s.Close()
	raw, _ := os.ReadFile(path)
	cases := map[string][]byte{
		"ciphertext bit": func() []byte { b := bytes.Clone(raw); b[len(b)-1] ^= 1; return b }(),
		"header param":   bytes.Replace(raw, []byte(`"r":8`), []byte(`"r":9`), 1),
	}
	for name, b := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		if _, err := Open(p, []byte("p")); !errors.Is(err, ErrPassphrase) {
			t.Errorf("%s: %v, want ErrPassphrase", name, err)
		}
	}
	p := filepath.Join(dir, "foreign")
	os.WriteFile(p, []byte("hello\nworld"), 0o600)
	if _, err := Open(p, []byte("p")); !errors.Is(err, ErrFileFormat) {
		t.Errorf("foreign file: %v", err)
	}
}

// FuzzParseFile: the key store file header parser never panics and never
// accepts parameters outside the bounds.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte(`{"format":"simlab-keystore","version":1,"kdf":"scrypt","n":32768,"r":8,"p":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAA"}` + "\nciphertext"))
	f.Add([]byte(`{"format":"simlab-keystore","version":1,"kdf":"scrypt","n":4194304,"r":64,"p":16,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAA"}` + "\n"))
	f.Add([]byte("no newline"))
	f.Fuzz(func(t *testing.T, b []byte) {
		hdr, aad, body, err := parseFile(b)
		if err != nil {
			return
		}
		if 128*hdr.N*hdr.R > 256<<20 || len(hdr.Nonce) != 12 || len(aad)+len(body) != len(b) {
			t.Errorf("accepted %+v", hdr)
		}
	})
}
