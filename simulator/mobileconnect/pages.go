package mobileconnect

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/simlab-dev/simlab/simulator/web"
)

// The gateway's pages (number entry, waiting, code entry, messages) are
// html/template files embedded in the binary, styled by the web page's own
// stylesheet (simulator/web's css/app.css, served by the gateway at
// {path}/static/app.css: light and dark, no inline style or script). They
// need no JavaScript: the waiting page reloads itself with a meta refresh,
// as headless relying parties poll.
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
	// Root is the prefix of the stylesheet's address: the gateway's
	// path and a slash (render sets it); empty, the address is relative,
	// right for pages under {path}/.
	Root string
}

// pageCSP is the pages' content security policy: the stylesheet of this
// server, forms posted to it, nothing else.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// stylesheet is the web page's stylesheet, served with the pages.
var stylesheet = func() []byte {
	b, err := fs.ReadFile(web.Assets, "css/app.css")
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return b
}()

// handleStylesheet serves the pages' stylesheet.
func (g *Gateway) handleStylesheet(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(stylesheet)
}

// render writes page name with status.
func (g *Gateway) render(w http.ResponseWriter, status int, name string, d pageData) {
	if d.Lang == "" {
		d.Lang = "en"
	}
	if d.Root == "" {
		d.Root = g.path + "/"
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
	h.Set("Content-Security-Policy", pageCSP)
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
