package handset

import (
	"sync"
	"sync/atomic"
)

// Workers runs handsets' background proactive sessions on parked
// goroutines. A fresh goroutine per session starts with a small stack that
// grows, by copying, to the depth a card's signature needs: about a tenth
// of a card session's CPU time. Workers keep up to Max goroutines whose
// stacks have grown waiting for the next session; a burst beyond them gets
// fresh goroutines. Close releases the parked ones. Set Config.Go to a
// Workers' Go; the zero value is not usable, call NewWorkers.
type Workers struct {
	max  int32
	jobs chan func()
	quit chan struct{}
	idle atomic.Int32
	once sync.Once
}

// DefaultMaxWorkers is how many goroutines NewWorkers keeps parked.
const DefaultMaxWorkers = 256

// NewWorkers returns Workers keeping at most max parked goroutines
// (DefaultMaxWorkers when max <= 0).
func NewWorkers(max int) *Workers {
	if max <= 0 {
		max = DefaultMaxWorkers
	}
	return &Workers{max: int32(max), jobs: make(chan func()), quit: make(chan struct{})}
}

// Go runs f on a parked worker, or on a new goroutine when none is idle.
// It never blocks; after Close every f gets a goroutine of its own.
func (w *Workers) Go(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.work(f)
	}
}

func (w *Workers) work(f func()) {
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
func (w *Workers) Idle() int { return int(w.idle.Load()) }

// Close releases the parked workers; sessions running finish on theirs.
func (w *Workers) Close() { w.once.Do(func() { close(w.quit) }) }
