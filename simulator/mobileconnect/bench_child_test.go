package mobileconnect_test

import (
	"fmt"
	"io"
	"os"
	"testing"
)

// TestBenchChild is startBenchServer's child in TestStartBenchServer:
// skipped unless SIMLAB_MC_BENCH_CHILD is set. It prints "READY here" and
// a line, and "BYE" once its standard input closes.
func TestBenchChild(t *testing.T) {
	if os.Getenv("SIMLAB_MC_BENCH_CHILD") == "" {
		t.Skip("TestStartBenchServer's child process (SIMLAB_MC_BENCH_CHILD)")
	}
	fmt.Println("READY here")
	fmt.Println("LINE 1")
	io.Copy(io.Discard, os.Stdin)
	fmt.Println("BYE")
}

// TestStartBenchServer: startBenchServer hands over the child's READY
// line without a data race (run with -race).
func TestStartBenchServer(t *testing.T) {
	c := startBenchServer(t, "TestBenchChild", "SIMLAB_MC_BENCH_CHILD=1", nil)
	if c.ready != "here" {
		t.Errorf("ready %q, want %q", c.ready, "here")
	}
}
