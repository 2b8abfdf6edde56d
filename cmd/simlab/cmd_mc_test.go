package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestMCLogin: `simlab mc login` runs a whole code flow against the
// gateway, through the phone, and prints the checked claims; a refusal
// exits 1 with the gateway's error.
func TestMCLogin(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	n := simtest.Number(t, "approve", 90)
	code, out, stderr := runCLI(t, "mc", "login", "--issuer", s.Issuer(), "--to", n, "--acr", "3", "--poll", "50ms",
		"--authz", "--client-name", "pay", "--context", "Pay 10 EUR", "--binding-message", "ORDER 7")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Alg    string         `json:"alg"`
		Claims map[string]any `json:"claims"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Alg != "ES256" || res.Claims["acr"] != "3" || res.Claims["displayed_data"] == nil {
		t.Fatalf("%s", out)
	}
	code, _, stderr = runCLI(t, "mc", "login", "--issuer", s.Issuer(), "--to", simtest.Number(t, "cancel", 90), "--poll", "50ms")
	if code != 1 || !strings.Contains(stderr, "access_denied") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, _ := runCLI(t, "mc", "login"); code != exitUsage {
		t.Fatalf("without --to: exit %d", code)
	}
}
