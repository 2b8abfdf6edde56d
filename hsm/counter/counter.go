// Package counter implements hsm.Counters: monotonic counters kept in
// memory (NewMemory) or in a file that never goes backwards across crashes
// (OpenFile). OTA senders use them for the TS 102 225 §5.1.1 counter (CNTR)
// of each card, keyset and TAR.
package counter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/simlab-dev/simlab/hsm"
)

// ErrClosed is returned by every operation on closed counters.
var ErrClosed = errors.New("counter: closed")

// Memory holds counters in memory; they restart from zero with the process.
type Memory struct {
	mu     sync.Mutex
	v      map[string]uint64
	closed bool
}

var _ hsm.Counters = (*Memory)(nil)

// NewMemory returns empty in-memory counters.
func NewMemory() *Memory { return &Memory{v: make(map[string]uint64)} }

// Next increments counter key and returns the new value.
func (m *Memory) Next(_ context.Context, key string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	v := m.v[key]
	if v == math.MaxUint64 {
		return 0, fmt.Errorf("counter %q: %w", key, hsm.ErrCounterExhausted)
	}
	m.v[key] = v + 1
	return v + 1, nil
}

// Get returns the current value of counter key.
func (m *Memory) Get(_ context.Context, key string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	return m.v[key], nil
}

// Advance sets counter key to to, which must not be below its value.
func (m *Memory) Advance(_ context.Context, key string, to uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if cur := m.v[key]; to < cur {
		return fmt.Errorf("counter %q: at %d, asked for %d: %w", key, cur, to, hsm.ErrCounterBackwards)
	}
	m.v[key] = to
	return nil
}

// Close makes later operations fail with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
