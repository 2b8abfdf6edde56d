package simulator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/smsc/capture"
)

// TestLoginsListedAndLive: logins through the gateway, by a real relying
// party (the gateway's Go RP client), are published step by step on the
// hub's login topic and listed at GET /api/v1/mc/logins with their PCR
// (the id_token's sub), the challenge the phone saw, the outcome and
// latency, paged; a cancelled one is failed with the client's error; a
// request without login_hint shows as its number page; no secret of the
// login appears in the list or the events.
func TestLoginsListedAndLive(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	mc := s.MobileConnect()
	if mc == nil {
		t.Fatal("no gateway")
	}
	gw := mc.Gateway
	events := openEvents(t, s, "topics=login")
	rp := &mobileconnect.RP{Issuer: gw.Issuer(), ClientID: mobileconnect.DemoClientID, ClientSecret: mobileconnect.DemoClientSecret, Wait: gw.AwaitLogin}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const ok, cancelled = "99901000123", "99900010001"
	res, err := rp.Login(ctx, mobileconnect.LoginRequest{MSISDN: ok, ACR: "3 2"})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	var id string
	var seen []byte
	for len(steps) < 5 {
		raw := events.next(t, "login")
		seen = append(seen, raw...)
		var e LoginStepEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		if id == "" {
			id = e.ID
		}
		if e.ID != id || e.ClientID != mobileconnect.DemoClientID || e.MSISDN != ok || e.ACRAsked != "3 2" || e.LoginHintMethod != "MSISDN" || e.Flow != "redirect" {
			t.Fatalf("event %s", raw)
		}
		if (e.Step == mobileconnect.StepCode || e.Step == mobileconnect.StepToken) != (e.PCR != "") || (e.PCR != "" && e.PCR != res.Claims["sub"]) {
			t.Fatalf("PCR in %s", raw)
		}
		steps = append(steps, e.Step)
	}
	if got := strings.Join(steps, ","); got != "request,asked,answered,code,token" {
		t.Fatalf("steps %s", got)
	}

	if _, err := rp.Login(ctx, mobileconnect.LoginRequest{MSISDN: cancelled, ACR: "2"}); err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("cancel: %v", err)
	}
	for {
		var e mobileconnect.LoginEvent
		json.Unmarshal(events.next(t, "login"), &e)
		if e.Step == mobileconnect.StepError {
			break
		}
	}

	var list LoginList
	raw := getRaw(t, s, "/api/v1/mc/logins", &list)
	if len(list.Logins) != 2 || list.Before != 0 {
		t.Fatalf("list %s", raw)
	}
	failed, done := list.Logins[0], list.Logins[1]
	if done.ID != id || done.Status != "redeemed" || done.ACR != "3" || len(done.AMR) != 1 || done.AMR[0] != "SIM_PIN" ||
		done.PCR != res.Claims["sub"] || done.MessageID == "" || done.LatencyMS <= 0 || len(done.Steps) != 5 {
		t.Fatalf("login %+v", done)
	}
	if done.Challenge == nil || done.Challenge.MSISDN != ok {
		t.Fatalf("challenge of the login: %+v", done.Challenge)
	}
	var ch struct {
		Challenges []struct {
			FirstSeq uint64 `json:"first_seq"`
		}
	}
	getRaw(t, s, "/api/v1/challenges?msisdn="+ok, &ch)
	if len(ch.Challenges) != 1 || ch.Challenges[0].FirstSeq != done.Challenge.FirstSeq {
		t.Fatalf("challenges %+v, the login's %+v", ch, done.Challenge)
	}
	if failed.Status != "failed" || failed.Error != "access_denied" || failed.MSISDN != cancelled || failed.ACRAsked != "2" {
		t.Fatalf("failed login %+v", failed)
	}
	for _, secret := range []string{res.AccessToken, res.RefreshToken, res.IDToken, mobileconnect.DemoClientSecret} {
		if secret != "" && (strings.Contains(raw, secret) || strings.Contains(string(seen), secret)) {
			t.Fatalf("a secret is listed: %.12s…", secret)
		}
	}

	// Paging: one at a time, newest first.
	var p1, p2 LoginList
	getRaw(t, s, "/api/v1/mc/logins?limit=1", &p1)
	if len(p1.Logins) != 1 || p1.Logins[0].ID != failed.ID || p1.Before == 0 {
		t.Fatalf("page 1 %+v", p1)
	}
	getRaw(t, s, "/api/v1/mc/logins?limit=1&before="+strconv.FormatUint(p1.Before, 10), &p2)
	if len(p2.Logins) != 1 || p2.Logins[0].ID != id || p2.Before != 0 {
		t.Fatalf("page 2 %+v", p2)
	}
	var one LoginList
	getRaw(t, s, "/api/v1/mc/logins?msisdn=%2B"+cancelled, &one)
	if len(one.Logins) != 1 || one.Logins[0].ID != failed.ID {
		t.Fatalf("?msisdn= %+v", one)
	}
	for _, bad := range []string{"limit=0", "limit=x", "before=0", "msisdn=abc"} {
		if code := callJSON(t, s, "GET", "/api/v1/mc/logins?"+bad, nil, nil); code != 400 {
			t.Errorf("?%s: %d", bad, code)
		}
	}

	// Without login_hint, the number page: listed, then the same login
	// once the number is typed.
	q := url.Values{"client_id": {mobileconnect.DemoClientID}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "response_type": {"code"},
		"scope": {"openid mc_authn"}, "version": {"mc_di_r2_v2.3"}, "acr_values": {"2"}, "state": {"st-page"}, "nonce": {"n-page"}}
	resp, err := http.Get(gw.Issuer() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var e mobileconnect.LoginEvent
	json.Unmarshal(events.next(t, "login"), &e)
	if e.Step != mobileconnect.StepNumberPage || e.MSISDN != "" {
		t.Fatalf("number page event %+v", e)
	}
	raw = getRaw(t, s, "/api/v1/mc/logins?limit=1", &p1)
	if l := p1.Logins[0]; l.ID != e.ID || l.Status != "number_page" || strings.Contains(raw, "st-page") || strings.Contains(raw, "n-page") {
		t.Fatalf("number page %+v", l)
	}

	// A request refused before any phone is asked (acr 4): failed, with
	// the error the client got.
	q.Set("acr_values", "4")
	q.Set("state", "st-refused")
	q.Set("login_hint", "MSISDN:99901000124")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err = hc.Get(gw.Issuer() + "/authorize?" + q.Encode()); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.Contains(loc, "error=") {
		t.Fatalf("acr 4: %s %s", resp.Status, loc)
	}
	e = mobileconnect.LoginEvent{}
	json.Unmarshal(events.next(t, "login"), &e)
	var refused LoginList
	getRaw(t, s, "/api/v1/mc/logins?limit=1", &refused)
	if l := refused.Logins[0]; e.Step != mobileconnect.StepError || l.ID != e.ID || l.Status != "failed" || l.Error != "invalid_request" || l.MSISDN != "" {
		t.Fatalf("refused: event %+v, login %+v", e, l)
	}
}

