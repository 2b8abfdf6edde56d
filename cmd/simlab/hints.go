package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/simlab-dev/simlab/simulator"
)

// hint adds to an error the obvious next step a person would otherwise
// have to work out from the system call that failed: which flag names the
// address of a listener that is taken, and, for a connection refused, that
// simlab serve is most likely not running there.
func hint(err error) error {
	var le *simulator.ListenError
	if errors.Is(err, syscall.EADDRINUSE) && errors.As(err, &le) {
		setting := map[string]string{"smpp": "--smpp", "http": "--http", "smpp_tls": "smpp_tls.addr (--config)"}[le.Name]
		if setting == "" {
			return err
		}
		return fmt.Errorf("%w: another process listens on %s; stop it, or give %s another address (port 0 picks a free one)", err, le.Addr, setting)
	}
	var op *net.OpError
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &op) || op.Op != "dial" || op.Addr == nil {
		return err
	}
	var ue *url.Error
	switch {
	case errors.As(err, &ue):
		return fmt.Errorf("%w: is simlab serve running on %s? (--api gives its HTTP address)", err, op.Addr)
	case strings.Contains(err.Error(), "smpp client: dial"):
		return fmt.Errorf("%w: is simlab serve (or your SMSC) running on %s? (--smpp gives its address)", err, op.Addr)
	}
	return err
}
