package mobileconnect_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestMagicNumbers: every magic number behaves through the gateway as
// docs/numbers.md says, with the SIM challenge really run on the phone.
func TestMagicNumbers(t *testing.T) {
	t.Parallel()
	s, _ := server(t, func(c *mobileconnect.Config) { c.ChallengeTimeout = 3 * time.Second })
	cases := []struct {
		outcome, acr string
		wantErr      string // "" = approved
		wantACR      string
		wantAMR      string
		desc         string // part of error_description
	}{
		{"approve", "2", "", "2", "SIM_OK", ""},
		{"approve", "3", "", "3", "SIM_PIN", ""},
		{"approve", "3 2", "", "3", "SIM_PIN", ""},
		{"approve", "2 3", "", "2", "SIM_OK", ""}, // order of preference: OK first
		{"cancel", "2", "access_denied", "", "", "cancelled"},
		{"ignore", "2", "access_denied", "", "", "no answer"},
		{"wrong-pin", "3", "access_denied", "", "", "wrong PIN (2 tries left)"},
		{"wrong-pin", "2", "", "2", "SIM_OK", ""},
		{"pin-blocked", "3", "access_denied", "", "", "blocked"},
		{"no-nfc", "3 2", "", "2", "SMS_URL_OK", ""},
		{"no-nfc", "2", "", "2", "SMS_URL_OK", ""},
		{"no-nfc", "3", "access_denied", "", "", "acr 3"},
		{"no-pin-support", "3 2", "", "2", "SIM_OK", ""},
		{"no-pin-support", "3", "access_denied", "", "", "does not support"},
		{"absent", "2", "access_denied", "", "", "could not be reached"},
		{"delivery-error", "2", "access_denied", "", "", "could not be reached"},
		{"sim-error", "2", "server_error", "", "", "SIM error"},
		{"busy", "2", "access_denied", "", "", "busy"},
		{"slow", "3", "", "3", "SIM_PIN", ""},
	}
	for i, c := range cases {
		t.Run(c.outcome+"/"+strings.ReplaceAll(c.acr, " ", "_"), func(t *testing.T) {
			t.Parallel()
			r := newRP(t, s)
			q := r.params(simtest.Number(t, c.outcome, 100+i), c.acr)
			if c.wantErr != "" {
				res := r.authorize(q)
				wantError(t, res, c.wantErr, q.Get("state"))
				if !strings.Contains(res.Get("error_description"), c.desc) {
					t.Fatalf("error_description %q lacks %q", res.Get("error_description"), c.desc)
				}
				return
			}
			claims, _ := r.login(q)
			if claims["acr"] != c.wantACR {
				t.Fatalf("acr %v, want %q", claims["acr"], c.wantACR)
			}
			if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != c.wantAMR {
				t.Fatalf("amr %v, want [%s]", claims["amr"], c.wantAMR)
			}
			if _, sim := claims["dts"]; sim != strings.HasPrefix(c.wantAMR, "SIM") {
				t.Fatalf("dts present %v for amr %s", sim, c.wantAMR)
			}
		})
	}
}

// TestUnknownSubscriber: a number outside the operator's plan.
func TestUnknownSubscriber(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	r := newRP(t, s)
	q := r.params("31612345678", "2")
	res := r.authorize(q)
	wantError(t, res, "access_denied", q.Get("state"))
	if res.Get("error_description") != "Unknown Mobile Connect User" {
		t.Fatalf("description %q", res.Get("error_description"))
	}
}

