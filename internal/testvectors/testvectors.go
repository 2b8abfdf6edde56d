// Package testvectors reads the public test vectors a package keeps in its
// own testdata (testdata/vectors.txt): one vector per line, "name hex",
// the hex possibly split by spaces; blank lines; and comments starting
// with '#' that give each group of vectors its source (repository, commit,
// file) and what was verified. Tests look vectors up by name, so the
// values live once, beside their source. Table reads the tab-separated
// tables taken from specifications the same way (comments, blank lines).
package testvectors

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// Set maps vector names to their hex, as written (case kept).
type Set map[string]string

// Load reads a vectors file. Every value must be hex (spaces allowed
// inside) and every name unique.
func Load(path string) (Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := Set{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("testvectors: %s:%d: want \"name hex\"", path, n)
		}
		value = strings.ReplaceAll(strings.TrimSpace(value), " ", "")
		if _, err := hex.DecodeString(value); err != nil {
			return nil, fmt.Errorf("testvectors: %s:%d: %s: %w", path, n, name, err)
		}
		if _, dup := s[name]; dup {
			return nil, fmt.Errorf("testvectors: %s:%d: %s given twice", path, n, name)
		}
		s[name] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("testvectors: %s: %w", path, err)
	}
	return s, nil
}

// MustLoad is Load for package-level test tables: it panics on error.
func MustLoad(path string) Set {
	s, err := Load(path)
	if err != nil {
		panic(err)
	}
	return s
}

// Hex returns the vector's hex; it panics for a name the file lacks, so a
// typo fails the test binary at once.
func (s Set) Hex(name string) string {
	v, ok := s[name]
	if !ok {
		panic(fmt.Sprintf("testvectors: no vector %q", name))
	}
	return v
}

// Bytes returns the vector decoded.
func (s Set) Bytes(name string) []byte {
	b, _ := hex.DecodeString(s.Hex(name))
	return b
}

// Table reads a tab-separated table with cols columns per row, skipping
// blank lines and comments ('#').
func Table(path string, cols int) ([][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for n, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != cols {
			return nil, fmt.Errorf("testvectors: %s:%d: %d columns, want %d", path, n+1, len(f), cols)
		}
		rows = append(rows, f)
	}
	return rows, nil
}