// getRaw GETs path and decodes it into out; it returns the body.
func getRaw(t *testing.T, s *Server, path string, out any) string {
	t.Helper()
	resp, err := http.Get("http://" + s.Addrs().HTTP + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", path, resp.Status, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLoginsDocExample runs the example of docs/mobile-connect.md's
// "Logins" section as written, after the walkthrough's login, and compares
// its output with the one the page shows.
func TestLoginsDocExample(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		needs.Command(t, tool, tool)
	}
	doc, err := os.ReadFile("../docs/mobile-connect.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(doc)
	sec = sec[strings.Index(sec, "\n## Logins"):]
	sec = sec[:strings.Index(sec[1:], "\n## ")]
	parts := strings.Split(sec, "```")
	if len(parts) < 5 || !strings.HasPrefix(parts[1], "sh\n") || !strings.HasPrefix(parts[3], "\n") {
		t.Fatalf("the Logins section has no sh block followed by its output")
	}
	script, want := strings.TrimPrefix(parts[1], "sh\n"), strings.TrimSpace(parts[3])
	s := startTest(t, Config{})
	gw := s.MobileConnect().Gateway
	rp := &mobileconnect.RP{Issuer: gw.Issuer(), ClientID: mobileconnect.DemoClientID, ClientSecret: mobileconnect.DemoClientSecret, Wait: gw.AwaitLogin}
	if _, err := rp.Login(t.Context(), mobileconnect.LoginRequest{MSISDN: "99901000123", ACR: "3 2"}); err != nil {
		t.Fatal(err)
	}
	script = strings.ReplaceAll(script, "http://127.0.0.1:8775", "http://"+s.Addrs().HTTP)
	out, err := exec.Command("bash", "-c", "set -euo pipefail\n"+script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("the example printed\n%s\nthe page says\n%s", got, want)
	}
}

// BenchmarkLoginHook: what reporting one login costs the gateway — its
// five steps through Live.onLogin (folded into the log, published on the
// hub) — with no one listening and with a page's stream reading them (its
// encoding included: the reader's, once per event). Compare with BenchmarkLoA3Login's cpu-µs/op (docs/benchmarks.md).
func BenchmarkLoginHook(b *testing.B) {
	// A LoA3 login's id_token claims, as the gateway signs them: the token
	// step carries them (decoded once by onLogin for the list).
	claims := []byte(`{"iss":"http://127.0.0.1:8775/mc","aud":"odRmlfWY0CWcHOo8RcrKO6wTg2jwrqe0","azp":"odRmlfWY0CWcHOo8RcrKO6wTg2jwrqe0",` +
		`"sub":"tiZxSR3fdj0KAmoOJpl1gEOQthKNFpRGbmDL","acr":"3","amr":["SIM_PIN"],"auth_time":1796648187,"iat":1796648187,"exp":1796651787,` +
		`"jti":"ezp2XP_5X861P8uQ","nonce":"NsEinIAJUqibGbz2","at_hash":"ltDbHWXapMpeD9ZVKseFFA",` +
		`"hashed_login_hint":"a924198fca9e4f89161a53cd60263982c657735f7ad0007d46ee3dd0cfe84b01",` +
		`"dts":"oCyAAQGBCKTEMxW9e5DFggEygwRkZW1vhhD7ZEfadwLe1xoaA291Sfu3iAIAPKFegAEBgQikxDMVvXuQxYIBAIMBA4QBA4UEaxas-4pAPpUX3DyNWZBkaBht1rpYIABJ08NZGXwTBnCLuEUVI9UKgAafkK1H9Hnc4Jv4DPrfPzsF14_TLWqL20BuIFWMtQ",` +
		`"dts_time":1796648187,"upk":{"use":"sig","kty":"EC","crv":"P-256","alg":"ES256","x":"JjpRsl-iU4l2maS4f2a45Awll3Xq9tFp_RR1PgoQ-3A","y":"_889mq37ZiJGQyoT_n8kkYgxTfZyZwXTSy78lkO40LQ"}}`)
	for _, v := range []struct {
		listening, idToken bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		listening := v.listening
		name := "quiet"
		if listening {
			name = "listened"
		}
		var idt *mobileconnect.IssuedIDToken
		if v.idToken {
			name += "/id_token"
			idt = &mobileconnect.IssuedIDToken{Alg: "ES256", Kid: "kid", Published: true, Claims: claims}
		}
		b.Run(name, func(b *testing.B) {
			l := newLive(time.Second)
			if listening {
				// A page reading the stream: its events are encoded (once).
				sub := l.Hub.Subscribe(capture.TopicLogin, nil, capture.DefaultStreamBuffer)
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					for {
						l.Hub.Relist(sub)
						select {
						case e := <-sub.C():
							_ = e.Frame()
						case <-stop:
							return
						}
					}
				}()
				defer func() { close(stop); <-done; l.Hub.Unsubscribe(sub) }()
			}
			steps := []string{mobileconnect.StepRequest, mobileconnect.StepAsked, mobileconnect.StepAnswered, mobileconnect.StepCode, mobileconnect.StepToken}
			now := time.Now()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				id := strconv.Itoa(i)
				for _, st := range steps {
					e := mobileconnect.LoginEvent{ID: id, Step: st, Time: now, Flow: "redirect", ClientID: mobileconnect.DemoClientID,
						ACRAsked: "3 2", LoginHintMethod: "MSISDN", MSISDN: "99901000123"}
					if st == mobileconnect.StepToken {
						e.IDToken = idt
					}
					l.onLogin(e)
				}
			}
		})
	}
}

