package simulator

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// TestSessionCookie: behind an API token, a wrong token is refused, the
// right one sets a cookie that then stands for the token, a request from
// another origin cannot use it to change anything, and logging out ends
// it.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off", APIToken: "s3cret-token"})
	base := "http://" + s.Addrs().HTTP
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	do := func(method, path, body string, hdr ...string) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := do("GET", "/api/v1/phones", ""); c != 401 {
		t.Fatalf("no token: %d", c)
	}
	if c := do("POST", "/api/v1/session", `{"token":"wrong"}`); c != 401 {
		t.Fatalf("wrong token: %d", c)
	}
	if c := do("POST", "/api/v1/session", `{"token":"s3cret-token"}`); c != 200 {
		t.Fatalf("login: %d", c)
	}
	for _, ck := range jar.Cookies(mustURL(t, base)) {
		if ck.Name == SessionCookie && strings.Contains(ck.Value, "s3cret") {
			t.Fatal("the cookie holds the token")
		}
	}
	if c := do("GET", "/api/v1/phones", ""); c != 200 {
		t.Fatalf("with the cookie: %d", c)
	}
	if c := do("PUT", "/api/v1/phones/99901000042", `{"absent":true}`, "Origin", "http://evil.example"); c != 401 {
		t.Fatalf("cross-origin change: %d", c)
	}
	if c := do("PUT", "/api/v1/phones/99901000042", `{"absent":true}`, "Origin", base); c != 200 {
		t.Fatalf("same-origin change: %d", c)
	}
	if c := do("DELETE", "/api/v1/session", ""); c != 204 {
		t.Fatalf("logout: %d", c)
	}
	if c := do("GET", "/api/v1/phones", ""); c != 401 {
		t.Fatalf("after logout: %d", c)
	}
	if c := do("GET", "/api/v1/phones", "", "Authorization", "Bearer s3cret-token"); c != 200 {
		t.Fatalf("bearer: %d", c)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
