//go:build unix

package flock

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var errBusy = errors.New("busy")

func TestLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.lock")
	unlock, err := Lock(path, errBusy)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v %v", fi, err)
	}
	// flock locks belong to the open file description: a second open in
	// the same process conflicts like another process would.
	if _, err := Lock(path, errBusy); !errors.Is(err, errBusy) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Lock: %v, want errBusy naming the path", err)
	}
	unlock()
	unlock2, err := Lock(path, errBusy)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
	if _, err := Lock(filepath.Join(path, "not-a-dir", "x"), errBusy); err == nil || errors.Is(err, errBusy) {
		t.Fatalf("Lock in a missing directory: %v", err)
	}
}
