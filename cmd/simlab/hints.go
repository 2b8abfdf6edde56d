package main

import (
	"crypto/x509"
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
// address of a listener that is taken, for a connection refused, that
// simlab serve is most likely not running there, and for a certificate of
// an unknown authority, how to trust a self-signed serve.
func hint(err error) error {
	var le *simulator.ListenError
	if errors.Is(err, syscall.EADDRINUSE) && errors.As(err, &le) {
		setting := map[string]string{"smpp": "--smpp", "http": "--http", "smpp_tls": "smpp_tls.addr (--config)"}[le.Name]
		if setting == "" {
			return err
		}
		return fmt.Errorf("%w: another process listens on %s; stop it, or give %s another address (port 0 picks a free one)", err, le.Addr, setting)
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		// serve --https-self-signed: Go's clients read extra roots from
		// SSL_CERT_FILE (Linux, BSD), so simlab's own commands need no flag.
		return fmt.Errorf("%w: to trust a serve with --https-self-signed, write its certificate with --https-self-signed-out FILE and run this command with SSL_CERT_FILE=FILE", err)
	}
	if strings.Contains(err.Error(), "/.well-known/openid-configuration: 404") {
		// simlab mc against a serve whose gateway is off.
		return fmt.Errorf("%w: no Mobile Connect gateway there: serve runs none with --no-mobile-connect or --no-fleet, nor when its SMSC has smpp_accounts and mobile_connect.smpp_system_id is unset (its log says so); --issuer names another", err)
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
