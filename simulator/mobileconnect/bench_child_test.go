package mobileconnect_test

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"testing"
)

// TestBenchChild is startBenchServer's child in TestStartBenchServer:
// skipped unless SIMLAB_MC_BENCH_CHILD is set. It prints "READY here" and
// a line, and once its standard input closes 2000 lines more, the last
// "BYE".
func TestBenchChild(t *testing.T) {
	if os.Getenv("SIMLAB_MC_BENCH_CHILD") == "" {
		t.Skip("TestStartBenchServer's child process (SIMLAB_MC_BENCH_CHILD)")
	}
	fmt.Println("READY here")
	fmt.Println("LINE 1")
	io.Copy(io.Discard, os.Stdin)
	for i := range 2000 {
		fmt.Println("LINE", i+2)
	}
	fmt.Println("BYE")
}

// TestStartBenchServer: startBenchServer hands over the child's READY
// line without a data race (run with -race), and its cleanup returns only
// once the child's every later line reached onLine (those it prints as
// it ends among them) and the goroutine reading them ended.
func TestStartBenchServer(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	var c *benchChild
	t.Run("child", func(t *testing.T) {
		c = startBenchServer(t, "TestBenchChild", "SIMLAB_MC_BENCH_CHILD=1", func(line string) {
			mu.Lock()
			lines = append(lines, line)
			mu.Unlock()
		})
		if c.ready != "here" {
			t.Errorf("ready %q, want %q", c.ready, "here")
		}
	})
	if c == nil {
		t.FailNow()
	}
	select {
	case <-c.done:
	default:
		t.Error("the goroutine reading the child's output outlived its cleanup")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(lines, "LINE 1") || !slices.Contains(lines, "BYE") {
		t.Errorf("lines after READY: %q, want LINE 1 and BYE among them", lines)
	}
}
