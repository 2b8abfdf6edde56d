package mobileconnect_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestNoSecretsInLogs: codes, tokens, client secrets and one-time codes
// never reach the logs, even at debug level and on the error paths.
func TestNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	n := simtest.Number(t, "approve", 60)
	s, logs := server(t, func(c *mobileconnect.Config) { c.OTPNumbers = []string{simtest.Number(t, "approve", 61)} })
	r := newRP(t, s)
	secret := "a-registered-secret-0123456789abcdef"
	body, _ := json.Marshal(mobileconnect.Client{ID: "ci-job", Secret: secret, LoopbackRedirects: true, ClientNames: []string{"ci"}})
	resp, err := http.Post(s.URL+"/api/v1/mc/clients", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var shown map[string]any
	json.NewDecoder(resp.Body).Decode(&shown)
	resp.Body.Close()
	if resp.StatusCode != 201 || shown["client_secret"] != nil {
		t.Fatalf("registration: %d %v", resp.StatusCode, shown)
	}
	r.id, r.secret = "ci-job", secret
	res := r.authorize(r.params(n, "3"))
	code := res.Get("code")
	tr := r.exchange(code)
	r.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {r.redirect}}) // replay: logged
	r.secret = "wrong-secret-value"
	r.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {r.redirect}})
	r.userinfo(tr["access_token"].(string))

	out := logs.String()
	if !strings.Contains(out, "replayed") {
		t.Fatal("the replay was not logged: is the logger wired?")
	}
	for name, v := range map[string]string{"code": code, "access token": tr["access_token"].(string),
		"refresh token": tr["refresh_token"].(string), "id_token": tr["id_token"].(string), "client secret": secret,
		"wrong secret": "wrong-secret-value", "demo secret": mobileconnect.DemoClientSecret} {
		if strings.Contains(out, v) {
			t.Errorf("the %s is in the logs", name)
		}
	}
}

// TestClientsAPI: clients registered at run time log in, and can be
// removed; bad registrations are refused.
func TestClientsAPI(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	post := func(c any) int {
		b, _ := json.Marshal(c)
		resp, err := http.Post(s.URL+"/api/v1/mc/clients", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post(map[string]any{"client_id": "x"}); st != 400 {
		t.Fatalf("a client without secret: %d", st)
	}
	if st := post(map[string]any{"client_id": "x", "client_secret": "s", "redirect_uris": []string{"not a url"}}); st != 400 {
		t.Fatalf("a bad redirect URI: %d", st)
	}
	if st := post(mobileconnect.Client{ID: "app", Secret: "app-secret", RedirectURIs: []string{"http://127.0.0.1:9/app"}}); st != 201 {
		t.Fatalf("registration: %d", st)
	}
	r := newRP(t, s)
	r.id, r.secret, r.redirect = "app", "app-secret", "http://127.0.0.1:9/app"
	claims, _ := r.login(r.params(simtest.Number(t, "approve", 62), "2"))
	if claims["aud"] != "app" {
		t.Fatal(claims["aud"])
	}
	resp, _ := http.Get(s.URL + "/api/v1/mc/clients")
	var list struct {
		Clients []map[string]any `json:"clients"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Clients) != 2 {
		t.Fatalf("%d clients listed", len(list.Clients))
	}
	req, _ := http.NewRequest(http.MethodDelete, s.URL+"/api/v1/mc/clients/app", nil)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatal(resp.StatusCode)
	}
	q := r.params(simtest.Number(t, "approve", 62), "2")
	q.Set("state", "gone")
	if st, _, _ := r.get(q); st != 400 {
		t.Fatalf("a removed client: %d", st)
	}
}
