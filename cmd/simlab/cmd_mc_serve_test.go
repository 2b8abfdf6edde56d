package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"

	"github.com/simlab-dev/simlab/simulator"
)

// TestMobileConnectConfig: the mobile_connect section of serve's YAML
// reaches the gateway's Config, unknown keys in it are usage errors, and
// the gateway and HTTPS flags override the file.
func TestMobileConnectConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "serve.yaml")
	os.WriteFile(good, []byte(`mobile_connect:
  issuer: https://login.example.test/mc
  signing_alg: RS256
  challenge_timeout: 30s
  quota: 100
  clients:
    - client_id: shop
      client_secret: shop-secret
      redirect_uris: [http://127.0.0.1:3000/cb]
      client_names: [Shop]
`), 0o600)
	cfg, _, err := simulator.LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	mc := cfg.MobileConnect
	if mc.Issuer != "https://login.example.test/mc" || mc.SigningAlg != "RS256" || mc.Quota != 100 ||
		len(mc.Clients) != 1 || mc.Clients[0].ClientNames[0] != "Shop" || mc.ChallengeTimeout.Seconds() != 30 {
		t.Fatalf("%+v", mc)
	}
	if err := mc.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("mobile_connect:\n  isuer: x\n"), 0o600)
	if _, _, err := simulator.LoadConfig(bad); err == nil {
		t.Fatal("a misspelt key was accepted")
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	var flags simulator.Config
	addMCFlags(fs, &flags.MobileConnect)
	addHTTPSFlags(fs, &flags.HTTPS)
	if err := fs.Parse([]string{"--issuer", "http://proxy.test/mc", "--https-self-signed"}); err != nil {
		t.Fatal(err)
	}
	mergeMCFlags(fs, &mc, flags.MobileConnect)
	mergeHTTPSFlags(fs, &cfg.HTTPS, flags.HTTPS)
	if mc.Issuer != "http://proxy.test/mc" || !cfg.HTTPS.SelfSigned || mc.SigningAlg != "RS256" {
		t.Fatalf("%+v %+v", mc, cfg.HTTPS)
	}
}
