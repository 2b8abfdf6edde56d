package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesLongPassword: an SMPP account password over the 8 octets
// SMPP 3.4 carries is refused when the config is read, with the line and
// without the password, before anything listens.
func TestServeRefusesLongPassword(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "simlab.yaml")
	if err := os.WriteFile(cfg, []byte("smpp_accounts:\n  - system_id: sut\n    password: much-too-long\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "serve", "--config", cfg, "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0")
	if code == exitOK || !strings.Contains(stderr, "at most 8") || !strings.Contains(stderr, "line 2") || strings.Contains(stderr, "much-too-long") {
		t.Fatalf("exit %d, stderr %q: want a refusal naming the limit and line 2, not the password", code, stderr)
	}
}
