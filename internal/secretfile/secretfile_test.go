package secretfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestPrivateMode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		perm fs.FileMode
		root bool
		want bool
	}{
		{0o600, false, true},
		{0o400, false, true},
		{0o640, false, false}, // the reader's own file: no group
		{0o644, false, false},
		{0o640, true, true}, // a Secret volume with fsGroup: root:fsGroup
		{0o440, true, true},
		{0o660, true, false}, // group may write
		{0o644, true, false}, // others may read
		{0o604, true, false},
		{0o000, true, true},
	} {
		if got := PrivateMode(c.perm, c.root); got != c.want {
			t.Errorf("PrivateMode(%04o, root %v) = %v, want %v", c.perm, c.root, got, c.want)
		}
	}
}

// TestPrivate reads the owner from a real file: here the test's own user
// owns it, so group read is refused unless that user is root.
func TestPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		perm fs.FileMode
		want bool
	}{{0o600, true}, {0o640, os.Getuid() == 0}, {0o644, false}} {
		if err := os.Chmod(path, c.perm); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := Private(fi); got != c.want {
			t.Errorf("Private(%04o, uid %d) = %v, want %v", c.perm, os.Getuid(), got, c.want)
		}
	}
}
