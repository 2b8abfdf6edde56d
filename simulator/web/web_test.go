package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestMount: every route serves the page with its security headers, the
// assets are served with their types, and nothing else answers.
func TestMount(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	if err := Mount(mux.Handle); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, p := range []string{"/", "/messages", "/messages/42", "/phones", "/phones/99901000042", "/challenges", "/overview", "/logins"} {
		r := get(p)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", p, r.StatusCode, r.Header.Get("Content-Type"))
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
	}
	for path, ct := range map[string]string{"/assets/js/app.js": "text/javascript", "/assets/css/app.css": "text/css"} {
		if r := get(path); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), ct) {
			t.Errorf("%s: %d %s", path, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/nothing", "/assets/js/none.js", "/phones/1/x"} {
		if r := get(p); r.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, r.StatusCode)
		}
	}
}

// TestAssetsSelfContained: the page loads nothing from elsewhere (no URL
// with a host in its markup, styles or scripts, which the CSP would
// block anyway), and every module a script imports is embedded.
func TestAssetsSelfContained(t *testing.T) {
	t.Parallel()
	external := regexp.MustCompile(`(?:src|href)=["']https?:|@import|url\(["']?https?:|from ["']https?:|import\(["']https?:`)
	imports := regexp.MustCompile(`from '(\./[^']+)'`)
	n := 0
	err := fs.WalkDir(Assets, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := fs.ReadFile(Assets, path)
		if err != nil {
			return err
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s loads something from elsewhere: %s", path, m)
		}
		if strings.HasSuffix(path, ".js") {
			for _, m := range imports.FindAllSubmatch(b, -1) {
				dep := "js/" + strings.TrimPrefix(string(m[1]), "./")
				if _, err := fs.Stat(Assets, dep); err != nil {
					t.Errorf("%s imports %s, which is not embedded", path, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("%d assets embedded", n)
	}
}
