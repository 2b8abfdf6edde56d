package testlog_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/simlab-dev/simlab/internal/testlog"
)

// TestBufferConcurrent: lines written by several goroutines while the
// test reads (run with -race) all arrive, whole.
func TestBufferConcurrent(t *testing.T) {
	var b testlog.Buffer
	log := slog.New(slog.NewTextHandler(&b, nil))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				log.Info("line", "g", g, "i", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		_, kv, ok := strings.Cut(l, "msg=line ")
		if !ok || seen[kv] {
			t.Fatalf("line %q: torn or repeated", l)
		}
		seen[kv] = true
	}
	if !seen["g=7 i=99"] {
		t.Error("the last line of goroutine 7 is missing")
	}
}
