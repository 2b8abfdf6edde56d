package simtest

import (
	"context"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// Issuer is the Mobile Connect gateway's issuer URL
// (docs/mobile-connect.md); discovery is at Issuer() +
// "/.well-known/openid-configuration". For an external server it is the
// default issuer, URL + "/mc" (a serve configured with another
// mobile_connect.issuer needs its own RP).
func (s *Server) Issuer() string {
	if s.srv == nil {
		return s.URL + "/mc"
	}
	m := s.srv.MobileConnect()
	if m == nil {
		return ""
	}
	return m.Gateway.Issuer()
}

// Gateway returns the running Mobile Connect gateway (nil when disabled,
// and for an external server).
func (s *Server) Gateway() *mobileconnect.Gateway {
	if s.srv == nil {
		return nil
	}
	m := s.srv.MobileConnect()
	if m == nil {
		return nil
	}
	return m.Gateway
}

// RP returns a relying party for the gateway with the built-in demo
// client: in process it waits for logins instead of polling; against an
// external server (Connect, FromEnv) it polls the authorize URL, as the
// GSMA SDKs and `simlab mc login` do.
func (s *Server) RP() *mobileconnect.RP {
	if s.srv == nil {
		return &mobileconnect.RP{Issuer: s.Issuer(), ClientID: mobileconnect.DemoClientID,
			ClientSecret: mobileconnect.DemoClientSecret, HTTPClient: s.Client()}
	}
	gw := s.Gateway()
	if gw == nil {
		return nil
	}
	return &mobileconnect.RP{Issuer: gw.Issuer(), ClientID: mobileconnect.DemoClientID,
		ClientSecret: mobileconnect.DemoClientSecret, Wait: gw.AwaitLogin, HTTPClient: s.Client()}
}

// Login performs a headless Mobile Connect login of msisdn with acr
// ("2", "3", "3 2") through the phone, as a Go RP would, and returns the
// checked tokens; it fails the test when the gateway refuses.
func (s *Server) Login(t testing.TB, msisdn, acr string) *mobileconnect.LoginResult {
	t.Helper()
	r := s.RP()
	if r == nil {
		t.Fatal("simtest: the Mobile Connect gateway is off")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := r.Login(ctx, mobileconnect.LoginRequest{MSISDN: msisdn, ACR: acr})
	if err != nil {
		t.Fatalf("simtest: login %s: %v", msisdn, err)
	}
	return res
}
