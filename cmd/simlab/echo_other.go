//go:build !linux

package main

import "io"

// terminalEcho cannot switch echo off on this platform: a PIN typed at the
// terminal is echoed.
func terminalEcho(in io.Reader) func(on bool) { return nil }
