package testvectors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vectors.txt")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	s, err := Load(write(t, "# source\n\nA/one 00A4 0004\nB.two ff\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Hex("A/one") != "00A40004" || len(s.Bytes("B.two")) != 1 || s.Bytes("B.two")[0] != 0xFF {
		t.Errorf("set %v", s)
	}
	for _, bad := range []string{"lonely\n", "x zz\n", "x 0\n", "x 00\nx 01\n"} {
		if _, err := Load(write(t, bad)); err == nil {
			t.Errorf("Load(%q) succeeded", bad)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file loaded")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "nope") {
			t.Errorf("Hex of an unknown name: %v", r)
		}
	}()
	s.Hex("nope")
}

func TestTable(t *testing.T) {
	rows, err := Table(write(t, "# spec\n\na\tb\tc\n\nd\te\tf\n"), 3)
	if err != nil || len(rows) != 2 || rows[1][2] != "f" {
		t.Errorf("Table = %v, %v", rows, err)
	}
	if _, err := Table(write(t, "a\tb\n"), 3); err == nil {
		t.Error("short row accepted")
	}
}
