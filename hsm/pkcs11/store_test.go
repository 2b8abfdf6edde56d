//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/hsmtest"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/internal/needs"
)

// The token lives in a temporary SoftHSM2 token directory made once per
// test binary: SOFTHSM2_CONF must be set before the module is loaded, and
// the module is loaded once per process.
var (
	tokenOnce sync.Once
	tokenErr  error
	tokenURI  string
	tokenDir  string
	prefixes  atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tokenDir != "" {
		os.RemoveAll(tokenDir)
	}
	os.Exit(code)
}

// token returns a URI for a fresh, empty view of the test token: every call
// gets its own object= label prefix.
func token(t testing.TB) string {
	t.Helper()
	util := needs.Command(t, "softhsm2-util", "softhsm2")
	needs.File(t, DefaultModule, "softhsm2")
	tokenOnce.Do(func() {
		dir, err := os.MkdirTemp("", "simlab-softhsm")
		if err != nil {
			tokenErr = err
			return
		}
		tokenDir = dir
		tokens := filepath.Join(dir, "tokens")
		os.Mkdir(tokens, 0o700)
		conf := filepath.Join(dir, "softhsm2.conf")
		os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
		os.Setenv("SOFTHSM2_CONF", conf)
		out, err := exec.Command(util, "--init-token", "--free", "--label", "test", "--pin", "1234", "--so-pin", "5678").CombinedOutput()
		if err != nil {
			tokenErr = fmt.Errorf("softhsm2-util: %v: %s", err, out)
			return
		}
		pin := filepath.Join(dir, "pin")
		os.WriteFile(pin, []byte("1234\n"), 0o600)
		tokenURI = "pkcs11:token=test;object=%s?module-path=" + DefaultModule + "&pin-source=file:" + pin
	})
	if tokenErr != nil {
		t.Fatal(tokenErr)
	}
	return fmt.Sprintf(tokenURI, fmt.Sprintf("t%d%%2F", prefixes.Add(1)))
}