// TestLoginShowsOnThePhone: a login is a real push: the phone's events and
// the capture API see the challenge (a SIM data download to the number)
// and the card's answer (an MO from it).
func TestLoginShowsOnThePhone(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	r := newRP(t, s)
	n := simtest.Number(t, "approve", 7)
	r.login(r.params(n, "3"))
	ph := s.Phone(t, n)
	ph.Wait() // the "session" event is recorded after the answer
	sessions := 0
	for _, e := range ph.Events() {
		if e.Kind == "session" {
			sessions++
		}
	}
	if sessions != 1 {
		t.Fatalf("the phone ran %d toolkit sessions, want 1", sessions)
	}
	for _, dir := range []string{"to", "from"} {
		resp, err := http.Get(s.URL + "/api/v1/messages?" + dir + "=" + strings.TrimPrefix(n, "+"))
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Messages []map[string]any `json:"messages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || len(page.Messages) == 0 {
			t.Fatalf("capture API has no message %s the phone (%v)", dir, err)
		}
	}
}

// TestIDTokenClaims checks the Mobile Connect claims: sub = PCR,
// hashed_login_hint, at_hash, displayed_data for mc_authz, and dts that
// the RP can verify itself with upk.
func TestIDTokenClaims(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	r := newRP(t, s)
	n := simtest.Number(t, "approve", 8)
	q := r.params(n, "3 2")
	q.Set("scope", "openid mc_authz")
	q.Set("client_name", "pay")
	q.Set("context", "Pay 12.50 EUR to Shop")
	q.Set("binding_message", "ORDER 42")
	claims, tr := r.login(q)
	for _, k := range []string{"iss", "aud", "azp", "sub", "acr", "amr", "nonce", "auth_time", "iat", "exp", "jti", "at_hash",
		"hashed_login_hint", "displayed_data", "dts", "dts_time", "upk"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("id_token lacks %s", k)
		}
	}
	if claims["iss"] != s.Issuer() || claims["aud"] != mobileconnect.DemoClientID || claims["nonce"] != q.Get("nonce") {
		t.Fatalf("iss/aud/nonce: %v %v %v", claims["iss"], claims["aud"], claims["nonce"])
	}
	if claims["hashed_login_hint"] != mobileconnect.HashLoginHint(q.Get("login_hint")) {
		t.Fatal("hashed_login_hint is not SHA-256 of the login_hint as sent")
	}
	dd, _ := json.Marshal(claims["displayed_data"])
	if string(dd) != `{"binding_message":"ORDER 42","client_name":"pay","context":"Pay 12.50 EUR to Shop"}` {
		t.Fatalf("displayed_data %s", dd)
	}
	// at_hash: left half of SHA-256 of the access token.
	if claims["at_hash"] != atHash(tr["access_token"].(string)) {
		t.Fatal("at_hash does not match the access token")
	}
	// dts: the challenge and the card's signed response, checkable with upk.
	raw, err := base64.RawURLEncoding.DecodeString(claims["dts"].(string))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, err := tlv.ParseBER(raw)
	if err != nil {
		t.Fatal(err)
	}
	ch, chRaw, err := authn.ParseChallenge(raw[:len(raw)-len(rest)])
	if err != nil {
		t.Fatal(err)
	}
	resp, err := authn.ParseResponse(rest)
	if err != nil {
		t.Fatal(err)
	}
	if ch.ClientName != "pay" || ch.Context != "Pay 12.50 EUR to Shop" || ch.BindingMessage != "ORDER 42" {
		t.Fatalf("the signed challenge shows %q %q %q", ch.ClientName, ch.BindingMessage, ch.Context)
	}
	if float64(resp.DTSTime) != claims["dts_time"] {
		t.Fatal("dts_time differs from the card's")
	}
	upkJSON, _ := json.Marshal(claims["upk"])
	var upk jose.JSONWebKey
	if err := upk.UnmarshalJSON(upkJSON); err != nil {
		t.Fatal(err)
	}
	if err := authn.Verify(upk.Key.(*ecdsa.PublicKey), chRaw, &resp); err != nil {
		t.Fatalf("dts does not verify with upk: %v", err)
	}
	if !slices.Contains([]string{"2", "3"}, claims["acr"].(string)) {
		t.Fatal("acr")
	}
}

func atHash(at string) string {
	h := sha256.Sum256([]byte(at))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}
