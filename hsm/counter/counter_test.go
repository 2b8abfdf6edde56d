package counter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
)

var ctx = context.Background()

func openTemp(t *testing.T, opts FileOptions) (*File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "counters")
	c, err := OpenFile(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

// TestSemantics runs the same checks on every implementation.
func TestSemantics(t *testing.T) {
	t.Parallel()
	impls := map[string]func(t *testing.T) hsm.Counters{
		"memory":    func(t *testing.T) hsm.Counters { return NewMemory() },
		"file":      func(t *testing.T) hsm.Counters { c, _ := openTemp(t, FileOptions{}); return c },
		"file-r100": func(t *testing.T) hsm.Counters { c, _ := openTemp(t, FileOptions{Reserve: 100}); return c },
	}
	for name, mk := range impls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := mk(t)
			const k = "89999000000000000012/1/b00011"
			if v, err := c.Get(ctx, k); v != 0 || err != nil {
				t.Fatalf("Get new = %d, %v", v, err)
			}
			for want := uint64(1); want <= 3; want++ {
				if v, err := c.Next(ctx, k); v != want || err != nil {
					t.Fatalf("Next = %d, %v; want %d", v, err, want)
				}
			}
			if v, _ := c.Next(ctx, "other"); v != 1 {
				t.Errorf("independent key: Next = %d", v)
			}
			if err := c.Advance(ctx, k, 2); !errors.Is(err, hsm.ErrCounterBackwards) {
				t.Errorf("Advance backwards: %v", err)
			}
			if err := c.Advance(ctx, k, 3); err != nil {
				t.Errorf("Advance to current: %v", err)
			}
			if err := c.Advance(ctx, k, 1000); err != nil {
				t.Fatal(err)
			}
			if v, _ := c.Get(ctx, k); v != 1000 {
				t.Errorf("Get after Advance = %d", v)
			}
			if v, _ := c.Next(ctx, k); v != 1001 {
				t.Errorf("Next after Advance = %d", v)
			}
			if err := c.Advance(ctx, k, math.MaxUint64); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Next(ctx, k); !errors.Is(err, hsm.ErrCounterExhausted) {
				t.Errorf("Next at max: %v", err)
			}
			// Concurrent Next never repeats a value.
			var mu sync.Mutex
			seen := map[uint64]bool{}
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range 50 {
						v, err := c.Next(ctx, "par")
						mu.Lock()
						if err != nil || seen[v] {
							t.Errorf("Next = %d, %v (repeat=%v)", v, err, seen[v])
						}
						seen[v] = true
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if v, _ := c.Get(ctx, "par"); v != 200 {
				t.Errorf("after 200 concurrent Next: Get = %d", v)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Next(ctx, k); !errors.Is(err, ErrClosed) {
				t.Errorf("Next after Close: %v", err)
			}
		})
	}
}

func TestFileReopen(t *testing.T) {
	t.Parallel()
	for _, reserve := range []uint64{1, 10} {
		c, path := openTemp(t, FileOptions{Reserve: reserve})
		for range 5 {
			c.Next(ctx, "a")
		}
		c.Advance(ctx, "b", 42)
		c.Close()
		c2, err := OpenFile(path, FileOptions{Reserve: reserve})
		if err != nil {
			t.Fatal(err)
		}
		wantA := uint64(5)
		if reserve == 10 {
			wantA = 10 // the reserved block is skipped, never reissued
		}
		if v, _ := c2.Get(ctx, "a"); v != wantA {
			t.Errorf("reserve %d: Get a after reopen = %d, want %d", reserve, v, wantA)
		}
		if v, _ := c2.Next(ctx, "a"); v != wantA+1 {
			t.Errorf("reserve %d: Next a after reopen = %d", reserve, v)
		}
		if v, _ := c2.Get(ctx, "b"); v != 42 {
			t.Errorf("Get b after reopen = %d", v)
		}
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, %v", info.Mode(), err)
		}
		c2.Close()
	}
}

func TestFileLocked(t *testing.T) {
	t.Parallel()
	_, path := openTemp(t, FileOptions{})
	if _, err := OpenFile(path, FileOptions{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second OpenFile: %v, want ErrLocked", err)
	}
}

func TestFileTornTail(t *testing.T) {
	t.Parallel()
	c, path := openTemp(t, FileOptions{})
	for range 3 {
		c.Next(ctx, "k")
	}
	c.Close()
	// Append half a record, as a crash in the middle of write(2) would.
	rec := appendRecord(nil, "k", 99)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(rec[:len(rec)-3])
	f.Close()
	c2, err := OpenFile(path, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if v, _ := c2.Next(ctx, "k"); v != 4 {
		t.Errorf("Next after torn tail = %d, want 4", v)
	}
}

func TestFileCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("something else entirely\n"), 0o600)
	if _, err := OpenFile(bad, FileOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("foreign file: %v", err)
	}
	// A damaged record followed by a lot of data is not a torn tail.
	mid := filepath.Join(dir, "mid")
	b := []byte(fileMagic)
	b = appendRecord(b, "k", 1)
	b[len(b)-1] ^= 0xff
	for i := range 200 {
		b = appendRecord(b, "k", uint64(i+2))
	}
	os.WriteFile(mid, b, 0o600)
	if _, err := OpenFile(mid, FileOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("damaged middle: %v", err)
	}
	// A mark going down is damage too.
	down := filepath.Join(dir, "down")
	b = appendRecord(appendRecord([]byte(fileMagic), "k", 5), "k", 4)
	os.WriteFile(down, b, 0o600)
	if _, err := OpenFile(down, FileOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("backwards record: %v", err)
	}
}

