package mobileconnect

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHoldTimerFiresAfterReuse: a hold's timer whose value the hold took
// is put back, and the next hold that gets it waits its own duration and
// then ends: the timer was reset, neither dead nor firing at once.
func TestHoldTimerFiresAfterReuse(t *testing.T) {
	guard := time.NewTimer(time.Minute) // a failure's bound, not a wait
	defer guard.Stop()
	for i := range 20 {
		tm := holdTimer(time.Microsecond)
		select {
		case <-tm.C:
		case <-guard.C:
			t.Fatalf("round %d: a reused hold timer never fired", i)
		}
		releaseHoldTimer(tm, true)
		tm = holdTimer(time.Hour)
		select {
		case <-tm.C:
			t.Fatalf("round %d: a reused hold timer fired at once", i)
		default:
		}
		releaseHoldTimer(tm, false)
	}
}

// TestHoldTimerReusedWhenStopped: a hold that ends before its timer has
// fired puts the timer back, and a later hold gets that same timer (the
// pool drops some puts at random under -race, so within a few tries).
func TestHoldTimerReusedWhenStopped(t *testing.T) {
	for range 100 {
		tm := holdTimer(time.Hour)
		releaseHoldTimer(tm, false)
		again := holdTimer(time.Hour)
		releaseHoldTimer(again, false)
		if again == tm {
			return
		}
	}
	t.Fatal("a stopped hold timer was never handed out again")
}

// holdTimerChild marks the run of TestHoldTimerAsyncChan in a child
// process with GODEBUG=asynctimerchan=1.
const holdTimerChild = "SIMLAB_MC_HOLDTIMER_CHILD"

// TestHoldTimerAsyncChan: with Go's buffered timer channels of before
// 1.23 (GODEBUG=asynctimerchan=1, a child process of this test binary), a
// timer that fired while its hold ended another way still holds its
// value after Stop; it is not put back, so no later hold ends at once on
// that stale value.
func TestHoldTimerAsyncChan(t *testing.T) {
	if os.Getenv(holdTimerChild) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHoldTimerAsyncChan$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), holdTimerChild+"=1", "GODEBUG=asynctimerchan=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestHoldTimerAsyncChan") {
			t.Fatalf("the child with asynctimerchan=1: %v\n%s", err, out)
		}
		return
	}
	deadline := time.Now().Add(time.Minute)
	for i := range 20 {
		tm := holdTimer(time.Microsecond)
		// Fired and not received: only a buffered channel shows its
		// value in len, so this also proves the GODEBUG took.
		for len(tm.C) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the timer's channel never held a value (not asynctimerchan=1?)", i)
			}
			runtime.Gosched()
		}
		releaseHoldTimer(tm, false)
		next := holdTimer(time.Hour)
		select {
		case <-next.C:
			t.Fatalf("round %d: a hold timer delivered a stale value at once", i)
		default:
		}
		releaseHoldTimer(next, false)
	}
}
