package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	bolt "go.etcd.io/bbolt"
)

// fill writes n delivered messages to a new store in dir and closes it.
func fill(t testing.TB, dir string, n int) {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var batch []*smsc.Message
	for i := range n {
		m := msg(fmt.Sprint(i), "999000001", strings.Repeat("x", 200), time.Now())
		m.State = smsc.Delivered
		if batch = append(batch, m); len(batch) == 100 || i == n-1 {
			if err := s.Append(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTruncatedFile: a file cut in half crashed Open with SIGBUS (bbolt
// reads it on a goroutine of its own). Now Open says ErrDamaged; with
// Repair it moves the file aside and keeps what can still be read.
func TestTruncatedFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fill(t, dir, 3000)
	path := filepath.Join(dir, FileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("Open of a truncated file: %v, want ErrDamaged saying truncated", err)
	}
	s, err := Open(dir, Options{Repair: true})
	if err != nil {
		t.Fatalf("Open with Repair: %v", err)
	}
	defer s.Close()
	// What survives depends on where bbolt's newest pages were (the cut
	// may take the tree's root): at least the file is usable again.
	t.Logf("kept %d of 3000 messages", s.Len())
	aside, _ := filepath.Glob(path + ".damaged-*")
	if len(aside) != 1 {
		t.Errorf("damaged file not moved aside: %v", aside)
	}
	// The repaired store works.
	if err := s.Append(context.Background(), msg("new", "1", "x", time.Now())); err != nil {
		t.Fatal(err)
	}
	p, err := s.List(context.Background(), smsc.Query{Filter: smsc.Filter{AllNamespaces: true}, Limit: 1000})
	if err != nil || len(p.Messages) == 0 || p.Messages[0].ID != "new" {
		t.Fatalf("list after repair: %v", err)
	}
	for _, m := range p.Messages[1:] {
		if string(m.Body) != strings.Repeat("x", 200) {
			t.Fatalf("salvaged message %s has body %q", m.ID, m.Body)
		}
	}
}

// TestDamagedPage: a leaf page in the middle of the messages zeroed on
// disk. Open says ErrDamaged; Repair keeps the records before it
// (walking forwards) and after it (backwards).
func TestDamagedPage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fill(t, dir, 3000)
	path := filepath.Join(dir, FileName)
	// Leaf pages, found by their headers (bbolt's page layout: id u64,
	// flags u16 with 0x02 for a leaf, count u16).
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := os.Getpagesize()
	var leaves []int
	for id := 2; (id+1)*pageSize <= len(raw); id++ {
		h := raw[id*pageSize:]
		if binary.LittleEndian.Uint64(h) == uint64(id) && binary.LittleEndian.Uint16(h[8:]) == 0x02 && binary.LittleEndian.Uint16(h[10:]) >= 2 {
			leaves = append(leaves, id)
		}
	}
	if len(leaves) < 10 {
		t.Fatalf("only %d leaf pages", len(leaves))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, pageSize), int64(leaves[len(leaves)/2]*pageSize)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open with a zeroed page: %v, want ErrDamaged", err)
	}
	s, err := Open(dir, Options{Repair: true})
	if err != nil {
		t.Fatalf("repair: %v", err)
	}
	defer s.Close()
	kept := s.Len()
	t.Logf("a zeroed page of %d: kept %d of 3000", len(leaves), kept)
	if kept < 3000*8/10 || kept >= 3000 {
		t.Errorf("kept %d of 3000: want all but the zeroed page's", kept)
	}
}

// TestGarbageFile: a file that is not a bbolt database at all.
func TestGarbageFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open of garbage: %v", err)
	}
	s, err := Open(dir, Options{Repair: true})
	if err != nil {
		t.Fatalf("repair of garbage: %v", err)
	}
	s.Close()
}

