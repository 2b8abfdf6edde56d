package needs

import (
	"os"
	"testing"
)

func TestCommandFound(t *testing.T) {
	// sh is on every machine this project supports.
	if p := Command(t, "sh", "dash"); p == "" {
		t.Fatal("Command returned an empty path for sh")
	}
}

func TestFileFound(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := File(t, f.Name(), "none"); got != f.Name() {
		t.Fatalf("File = %q, want %q", got, f.Name())
	}
}
