package mobileconnect_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"testing"
)

// TestBenchChild is startBenchServer's child in TestStartBenchServer:
// skipped unless SIMLAB_MC_BENCH_CHILD is set. It prints "READY here
// <its -test.timeout>" and a line, and once its standard input closes
// 2000 lines more, the last "BYE".
func TestBenchChild(t *testing.T) {
	if os.Getenv("SIMLAB_MC_BENCH_CHILD") == "" {
		t.Skip("TestStartBenchServer's child process (SIMLAB_MC_BENCH_CHILD)")
	}
	fmt.Println("READY here", flag.Lookup("test.timeout").Value)
	fmt.Println("LINE 1")
	io.Copy(io.Discard, os.Stdin)
	for i := range 2000 {
		fmt.Println("LINE", i+2)
	}
	fmt.Println("BYE")
}

// TestStartBenchServer: startBenchServer hands over the child's READY
// line without a data race (run with -race), gives the child this test
// binary's -test.timeout, and its cleanup returns only once the child's
// every later line reached onLine (those it prints as it ends among them)
// and the goroutine reading them ended.
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
		// The child times out as this process does.
		if want := "here " + flag.Lookup("test.timeout").Value.String(); c.ready != want {
			t.Errorf("ready %q, want %q", c.ready, want)
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
