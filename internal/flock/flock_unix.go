//go:build unix

package flock

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lock uses flock(2) with LOCK_NB. The kernel drops the lock when the
// process dies, so a crash never leaves the file locked.
func lock(path string) (unlock func(), busy bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	// Unlock explicitly before closing: the lock belongs to the open file
	// description, which a child forked at this moment (before its exec
	// closes the descriptor) shares, so Close alone could leave it held.
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, false, nil
}
