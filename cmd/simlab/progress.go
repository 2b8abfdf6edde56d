package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Waiting shows on stderr that a command is alive while it waits for
// something (an answer, a receipt): on a terminal a spinner with the time
// left, redrawn in place and wiped when done; otherwise a plain line every
// few seconds at most, so a CI log shows life without a line per tick.
type waiting struct {
	w     io.Writer
	tty   bool
	what  string
	limit time.Duration
	// every is how often a line is written when w is no terminal.
	every time.Duration
	// spin is how often the spinner turns on a terminal.
	spin time.Duration
}

// ciProgressEvery is how often a command writes a progress line to an
// stderr that is no terminal (a CI log).
const ciProgressEvery = 5 * time.Second

// newWaiting returns a waiting for w: a spinner when w is a terminal.
func newWaiting(w io.Writer, what string, limit time.Duration) *waiting {
	return &waiting{w: w, tty: isTerminal(w), what: what, limit: limit, every: ciProgressEvery, spin: 120 * time.Millisecond}
}

// start shows progress until stop is called; stop returns once nothing
// more will be written.
func (p *waiting) start() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		begin := time.Now()
		interval := p.every
		if p.tty {
			interval = p.spin
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		frames := `|/-\`
		for i := 0; ; i++ {
			select {
			case <-done:
				if p.tty && i > 0 {
					fmt.Fprint(p.w, "\r\x1b[K")
				}
				return
			case now := <-tick.C:
				elapsed := now.Sub(begin).Round(time.Second)
				left := max(p.limit-now.Sub(begin), 0).Round(time.Second)
				if p.tty {
					fmt.Fprintf(p.w, "\r%c %s (%v left)\x1b[K", frames[i%len(frames)], p.what, left)
				} else {
					fmt.Fprintf(p.w, "simlab: %s: %v so far, %v left\n", p.what, elapsed, left)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
