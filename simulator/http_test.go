package simulator

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

const testToken = "0123456789abcdef-test"

// call makes one request and returns the status, headers and body.
func call(t *testing.T, c *http.Client, method, url string, hdr http.Header, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestJSONErrors: the mux's own 404 and 405 and http.Error answers are
// JSON like every other error; the 405 keeps its Allow header.
func TestJSONErrors(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off"})
	s.Mux().HandleFunc("GET /api/v1/plain", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "teapot trouble", http.StatusTeapot) })
	base := "http://" + s.Addrs().HTTP
	for _, tc := range []struct {
		method, path string
		code         int
		msg          string
	}{
		{"GET", "/no/such/thing", 404, "no such endpoint: /no/such/thing"},
		{"POST", "/healthz", 405, "method POST not allowed on /healthz (allowed: GET, HEAD)"},
		{"PUT", "/api/v1/phones", 405, "method PUT not allowed on /api/v1/phones"},
		{"GET", "/api/v1/plain", 418, "teapot trouble"},
		{"GET", "/api/v1/phones/12", 404, "not in the fleet's plan"},
	} {
		code, hdr, body := call(t, nil, tc.method, base+tc.path, nil, "")
		var e errorBody
		if err := json.Unmarshal([]byte(body), &e); err != nil || code != tc.code || !strings.Contains(e.Error, tc.msg) ||
			!strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s = %d %q (%s), want %d JSON with %q", tc.method, tc.path, code, body, hdr.Get("Content-Type"), tc.code, tc.msg)
		}
		if tc.code == 405 && hdr.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
	}
	// Success answers pass untouched.
	if code, _, body := call(t, nil, "GET", base+"/api/v1/openapi.json", nil, ""); code != 200 || !strings.Contains(body, `"openapi"`) {
		t.Errorf("openapi.json = %d %.80s", code, body)
	}
}

// TestAuthRule: one rule for every endpoint: Bearer in any case, the
// session cookie, ?token= only for an event stream; public endpoints open.
func TestAuthRule(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off", APIToken: testToken})
	s.Mux().HandleFunc("GET /api/v1/ping", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("pong")) })
	s.HandlePublic("GET /login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("form")) }))
	base := "http://" + s.Addrs().HTTP
	sse := http.Header{"Accept": {"text/event-stream"}}
	for _, tc := range []struct {
		method, path string
		hdr          http.Header
		want         int
	}{
		{"GET", "/healthz", nil, 200},
		{"GET", "/api/v1/openapi.json", nil, 200},
		{"GET", "/api/v1/session", nil, 200},
		{"GET", "/login", nil, 200},
		{"GET", "/api/v1/ping", nil, 401},
		{"GET", "/metrics", nil, 401},
		{"GET", "/api/v1/messages", nil, 401},
		{"GET", "/api/v1/phones", nil, 401},
		{"GET", "/no/such/thing", nil, 401}, // no route discovery without the token
		{"GET", "/api/v1/ping", http.Header{"Authorization": {"Bearer " + testToken}}, 200},
		{"GET", "/api/v1/ping", http.Header{"Authorization": {"bearer " + testToken}}, 200},
		{"GET", "/api/v1/ping", http.Header{"Authorization": {"BEARER  " + testToken}}, 200},
		{"GET", "/metrics", http.Header{"Authorization": {"Bearer " + testToken}}, 200},
		{"GET", "/api/v1/ping", http.Header{"Authorization": {"Basic " + testToken}}, 401},
		{"GET", "/api/v1/ping?token=" + testToken, nil, 401},
		// ?token= only on the event streams (review 1, L1).
		{"GET", "/api/v1/ping?token=" + testToken, sse, 401},
		{"GET", "/metrics?token=" + testToken, sse, 401},
		{"GET", "/api/v1/phones?token=" + testToken, sse, 401},
		{"POST", "/api/v1/ping?token=" + testToken, sse, 401},
		{"GET", "/api/v1/messages/stream?token=wrong", sse, 401},
	} {
		code, hdr, body := call(t, nil, tc.method, base+tc.path, tc.hdr, "")
		if code != tc.want {
			t.Errorf("%s %s %v = %d %s, want %d", tc.method, tc.path, tc.hdr, code, body, tc.want)
		}
		if code == 401 && (hdr.Get("WWW-Authenticate") != `Bearer realm="simlab"` || !strings.Contains(body, "missing or wrong API token")) {
			t.Errorf("401 answer: %v %s", hdr, body)
		}
		if strings.Contains(body, testToken) {
			t.Errorf("%s %s: the answer shows the token", tc.method, tc.path)
		}
	}
}

