package smsc

import (
	"strconv"
	"testing"
	"time"
)

// TestReplyTableBounds: entries expire at their time, a refreshed pair
// follows its newest bind, and beyond MaxReplyRoutes the oldest pairs go
// first while the newest stay.
func TestReplyTableBounds(t *testing.T) {
	t.Parallel()
	tab := newReplyTable()
	now := time.Unix(1_700_000_000, 0)
	a, b := &bindRef{}, &bindRef{}
	tab.record("+99955500", "99900000001", a, now.Add(time.Minute))
	if got := tab.lookup("99955500", "+99900000001", now); got != a {
		t.Fatalf("lookup = %p, want %p", got, a)
	}
	if got := tab.lookup("99955500", "99900000001", now.Add(time.Minute+1)); got != nil {
		t.Errorf("expired entry still routes")
	}
	if got := tab.lookup("99955501", "99900000001", now); got != nil {
		t.Errorf("another address routes")
	}
	tab.record("99955500", "99900000001", b, now.Add(time.Hour))
	if got := tab.lookup("99955500", "99900000001", now.Add(30*time.Minute)); got != b {
		t.Errorf("refreshed entry = %p, want the newer bind %p", got, b)
	}
	if tab.lookup("", "x", now) != nil {
		t.Error("an empty address routes")
	}

	n := MaxReplyRoutes + MaxReplyRoutes/4
	for i := range n {
		tab.record("99955500", strconv.Itoa(10_000_000+i), a, now.Add(time.Hour))
	}
	total := 0
	for i := range tab.shards {
		total += len(tab.shards[i].m)
	}
	if total > MaxReplyRoutes {
		t.Errorf("%d entries, want at most %d", total, MaxReplyRoutes)
	}
	for _, i := range []int{n - 1, n - 1000, n - MaxReplyRoutes/2} {
		if tab.lookup("99955500", strconv.Itoa(10_000_000+i), now) != a {
			t.Errorf("recent pair %d evicted", i)
		}
	}
	lost := 0
	for i := range MaxReplyRoutes / 8 {
		if tab.lookup("99955500", strconv.Itoa(10_000_000+i), now) != nil {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of the oldest pairs still routed past the bound", lost)
	}
}