func openStore(t testing.TB) *Store {
	t.Helper()
	u, err := ParseURI(token(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformanceSoftHSM(t *testing.T) {
	hsmtest.Run(t, func(t *testing.T) hsm.Keystore { return openStore(t) })
}

// TestDeriveMatchesSoft: the fleet's card keys derived on the token (3DES
// natively with CKM_DES3_ECB_ENCRYPT_DATA, the rest through the token's
// CMAC/HMAC) equal the soft store's, by KCV, exported value and public key.
func TestDeriveMatchesSoft(t *testing.T) {
	ctx := context.Background()
	p := openStore(t)
	if !p.mech[0x1102] {
		t.Log("token lacks CKM_DES3_ECB_ENCRYPT_DATA; the fallback path is tested instead")
	}
	m := soft.NewMemory()
	const iccid = "89999000000000000012"
	kp, err := keys.CardWith(ctx, p, iccid, hsm.KeyOptions{Exportable: true})
	if err != nil {
		t.Fatal(err)
	}
	km, err := keys.CardWith(ctx, m, iccid, hsm.KeyOptions{Exportable: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{kp.AESKIc, km.AESKIc}, {kp.AESKID, km.AESKID}, {kp.TDESKIc, km.TDESKIc}, {kp.TDESKID, km.TDESKID}} {
		ip, _ := p.Info(ctx, pair[0])
		im, _ := m.Info(ctx, pair[1])
		if ip.KCV == "" || ip != im {
			t.Errorf("%s: token %+v, soft %+v", pair[0], ip, im)
		}
		ep, err1 := p.Export(ctx, pair[0])
		em, err2 := m.Export(ctx, pair[1])
		if err1 != nil || err2 != nil || !bytes.Equal(ep, em) {
			t.Errorf("%s: exported values differ (%v, %v)", pair[0], err1, err2)
		}
	}
	sp, _ := p.Signer(ctx, kp.Sign)
	sm, _ := m.Signer(ctx, km.Sign)
	if !sp.Public().(*ecdsa.PublicKey).Equal(sm.Public()) {
		t.Error("card signing keys differ between token and soft store")
	}
	// The masters are not exportable on the token either.
	if _, err := p.Export(ctx, keys.Master3DESKIc); !errors.Is(err, hsm.ErrNotExportable) {
		t.Errorf("master export: %v", err)
	}
}

func TestOpenURI(t *testing.T) {
	ctx := context.Background()
	uri := token(t)
	ks, err := hsm.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if err := ks.Generate(ctx, "k", hsm.AES128); err != nil {
		t.Fatal(err)
	}
	// A second store on the same token and prefix sees the key.
	ks2, err := hsm.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer ks2.Close()
	if info, err := ks2.Info(ctx, "k"); err != nil || info.Type != hsm.AES128 {
		t.Errorf("second store: %+v, %v", info, err)
	}
	// Wrong PIN: a clear error that does not echo the PIN.
	bad := strings.Replace(uri, "pin-source=file:", "pin-value=9999&x=", 1)
	if _, err := hsm.Open(ctx, bad); err == nil || !strings.Contains(err.Error(), "wrong PIN") || strings.Contains(err.Error(), "9999") {
		t.Errorf("wrong PIN: %v", err)
	}
	if _, err := hsm.Open(ctx, "pkcs11:token=nosuch?pin-value=1234&module-path="+DefaultModule); err == nil || !strings.Contains(err.Error(), "no initialised token") {
		t.Errorf("missing token: %v", err)
	}
}

func BenchmarkSealAESSoftHSM(b *testing.B) {
	ctx := context.Background()
	s := openStore(b)
	s.Generate(ctx, "kic", hsm.AES128)
	s.Generate(ctx, "kid", hsm.AES128)
	pkt, iv := make([]byte, 64), make([]byte, 16)
	b.SetBytes(64)
	for b.Loop() {
		if _, err := s.MAC(ctx, "kid", pkt); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Encrypt(ctx, "kic", hsm.CBC, iv, pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignP256SoftHSM(b *testing.B) {
	ctx := context.Background()
	s := openStore(b)
	s.Generate(ctx, "ec", hsm.ECP256)
	sg, err := s.Signer(ctx, "ec")
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("challenge"))
	for b.Loop() {
		if _, err := sg.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPINWithPlus: a token whose user PIN is "12+34" opens from a URI that
// writes the PIN as RFC 7512 does (pin-value=12+34, or 12%2B34), and the
// key made through it is what OpenSC's pkcs11-tool sees when it logs in
// with the same PIN; "12 34" (what form decoding made of the "+") is
// refused.
func TestPINWithPlus(t *testing.T) {
	token(t) // SOFTHSM2_CONF and the token directory
	util := needs.Command(t, "softhsm2-util", "softhsm2")
	out, err := exec.Command(util, "--init-token", "--free", "--label", "plus", "--pin", "12+34", "--so-pin", "5678").CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util: %v: %s", err, out)
	}
	ctx := context.Background()
	for _, pin := range []string{"12+34", "12%2B34"} {
		ks, err := hsm.Open(ctx, "pkcs11:token=plus?module-path="+DefaultModule+"&pin-value="+pin)
		if err != nil {
			t.Fatalf("pin-value=%s: %v", pin, err)
		}
		if pin == "12+34" {
			if err := ks.Generate(ctx, "plus-key", hsm.AES128); err != nil {
				t.Fatal(err)
			}
		}
		ks.Close()
	}
	if _, err := hsm.Open(ctx, "pkcs11:token=plus?module-path="+DefaultModule+"&pin-value=12%2034"); err == nil || !strings.Contains(err.Error(), "wrong PIN") {
		t.Errorf("PIN \"12 34\": %v", err)
	}
	tool := needs.Command(t, "pkcs11-tool", "opensc")
	out, err = exec.Command(tool, "--module", DefaultModule, "--token-label", "plus", "--login", "--pin", "12+34", "--list-objects", "--type", "secrkey").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "plus-key") {
		t.Errorf("pkcs11-tool --list-objects: %v\n%s", err, out)
	}
}
