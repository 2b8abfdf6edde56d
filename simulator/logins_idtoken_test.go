package simulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// codeRecorder is the relying party's transport: it notes the
// authorization code the RP redeems at /token, so that the test can look
// for it in what the server shows.
type codeRecorder struct {
	mu    sync.Mutex
	codes []string
}

func (c *codeRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		if f, err := url.ParseQuery(string(b)); err == nil && f.Get("code") != "" {
			c.mu.Lock()
			c.codes = append(c.codes, f.Get("code"))
			c.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestLoginTokenStepDecoded: the token step of a login, in GET
// /api/v1/mc/logins and on the hub's login topic, carries the id_token the
// relying party received, decoded: the JOSE header (alg, kid, as the RP's
// verification saw them) and every claim it shows equal to the RP's
// verified claims; and neither answer holds the id_token, the access or
// refresh token, the code or the client secret.
func TestLoginTokenStepDecoded(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	mc := s.MobileConnect()
	if mc == nil {
		t.Fatal("no gateway")
	}
	gw := mc.Gateway
	events := openEvents(t, s, "topics=login")
	rec := &codeRecorder{}
	rp := &mobileconnect.RP{Issuer: gw.Issuer(), ClientID: mobileconnect.DemoClientID, ClientSecret: mobileconnect.DemoClientSecret,
		Wait: gw.AwaitLogin, HTTPClient: &http.Client{Transport: rec}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := rp.Login(ctx, mobileconnect.LoginRequest{MSISDN: "99901000123", ACR: "3 2"})
	if err != nil {
		t.Fatal(err)
	}
	var live []byte
	var ev LoginStepEvent
	for ev.Step != mobileconnect.StepToken {
		raw := events.next(t, "login")
		live = append(live, raw...)
		ev = LoginStepEvent{}
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Step != mobileconnect.StepToken && ev.IDToken != nil {
			t.Fatalf("an id_token on step %s", ev.Step)
		}
	}

	var list LoginList
	raw := getRaw(t, s, "/api/v1/mc/logins", &list)
	if len(list.Logins) != 1 {
		t.Fatalf("list %s", raw)
	}
	var step *LoginStep
	for i, st := range list.Logins[0].Steps {
		if st.Step == mobileconnect.StepToken {
			step = &list.Logins[0].Steps[i]
		} else if st.IDToken != nil {
			t.Fatalf("an id_token on step %s", st.Step)
		}
	}
	if step == nil || step.IDToken == nil {
		t.Fatalf("no decoded id_token in %s", raw)
	}
	for where, v := range map[string]*IDTokenView{"list": step.IDToken, "live": ev.IDToken} {
		if v == nil {
			t.Fatalf("%s: no id_token", where)
		}
		if v.Alg != res.Alg || v.Alg != string(jose.ES256) || v.Kid != res.KeyID || v.Kid == "" || !v.Published || len(v.Faults) != 0 {
			t.Fatalf("%s: header %+v, the RP saw alg %s kid %s", where, v, res.Alg, res.KeyID)
		}
		// The claims as the RP verified them, and as listed: the same
		// values, claim by claim, for every claim the RP received.
		b, _ := json.Marshal(v.Claims)
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"iss", "aud", "azp", "sub", "acr", "amr", "nonce", "auth_time", "iat", "exp", "jti", "at_hash", "hashed_login_hint", "dts", "dts_time", "upk"} {
			if _, ok := res.Claims[k]; !ok {
				t.Errorf("%s: the RP's id_token has no %s", where, k)
				continue
			}
			if !reflect.DeepEqual(got[k], res.Claims[k]) {
				t.Errorf("%s: claim %s = %v, the RP received %v", where, k, got[k], res.Claims[k])
			}
		}
		for k := range got {
			if _, ok := res.Claims[k]; !ok {
				t.Errorf("%s: claim %s listed but not in the RP's id_token", where, k)
			}
		}
		if v.Claims.ACR != "3" || v.Claims.Sub != list.Logins[0].PCR {
			t.Errorf("%s: acr %q sub %q, the login's PCR %q", where, v.Claims.ACR, v.Claims.Sub, list.Logins[0].PCR)
		}
	}

	rec.mu.Lock()
	codes := rec.codes
	rec.mu.Unlock()
	if len(codes) != 1 {
		t.Fatalf("codes redeemed: %d", len(codes))
	}
	secrets := map[string]string{"id_token": res.IDToken, "access_token": res.AccessToken, "refresh_token": res.RefreshToken,
		"code": codes[0], "client_secret": mobileconnect.DemoClientSecret}
	// The id_token's signing input and signature, separately: a listed
	// header or payload segment would be the token in pieces.
	for i, part := range strings.Split(res.IDToken, ".") {
		secrets["id_token segment "+string(rune('0'+i))] = part
	}
	for name, v := range secrets {
		if v == "" {
			t.Fatalf("the RP got no %s", name)
		}
		if strings.Contains(raw, v) || bytes.Contains(live, []byte(v)) {
			t.Errorf("the %s is shown", name)
		}
	}
}

// TestLoginTokenStepFaults: an id_token spoilt by an injected fault is
// shown as it was issued: unsigned under alg_none, signed by a key not in
// the JWKS under unknown_key, its claims as changed (acr_lower), and the
// faults named.
func TestLoginTokenStepFaults(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	gw := s.MobileConnect().Gateway
	rp := &mobileconnect.RP{Issuer: gw.Issuer(), ClientID: mobileconnect.DemoClientID, ClientSecret: mobileconnect.DemoClientSecret, Wait: gw.AwaitLogin}
	d, err := rp.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(d.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(b), `"kid"`) {
		t.Fatalf("jwks %s: %v", b, err)
	}
	jwks := string(b)
	for _, c := range []struct {
		faults    []string
		alg       string
		acr       string
		published bool
	}{
		{[]string{mobileconnect.FaultAlgNone}, "none", "3", false},
		{[]string{mobileconnect.FaultUnknownKey, mobileconnect.FaultACRLower}, "ES256", "2", false},
	} {
		rule := mobileconnect.FaultRule{ClientID: mobileconnect.DemoClientID, Faults: c.faults, Next: true}
		if code := callJSON(t, s, "POST", "/api/v1/mc/faults", rule, nil); code != http.StatusCreated {
			t.Fatalf("fault rule: %d", code)
		}
		if _, err := rp.Login(t.Context(), mobileconnect.LoginRequest{MSISDN: "99901000123", ACR: "3 2"}); err == nil {
			t.Fatalf("%v: the RP accepted the id_token", c.faults)
		}
		var list LoginList
		raw := getRaw(t, s, "/api/v1/mc/logins?limit=1", &list)
		var v *IDTokenView
		for _, st := range list.Logins[0].Steps {
			if st.Step == mobileconnect.StepToken {
				v = st.IDToken
			}
		}
		if v == nil {
			t.Fatalf("%v: no id_token in %s", c.faults, raw)
		}
		if v.Alg != c.alg || v.Published != c.published || !reflect.DeepEqual(v.Faults, c.faults) || v.Claims.ACR != c.acr ||
			(c.alg == "none") != (v.Kid == "") {
			t.Errorf("%v: %s", c.faults, raw)
		}
		if v.Kid != "" && strings.Contains(jwks, v.Kid) {
			t.Errorf("%v: kid %s is in the JWKS", c.faults, v.Kid)
		}
	}
}

// TestLoginTokenStepCIBA: a CIBA login's token step shows the id_token's
// claims but not the auth_req_id claim the gateway signed into it, and the
// list holds neither the auth_req_id nor the tokens.
func TestLoginTokenStepCIBA(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	gw := s.MobileConnect().Gateway
	post := func(path string, form url.Values) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("POST", gw.Issuer()+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(mobileconnect.DemoClientID), url.QueryEscape(mobileconnect.DemoClientSecret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	ack := post("/bc-authorize", url.Values{"scope": {"openid"}, "login_hint": {"MSISDN:99901000123"}, "acr_values": {"3"},
		"binding_message": {"CIBA"}})
	id, _ := ack["auth_req_id"].(string)
	if id == "" {
		t.Fatalf("ack %v", ack)
	}
	if err := gw.AwaitBackchannel(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	tr := post("/token", url.Values{"grant_type": {mobileconnect.GrantCIBA}, "auth_req_id": {id}})
	idt, _ := tr["id_token"].(string)
	parts := strings.Split(idt, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token %q", idt)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !bytes.Contains(payload, []byte(id)) {
		t.Fatalf("the id_token names no auth_req_id: %s %v", payload, err)
	}
	var list LoginList
	raw := getRaw(t, s, "/api/v1/mc/logins?limit=1", &list)
	if len(list.Logins) != 1 || list.Logins[0].Flow != mobileconnect.FlowCIBA {
		t.Fatalf("list %s", raw)
	}
	var v *IDTokenView
	for _, st := range list.Logins[0].Steps {
		if st.Step == mobileconnect.StepToken {
			v = st.IDToken
		}
	}
	if v == nil || v.Claims.ACR != "3" || v.Claims.Sub == "" || v.Alg != "ES256" {
		t.Fatalf("token step in %s", raw)
	}
	for _, secret := range []string{id, idt, parts[1], parts[2], tr["access_token"].(string), "auth_req_id"} {
		if strings.Contains(raw, secret) {
			t.Errorf("the list shows %.16s…", secret)
		}
	}
}
