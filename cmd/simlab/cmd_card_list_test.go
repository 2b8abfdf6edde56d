package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCardListJSON checks `simlab card list --json` against whatever this
// host has: with pcscd (the pcsc package's tests may run one) a JSON list of
// readers; without it a failure that says pcscd is not running, or that PC/SC
// support is not compiled in. Real readers are covered by the pcscd + vpcd
// tests in simulator/pcsc.
func TestCardListJSON(t *testing.T) {
	t.Parallel()
	code, out, stderr := runCLI(t, "card", "list", "--json")
	switch code {
	case exitOK:
		var v struct {
			Readers []struct {
				Name        string `json:"name"`
				CardPresent bool   `json:"card_present"`
				ATR         string `json:"atr"`
			} `json:"readers"`
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil || v.Readers == nil {
			t.Fatalf("not the expected JSON (%v):\n%s", err, out)
		}
		for _, r := range v.Readers {
			if r.Name == "" || (r.CardPresent && r.ATR == "") {
				t.Fatalf("reader entry %+v", r)
			}
		}
	case exitFailure:
		if !strings.Contains(stderr, "pcscd is not running") && !strings.Contains(stderr, "without PC/SC support") {
			t.Fatalf("unexpected failure: %s", stderr)
		}
	default:
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, _ := runCLI(t, "card", "list", "extra"); code != exitUsage {
		t.Fatalf("card list extra: exit %d, want %d", code, exitUsage)
	}
}