// TestEventStreamsThroughTheStack: both event streams flush through the
// middleware, with ?token= as an EventSource gives it.
func TestEventStreamsThroughTheStack(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off", APIToken: testToken})
	for _, path := range []string{"/api/v1/messages/stream", "/api/v1/events"} {
		req, _ := http.NewRequest("GET", "http://"+s.Addrs().HTTP+path+"?token="+testToken, nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || !strings.HasPrefix(line, ": simlab") || err != nil {
			t.Errorf("%s: %d %q %q %v", path, resp.StatusCode, resp.Header.Get("Content-Type"), line, err)
		}
	}
}

// TestSessionCookie: a page logs in once with the token and then sends
// only its HttpOnly cookie; logging out ends the session.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off", APIToken: testToken})
	base := "http://" + s.Addrs().HTTP
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	var st SessionState
	_, _, body := call(t, c, "GET", base+"/api/v1/session", nil, "")
	if json.Unmarshal([]byte(body), &st); !st.TokenRequired || st.Authenticated {
		t.Fatalf("before login: %s", body)
	}
	if code, _, _ := call(t, c, "GET", base+"/api/v1/phones", nil, ""); code != 401 {
		t.Fatalf("before login: %d", code)
	}
	if code, _, body := call(t, c, "POST", base+"/api/v1/session", nil, `{"token":"wrong"}`); code != 401 {
		t.Fatalf("login with a wrong token: %d %s", code, body)
	}
	code, hdr, body := call(t, c, "POST", base+"/api/v1/session", nil, `{"token":"`+testToken+`"}`)
	if code != 200 {
		t.Fatalf("login: %d %s", code, body)
	}
	ck := hdr.Get("Set-Cookie")
	for _, want := range []string{sessionCookie + "=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("Set-Cookie %q lacks %q", ck, want)
		}
	}
	if strings.Contains(ck, testToken) {
		t.Error("the cookie carries the token itself")
	}
	if code, _, body := call(t, c, "GET", base+"/api/v1/phones", nil, ""); code != 200 {
		t.Fatalf("with the session cookie: %d %s", code, body)
	}
	_, _, body = call(t, c, "GET", base+"/api/v1/session", nil, "")
	if st = (SessionState{}); json.Unmarshal([]byte(body), &st) != nil || !st.Authenticated || st.Expires == nil {
		t.Errorf("session state after login: %s", body)
	}
	// A cross-site page cannot use the cookie to change anything, nor
	// log a browser in; a public pattern of a subsystem takes its forms.
	cross := http.Header{"Sec-Fetch-Site": {"cross-site"}}
	if code, _, body := call(t, c, "DELETE", base+"/api/v1/phones/99901000001", cross, ""); code != 403 || !strings.HasPrefix(body, `{"error":`) {
		t.Errorf("cross-site DELETE with the cookie: %d %s, want 403 JSON", code, body)
	}
	if code, _, _ := call(t, c, "POST", base+"/api/v1/session", cross, `{"token":"`+testToken+`"}`); code != 403 {
		t.Errorf("cross-site login: %d, want 403", code)
	}
	s.HandlePublic("POST /form", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("taken")) }))
	if code, _, body := call(t, c, "POST", base+"/form", cross, "a=b"); code != 200 {
		t.Errorf("cross-site POST to a public pattern: %d %s, want 200", code, body)
	}
	if code, _, _ := call(t, c, "DELETE", base+"/api/v1/session", nil, ""); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	if code, _, _ := call(t, c, "GET", base+"/api/v1/phones", nil, ""); code != 401 {
		t.Errorf("after logout: %d, want 401", code)
	}
}

