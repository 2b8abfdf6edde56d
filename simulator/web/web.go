// Package web is simlab's web page: the "Mailpit for SMS" a person opens at
// http://127.0.0.1:8775/ while `simlab serve` runs — live messages, the
// phones with a virtual handset each, the challenges, an overview of the
// SMSC. It is a build-free page (HTML, CSS and JavaScript modules, no
// library, nothing fetched from elsewhere) embedded in the binary, so a
// CGO_ENABLED=0 build carries it; docs/web.md says why.
//
// Everything the page does goes through the documented HTTP API
// (/api/v1/…, /metrics); this package only serves the assets.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Assets is the page's files: index.html, css/, js/.
var Assets = mustSub(static, "static")

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embed pattern names dir: cannot happen
	}
	return s
}

// Routes are the page's own addresses: each serves index.html, whose
// script shows the view the path names (so a link to a phone,
// /phones/99901000042, can be bookmarked and shared).
var Routes = []string{"/{$}", "/messages", "/messages/{id}", "/phones", "/phones/{msisdn}",
	"/challenges", "/overview", "/logins"}

// securityHeaders are sent with every asset: nothing but this server's own
// scripts, styles and API, and the page in no one else's frame.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
}

// Mount adds the page with handle, which registers a pattern on a mux:
// index.html at Routes, the assets under /assets/. simlab serve passes its
// HandlePublic, so the page itself needs no API token (it asks for the
// token, then everything it does goes through the API, which does).
func Mount(handle func(pattern string, h http.Handler)) error {
	index, err := fs.ReadFile(Assets, "index.html")
	if err != nil {
		return err
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(index)
	})
	for _, p := range Routes {
		handle("GET "+p, page)
	}
	files := http.StripPrefix("/assets/", http.FileServerFS(Assets))
	handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		files.ServeHTTP(w, r)
	}))
	return nil
}
