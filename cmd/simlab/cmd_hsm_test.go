package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHSMDeriveDefaultFleet checks the worked example of docs/hsm.md
// through the CLI: KCVs and public key without --reveal, no key values.
func TestHSMDeriveDefaultFleet(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "hsm", "derive", "--iccid", "89999000000000000012", "--json", "--hsm", "mem:")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		ICCID string       `json:"iccid"`
		Keys  []derivedKey `json:"keys"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"aes-kic": "99e381", "aes-kid": "0ee00c", "3des-kic": "2a9daa", "3des-kid": "6e6a90"}
	if len(res.Keys) != 5 {
		t.Fatalf("%d keys: %s", len(res.Keys), out)
	}
	for _, k := range res.Keys {
		if k.Value != "" {
			t.Errorf("%s: value printed without --reveal", k.Role)
		}
		if w, ok := want[k.Role]; ok && k.KCV != w {
			t.Errorf("%s: KCV %s, want %s", k.Role, k.KCV, w)
		}
		if k.Role == "sign" && !strings.HasPrefix(k.PublicKey, "048dcc8a56e4c8df") {
			t.Errorf("sign: public key %s", k.PublicKey)
		}
	}
	if strings.Contains(out, "caaaf3e98183d4a3") {
		t.Error("secret key in output without --reveal")
	}
	code, out, _ = runCLI(t, "hsm", "derive", "--iccid", "89999000000000000012", "--reveal")
	if code != exitOK || !strings.Contains(out, "caaaf3e98183d4a373eb4d1d22e47efc") || !strings.Contains(out, "4cae10c167f4badf8a3ea875fee97ad9") {
		t.Errorf("--reveal: exit %d, output:\n%s", code, out)
	}
}

// TestHSMSoftFile walks init, import, generate, rotate, list on an
// encrypted file store, then a wrong passphrase.
func TestHSMSoftFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("demo-passphrase\n"), 0o600)
	uri := "soft:" + filepath.Join(dir, "keys") + "?passphrase-source=file:" + pass
	keyFile := filepath.Join(dir, "kid.hex")
	os.WriteFile(keyFile, []byte("2b7e1516 28aed2a6 abf71588 09cf4f3c\n"), 0o600)
	steps := [][]string{
		{"hsm", "init", "--hsm", uri},
		{"hsm", "generate", "ota/kic", "--type", "aes128", "--hsm", uri},
		{"hsm", "import", "ota/kid", "--type", "aes128", "--in", keyFile, "--hsm", uri},
		{"hsm", "rotate", "ota/kic", "--hsm", uri},
	}
	for _, s := range steps {
		if code, _, errOut := runCLI(t, s...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", s, code, errOut)
		}
	}
	code, out, _ := runCLI(t, "hsm", "list", "--json", "--hsm", uri)
	if code != exitOK {
		t.Fatal(out)
	}
	var list []struct{ Label, Type, KCV string }
	json.Unmarshal([]byte(out), &list)
	if len(list) != 3 || list[0].Label != "ota/kic" || list[1].Label != "ota/kic~1" || list[2].Label != "ota/kid" || list[2].KCV != "7ad386" {
		t.Errorf("list = %+v", list)
	}
	if list[0].KCV == list[1].KCV {
		t.Error("rotate kept the same key")
	}
	// Import from stdin, refuse a duplicate.
	var o, e bytes.Buffer
	code = run(context.Background(), []string{"hsm", "import", "ota/kid", "--type", "aes128", "--in", "-", "--hsm", uri}, strings.NewReader("00112233445566778899aabbccddeeff"), &o, &e)
	if code != exitFailure || !strings.Contains(e.String(), "already exists") {
		t.Errorf("duplicate import: exit %d, %s", code, e.String())
	}
	os.WriteFile(pass, []byte("wrong\n"), 0o600)
	code, _, errOut := runCLI(t, "hsm", "list", "--hsm", uri)
	if code != exitFailure || !strings.Contains(errOut, "wrong passphrase") {
		t.Errorf("wrong passphrase: exit %d, %s", code, errOut)
	}
}

func TestHSMUsage(t *testing.T) {
	t.Parallel()
	cases := [][]string{
		{"hsm", "derive"},
		{"hsm", "derive", "--iccid", "12x"},
		{"hsm", "list", "--hsm", "bogus:x"},
		{"hsm", "generate", "k", "--type", "aes"},
		{"hsm", "import", "k", "--type", "aes128"},
		{"hsm", "derive", "--iccid", "1", "--master", "m", "--type", "aes128", "--ref", "r", "--scheme", "nope"},
	}
	for _, c := range cases {
		if code, _, _ := runCLI(t, c...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", c, code, exitUsage)
		}
	}
}

// TestHSMRefusesThrowawayStore: generate and import into mem: (the
// default without $SIMLAB_HSM) would lose the key as the command exits:
// exit 1 with the hint to pass --hsm soft:FILE, nothing printed as made.
func TestHSMRefusesThrowawayStore(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "k.hex")
	if err := os.WriteFile(keyFile, []byte("00112233445566778899aabbccddeeff\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"hsm", "generate", "fleet/master/x", "--type", "aes128", "--hsm", "mem:"},
		{"hsm", "import", "ota/kic", "--type", "aes128", "--in", keyFile, "--hsm", "mem:"},
	} {
		code, out, errb := runCLI(t, args...)
		if code != exitFailure || out != "" || !strings.Contains(errb, "--hsm soft:FILE") || !strings.Contains(errb, "lose the key") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errb)
		}
	}
}
