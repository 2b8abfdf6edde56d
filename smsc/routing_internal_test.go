package smsc

import (
	"strconv"
	"testing"
	"time"
)

// TestReplyTableBounds: entries expire at their time, a refreshed pair
// follows its newest bind, and beyond MaxReplyRoutes the oldest pairs go
// first while the newest half stays.
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
		total += len(tab.shards[i].cur) + len(tab.shards[i].old)
	}
	if total > MaxReplyRoutes {
		t.Errorf("%d entries, want at most %d", total, MaxReplyRoutes)
	}
	for _, i := range []int{n - 1, n - 1000, n - MaxReplyRoutes/2 + MaxReplyRoutes/16} {
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

// BenchmarkReplyRecord is the reply table's cost on the submit path: new
// pairs (every submit to another phone, as BenchmarkSubmitSM does) and
// repeated ones (a load cycling through its numbers).
//
//	go test -run '^$' -bench ReplyRecord ./smsc/
func BenchmarkReplyRecord(b *testing.B) {
	phones := make([]string, 1<<20)
	for i := range phones {
		phones[i] = strconv.Itoa(99902000000 + i)
	}
	until := time.Now().Add(time.Hour)
	for _, c := range []struct {
		name string
		n    int
	}{{"new", len(phones)}, {"repeated", 10_000}} {
		b.Run(c.name, func(b *testing.B) {
			tab := newReplyTable()
			ref := &bindRef{}
			for i := 0; b.Loop(); i++ {
				tab.record("99955500", phones[i%c.n], ref, until)
			}
		})
	}
}

// TestReplyShardsSpread: consecutive numbers spread over every shard.
func TestReplyShardsSpread(t *testing.T) {
	t.Parallel()
	tab := newReplyTable()
	count := map[*replyShard]int{}
	for i := range 16_000 {
		sh, _ := tab.shard("1", strconv.Itoa(99901000000+i))
		count[sh]++
	}
	for i := range tab.shards {
		if n := count[&tab.shards[i]]; n < 500 || n > 1500 {
			t.Errorf("shard %d has %d of 16,000 numbers", i, n)
		}
	}
}
