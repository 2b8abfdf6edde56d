package mobileconnect_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestOpenIDClient: npm openid-client 6.x (testdata/rp, installed by
// scripts/deps.sh test with npm ci) logs in as a third, non-Go RP: over
// HTTPS with the gateway's self-signed certificate, and over plain HTTP
// with the library's allowInsecureRequests.
func TestOpenIDClient(t *testing.T) {
	t.Parallel()
	node := needs.Command(t, "node", "nodejs")
	if _, err := os.Stat("testdata/rp/node_modules/openid-client"); err != nil {
		needs.Missing(t, "npm packages in simulator/mobileconnect/testdata/rp", "scripts/deps.sh test (npm ci)")
	}
	cert := filepath.Join(t.TempDir(), "cert.pem")
	for i, tlsOn := range []bool{true, false} {
		s, _ := serverWith(t, func(c *simulator.Config) {
			if tlsOn {
				c.HTTPS = simulator.HTTPS{SelfSigned: true, SelfSignedOut: cert}
			}
		})
		if tlsOn != strings.HasPrefix(s.Issuer(), "https://") {
			t.Fatalf("issuer %s", s.Issuer())
		}
		n := simtest.Number(t, "approve", 170+i)
		cmd := exec.Command(node, "rp.mjs", s.Issuer(), mobileconnect.DemoClientID, mobileconnect.DemoClientSecret, n, "3 2")
		cmd.Dir = "testdata/rp"
		cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+cert)
		if !tlsOn {
			cmd.Env = append(cmd.Env, "MC_INSECURE=1")
		}
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("openid-client (tls %v): %v\n%s", tlsOn, err, stderr)
		}
		var res struct {
			Claims      map[string]any `json:"claims"`
			UserinfoSub string         `json:"userinfo_sub"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if res.Claims["acr"] != "3" || res.UserinfoSub != res.Claims["sub"] {
			t.Fatalf("%s", out)
		}
	}
}
