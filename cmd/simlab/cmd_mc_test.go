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

// TestMCSI: `simlab mc si` in both modes with the demo client.
func TestMCSI(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	for i, mode := range []string{"async", "polling"} {
		code, out, stderr := runCLI(t, "mc", "si", "--issuer", s.Issuer(), "--to", simtest.Number(t, "approve", 95+i), "--mode", mode,
			"--acr", "3", "--correlation-id", "c-"+mode)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", mode, code, stderr)
		}
		var res struct {
			Claims map[string]any `json:"claims"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || res.Claims["acr"] != "3" {
			t.Fatalf("%s: %v %s", mode, err, out)
		}
		if (res.Claims["recipient"] != nil) != (mode == "async") {
			t.Fatalf("%s: recipient %v", mode, res.Claims["recipient"])
		}
	}
	if code, _, _ := runCLI(t, "mc", "si", "--to", "1", "--mode", "carrier-pigeon"); code != exitUsage {
		t.Fatal("a bad mode is not a usage error")
	}
}