func TestFileCompaction(t *testing.T) {
	t.Parallel()
	c, path := openTemp(t, FileOptions{})
	for range 5000 {
		if _, err := c.Next(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	info, _ := os.Stat(path)
	if info.Size() > int64(len(fileMagic))+4200*15 {
		t.Errorf("log of %d bytes was not compacted", info.Size())
	}
	c2, err := OpenFile(path, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if v, _ := c2.Next(ctx, "k"); v != 5001 {
		t.Errorf("Next after compaction = %d", v)
	}
}

// childEnv names the counter file for the crash test's child process.
const childEnv = "SIMLAB_COUNTER_CRASH_CHILD"

// TestCrashChild is the child half of TestCrashNeverBackwards: it hands out
// values as fast as it can and prints each one after Next returns, until it
// is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("only runs as the child of TestCrashNeverBackwards")
	}
	reserve, _ := strconv.ParseUint(os.Getenv(childEnv+"_RESERVE"), 10, 64)
	c, err := OpenFile(path, FileOptions{Reserve: reserve})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	w := bufio.NewWriterSize(os.Stdout, 64)
	for {
		v, err := c.Next(ctx, "89999000000000000012/1/b00011")
		if err != nil {
			fmt.Fprintln(w, "next:", err)
			w.Flush()
			os.Exit(3)
		}
		fmt.Fprintln(w, v)
		w.Flush()
	}
}

// TestCrashNeverBackwards re-executes the test binary as a child that
// increments a counter, SIGKILLs it in the middle of its increments,
// reopens the file, and checks that the counter never went back and no
// value was handed out twice, over several crash/restart rounds.
func TestCrashNeverBackwards(t *testing.T) {
	t.Parallel()
	for _, reserve := range []uint64{1, 7} {
		path := filepath.Join(t.TempDir(), "counters")
		var last uint64
		for round := range 4 {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+path, childEnv+"_RESERVE="+strconv.FormatUint(reserve, 10))
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			n := 0
			stopAfter := 150 + 37*round
			for sc.Scan() {
				v, err := strconv.ParseUint(sc.Text(), 10, 64)
				if err != nil {
					t.Fatalf("round %d: child said %q", round, sc.Text())
				}
				if v <= last {
					t.Fatalf("reserve %d round %d: value %d after %d: reissued or backwards", reserve, round, v, last)
				}
				last = v
				if n++; n == stopAfter {
					cmd.Process.Kill() // SIGKILL while the child keeps incrementing
					break
				}
			}
			// Values the child printed after the kill point, if any got
			// through the pipe, still count as handed out.
			for sc.Scan() {
				if v, err := strconv.ParseUint(sc.Text(), 10, 64); err == nil {
					if v <= last {
						t.Fatalf("value %d after %d", v, last)
					}
					last = v
				}
			}
			cmd.Wait()
			if n < stopAfter {
				t.Fatalf("round %d: child stopped after %d values", round, n)
			}
			c, err := OpenFile(path, FileOptions{Reserve: reserve})
			if err != nil {
				t.Fatalf("round %d: reopen after kill: %v", round, err)
			}
			got, _ := c.Get(ctx, "89999000000000000012/1/b00011")
			if got < last {
				t.Fatalf("reserve %d round %d: Get = %d after the child handed out %d", reserve, round, got, last)
			}
			if got > last+reserve {
				t.Errorf("reserve %d round %d: Get = %d skips more than the reserve past %d", reserve, round, got, last)
			}
			c.Close()
		}
	}
}

// FuzzDecodeRecord: the log record parser never panics, and whatever it
// accepts re-encodes to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendRecord(nil, "89999000000000000012/1/b00011", 42))
	f.Add(appendRecord(nil, "", 0))
	f.Add([]byte{0x04, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		key, v, n, err := decodeRecord(b)
		if err != nil {
			return
		}
		if again := appendRecord(nil, key, v); string(again) != string(b[:n]) {
			t.Errorf("re-encoding differs: %x vs %x", again, b[:n])
		}
	})
}
