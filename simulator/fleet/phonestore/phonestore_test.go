package phonestore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// put writes and waits until the write is on disk.
func put(t testing.TB, s *Store, n, v string, listed bool) {
	t.Helper()
	ch := make(chan error, 1)
	s.Put(n, []byte(v), listed, func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
}

// TestStoreRoundTrip: records, the listed mark and attachments survive a
// reopen; the last write of a number wins; a read sees a write at once.
func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		// Writes of one number in order, without waiting: the last wins.
		s.Put("99901000001", []byte(fmt.Sprintf(`{"v":1,"n":%d}`, i)), i%2 == 0, nil)
		if got, err := s.Get("99901000001"); err != nil || string(got) != fmt.Sprintf(`{"v":1,"n":%d}`, i) {
			t.Fatalf("read after write %d: %s %v", i, got, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			put(t, s, fmt.Sprintf("9990200%04d", i), `{"v":1}`, false)
		}()
	}
	wg.Wait()
	put(t, s, "99901000002", `{"v":1,"spec":{}}`, true)
	put(t, s, "99901000003", `{"v":1}`, true)
	done := make(chan error, 1)
	s.Delete("99901000003", func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.PutAttachment("4930123456", []byte(`{"reader":"R"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAttachment("4930123457", []byte(`{"reader":"S"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAttachment("4930123457"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir)
	defer s.Close()
	if got, _ := s.Get("99901000001"); string(got) != `{"v":1,"n":49}` {
		t.Errorf("after reopen: %s, want the last write", got)
	}
	if got, _ := s.Get("99901000003"); got != nil {
		t.Errorf("deleted record: %s", got)
	}
	if n, err := s.Len(); err != nil || n != 52 {
		t.Errorf("Len %d %v, want 52", n, err)
	}
	if l, err := s.Listed(); err != nil || strings.Join(l, ",") != "99901000002" {
		t.Errorf("Listed %v %v, want the one listed number left (the other's last write was not listed)", l, err)
	}
	if a, err := s.Attachments(); err != nil || len(a) != 1 || string(a["4930123456"]) != `{"reader":"R"}` {
		t.Errorf("Attachments %q %v", a, err)
	}
}

// TestStoreClosed: writes after Close fail with ErrClosed, the callback
// included.
func TestStoreClosed(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var got error
	s.Put("99901000001", []byte(`{}`), false, func(err error) { got = err })
	if !errors.Is(got, ErrClosed) {
		t.Errorf("Put after Close: %v", got)
	}
	if err := s.PutAttachment("1", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("PutAttachment after Close: %v", err)
	}
	if _, err := s.Get("99901000001"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
}

// TestStoreDamaged: a file that is not a database, one cut short, one
// overwritten in the middle, or one of another format is an error that
// names the file and the way out, never a crash.
func TestStoreDamaged(t *testing.T) {
	t.Parallel()
	full := t.TempDir()
	s := open(t, full)
	for i := 0; i < 3000; i++ {
		s.Put(fmt.Sprintf("999010%05d", i), []byte(`{"v":1,"card":{"counters":{"1":1234567890}}}`), i%10 == 0, nil)
	}
	put(t, s, "99901999999", `{"v":1}`, false)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(full, FileName))
	if err != nil {
		t.Fatal(err)
	}
	var phonesRoot, pageSize int
	ro, err := bolt.Open(filepath.Join(full, FileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.View(func(tx *bolt.Tx) error { phonesRoot = int(tx.Bucket(bucketPhones).Root()); return nil }); err != nil {
		t.Fatal(err)
	}
	pageSize = ro.Info().PageSize
	ro.Close()
	if phonesRoot < 2 || (phonesRoot+1)*pageSize > len(good) {
		t.Fatalf("the phones' bucket is rooted at page %d of a %d-byte file", phonesRoot, len(good))
	}
	noFreelist := filepath.Join(t.TempDir(), "nofreelist.db")
	db, err := bolt.Open(noFreelist, 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucketPhones); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cases := map[string]func() []byte{
		"unsynced freelist": func() []byte {
			b, err := os.ReadFile(noFreelist)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		"garbage":   func() []byte { return []byte(strings.Repeat("not a database ", 600)) },
		"truncated": func() []byte { return good[:len(good)/2] },
		"cut to 3 pages": func() []byte {
			return good[:3*4096]
		},
		// The page that roots the phones' bucket, zeroed: which pages hold
		// live data depends on how the 3,000 puts were batched into
		// commits, so a fixed range can land on free pages.
		"zeroed middle": func() []byte {
			b := append([]byte(nil), good...)
			clear(b[phonesRoot*pageSize : (phonesRoot+1)*pageSize])
			return b
		},
	}
	for name, make := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), make(), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, Options{})
		if err == nil {
			// Damage bbolt does not see at open shows when the pages are
			// read.
			_, err = s.Len()
			if err == nil {
				_, err = s.Listed()
			}
			s.Close()
		}
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "move it aside") {
			t.Errorf("%s: %v, want ErrDamaged naming the file and the way out", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	// Another format.
	s = open(t, full)
	s.Close()
	dir := t.TempDir()
	other := filepath.Join(dir, FileName)
	if err := os.WriteFile(other, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := setFormat(other, "9"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), `format "9"`) {
		t.Errorf("another format: %v", err)
	}
}

// BenchmarkPutParallel measures records made durable per second with many
// phones saving at once (group commit: one fsync per batch).
//
//	go test ./simulator/fleet/phonestore -run '^$' -bench PutParallel -benchtime 20000x
func BenchmarkPutParallel(b *testing.B) {
	s := open(b, b.TempDir())
	defer s.Close()
	rec := []byte(`{"v":1,"position":{"next":1},"card":{"counters":{"1":1234567890}}}`)
	b.SetParallelism(64) // phones answering at once
	var i sync.Mutex
	n := 0
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ch := make(chan error, 1)
		for pb.Next() {
			i.Lock()
			n++
			k := fmt.Sprintf("999010%05d", n%100000)
			i.Unlock()
			s.Put(k, rec, false, func(err error) { ch <- err })
			if err := <-ch; err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// setFormat rewrites the format record of the file at path.
func setFormat(path, v string) error {
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte(v)) })
}

// FuzzCheckHeader feeds arbitrary bytes as the database file to the check
// made before bbolt opens it: it never panics, and what it lets through has
// a valid header whose pages fit the file. (bbolt itself does not check
// every page: a file altered at random bytes, rather than cut short or
// overwritten by whole pages, can still make it allocate a page of the
// size it claims.)
func FuzzCheckHeader(f *testing.F) {
	dir := f.TempDir()
	s := open(f, dir)
	for i := 0; i < 50; i++ {
		s.Put(fmt.Sprintf("999010%05d", i), []byte(`{"v":1,"card":{"counters":{"1":7}}}`), i%3 == 0, nil)
	}
	if err := s.PutAttachment("4930123456", []byte(`{"reader":"R"}`)); err != nil {
		f.Fatal(err)
	}
	s.Close()
	good, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:4*4096])
	f.Add(good[:3*4096])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		err := checkHeader(path)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("error %v does not wrap ErrDamaged", err)
			}
			return
		}
		if len(b) == 0 {
			return
		}
		m, err := readMeta(bytes.NewReader(b), 0)
		if err != nil {
			t.Fatal(err)
		}
		if m.valid && m.pgid*uint64(m.pageSize) > uint64(len(b)) {
			t.Fatalf("accepted a file of %d bytes whose header says %d pages of %d", len(b), m.pgid, m.pageSize)
		}
	})
}
