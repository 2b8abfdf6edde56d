package mobileconnect

import (
	"crypto/sha256"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestTableExpiry: entries are found until they expire, forgotten as new
// ones come once expired, and a replaced or deleted entry is not dropped
// by its old expiry.
func TestTableExpiry(t *testing.T) {
	s := newState()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range 1000 {
		now := t0.Add(time.Duration(i) * time.Second)
		s.byID.put(strconv.Itoa(i), nil, now, now.Add(100*time.Second))
	}
	// At t0+999 s, entries 0…899 have expired (exp ≤ now).
	now := t0.Add(999 * time.Second)
	if _, ok := s.byID.get("899", now); ok {
		t.Fatal("an expired entry is found")
	}
	if _, ok := s.byID.get("900", now); !ok {
		t.Fatal("a live entry is not found")
	}
	if n := s.byID.len(); n < 100 {
		t.Fatalf("%d entries held, want at least the 100 live ones", n)
	}
	// Putting into every shard forgets what expired there.
	for i := range 2000 {
		s.byID.put("late"+strconv.Itoa(i), nil, now, now.Add(time.Hour))
	}
	if n := s.byID.len(); n != 100+2000 {
		t.Fatalf("%d entries held, want 2100: the expired ones forgotten", n)
	}

	// A replaced entry keeps its new expiry.
	s.codes.put([32]byte{1}, &codeGrant{}, t0, t0.Add(time.Second))
	s.codes.put([32]byte{1}, &codeGrant{redirectURI: "new"}, t0, t0.Add(time.Hour))
	s.codes.put([32]byte{1, 1}, &codeGrant{}, t0.Add(2*time.Second), t0.Add(time.Hour)) // same shard: runs its expiry
	if c, ok := s.codes.get([32]byte{1}, t0.Add(time.Minute)); !ok || c.redirectURI != "new" {
		t.Fatal("a replaced entry was dropped at its old expiry")
	}
	if _, ok := s.codes.take([32]byte{1}, t0.Add(time.Minute)); !ok {
		t.Fatal("take found nothing")
	}
	if _, ok := s.codes.take([32]byte{1}, t0.Add(time.Minute)); ok {
		t.Fatal("take found the entry twice")
	}

	// putNew keeps the first of two.
	l1, l2 := &login{id: "1"}, &login{id: "2"}
	k := loginKey{"c", "s", "n"}
	if got, ok := s.logins.putNew(k, l1, t0, t0.Add(time.Hour)); !ok || got != l1 {
		t.Fatal("putNew did not store the first")
	}
	if got, ok := s.logins.putNew(k, l2, t0, t0.Add(time.Hour)); ok || got != l1 {
		t.Fatal("putNew replaced the first")
	}
	if got, ok := s.logins.putNew(k, l2, t0.Add(2*time.Hour), t0.Add(3*time.Hour)); !ok || got != l2 {
		t.Fatal("putNew did not replace an expired entry")
	}
}

// TestTableExpiryAcrossBlocks: a queue many blocks long forgets its
// expired entries block by block and keeps the live ones findable.
func TestTableExpiryAcrossBlocks(t *testing.T) {
	s := newState()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const n, step, ttl = 40000, 10 * time.Millisecond, 10 * time.Second // 1,000 live at the end
	var now time.Time
	for i := range n {
		now = t0.Add(time.Duration(i) * step)
		s.byID.put(strconv.Itoa(i), nil, now, now.Add(ttl))
	}
	live := int(ttl / step)
	for i := n - live; i < n; i++ {
		if _, ok := s.byID.get(strconv.Itoa(i), now); !ok {
			t.Fatalf("live entry %d not found", i)
		}
	}
	if _, ok := s.byID.get(strconv.Itoa(n-live-1), now); ok {
		t.Fatal("an expired entry is found")
	}
	// Each shard forgot what had expired at its last put: the last
	// 1,000 entries and a few per shard besides.
	if got := s.byID.len(); got < live || got > live+shards*20 {
		t.Fatalf("%d entries held, want about %d", got, live)
	}
	for i := range s.byID.shards {
		sh := &s.byID.shards[i]
		if held := len(sh.m); len(sh.fifo) > held/fifoBlock+2 {
			t.Fatalf("shard %d: %d blocks queued for %d entries", i, len(sh.fifo), held)
		}
	}
}

// BenchmarkTablePut: one insert into a filling table (an authorization
// code's), its key a SHA-256 as the gateway's are.
func BenchmarkTablePut(b *testing.B) {
	s := newState()
	now := time.Now()
	keys := make([][32]byte, b.N)
	for i := range keys {
		keys[i] = sha256.Sum256([]byte(strconv.Itoa(i)))
	}
	cg := &codeGrant{}
	b.ResetTimer()
	for i := range b.N {
		s.codes.put(keys[i], cg, now, now.Add(time.Hour))
	}
}

// TestStatePending: begin counts up to the bound, concurrently.
func TestStatePending(t *testing.T) {
	s := newState()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range 64 {
		wg.Go(func() {
			if s.begin(50) {
				mu.Lock()
				got++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got != 50 || s.pending.Load() != 50 {
		t.Fatalf("%d began, %d pending; want 50", got, s.pending.Load())
	}
	s.end()
	if !s.begin(50) || s.begin(50) {
		t.Fatal("the bound is not kept after end")
	}
}
