package mobileconnect_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestPagesStyledLikeTheWebPage: the gateway's pages link the web page's
// stylesheet, which the gateway serves; their policy allows that
// stylesheet and nothing inline; no page carries a script or a style
// attribute; the number page's field is labelled "Phone number".
func TestPagesStyledLikeTheWebPage(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	r := newRP(t, s)
	q := r.params("99901000123", "2")
	q.Del("login_hint")
	resp, err := r.hc.Get(r.iss + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("number page: %s", resp.Status)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("policy %q", csp)
	}
	page := string(body)
	for _, bad := range []string{"<script", "<style", " style="} {
		if strings.Contains(page, bad) {
			t.Errorf("the page has %s", bad)
		}
	}
	if !strings.Contains(page, `<label for="msisdn">Phone number</label>`) || !strings.Contains(page, `<input type="tel" id="msisdn"`) {
		t.Errorf("no field labelled \"Phone number\":\n%s", page)
	}
	m := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no stylesheet:\n%s", page)
	}
	sheet := m[1]
	base, _ := url.Parse(r.iss + "/authorize")
	ref, err := url.Parse(sheet)
	if err != nil || sheet == "" {
		t.Fatalf("stylesheet %q", sheet)
	}
	css := base.ResolveReference(ref).String()
	if !strings.HasPrefix(css, r.iss+"/") {
		t.Fatalf("stylesheet at %s, outside the issuer", css)
	}
	resp, err = http.Get(css)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(string(b), "prefers-color-scheme: dark") || !strings.Contains(string(b), ".gw ") {
		t.Fatalf("stylesheet %s: %s %s", css, resp.Status, resp.Header.Get("Content-Type"))
	}
	// The link page, one level further down, finds it too.
	resp, err = http.Get(r.iss + "/l/unknown-token")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), `href="`+strings.TrimPrefix(css, strings.TrimSuffix(r.iss, "/mc"))+`"`) {
		t.Fatalf("link page: %s %s", resp.Status, b)
	}
}
