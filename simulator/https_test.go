package simulator

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHTTPSConfig: the https: section loads, the gateway's old
// mobile_connect.tls_* keys load into it with a warning naming the new
// key, a key set under both names is an error naming both lines, and
// the section's rules are checked.
func TestHTTPSConfig(t *testing.T) {
	cfg, warn, err := ParseConfig([]byte("https:\n  cert: a.pem\n  key: a.key\n"))
	if err != nil || len(warn) != 0 || cfg.HTTPS != (HTTPS{Cert: "a.pem", Key: "a.key"}) {
		t.Fatalf("%+v %v %v", cfg.HTTPS, warn, err)
	}
	old := "http: 127.0.0.1:0\nmobile_connect:\n  issuer: https://x.test/mc\n  tls_self_signed: true\n  tls_self_signed_out: ca.pem\n"
	cfg, warn, err = ParseConfig([]byte(old))
	if err != nil || cfg.HTTPS != (HTTPS{SelfSigned: true, SelfSignedOut: "ca.pem"}) || cfg.MobileConnect.Issuer != "https://x.test/mc" {
		t.Fatalf("%+v %+v %v", cfg.HTTPS, cfg.MobileConnect, err)
	}
	joined := strings.Join(warn, "\n")
	for _, w := range []string{`line 4: "mobile_connect.tls_self_signed" is deprecated, use "https.self_signed"`,
		`line 5: "mobile_connect.tls_self_signed_out" is deprecated, use "https.self_signed_out"`} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings %q lack %q", warn, w)
		}
	}
	cfg, _, err = ParseConfig([]byte("mobile_connect:\n  tls_cert: c.pem\n  tls_key: k.pem\nhttps:\n  self_signed_out: o.pem\n"))
	if err != nil || cfg.HTTPS != (HTTPS{Cert: "c.pem", Key: "k.pem", SelfSignedOut: "o.pem"}) {
		t.Fatalf("%+v %v", cfg.HTTPS, err)
	}
	if _, _, err := ParseConfig([]byte("https:\n  cert: a.pem\nmobile_connect:\n  tls_cert: b.pem\n")); err == nil ||
		!strings.Contains(err.Error(), `"https.cert" is set twice`) {
		t.Fatalf("a key under both names: %v", err)
	}
	if _, _, err := ParseConfig([]byte("https:\n  certificate: a.pem\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("an unknown key: %v", err)
	}
	for _, h := range []HTTPS{{Cert: "a"}, {Key: "b"}, {Cert: "a", Key: "b", SelfSigned: true}, {SelfSignedOut: "o"}} {
		if err := h.validate(); err == nil {
			t.Errorf("%+v accepted", h)
		}
	}
}

// TestHTTPSRefusal: over HTTPS a connection beyond the caps gets its 503
// through TLS (the caps sit under TLS), not plaintext inside a handshake;
// the connection within the caps goes on.
func TestHTTPSRefusal(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off", NoFleet: true, HTTPS: HTTPS{SelfSigned: true},
		HTTPLimits: HTTPLimits{ConnLimits: ConnLimits{MaxConnsPerSource: 1}}})
	hc := s.SelfClient()
	base := "https://" + s.Addrs().HTTP
	get := func(c *http.Client) (int, string, error) {
		resp, err := c.Get(base + "/healthz")
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	if st, _, err := get(hc); err != nil || st != http.StatusOK {
		t.Fatalf("first connection: %d %v", st, err)
	}
	// hc keeps its connection open: a second one is one too many.
	over, err := tls.Dial("tcp", s.Addrs().HTTP, hc.Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatalf("beyond the cap, the TLS handshake: %v", err)
	}
	defer over.Close()
	br := bufio.NewReader(over)
	resp := rawGet(t, over, br, "/healthz")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("beyond the cap: %d %v; want the 503 over TLS", resp.StatusCode, resp.Header)
	}
	if st, _, err := get(hc); err != nil || st != http.StatusOK {
		t.Fatalf("the first connection after the refusal: %d %v", st, err)
	}
}