// TestLoginsServerInitiated: SI logins (polling and async) are listed with
// their flow and steps like redirect logins.
func TestLoginsServerInitiated(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	gw := s.MobileConnect().Gateway
	const id, secret = "si-logins", "a-client-secret-of-at-least-32-bytes!"
	if code := callJSON(t, s, "POST", "/api/v1/mc/clients", map[string]any{"client_id": id, "client_secret": secret,
		"loopback_redirects": true, "notification_uris": []string{"http://127.0.0.1/"}, "client_names": []string{"demo"}}, nil); code != 201 {
		t.Fatalf("add client: %d", code)
	}
	rp := &mobileconnect.RP{Issuer: gw.Issuer(), ClientID: id, ClientSecret: secret}
	for i, mode := range []string{"polling", "async"} {
		n := "9990100050" + strconv.Itoa(i)
		if _, err := rp.SI(t.Context(), mobileconnect.SILogin{LoginRequest: mobileconnect.LoginRequest{MSISDN: n, ACR: "2"}, Mode: mode}); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		var list LoginList
		getRaw(t, s, "/api/v1/mc/logins?client_id="+id+"&msisdn="+n, &list)
		if len(list.Logins) != 1 {
			t.Fatalf("%s: %+v", mode, list)
		}
		l := list.Logins[0]
		var steps []string
		for _, st := range l.Steps {
			steps = append(steps, st.Step)
		}
		if l.Flow != "si" || l.Status != "redeemed" || l.ACR != "2" || l.PCR == "" || strings.Join(steps, ",") != "request,asked,answered,code,token" {
			t.Fatalf("%s: %+v", mode, l)
		}
	}
}

// TestLoginEventSchema: the OpenAPI document's MCLoginEvent (what the
// login topic of /api/v1/events sends) has the fields LoginStepEvent
// encodes: the gateway's LoginEvent, the PCR and the decoded id_token.
func TestLoginEventSchema(t *testing.T) {
	t.Parallel()
	raw, err := MergedOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var documented, fields []string
	for k := range doc.Components.Schemas["MCLoginEvent"].Properties {
		documented = append(documented, k)
	}
	typ := reflect.TypeFor[mobileconnect.LoginEvent]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "-" {
			fields = append(fields, name)
		}
	}
	fields = append(fields, "pcr", "id_token") // LoginStepEvent's
	slices.Sort(documented)
	slices.Sort(fields)
	if !slices.Equal(documented, fields) {
		t.Errorf("MCLoginEvent documents %v, LoginEvent encodes %v", documented, fields)
	}
}
