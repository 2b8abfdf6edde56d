//go:build unix

package devices

import (
	"errors"
	"io/fs"
	"syscall"
)

// accessRW reports whether the user may read and write path (access(2)),
// without opening it (opening a tty toggles DTR on some modems).
func accessRW(path string) error {
	err := syscall.Access(path, 0x2|0x4) // W_OK|R_OK
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fs.ErrPermission
	case errors.Is(err, syscall.ENOENT):
		return fs.ErrNotExist
	}
	return err
}
