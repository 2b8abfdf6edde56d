//go:build linux

package vpcd

import (
	"net"
	"syscall"
)

// quickAcker returns a function that sets TCP_QUICKACK on conn's socket
// (tcp(7)). Linux clears the flag again after ACKs go out, so it must be set
// before each read. For connections that are not TCP it returns nil.
func quickAcker(conn net.Conn) func() {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	if _, ok := conn.(*net.TCPConn); !ok {
		return nil
	}
	return func() {
		_ = raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
}
