package push

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/simlab-dev/simlab/applet/ota"
)

// TestCountersSwept: lastCounters does not keep an entry per keyset ever
// used: entries the clock has passed are dropped, one ahead of the clock
// is kept, and a keyset whose entry is being dropped gets a fresh one.
// Counters stay strictly increasing per keyset throughout.
func TestCountersSwept(t *testing.T) {
	t.Parallel()
	prefix := fmt.Sprintf("test-swept-%p/", t)
	for i := range 100 {
		NextCounter(fmt.Sprint(prefix, i))
	}
	// A sweep at a tick past every counter issued drops them all.
	sweepCounters(counterNow() + 1<<30)
	for i := range 100 {
		if _, ok := lastCounters.Load(fmt.Sprint(prefix, i)); ok {
			t.Fatalf("entry %d survived a sweep past its counter", i)
		}
	}

	// An entry ahead of the clock survives a sweep at the clock, and its
	// next counter follows it.
	ahead := prefix + "ahead"
	v := new(atomic.Uint64)
	v.Store(counterNow() + 1<<20)
	lastCounters.Store(ahead, v)
	sweepCounters(counterNow())
	if got, ok := lastCounters.Load(ahead); !ok || got != any(v) {
		t.Fatal("an entry ahead of the clock was dropped")
	}
	want, _ := TimeCounter(v.Load())
	if got := NextCounter(ahead); got != want {
		t.Errorf("counter after the sweep %x, want %x", got, want)
	}

	// An entry marked dead (a sweep in progress) is replaced.
	dead := prefix + "dead"
	d := new(atomic.Uint64)
	d.Store(counterDead)
	lastCounters.Store(dead, d)
	c1 := NextCounter(dead)
	c2 := NextCounter(dead)
	if got, _ := lastCounters.Load(dead); got == any(d) || bytes.Compare(c2[:], c1[:]) <= 0 || c1 == (ota.Counter{}) {
		t.Errorf("dead entry: kept %v, counters %x then %x", got == any(d), c1, c2)
	}
}