// fakeClock is a settable clock for the auth lockout.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestAuthRateLimit: after five wrong tokens from one address, each
// further one locks the address out for a doubling delay (429 with
// Retry-After), the right token included; once the delay passes the right
// token works again and clears the count. A valid session cookie passes
// during a lockout, only Bearer tokens count (a proxy's Basic header is no
// guess), and IPv6 sources count by their /64 (review 1, L2).
func TestAuthRateLimit(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off", APIToken: testToken})
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	s.auth.now = clk.now // before any request: nothing reads it yet
	base := "http://" + s.Addrs().HTTP
	url := base + "/api/v1/messages"
	wrong := http.Header{"Authorization": {"Bearer guess"}}
	right := http.Header{"Authorization": {"Bearer " + testToken}}
	basic := http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}
	// A page logged in before the lockout.
	code, hdr, _ := call(t, nil, "POST", base+"/api/v1/session", nil, `{"token":"`+testToken+`"}`)
	if code != 200 {
		t.Fatalf("login: %d", code)
	}
	cookie := http.Header{"Cookie": {strings.Split(hdr.Get("Set-Cookie"), ";")[0]}}
	for i := range 3 * authFreeFailures {
		if code, _, _ := call(t, nil, "GET", url, basic, ""); code != 401 {
			t.Fatalf("Basic header %d: %d, want 401 (no lockout)", i, code)
		}
	}
	for i := 1; i < authFreeFailures; i++ {
		if code, _, _ := call(t, nil, "GET", url, wrong, ""); code != 401 {
			t.Fatalf("wrong token %d: %d, want 401", i, code)
		}
	}
	// The public session endpoint is no oracle: a wrong token there counts.
	if code, _, body := call(t, nil, "GET", base+"/api/v1/session", wrong, ""); code != 200 || !strings.Contains(body, `"authenticated":false`) {
		t.Fatalf("session state with a wrong token: %d %s", code, body)
	}
	for i, wantLock := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if code, _, _ := call(t, nil, "GET", url, wrong, ""); code != 401 {
			t.Fatalf("failure %d past the free ones: %d, want 401", i+1, code)
		}
		code, hdr, body := call(t, nil, "GET", url, right, "")
		if code != 429 || hdr.Get("Retry-After") != strings.TrimSuffix(wantLock.String(), "s") || !strings.Contains(body, "too many failed") {
			t.Fatalf("locked out %v: %d Retry-After %q %s", wantLock, code, hdr.Get("Retry-After"), body)
		}
		// A login attempt is locked out the same way.
		if code, _, _ := call(t, nil, "POST", base+"/api/v1/session", nil, `{"token":"`+testToken+`"}`); code != 429 {
			t.Fatalf("login while locked out: %d", code)
		}
		// The logged-in page goes on.
		if code, _, body := call(t, nil, "GET", url, cookie, ""); code != 200 {
			t.Fatalf("session cookie while locked out: %d %s", code, body)
		}
		clk.add(wantLock)
	}
	// The right token, once the lockout has passed, clears the count: the
	// next wrong one is free again.
	if code, _, _ := call(t, nil, "GET", url, right, ""); code != 200 {
		t.Fatalf("right token after the lockout: %d", code)
	}
	if code, _, _ := call(t, nil, "GET", url, wrong, ""); code != 401 {
		t.Fatalf("a wrong token after a right one: %d", code)
	}
	if code, _, _ := call(t, nil, "GET", url, right, ""); code != 200 {
		t.Fatalf("right token after one fresh failure: %d, want 200 (the count was cleared)", code)
	}
	// Other sources are not affected; public endpoints stay open.
	if code, _, _ := call(t, nil, "GET", base+"/healthz", nil, ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	s.auth.failed(netip.MustParseAddr("192.0.2.1"))
	if _, locked := s.auth.lockedOut(netip.MustParseAddr("192.0.2.2")); locked {
		t.Error("a failure from one address locked out another")
	}
	// IPv6: one /64 is one source.
	for i := range authFreeFailures + 1 {
		s.auth.failed(netip.MustParseAddr(fmt.Sprintf("2001:db8:1:2::%x", i+1)))
	}
	if _, locked := s.auth.lockedOut(netip.MustParseAddr("2001:db8:1:2:ffff::9")); !locked {
		t.Error("failures from addresses of one /64 did not lock it out")
	}
	if _, locked := s.auth.lockedOut(netip.MustParseAddr("2001:db8:1:3::1")); locked {
		t.Error("failures in one /64 locked out another")
	}
}

