package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestErrorHints: a refused connection asks whether simlab serve runs
// there and names the flag; a taken listen address names the flag to
// change; an SMSC's refusal names the command and status, not hex ids.
func TestErrorHints(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	// A port that was free a moment ago and refuses now.
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := free.Addr().String()
	free.Close()
	// An HTTPS server whose certificate no system root signed, as serve
	// --https-self-signed.
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	// A server without the gateway: discovery is 404, as serve
	// --no-mobile-connect answers.
	noGateway := httptest.NewServer(http.NotFoundHandler())
	defer noGateway.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"push", "--smpp", refused, "--to", "+99900000001", "--loa", "2"}, "is simlab serve (or your SMSC) running on " + refused + "? (--smpp gives its address)"},
		{[]string{"sms", "send", "--smpp", refused, "--to", "+99901000042", "--text", "hi"}, "running on " + refused + "? (--smpp"},
		{[]string{"phone", "get", "+99901000042", "--api", "http://" + refused}, "is simlab serve running on " + refused + "? (--api gives its HTTP address)"},
		{[]string{"serve", "--smpp", addr, "--http", "127.0.0.1:0"}, "another process listens on " + addr + "; stop it, or give --smpp another address"},
		{[]string{"serve", "--smpp", "127.0.0.1:0", "--http", addr}, "give --http another address"},
		{[]string{"phone", "get", "+99901000042", "--api", tlsSrv.URL}, "--https-self-signed-out FILE and run this command with SSL_CERT_FILE=FILE"},
		{[]string{"mc", "login", "--issuer", tlsSrv.URL + "/mc", "--to", "+99901000042"}, "SSL_CERT_FILE=FILE"},
		{[]string{"mc", "login", "--issuer", noGateway.URL + "/mc", "--to", "+99901000042"}, "no Mobile Connect gateway there: serve runs none with --no-mobile-connect or --no-fleet"},
	} {
		code, _, errb := runCLI(t, c.args...)
		if code != exitFailure || !strings.Contains(errb, c.want) {
			t.Errorf("%v: exit %d %q, want %q", c.args, code, errb, c.want)
		}
	}
}
