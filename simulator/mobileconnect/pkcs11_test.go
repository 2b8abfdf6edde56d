//go:build cgo

package mobileconnect_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	_ "github.com/simlab-dev/simlab/hsm/all" // pkcs11: URIs
	"github.com/simlab-dev/simlab/hsm/pkcs11"
	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestPKCS11Keystore: the gateway's signing keys and PCR key in a PKCS#11
// token (SoftHSM2): logins sign and verify through it; ENCR_MSISDN, which
// needs RSA decryption the PKCS#11 backend does not offer, is refused
// clearly.
func TestPKCS11Keystore(t *testing.T) {
	util := needs.Command(t, "softhsm2-util", "softhsm2")
	needs.File(t, pkcs11.DefaultModule, "softhsm2")
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	os.Mkdir(tokens, 0o700)
	conf := filepath.Join(dir, "softhsm2.conf")
	os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	if out, err := exec.Command(util, "--init-token", "--free", "--label", "mc", "--pin", "1234", "--so-pin", "5678").CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util: %v: %s", err, out)
	}
	pin := filepath.Join(dir, "pin")
	os.WriteFile(pin, []byte("1234\n"), 0o600)
	uri := fmt.Sprintf("pkcs11:token=mc?module-path=%s&pin-source=file:%s", pkcs11.DefaultModule, pin)

	s := simtest.NewServer(t)
	ctx := context.Background()
	p, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "pkcs11-test", AddressRange: "99955516"}, Source: "99955516"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	dir2 := mobileconnect.DirectoryFunc(func(ctx context.Context, n string) (mobileconnect.Subscriber, error) {
		return mobileconnect.Subscriber{MSISDN: n, Known: true, Applet: true}, nil
	})
	hs := httptest.NewUnstartedServer(nil)
	iss := "http://" + hs.Listener.Addr().String() + "/mc"
	gw, err := mobileconnect.New(ctx, mobileconnect.Config{Keystore: uri}, iss, mobileconnect.Deps{Challenger: p, Directory: dir2})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = gw.Handler()
	hs.Start()
	t.Cleanup(func() { hs.Close(); gw.Close() })
	r := newRP(t, nil)
	r.iss, r.await = iss, gw.AwaitLogin
	c1, _ := r.login(r.params("99901000701", "3"))
	q := r.params("99901000701", "2")
	q.Set("state", "again")
	q.Set("login_hint", "PCR:"+c1["sub"].(string))
	if c2, _ := r.login(q); c2["sub"] != c1["sub"] {
		t.Fatal("the PCR did not resolve through the PKCS#11 key")
	}
	q.Set("state", "encr")
	q.Set("login_hint", "ENCR_MSISDN:"+fmt.Sprintf("%0512x", 1))
	res := r.authorize(q)
	wantError(t, res, "invalid_request", "encr")
}
