package hsm_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
	_ "github.com/simlab-dev/simlab/hsm/all"
)

func TestOpenSchemes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ks, err := hsm.Open(ctx, "mem:")
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Generate(ctx, "k", hsm.AES128); err != nil {
		t.Fatal(err)
	}
	ks.Close()

	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("secret\n"), 0o600)
	uri := "soft:" + filepath.Join(dir, "keys") + "?passphrase-source=file:" + pass
	if _, err := hsm.Open(ctx, uri); err == nil {
		t.Error("Open of a missing soft file succeeded")
	}
	ks, err = hsm.Create(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	ks.Generate(ctx, "k", hsm.TDES2)
	ks.Close()
	ks, err = hsm.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := ks.Info(ctx, "k"); err != nil || info.Type != hsm.TDES2 {
		t.Errorf("reopened: %+v, %v", info, err)
	}
	ks.Close()

	for _, bad := range []string{"nope", "ldap:x"} {
		if _, err := hsm.Open(ctx, bad); !errors.Is(err, hsm.ErrScheme) {
			t.Errorf("Open(%q): %v", bad, err)
		}
	}
	if _, err := hsm.Open(ctx, "soft:"+filepath.Join(dir, "keys")+"?passphrase-source=env:SIMLAB_TEST_UNSET_VAR"); !errors.Is(err, hsm.ErrNoSecret) {
		t.Errorf("unset passphrase env: %v", err)
	}
	if _, err := hsm.Open(ctx, "soft:x?foo=bar"); err == nil {
		t.Error("unknown soft parameter accepted")
	}
}

func TestRedactURI(t *testing.T) {
	t.Parallel()
	got := hsm.RedactURI("pkcs11:token=a?module-path=/m.so&pin-value=1234&passphrase=x")
	if got != "pkcs11:token=a?module-path=/m.so&pin-value=***&passphrase=***" {
		t.Errorf("RedactURI = %s", got)
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s")
	os.WriteFile(p, []byte("pin\r\n"), 0o600)
	if b, err := hsm.ReadSecret("file:" + p); err != nil || string(b) != "pin" {
		t.Errorf("file: %q, %v", b, err)
	}
	t.Setenv("SIMLAB_TEST_SECRET", "v")
	if b, err := hsm.ReadSecret("env:SIMLAB_TEST_SECRET"); err != nil || string(b) != "v" {
		t.Errorf("env: %q, %v", b, err)
	}
	os.WriteFile(p, nil, 0o600)
	if _, err := hsm.ReadSecret("file:" + p); !errors.Is(err, hsm.ErrNoSecret) {
		t.Errorf("empty file: %v", err)
	}
	if _, err := hsm.ReadSecret("literal:x"); err == nil {
		t.Error("literal: accepted")
	}
}
