package apiclient_test

import (
	"testing"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// TestRoundTripMCLogins: a login by the gateway's Go relying party is
// listed by MCLogins, decoded strictly, with its PCR (the id_token's sub)
// and its steps; the next page is empty.
func TestRoundTripMCLogins(t *testing.T) {
	t.Parallel()
	s, c := start(t, simulator.Config{})
	gw := s.MobileConnect().Gateway
	rp := &mobileconnect.RP{Issuer: gw.Issuer(), ClientID: mobileconnect.DemoClientID, ClientSecret: mobileconnect.DemoClientSecret, Wait: gw.AwaitLogin}
	res, err := rp.Login(t.Context(), mobileconnect.LoginRequest{MSISDN: "99901000321", ACR: "2"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.MCLogins(t.Context(), apiclient.MCLoginQuery{MSISDN: "+99901000321", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Logins) != 1 || page.Before != 0 {
		t.Fatalf("page %+v", page)
	}
	l := page.Logins[0]
	if l.Status != "redeemed" || l.ACR != "2" || l.PCR != res.Claims["sub"] || l.ClientID != mobileconnect.DemoClientID || len(l.Steps) != 5 {
		t.Fatalf("login %+v", l)
	}
	older, err := c.MCLogins(t.Context(), apiclient.MCLoginQuery{Before: l.Seq})
	if err != nil || len(older.Logins) != 0 {
		t.Fatalf("older: %+v, %v", older, err)
	}
}
