package mobileconnect

import (
	"bytes"
	"embed"
	"html/template"
	"io"
	"net/http"
	"strings"
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
			d := pageData{Title: waitTitle, Lang: "en", Refresh: markRefresh}
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
		for _, m := range []string{markRefresh, markClient, markBinding} {
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
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
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
