//go:build !linux

package vpcd

import "net"

// quickAcker returns nil: TCP_QUICKACK exists on Linux only.
func quickAcker(conn net.Conn) func() { return nil }
