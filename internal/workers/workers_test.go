package workers

import (
	"testing"
	"testing/synctest"
)

// TestPool: a finished session parks its goroutine for the next; beyond
// Max parked, goroutines exit; Close releases the parked ones (synctest
// fails the test if any goroutine is left behind).
func TestPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New(1)
		ran := make(chan int, 4)
		w.Go(func() { ran <- 1 })
		synctest.Wait()
		if w.Idle() != 1 {
			t.Fatalf("after one session: %d idle, want 1", w.Idle())
		}
		release := make(chan struct{})
		w.Go(func() { <-release; ran <- 2 }) // takes the parked worker
		synctest.Wait()
		if w.Idle() != 0 {
			t.Fatalf("parked worker not reused: %d idle", w.Idle())
		}
		w.Go(func() { <-release; ran <- 3 }) // none idle: a new goroutine
		close(release)
		synctest.Wait()
		if w.Idle() != 1 {
			t.Errorf("with max 1: %d idle after two sessions, want 1", w.Idle())
		}
		if len(ran) != 3 {
			t.Errorf("%d sessions ran, want 3", len(ran))
		}
		w.Close()
		synctest.Wait()
		if w.Idle() != 0 {
			t.Errorf("after Close: %d idle", w.Idle())
		}
		w.Go(func() { ran <- 4 }) // still runs after Close
		synctest.Wait()
		if len(ran) != 4 {
			t.Error("a session after Close did not run")
		}
	})
}
