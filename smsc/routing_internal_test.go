package smsc

import (
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
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

// TestReplyShardsSpread: consecutive numbers spread over every shard, and
// so do numbers that share their last four digits across ranges
// (+9990001234, +9990101234, …), which a shard taken from the last digits
// put all in one (review 1, L10).
func TestReplyShardsSpread(t *testing.T) {
	t.Parallel()
	tab := newReplyTable()
	for _, c := range []struct {
		name  string
		phone func(i int) string
	}{
		{"consecutive", func(i int) string { return strconv.Itoa(99901000000 + i) }},
		{"same last 4 digits", func(i int) string { return strconv.Itoa(99900001234 + 10_000*i) }},
	} {
		count := map[*replyShard]int{}
		for i := range 16_000 {
			k, ok := tab.makeReplyKey("1", c.phone(i))
			if !ok {
				t.Fatal(c.phone(i))
			}
			count[tab.shard(&k)]++
		}
		for i := range tab.shards {
			if n := count[&tab.shards[i]]; n < 500 || n > 1500 {
				t.Errorf("%s: shard %d has %d of 16,000 numbers", c.name, i, n)
			}
		}
	}
}

// TestReplyKeysPinNothing: the reply table keeps no pointer into a
// submitted message's buffer (a 64 KiB message_payload, with the
// addresses as views into it, as newMT makes them): once the message is
// gone, its buffer is collected although its pair is still routed
// (review 1, M2). Recording a pair allocates nothing.
func TestReplyKeysPinNothing(t *testing.T) {
	tab := newReplyTable()
	ref := &bindRef{}
	until := time.Now().Add(time.Hour)
	buf := make([]byte, 64<<10)
	n := copy(buf, "99955500")
	n += copy(buf[n:], "99900000001")
	addr, phone := unsafeString(buf[:8]), unsafeString(buf[8:n])
	collected := make(chan struct{})
	runtime.AddCleanup(&buf[0], func(struct{}) { close(collected) }, struct{}{})
	tab.record(addr, phone, ref, until)
	buf, addr, phone = nil, "", ""
	for range 5 {
		runtime.GC()
		select {
		case <-collected:
			if tab.lookup("99955500", "99900000001", time.Now()) != ref {
				t.Fatal("the pair is no longer routed")
			}
			if a := testing.AllocsPerRun(100, func() { tab.record("99955500", "99900000002", ref, until) }); a != 0 {
				t.Errorf("record allocates %v times", a)
			}
			return
		default:
		}
	}
	t.Fatal("the message buffer was not collected: the reply table pins it")
}

// TestReplyKeyLimits: addresses beyond SMPP's 20 octets are not keyed
// (routed by address), a leading + is not part of the key.
func TestReplyKeyLimits(t *testing.T) {
	t.Parallel()
	tab := newReplyTable()
	ref := &bindRef{}
	now := time.Now()
	long := strings.Repeat("9", maxReplyAddr+1)
	tab.record("99955500", long, ref, now.Add(time.Hour))
	tab.record(long, "99900000001", ref, now.Add(time.Hour))
	if tab.lookup("99955500", long, now) != nil || tab.lookup(long, "99900000001", now) != nil {
		t.Error("an address longer than 20 octets was keyed")
	}
	max := strings.Repeat("9", maxReplyAddr)
	tab.record("+"+max, max, ref, now.Add(time.Hour))
	if tab.lookup(max, "+"+max, now) != ref {
		t.Error("20-octet addresses are not keyed")
	}
}

// TestReplyTableMemory: the reply table full (both generations of every
// shard) holds no more than docs/smsc.md states, whatever the messages
// were: its keys are fixed-size copies.
//
//	go test -run TestReplyTableMemory -v ./smsc/
func TestReplyTableMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory skews heap figures")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tab := newReplyTable()
	ref := &bindRef{}
	until := time.Now().Add(time.Hour)
	var buf [20]byte
	for i := range 4 * MaxReplyRoutes {
		tab.record("99955500", string(strconv.AppendInt(buf[:0], int64(99900000000+i), 10)), ref, until)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("reply table full: %d bytes, %d a pair of MaxReplyRoutes (%d)", used, used/MaxReplyRoutes, MaxReplyRoutes)
	if used > replyTableBound {
		t.Errorf("the full reply table holds %d bytes, docs/smsc.md says at most %d", used, replyTableBound)
	}
	runtime.KeepAlive(tab)
}

// replyTableBound is the memory bound docs/smsc.md states for the full
// reply table.
const replyTableBound = 12 << 20

// BenchmarkReplyRecordParallel is BenchmarkReplyRecord/new from four
// goroutines at once, as four binds submit: the table's shards are shared
// between the cores.
//
//	go test -run '^$' -bench ReplyRecordParallel -cpu 2 ./smsc/
func BenchmarkReplyRecordParallel(b *testing.B) {
	phones := make([]string, 1<<20)
	for i := range phones {
		phones[i] = strconv.Itoa(99902000000 + i)
	}
	until := time.Now().Add(time.Hour)
	tab := newReplyTable()
	var next atomic.Int64
	b.SetParallelism(2) // with -cpu 2: four goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ref := &bindRef{}
		i := int(next.Add(1)) << 18
		for pb.Next() {
			tab.record("99955500", phones[i&(len(phones)-1)], ref, until)
			i++
		}
	})
}

// TestReplyUndo: a refused submit's entry is taken back, and the pair
// routes as before it: to the previous bind whether its entry was in the
// current generation or only in the older one (record looks only at the
// current one), to nobody when there was none, and a later submit's
// entry is left alone.
func TestReplyUndo(t *testing.T) {
	t.Parallel()
	tab := newReplyTable()
	a, b, c := &bindRef{}, &bindRef{}, &bindRef{}
	now := time.Now()
	until := now.Add(time.Hour)
	tab.record("1", "99900000001", a, until)
	prev := tab.record("1", "99900000001", b, until)
	tab.undo("1", "99900000001", b, until, prev)
	if got := tab.lookup("1", "99900000001", now); got != a {
		t.Errorf("same generation: routed to %p, want a %p", got, a)
	}
	prev = tab.record("1", "99900000002", b, until)
	tab.undo("1", "99900000002", b, until, prev)
	if got := tab.lookup("1", "99900000002", now); got != nil {
		t.Errorf("no previous entry: routed to %p", got)
	}
	// Push "99900000001" into the older generation of its shard.
	k, _ := tab.makeReplyKey("1", "99900000001")
	sh := tab.shard(&k)
	for i := 0; ; i++ {
		if _, ok := sh.old[k]; ok {
			break
		}
		p := strconv.Itoa(99910000000 + i)
		if pk, _ := tab.makeReplyKey("1", p); tab.shard(&pk) == sh {
			tab.record("1", p, c, until)
		}
	}
	prev = tab.record("1", "99900000001", b, until)
	if got := tab.lookup("1", "99900000001", now); got != b {
		t.Fatalf("after the new record: %p, want b %p", got, b)
	}
	tab.undo("1", "99900000001", b, until, prev)
	if got := tab.lookup("1", "99900000001", now); got != a {
		t.Errorf("older generation: routed to %p, want a %p", got, a)
	}
	prev = tab.record("1", "99900000003", b, until)
	tab.record("1", "99900000003", c, until)
	tab.undo("1", "99900000003", b, until, prev)
	if got := tab.lookup("1", "99900000003", now); got != c {
		t.Errorf("a later submit's entry was taken back: %p, want c %p", got, c)
	}
}
