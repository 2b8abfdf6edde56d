package soft

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
)

// TestHMACVectors checks HMAC-SHA256 against RFC 4231 §4.7 (test case 6,
// the only one whose key is as long as the store requires), repeatedly and
// from several goroutines: the pooled states must start from the keyed
// state every time, whatever the call before left in them.
func TestHMACVectors(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	defer s.Close()
	key := bytes.Repeat([]byte{0xaa}, 131)
	if err := s.Import(ctx, "k", hsm.HMAC, key); err != nil {
		t.Fatal(err)
	}
	data := []byte("Test Using Larger Than Block-Size Key - Hash Key First")
	const want = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				// A longer message in between leaves a state mid-way.
				if _, err := s.HMAC(ctx, "k", []byte(strings.Repeat("x", g*i))); err != nil {
					t.Error(err)
					return
				}
				got, err := s.HMAC(ctx, "k", data)
				if err != nil || hex.EncodeToString(got) != want {
					t.Errorf("HMAC = %x, %v; want %s", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	// The result is the caller's: changing it changes no later one.
	got, _ := s.HMAC(ctx, "k", data)
	clear(got)
	if again, _ := s.HMAC(ctx, "k", data); hex.EncodeToString(again) != want {
		t.Fatalf("HMAC after the caller changed an earlier result = %x", again)
	}
	if _, err := s.HMAC(ctx, "missing", data); err == nil {
		t.Fatal("HMAC under a missing key succeeded")
	}
}

// TestHMACAllocs: a call allocates its result only, no key schedule.
func TestHMACAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	ctx := context.Background()
	s := NewMemory()
	defer s.Close()
	if err := s.Import(ctx, "k", hsm.HMAC, make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	data := []byte("simlab-pcr-tag\x00client\x00447700900123")
	s.HMAC(ctx, "k", data)
	if n := testing.AllocsPerRun(100, func() { s.HMAC(ctx, "k", data) }); n > 1 {
		t.Fatalf("HMAC allocates %v objects a call, want 1 (its result)", n)
	}
}