// rawGet sends a keep-alive GET on c and reads the response.
func rawGet(t *testing.T, c net.Conn, br *bufio.Reader, path string) *http.Response {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// awaitClosed reads from c until the server closes it; it fails the test
// if that takes longer than limit.
func awaitClosed(t *testing.T, c net.Conn, br *bufio.Reader, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	_, err := br.ReadByte()
	if !errors.Is(err, io.EOF) {
		t.Fatalf("read on a connection the server should close: %v (after %v)", err, time.Since(start))
	}
	return time.Since(start)
}

// TestHTTPTimeouts: a keep-alive connection left idle is closed after the
// idle timeout, one that never finishes its headers after the read-header
// timeout (raw sockets, short configured timeouts).
func TestHTTPTimeouts(t *testing.T) {
	t.Parallel()
	lim := HTTPLimits{IdleTimeout: 200 * time.Millisecond, ReadHeaderTimeout: 300 * time.Millisecond}
	s := startTest(t, Config{SMPPAddr: "off", HTTPLimits: lim})
	c, err := net.Dial("tcp", s.Addrs().HTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if resp := rawGet(t, c, br, "/healthz"); resp.StatusCode != 200 || resp.Close {
		t.Fatalf("healthz on a keep-alive connection: %d close=%v", resp.StatusCode, resp.Close)
	}
	if d := awaitClosed(t, c, br, 10*time.Second); d < lim.IdleTimeout/2 {
		t.Errorf("idle connection closed after %v, before the idle timeout %v", d, lim.IdleTimeout)
	}

	slow, err := net.Dial("tcp", s.Addrs().HTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET /healthz HTTP/1.1\r\nHost: sim") // never ends its headers
	awaitClosed(t, slow, bufio.NewReader(slow), 10*time.Second)
}

// TestLongPollOutlivesReadTimeout: the read timeout bounds reading a
// request, not a long poll answering it later (net/http clears the read
// deadline once a request without a body is read; this keeps it so).
func TestLongPollOutlivesReadTimeout(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off", HTTPLimits: HTTPLimits{ReadTimeout: 100 * time.Millisecond}})
	code, _, body := call(t, nil, "GET", "http://"+s.Addrs().HTTP+"/api/v1/messages/wait?to=99900000001&timeout=1s", nil, "")
	if code != http.StatusRequestTimeout || !strings.Contains(body, "no message matched within 1s") {
		t.Fatalf("a 1 s wait with a 100 ms read timeout: %d %s, want the wait's own 408", code, body)
	}
}

// TestHTTPConnectionCaps: beyond the cap per source address a connection
// is answered 503 (JSON, Retry-After) and closed; once one closes, the
// next is served.
func TestHTTPConnectionCaps(t *testing.T) {
	t.Parallel()
	lim := HTTPLimits{ConnLimits: ConnLimits{MaxConnsPerSource: 2}, IdleTimeout: time.Second}
	s := startTest(t, Config{SMPPAddr: "off", HTTPLimits: lim})
	addr := s.Addrs().HTTP
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// The held connections are counted once accepted: a request on each
	// makes sure of it.
	for _, c := range held {
		if resp := rawGet(t, c, bufio.NewReader(c), "/healthz"); resp.StatusCode != 200 {
			t.Fatalf("held connection: %d", resp.StatusCode)
		}
	}
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	br := bufio.NewReader(over)
	resp := rawGet(t, over, br, "/healthz")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("third connection from one address: %d %v, want 503 JSON with Retry-After", resp.StatusCode, resp.Header)
	}
	awaitClosed(t, over, br, 5*time.Second)

	// The server closes an idle held connection after the idle timeout;
	// its place is free before the client sees the close.
	awaitClosed(t, held[0], bufio.NewReader(held[0]), 10*time.Second)
	again, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if resp := rawGet(t, again, bufio.NewReader(again), "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("after one closed: %d, want 200", resp.StatusCode)
	}
	// Read from the registry: this address has no connection to spare.
	fams, err := s.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fams {
		if f.GetName() == "simlab_connections_refused_total" {
			for _, m := range f.Metric {
				found = found || m.Counter.GetValue() == 1 && strings.Contains(fmt.Sprint(m.Label), "per_source")
			}
		}
	}
	if !found {
		t.Error("/metrics does not count the refusal")
	}
}

// TestOneJSONBody: a body with two JSON documents is refused, not read as
// its first (issue #15); an unknown field too.
func TestOneJSONBody(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off", APIToken: testToken})
	base := "http://" + s.Addrs().HTTP
	auth := http.Header{"Authorization": {"Bearer " + testToken}}
	for _, tc := range []struct{ method, path, body, want string }{
		{"PUT", "/api/v1/phones/99901000007", `{"absent":true}{"absent":false}`, "more than one JSON value"},
		{"PUT", "/api/v1/phones/99901000007", `{"absent":true} 5`, "more than one JSON value"},
		{"PUT", "/api/v1/phones/99901000007", `{"colour":"red"}`, `unknown field`},
		{"POST", "/api/v1/attached", `{"reader":"r","msisdn":"1"}{}`, "more than one JSON value"},
		{"POST", "/api/v1/session", `{"token":"x"}{"token":"y"}`, "more than one JSON value"},
		{"POST", "/api/v1/faults", `{"dest":"1","submit_status":8}{}`, "more than one JSON value"},
		// Review 1, M6: the namespace endpoints decoded their own way.
		{"POST", "/api/v1/namespaces", `{"label":"a"}{"label":"b","x":1}`, "more than one JSON value"},
		{"POST", "/api/v1/namespaces", `{"label":"a"`, "unexpected EOF"},
		{"POST", "/api/v1/namespaces/any/numbers", `{"count":1}{"count":2}`, "more than one JSON value"},
	} {
		code, _, body := call(t, nil, tc.method, base+tc.path, auth, tc.body)
		if code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s %s: %d %s, want 400 with %q", tc.method, tc.path, tc.body, code, body, tc.want)
		}
	}
	code, _, body := call(t, nil, "PUT", base+"/api/v1/phones/99901000007", auth, "{\"absent\":true}\n")
	if code != 200 || !strings.Contains(body, `"absent":true`) {
		t.Errorf("one document with a trailing newline: %d %s", code, body)
	}
	// A namespace's empty body is the zero request.
	if code, _, body := call(t, nil, "POST", base+"/api/v1/namespaces", auth, ""); code != 201 || !strings.Contains(body, `"name":"ns-`) {
		t.Errorf("POST /api/v1/namespaces without a body: %d %s", code, body)
	}
}

// FuzzDecodeBody: any body gives a PhoneUpdate or an error, never a panic.
func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte(`{"behaviour":{"steps":[{"answer":"wrong-pin"}],"then":{"answer":"approve","delay":"1.5s"},"open_urls":true},"pin":"24680"}`))
	f.Add([]byte(`{"absent":true}{"absent":false}`))
	f.Add([]byte(`{"token":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _ := http.NewRequest("PUT", "/", strings.NewReader(string(b)))
		var u PhoneUpdate
		if err := decodeBody(httptestRecorder{}, r, 1<<20, &u); err == nil && u.Behaviour != nil {
			_ = u.Behaviour.Validate()
		}
	})
}

// httptestRecorder is the minimal ResponseWriter MaxBytesReader needs.
type httptestRecorder struct{}

func (httptestRecorder) Header() http.Header         { return http.Header{} }
func (httptestRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (httptestRecorder) WriteHeader(int)             {}

// TestHostCheck: a DNS-rebinding page (evil.example made to resolve to
// 127.0.0.1) is same-origin with itself, so only its Host header gives it
// away: the stack answers such requests 421, with or without a token, and
// serves loopback names, IP addresses, the listen host, the issuer's host
// and allowed_hosts (review 1, H1).
func TestHostCheck(t *testing.T) {
	t.Parallel()
	open := startTest(t, Config{SMPPAddr: "off", AllowedHosts: []string{"simlab.example.com", "*.ci.example"},
		MobileConnect: mobileconnect.Config{Issuer: "https://login.example.test/mc"}})
	locked := startTest(t, Config{SMPPAddr: "off", APIToken: testToken})
	bearer := http.Header{"Authorization": {"Bearer " + testToken}}
	for _, tc := range []struct {
		s      *Server
		host   string
		method string
		path   string
		hdr    http.Header
		want   int
	}{
		// The reviewer's repro: a rebound page changing a phone.
		{open, "evil.example:PORT", "PUT", "/api/v1/phones/99901000001", http.Header{"Origin": {"http://evil.example:PORT"}, "Sec-Fetch-Site": {"same-origin"}}, 421},
		{open, "evil.example:PORT", "GET", "/api/v1/otp?number=99901000001", nil, 421},
		{open, "evil.example", "GET", "/healthz", nil, 421},
		{open, "localhost.evil.example:PORT", "GET", "/api/v1/phones", nil, 421},
		{open, "127.0.0.1.nip.io:PORT", "GET", "/api/v1/phones", nil, 421},
		{open, "example.com:PORT", "GET", "/api/v1/phones", nil, 421},
		{open, "ci.example:PORT", "GET", "/api/v1/phones", nil, 421}, // *.ci.example: subdomains only
		{locked, "evil.example:PORT", "GET", "/api/v1/phones", bearer, 421},
		{locked, "evil.example:PORT", "GET", "/healthz", nil, 421},
		{open, "localhost:PORT", "GET", "/api/v1/phones", nil, 200},
		{open, "LOCALHOST.:PORT", "GET", "/api/v1/phones", nil, 200},
		{open, "127.0.0.1:PORT", "GET", "/api/v1/phones", nil, 200},
		{open, "[::1]:PORT", "GET", "/api/v1/phones", nil, 200},
		{open, "192.0.2.7", "GET", "/api/v1/phones", nil, 200}, // an address is no rebinding
		{open, "simlab.example.com", "GET", "/api/v1/phones", nil, 200},
		{open, "Simlab.Example.Com:443", "GET", "/api/v1/phones", nil, 200},
		{open, "runner-7.ci.example:PORT", "GET", "/api/v1/phones", nil, 200},
		{open, "login.example.test", "GET", "/healthz", nil, 200}, // the issuer's host
		{locked, "localhost:PORT", "GET", "/api/v1/phones", bearer, 200},
		{locked, "localhost:PORT", "GET", "/api/v1/phones", nil, 401},
	} {
		_, port, _ := net.SplitHostPort(tc.s.Addrs().HTTP)
		req, err := http.NewRequest(tc.method, "http://"+tc.s.Addrs().HTTP+tc.path, strings.NewReader(`{"absent":true}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = strings.ReplaceAll(tc.host, "PORT", port)
		for k, v := range tc.hdr {
			for _, x := range v {
				req.Header.Add(k, strings.ReplaceAll(x, "PORT", port))
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s Host %s: %d %s, want %d", tc.method, tc.path, req.Host, resp.StatusCode, b, tc.want)
			continue
		}
		var e errorBody
		if tc.want == 421 && (json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, "allowed_hosts")) {
			t.Errorf("421 body %s", b)
		}
	}
	// docs/api.md's example answers as written.
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	ex := regexp.MustCompile("(?m)^\\$ curl -s -H 'Host: (evil.example:8775)' http://127.0.0.1:8775(/healthz)\n(.*)$").FindSubmatch(doc)
	if ex == nil {
		t.Fatal("docs/api.md: the Host example is gone")
	}
	req, _ := http.NewRequest("GET", "http://"+open.Addrs().HTTP+string(ex[2]), nil)
	req.Host = string(ex[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.TrimSpace(string(b)); got != string(ex[3]) {
		t.Errorf("docs/api.md example:\n got %s\nwant %s", got, ex[3])
	}
	// Nothing the rebound page sent reached the phone.
	if code, _, body := call(t, nil, "GET", "http://"+open.Addrs().HTTP+"/api/v1/phones/99901000001", nil, ""); code != 200 || strings.Contains(body, `"absent":true`) {
		t.Errorf("after the refused PUT: %d %s", code, body)
	}
}

// TestAllowedHostsConfig: allowed_hosts takes host names and "*.domain";
// a port, scheme or path is refused, and "*" only with a token.
func TestAllowedHostsConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		hosts []string
		token string
		ok    bool
	}{
		{[]string{"simlab.example.com", "*.example.org", "simlab"}, "", true},
		{[]string{"*"}, testToken, true},
		{[]string{"*"}, "", false},
		{[]string{"simlab:8775"}, "", false},
		{[]string{"http://simlab"}, "", false},
		{[]string{"simlab/x"}, "", false},
		{[]string{""}, "", false},
		{[]string{"a.*.example"}, "", false},
	} {
		err := Config{AllowedHosts: tc.hosts, APIToken: tc.token}.WithDefaults().Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%q (token %v): %v, want ok=%v", tc.hosts, tc.token != "", err, tc.ok)
		}
	}
	cfg, _, err := ParseConfig([]byte("allowed_hosts: [simlab.example.com]\n"))
	if err != nil || len(cfg.AllowedHosts) != 1 {
		t.Errorf("allowed_hosts from YAML: %+v %v", cfg.AllowedHosts, err)
	}
}

