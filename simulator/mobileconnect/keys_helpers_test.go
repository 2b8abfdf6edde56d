package mobileconnect_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"

	"github.com/simlab-dev/simlab/hsm/soft"
)

// Generating the gateway's two RSA-2048 keys (RS256 signing, ENCR_MSISDN)
// was most of this package's test CPU: every test server made its own.
// The tests' gateways start instead from a copy of one key store file
// made once per test binary (cheap scrypt parameters), so each still has
// a key store of its own to rotate or add to. The keys' generation is
// still tested: by the template itself and by TestPKCS11Keystore.

var keyTemplate struct {
	once sync.Once
	dir  string // keys and pass
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if keyTemplate.dir != "" {
		os.RemoveAll(keyTemplate.dir)
	}
	os.Exit(code)
}

// noChallenges is a Challenger for a gateway that never logs anyone in.
type noChallenges struct{}

func (noChallenges) Push(context.Context, push.Request) (push.Result, error) {
	return push.Result{}, errors.New("no challenges")
}

func (noChallenges) SendText(context.Context, string, string, time.Duration) ([]string, error) {
	return nil, errors.New("no SMS")
}

func (noChallenges) AwaitReceipt(context.Context, string) (*client.Receipt, error) {
	return nil, errors.New("no receipts")
}

// makeKeyTemplate fills dir/keys with every key a gateway makes at start.
func makeKeyTemplate(dir string) error {
	pass := filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("simlab-mc-test"), 0o600); err != nil {
		return err
	}
	ks, err := soft.Create(filepath.Join(dir, "keys"), []byte("simlab-mc-test"), soft.FileOptions{ScryptN: 1024, ScryptR: 8, ScryptP: 1})
	if err != nil {
		return err
	}
	defer ks.Close()
	dirFn := mobileconnect.DirectoryFunc(func(_ context.Context, n string) (mobileconnect.Subscriber, error) {
		return mobileconnect.Subscriber{MSISDN: n}, nil
	})
	gw, err := mobileconnect.New(context.Background(), mobileconnect.Config{}, "http://127.0.0.1:9/mc",
		mobileconnect.Deps{Challenger: noChallenges{}, Directory: dirFn, Keystore: ks})
	if err != nil {
		return err
	}
	// The JWKS answers once the RSA keys (made on first need) are in.
	w := httptest.NewRecorder()
	gw.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/mc/jwks", nil))
	gw.Close()
	if w.Code != 200 {
		return errors.New("template JWKS: " + w.Body.String())
	}
	return nil
}

// testKeystore returns the URI of a key store of t's own holding the
// gateway's keys, copied from the template.
func testKeystore(t testing.TB) string {
	t.Helper()
	keyTemplate.once.Do(func() {
		if keyTemplate.dir, keyTemplate.err = os.MkdirTemp("", "simlab-mc-keys-"); keyTemplate.err == nil {
			keyTemplate.err = makeKeyTemplate(keyTemplate.dir)
		}
	})
	if keyTemplate.err != nil {
		t.Fatalf("the tests' key store: %v", keyTemplate.err)
	}
	src, err := os.Open(filepath.Join(keyTemplate.dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "keys")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return "soft:" + path + "?passphrase-source=file:" + filepath.Join(keyTemplate.dir, "pass")
}
