package mobileconnect

import (
	"bytes"
	"embed"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strings"

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

// waitPage is the waiting page, which every login shows at least once
// (and the headless SDKs fetch every few seconds): rendered by the
// template once per shape at start, with markers where the values go,
// then assembled per request from those parts and the escaped values.
// TestWaitPageMatchesTemplate holds it to the template's output.
var waitPage = compileWaitPage()

const (
	markRefresh = "ZqZrefreshZqZ"
	markClient  = "ZqZclientZqZ"
	markBinding = "ZqZbindingZqZ"
	markRoot    = "ZqZrootZqZ"
)

// pageParts is a page split at its markers: static text, then a marker's
// value, in turn.
type pageParts struct {
	static []string
	values []string // the marker after static[i]
}

// waitShapes holds the four shapes of the page: with or without a client
// name, with or without a binding message.
type waitShapes [2][2]pageParts

func compileWaitPage() *waitShapes {
	var w waitShapes
	for c := range 2 {
		for b := range 2 {
			d := pageData{Title: waitTitle, Lang: "en", Refresh: markRefresh, Root: markRoot}
			if c == 1 {
				d.ClientName = markClient
			}
			if b == 1 {
				d.BindingMessage = markBinding
			}
			var buf bytes.Buffer
			if err := pages.ExecuteTemplate(&buf, "wait", d); err != nil {
				panic(err)
			}
			w[c][b] = splitMarkers(buf.String())
		}
	}
	return &w
}

func splitMarkers(s string) pageParts {
	var p pageParts
	for {
		i, mark := -1, ""
		for _, m := range []string{markRefresh, markClient, markBinding, markRoot} {
			if j := strings.Index(s, m); j >= 0 && (i < 0 || j < i) {
				i, mark = j, m
			}
		}
		if i < 0 {
			p.static = append(p.static, s)
			return p
		}
		p.static = append(p.static, s[:i])
		p.values = append(p.values, mark)
		s = s[i+len(mark):]
	}
}

const waitTitle = "Check your phone"

// renderWait writes the waiting page for refresh (a path and a query of
// URL-safe characters), the client's name and the binding message.
func (g *Gateway) renderWait(w http.ResponseWriter, refresh, clientName, binding string) {
	c, b := 0, 0
	if clientName != "" {
		c = 1
	}
	if binding != "" {
		b = 1
	}
	p := &waitPage[c][b]
	setPageHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	// Straight to the response's buffer: the static parts are written as
	// they are and the values through the escaper, without a copy.
	for i, st := range p.static {
		_, _ = io.WriteString(w, st)
		if i < len(p.values) {
			switch p.values[i] {
			case markRefresh:
				_, _ = htmlEscaper.WriteString(w, refresh)
			case markClient:
				_, _ = htmlEscaper.WriteString(w, clientName)
			case markBinding:
				_, _ = htmlEscaper.WriteString(w, binding)
			case markRoot:
				_, _ = htmlEscaper.WriteString(w, g.path+"/")
			}
		}
	}
}

// htmlEscaper escapes text as html/template does in text and quoted
// attributes (its htmlReplacementTable), so the assembled page is the
// template's byte for byte.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

func setPageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
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
	setPageHeaders(w.Header())
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
