package groupcommit_test

import (
	"slices"
	"testing"
	"testing/synctest"

	"github.com/simlab-dev/simlab/internal/groupcommit"
)

// run starts Run on ops and returns the batches it committed once it has
// returned (after quit is closed).
func run(ops chan int, quit chan struct{}, maxBatch int) (wait func() [][]int) {
	var batches [][]int
	done := make(chan struct{})
	go func() {
		defer close(done)
		groupcommit.Run(ops, quit, maxBatch, func(b []int) { batches = append(batches, slices.Clone(b)) })
	}()
	return func() [][]int { <-done; return batches }
}

// TestRunGathers: the ops waiting when Run takes one share its batch, at
// most maxBatch each, in order; one sent while Run waits is a batch of its
// own; nothing is lost.
func TestRunGathers(t *testing.T) {
	for _, c := range []struct {
		maxBatch int
		want     [][]int
	}{
		{100, [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {10}}},
		{4, [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}, {10}}},
		{1, [][]int{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}}},
		{0, [][]int{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}}}, // taken as 1
	} {
		synctest.Test(t, func(t *testing.T) {
			ops, quit := make(chan int, 16), make(chan struct{})
			for i := range 10 {
				ops <- i
			}
			wait := run(ops, quit, c.maxBatch)
			synctest.Wait() // the queued ops are committed, Run waits
			ops <- 10
			synctest.Wait()
			close(quit)
			if got := wait(); !slices.EqualFunc(got, c.want, slices.Equal) {
				t.Errorf("maxBatch %d: batches %v, want %v", c.maxBatch, got, c.want)
			}
		})
	}
}

// TestRunDrainsOnQuit: what was queued before quit closed is committed
// before Run returns, in batches of at most maxBatch; with nothing queued
// Run returns without committing.
func TestRunDrainsOnQuit(t *testing.T) {
	ops, quit := make(chan int, 16), make(chan struct{})
	for i := range 7 {
		ops <- i
	}
	close(quit) // before Run starts: it may take an op or quit first
	got := run(ops, quit, 3)()
	var all []int
	for _, b := range got {
		if len(b) == 0 || len(b) > 3 {
			t.Errorf("batch %v: want 1 to 3 ops", b)
		}
		all = append(all, b...)
	}
	if !slices.Equal(all, []int{0, 1, 2, 3, 4, 5, 6}) {
		t.Errorf("committed %v (batches %v), want 0..6 in order", all, got)
	}

	if got := run(make(chan int), quit, 3)(); len(got) != 0 {
		t.Errorf("nothing queued: committed %v", got)
	}
}

// TestRunConcurrentWriters: writers sending at once (run with -race) all
// get their op committed once, and batches stay within maxBatch.
func TestRunConcurrentWriters(t *testing.T) {
	const writers, each, maxBatch = 8, 500, 64
	ops, quit := make(chan int, maxBatch), make(chan struct{})
	var batches [][]int
	done := make(chan struct{})
	go func() {
		defer close(done)
		groupcommit.Run(ops, quit, maxBatch, func(b []int) {
			if len(b) == 0 || len(b) > maxBatch {
				t.Errorf("batch of %d", len(b))
			}
			batches = append(batches, slices.Clone(b))
		})
	}()
	sent := make(chan struct{})
	for w := range writers {
		go func() {
			for i := range each {
				ops <- w*each + i
			}
			sent <- struct{}{}
		}()
	}
	for range writers {
		<-sent
	}
	close(quit)
	<-done
	var all []int
	for _, b := range batches {
		all = append(all, b...)
	}
	slices.Sort(all)
	if len(all) != writers*each || all[0] != 0 || all[len(all)-1] != writers*each-1 || len(slices.Compact(all)) != writers*each {
		t.Errorf("%d ops committed, want each of %d once", len(all), writers*each)
	}
}
