//go:build linux

package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// terminalEcho returns a function switching the echo of the terminal on
// stdin (termios ECHO), or nil when stdin is not a terminal.
func terminalEcho(in io.Reader) func(on bool) {
	f, ok := in.(*os.File)
	if !ok {
		return nil
	}
	fd := int(f.Fd())
	orig, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil
	}
	return func(on bool) {
		t := *orig
		if !on {
			t.Lflag &^= unix.ECHO
		}
		_ = unix.IoctlSetTermios(fd, unix.TCSETS, &t)
	}
}
