// Package groupcommit is the committer loop of simlab's bbolt stores
// (smsc/store, simulator/fleet/phonestore): one goroutine takes every
// write waiting at that moment as one batch, so that concurrent writers
// share one transaction and one fsync (group commit), and, once told to
// stop, commits what was queued before it returns.
//
// The stores keep what is theirs: what an op is, how a batch is written
// and how its writers are told.
package groupcommit

// Run commits what arrives on ops in batches until quit is closed, then
// commits whatever was queued by then and returns. A batch is the op Run
// was waiting for and every op already queued behind it, at most maxBatch
// (1 if maxBatch < 1), in the order they were sent; commit is never given
// an empty batch and must not keep the slice, which Run reuses.
//
// The caller stops sending on ops before it closes quit (the stores hold
// a lock that their Close takes), so nothing sent is left behind.
func Run[T any](ops <-chan T, quit <-chan struct{}, maxBatch int, commit func(batch []T)) {
	maxBatch = max(maxBatch, 1)
	batch := make([]T, 0, maxBatch)
	for {
		select {
		case o := <-ops:
			batch = gather(ops, append(batch[:0], o), maxBatch)
			commit(batch)
		case <-quit:
			for { // what was queued before quit
				if batch = gather(ops, batch[:0], maxBatch); len(batch) == 0 {
					return
				}
				commit(batch)
			}
		}
	}
}

// gather appends to batch the ops waiting on ops, up to maxBatch in all,
// without blocking.
func gather[T any](ops <-chan T, batch []T, maxBatch int) []T {
	for len(batch) < maxBatch {
		select {
		case o := <-ops:
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}
