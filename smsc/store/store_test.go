package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
)

func msg(id, to, text string, t time.Time) *smsc.Message {
	return &smsc.Message{ID: id, Dest: smsc.Address{TON: 1, NPI: 1, Addr: to}, Source: smsc.Address{Addr: "SIMLAB"},
		Body: []byte(text), State: smsc.Enroute, SubmitTime: t, Namespace: "ns"}
}

func open(t *testing.T, dir string, o Options) *Store {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAppendGetListReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := open(t, dir, Options{Now: func() time.Time { return t0 }})
	for i := range 25 {
		to := "999000001"
		if i%2 == 1 {
			to = "999000002"
		}
		if err := s.Append(ctx, msg(fmt.Sprint(i), to, fmt.Sprintf("code %04d", i), t0.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Update(ctx, "3", func(m *smsc.Message) { m.State = smsc.Delivered; m.Attempts = 1 }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "nope", func(m *smsc.Message) {}); !errors.Is(err, smsc.ErrNotFound) {
		t.Fatalf("update of unknown id: %v, want ErrNotFound", err)
	}
	// Page through the messages to 999000001 (13 of them), 5 at a time.
	var got []string
	q := smsc.Query{Filter: smsc.Filter{Namespace: "ns", To: "999000001"}, Limit: 5}
	for {
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Messages {
			got = append(got, m.ID)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	want := "24 22 20 18 16 14 12 10 8 6 4 2 0"
	if strings.Join(got, " ") != want {
		t.Fatalf("pages = %v, want %s", got, want)
	}
	n, err := s.Delete(ctx, smsc.Filter{Namespace: "ns", To: "999000002"})
	if err != nil || n != 12 {
		t.Fatalf("delete = %d, %v; want 12", n, err)
	}
	s.Close()

	s2 := open(t, dir, Options{Now: func() time.Time { return t0 }})
	if s2.Len() != 13 {
		t.Fatalf("after reopen Len = %d, want 13", s2.Len())
	}
	m, err := s2.Get(ctx, "3")
	if !errors.Is(err, smsc.ErrNotFound) {
		t.Fatalf("deleted message 3: %v %v", m, err)
	}
	m, err = s2.Get(ctx, "4")
	if err != nil || string(m.Body) != "code 0004" {
		t.Fatalf("Get(4) = %+v, %v", m, err)
	}
	pend, _ := s2.Pending(ctx)
	if len(pend) != 13 || pend[0].ID != "0" {
		t.Fatalf("pending = %d (first %v), want 13 oldest first", len(pend), pend[0].ID)
	}
	// Sequence numbers continue after the reopen: new messages list first.
	if err := s2.Append(ctx, msg("new", "999000001", "x", t0)); err != nil {
		t.Fatal(err)
	}
	p, _ := s2.List(ctx, smsc.Query{Filter: smsc.Filter{Namespace: "ns"}, Limit: 1})
	if len(p.Messages) != 1 || p.Messages[0].ID != "new" {
		t.Fatalf("newest = %+v", p.Messages)
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := t.TempDir()
	s := open(t, dir, Options{MaxMessages: 10, MaxAge: 24 * time.Hour, Now: clock})
	for i := range 15 {
		m := msg(fmt.Sprint(i), "1", "x", now)
		m.State = smsc.Delivered // retention forgets only final messages
		if err := s.Append(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 10 {
		t.Fatalf("Len = %d, want 10", s.Len())
	}
	if _, err := s.Get(ctx, "4"); !errors.Is(err, smsc.ErrNotFound) {
		t.Fatalf("oldest should be gone: %v", err)
	}
	s.Close()
	s2 := open(t, dir, Options{MaxMessages: 10, MaxAge: 24 * time.Hour, Now: func() time.Time { return now.Add(48 * time.Hour) }})
	if s2.Len() != 0 {
		t.Fatalf("after two days every message is past MaxAge; Len = %d", s2.Len())
	}
}

func TestConcurrentAppendAsync(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir(), Options{})
	var wg sync.WaitGroup
	var fails atomic.Int32
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				var done sync.WaitGroup
				done.Add(1)
				s.AppendAsync(msg(fmt.Sprintf("%d-%d", g, i), "1", "x", time.Now()), func(err error) {
					if err != nil {
						fails.Add(1)
					}
					done.Done()
				})
				done.Wait()
			}
		}()
	}
	wg.Wait()
	if fails.Load() != 0 || s.Len() != 1600 {
		t.Fatalf("fails=%d Len=%d, want 0 and 1600", fails.Load(), s.Len())
	}
}

// TestCrash kills a child process that appends and updates messages, then
// checks that every append and update the child saw acknowledged survived.
func TestCrash(t *testing.T) {
	if os.Getenv("SIMLAB_STORE_CRASH_DIR") != "" {
		t.Skip("child mode")
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), "SIMLAB_STORE_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	updated := map[string]bool{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "ack":
			acked[f[1]] = true
		case "upd":
			updated[f[1]] = true
		}
		if len(acked) >= 1000 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Read what the child printed before it died.
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "ack" {
			acked[f[1]] = true
		} else if len(f) == 2 && f[0] == "upd" {
			updated[f[1]] = true
		}
	}
	cmd.Wait()
	if len(acked) < 1000 {
		t.Fatalf("child acknowledged only %d messages", len(acked))
	}
	s := open(t, dir, Options{})
	ctx := context.Background()
	for id := range acked {
		m, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged message %s lost in the crash: %v", id, err)
		}
		if updated[id] && m.State != smsc.Delivered {
			t.Fatalf("acknowledged update of %s lost: state %v", id, m.State)
		}
	}
	pend, _ := s.Pending(ctx)
	for _, m := range pend {
		if updated[m.ID] {
			t.Fatalf("message %s was marked delivered but is pending again", m.ID)
		}
	}
	t.Logf("%d acknowledged, %d updated, %d pending after the crash; all present", len(acked), len(updated), len(pend))
}

// TestCrashChild is the child of TestCrash; it runs only when told to.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("SIMLAB_STORE_CRASH_DIR")
	if dir == "" {
		t.Skip("runs as TestCrash's child process")
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	print := func(kind, id string) {
		mu.Lock()
		fmt.Fprintln(w, kind, id)
		w.Flush()
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := strconv.Itoa(g) + "-" + strconv.Itoa(i)
				if err := s.Append(ctx, msg(id, "999", "x", time.Now())); err != nil {
					return
				}
				print("ack", id)
				if i%3 == 0 {
					if _, err := s.Update(ctx, id, func(m *smsc.Message) { m.State = smsc.Delivered }); err != nil {
						return
					}
					print("upd", id)
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkDurableAppend measures durable appends per second with group
// commit: 64 concurrent submitters, each waiting for its fsync.
func BenchmarkDurableAppend(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := strconv.FormatInt(n.Add(1), 10)
			if err := s.Append(ctx, msg(id, "999000001", "Your code is 123456", time.Now())); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

func TestClosed(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(context.Background(), msg("1", "1", "x", time.Now())); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	got := make(chan error, 1)
	s.AppendAsync(msg("2", "1", "x", time.Now()), func(err error) { got <- err })
	if err := <-got; !errors.Is(err, ErrClosed) {
		t.Fatalf("AppendAsync after Close: %v", err)
	}
	// A second process (here: a second Open) cannot take the directory
	// while it is open.
	dir := t.TempDir()
	s1, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("second Open of a locked store succeeded")
	}
}
