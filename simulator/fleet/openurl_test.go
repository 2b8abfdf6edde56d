package fleet

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestOpenURLChecksRedirects: a link on an allowed host that redirects to
// another host is not followed there; redirects between allowed hosts are.
func TestOpenURLChecksRedirects(t *testing.T) {
	t.Parallel()
	// The other host: loopback too (127.0.0.2), but not on the list.
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this host: %v", err)
	}
	var reached atomic.Int32
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	other.Listener.Close()
	other.Listener = l
	other.Start()
	defer other.Close()
	var fine atomic.Int32
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
		case "/file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/hop":
			http.Redirect(w, r, "/done", http.StatusFound)
		case "/done":
			fine.Add(1)
		}
	}))
	defer allowed.Close()
	f := &Fleet{cfg: Config{AllowedHosts: []string{"127.0.0.1"}}}
	ctx := t.Context()
	if err := f.openURL(ctx, allowed.URL+"/away"); err == nil || !strings.Contains(err.Error(), `"127.0.0.2" is not in the allowed hosts`) {
		t.Errorf("redirect to another host: %v", err)
	}
	if reached.Load() != 0 {
		t.Error("the redirect to a host off the list was followed")
	}
	if err := f.openURL(ctx, allowed.URL+"/file"); err == nil {
		t.Error("a redirect to file: was followed")
	}
	if err := f.openURL(ctx, other.URL+"/direct"); err == nil || reached.Load() != 0 {
		t.Errorf("a link to a host off the list: %v", err)
	}
	if err := f.openURL(ctx, allowed.URL+"/hop"); err != nil || fine.Load() != 1 {
		t.Errorf("a redirect on the allowed host: %v (reached %d)", err, fine.Load())
	}
}
