package mobileconnect_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestSMSURLOverSelfSignedHTTPS: with the server's HTTP listener on a
// self-signed certificate, the issuer is https, a client that does not
// trust the certificate is refused, and a phone without the applet opens
// the SMS+URL link over that HTTPS — the fleet's link opener trusts the
// server's own certificate — so the login ends with amr SMS_URL_OK.
func TestSMSURLOverSelfSignedHTTPS(t *testing.T) {
	t.Parallel()
	s, _ := serverWith(t, func(c *simulator.Config) { c.HTTPS.SelfSigned = true })
	if !strings.HasPrefix(s.Issuer(), "https://127.0.0.1:") || !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("issuer %s, URL %s", s.Issuer(), s.URL)
	}
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(s.Issuer() + "/jwks"); err == nil {
		resp.Body.Close()
		t.Fatal("a client without the certificate was answered")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := s.RP().Login(ctx, mobileconnect.LoginRequest{MSISDN: simtest.Number(t, "no-nfc", 40), ACR: "2"})
	if err != nil {
		t.Fatal(err)
	}
	if amr, _ := res.Claims["amr"].([]any); len(amr) != 1 || amr[0] != mobileconnect.AMRSMSURLOK || res.Claims["acr"] != "2" {
		t.Fatalf("claims %v", res.Claims)
	}
}
