// Package workers runs short tasks on parked goroutines whose stacks have
// already grown. A fresh goroutine per task starts with a small stack and
// grows it, by copying, to the depth the task needs; for simlab's card
// sessions (the signature is deep) and SMSC deliveries that copying was
// about a tenth of the CPU time. A Pool keeps up to Max goroutines waiting
// for the next task; a burst beyond them gets fresh goroutines. Close
// releases the parked ones.
package workers

import (
	"sync"
	"sync/atomic"
)

// Pool is a set of parked goroutines. The zero value is not usable: call
// New. A Pool is safe for concurrent use.
type Pool struct {
	max  int32
	jobs chan func()
	quit chan struct{}
	idle atomic.Int32
	once sync.Once
}

// DefaultMax is how many goroutines New keeps parked.
const DefaultMax = 256

// New returns a Pool keeping at most max parked goroutines (DefaultMax
// when max <= 0).
func New(max int) *Pool {
	if max <= 0 {
		max = DefaultMax
	}
	return &Pool{max: int32(max), jobs: make(chan func()), quit: make(chan struct{})}
}

// Go runs f on a parked worker, or on a new goroutine when none is idle.
// It never blocks; after Close every f gets a goroutine of its own.
func (w *Pool) Go(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.work(f)
	}
}

func (w *Pool) work(f func()) {
	for {
		f()
		if w.idle.Add(1) > w.max {
			w.idle.Add(-1)
			return
		}
		select {
		case f = <-w.jobs:
			w.idle.Add(-1)
		case <-w.quit:
			w.idle.Add(-1)
			return
		}
	}
}

// Idle reports how many workers are parked.
func (w *Pool) Idle() int { return int(w.idle.Load()) }

// Close releases the parked workers; sessions running finish on theirs.
func (w *Pool) Close() { w.once.Do(func() { close(w.quit) }) }
