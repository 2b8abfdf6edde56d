package mobileconnect

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

// The gateway's pages (number entry, waiting, code entry, messages) are
// html/template files embedded in the binary, with one small inline
// stylesheet and no external assets.
//
//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// field is a hidden form field.
type field struct{ Name, Value string }

// pageData is what every page template gets.
type pageData struct {
	Title          string
	Lang           string
	ClientName     string
	BindingMessage string
	Refresh        string // URL the waiting page reloads
	Action         string // form target
	Hidden         []field
	LoginID        string
	Back           string
	Wrong          bool
	Message        string
	Error          *Error
}

// render writes page name with status.
func (g *Gateway) render(w http.ResponseWriter, status int, name string, d pageData) {
	if d.Lang == "" {
		d.Lang = "en"
	}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, d); err != nil {
		g.log.Error("mc: page failed", "page", name, "err", err)
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// errorPage shows an error that must not be redirected (an unknown client
// or redirect_uri: RFC 6749 §4.1.2.1).
func (g *Gateway) errorPage(w http.ResponseWriter, status int, e *Error) {
	if e == nil {
		e = newError(ErrInvalidRequest, "the request is malformed")
	}
	g.render(w, status, "error", pageData{Title: "Login request refused", Error: e})
}
