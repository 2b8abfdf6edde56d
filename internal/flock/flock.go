// Package flock takes exclusive advisory locks on files, so that two
// processes never write the same state file (the HSM key store, the OTA
// counter file) at once, and replaces such files atomically (WriteAtomic).
package flock

import "fmt"

// Lock takes an exclusive advisory lock on path, creating the file (mode
// 0600), and returns the function that releases it. When another process
// holds the lock it fails at once with an error wrapping locked (the
// caller's sentinel) and naming path. Where advisory locks are unavailable
// (not unix) it takes no lock: one process per file is then the caller's
// responsibility.
func Lock(path string, locked error) (unlock func(), err error) {
	unlock, busy, err := lock(path)
	if busy {
		return nil, fmt.Errorf("%w: %s", locked, path)
	}
	return unlock, err
}
