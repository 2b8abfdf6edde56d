package smsc

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestMemLogModel drives the ring log with a seeded random mix of appends,
// deletions anywhere (holes, as messages kept for work leave), and tidies,
// and checks every entry, search and find against a plain slice after
// each step: across wrap-arounds, growth, squeezes and shrinking.
func TestMemLogModel(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var l memLog
	var model []memEntry // live entries, ascending seq
	var seq uint64
	check := func(step int) {
		t.Helper()
		var got []memEntry
		for i := range l.len() {
			if e := l.at(i); e.m != nil {
				got = append(got, *e)
			}
		}
		if len(got) != len(model) {
			t.Fatalf("step %d: %d live entries, want %d", step, len(got), len(model))
		}
		for i := range got {
			if got[i].seq != model[i].seq || got[i].m != model[i].m {
				t.Fatalf("step %d: entry %d seq %d, want %d", step, i, got[i].seq, model[i].seq)
			}
		}
		if l.len()-l.dead != len(model) {
			t.Fatalf("step %d: len %d dead %d, %d live", step, l.len(), l.dead, len(model))
		}
		if len(l.ring) > 0 && len(l.ring)&(len(l.ring)-1) != 0 {
			t.Fatalf("step %d: ring of %d", step, len(l.ring))
		}
		for k := 0; k < 8 && len(model) > 0; k++ {
			e := model[rng.IntN(len(model))]
			if i := l.find(e.seq); i < 0 || l.at(i).m != e.m {
				t.Fatalf("step %d: find(%d) = %d", step, e.seq, i)
			}
			if i := l.search(e.seq); l.at(i).seq != e.seq {
				t.Fatalf("step %d: search(%d) = %d", step, e.seq, i)
			}
		}
		if l.find(seq+1) != -1 || l.search(seq+1) != l.len() {
			t.Fatalf("step %d: an entry past the last", step)
		}
	}
	for step := range 60_000 {
		switch r := rng.IntN(100); {
		case r < 55 || step < 3000: // append
			seq++
			e := memEntry{seq: seq, m: &Message{ID: "x"}}
			l.push(e)
			model = append(model, e)
		case r < 80 && len(model) > 0: // forget the oldest
			l.drop(l.find(model[0].seq))
			model = model[1:]
		case r < 98 && len(model) > 0: // a hole anywhere
			j := rng.IntN(len(model))
			l.drop(l.find(model[j].seq))
			model = append(model[:j], model[j+1:]...)
		default: // drop most of it, then shrink
			for len(model) > 10 {
				l.drop(l.find(model[0].seq))
				model = model[1:]
			}
		}
		l.tidy()
		check(step)
	}
	if len(l.ring) > 4*minLogRing {
		t.Errorf("ring of %d for %d entries", len(l.ring), l.len())
	}
}

// TestMemLogNoGrowthAtLimit: a store at its limit, forgetting the oldest
// message for each new one, keeps its ring (no copy under the lock).
func TestMemLogNoGrowthAtLimit(t *testing.T) {
	t.Parallel()
	s := NewMemStore(5000)
	for i := range 5000 {
		s.Append(t.Context(), &Message{ID: "a" + strconv.Itoa(i), State: Delivered})
	}
	ring := &s.log.ring[0]
	for i := range 50_000 {
		s.Append(t.Context(), &Message{ID: "b" + strconv.Itoa(i), State: Delivered})
	}
	if &s.log.ring[0] != ring || s.Len() != 5000 {
		t.Errorf("ring reallocated at the limit (%d entries in %d)", s.Len(), len(s.log.ring))
	}
}