// BenchmarkMiddleware: what the HTTP stack's own chain (JSON errors, Host
// check, cross-origin protection, auth rule, query check) adds to a
// request for a public pattern such as the Mobile Connect gateway's,
// against the same request given to the mux directly; with an API token
// configured, so the auth rule looks the pattern up (docs/benchmarks.md
// (v)).
func BenchmarkMiddleware(b *testing.B) {
	s, err := Start(Config{SMPPAddr: "off", HTTPAddr: "127.0.0.1:0", APIToken: strings.Repeat("t", 32)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(b.Context())
	s.HandlePublic("GET /mcbench/authorize", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusFound) }))
	s.HandlePublic("POST /mcbench/token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	chain := s.newHTTPServer().Handler
	get, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:8775/mcbench/authorize?client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb"+
		"&response_type=code&scope=openid+mc_authn&version=mc_di_r2_v2.3&acr_values=3&state=s&nonce=n&login_hint=MSISDN%3A99901000001", nil)
	post, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8775/mcbench/token", nil)
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Authorization", "Basic Yzpz")
	for _, tc := range []struct {
		name string
		h    http.Handler
		r    *http.Request
	}{{"GET/chain", chain, get}, {"GET/mux", s.mux, get}, {"POST/chain", chain, post}, {"POST/mux", s.mux, post}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				tc.h.ServeHTTP(httptestRecorder{}, tc.r)
			}
		})
	}
}