// TestDamagedRecord: one record that does not decode made the whole
// store unusable. Now it moves to the damaged bucket, raw, and the others
// load.
func TestDamagedRecord(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fill(t, dir, 10)
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], 5)
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMsgs).Put(k[:], []byte(`{"id":"4","body":`)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open with one damaged record: %v", err)
	}
	if s.Len() != 9 {
		t.Errorf("loaded %d of the 9 good records", s.Len())
	}
	if _, err := s.Get(context.Background(), "4"); !errors.Is(err, smsc.ErrNotFound) {
		t.Errorf("the damaged record: %v", err)
	}
	s.Close()
	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDamaged)
		if b == nil || string(b.Get(k[:])) != `{"id":"4","body":` {
			t.Error("the damaged record was not kept in the damaged bucket")
		}
		if tx.Bucket(bucketMsgs).Get(k[:]) != nil {
			t.Error("the damaged record is still among the messages")
		}
		return nil
	})
}

// TestDurableByteBudget: the durable store's budget is in bytes too;
// messages owed work are never dropped and, when they fill the budget,
// appends fail with smsc.ErrStoreFull; the budget holds across reopen.
func TestDurableByteBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	big := func(id string, st smsc.State) *smsc.Message {
		m := msg(id, "999000001", strings.Repeat("p", 4000), time.Now())
		m.State = st
		return m
	}
	size := int64(smsc.MessageSize(big("p00", smsc.Enroute)))
	s := open(t, dir, Options{MaxBytes: 10 * size})
	for i := range 30 {
		if err := s.Append(ctx, big(fmt.Sprintf("d%02d", i), smsc.Delivered)); err != nil {
			t.Fatal(err)
		}
	}
	if u := s.Usage(); u.Messages != 10 || u.Bytes > u.MaxBytes {
		t.Fatalf("usage after 30 final messages: %+v", u)
	}
	for i := range 10 {
		if err := s.Append(ctx, big(fmt.Sprintf("p%02d", i), smsc.Enroute)); err != nil {
			t.Fatalf("pending %d: %v", i, err)
		}
	}
	if err := s.Append(ctx, big("p10", smsc.Enroute)); !errors.Is(err, smsc.ErrStoreFull) {
		t.Fatalf("over the budget: %v", err)
	}
	got := make(chan error, 1)
	s.AppendAsync(big("p11", smsc.Enroute), func(err error) { got <- err })
	if err := <-got; !errors.Is(err, smsc.ErrStoreFull) {
		t.Fatalf("AppendAsync over the budget: %v", err)
	}
	if err := s.Patch(ctx, "p03", func(m *smsc.Message) { m.State = smsc.Delivered }); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, big("p12", smsc.Enroute)); err != nil {
		t.Fatalf("after a delivery: %v", err)
	}
	if _, err := s.Get(ctx, "p03"); !errors.Is(err, smsc.ErrNotFound) {
		t.Error("the delivered message was kept over a pending one")
	}
	s.Close()
	s2 := open(t, dir, Options{MaxBytes: 10 * size})
	if u := s2.Usage(); u.Messages != 10 || u.PendingMessages != 10 {
		t.Errorf("after reopen: %+v", u)
	}
	p, err := s2.List(ctx, smsc.Query{Filter: smsc.Filter{Namespace: "ns"}, Limit: 1000, MaxBytes: 4 * size})
	if err != nil || len(p.Messages) != 4 || p.Next == "" {
		t.Errorf("a page of 4 messages' bytes: %d, next %q, %v", len(p.Messages), p.Next, err)
	}
}

// TestDeleteMany: a deletion over more entries than one scan chunk
// removes each of them (matching works on copies of the index entries).
func TestDeleteMany(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fill(t, dir, 1000)
	s := open(t, dir, Options{})
	n, err := s.Delete(context.Background(), smsc.Filter{AllNamespaces: true})
	if err != nil || n != 1000 || s.Len() != 0 {
		t.Fatalf("deleted %d (%v), %d left", n, err, s.Len())
	}
	s.Close()
	if s := open(t, dir, Options{}); s.Len() != 0 {
		t.Errorf("%d back after reopen", s.Len())
	}
}
