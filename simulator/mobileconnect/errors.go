package mobileconnect

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Error codes (RFC 6749 §4.1.2.1 and §5.2, OpenID Connect Core §3.1.2.6,
// CIBA Core §11 and §13, and the GSMA Mobile Connect error table).
const (
	ErrInvalidRequest          = "invalid_request"
	ErrUnauthorizedClient      = "unauthorized_client"
	ErrAccessDenied            = "access_denied"
	ErrUnsupportedResponseType = "unsupported_response_type"
	ErrInvalidScope            = "invalid_scope"
	ErrServerError             = "server_error"
	ErrTemporarilyUnavailable  = "temporarily_unavailable"
	ErrLoginRequired           = "login_required"
	ErrInvalidClient           = "invalid_client"
	ErrInvalidGrant            = "invalid_grant"
	ErrUnsupportedGrantType    = "unsupported_grant_type"
	ErrInvalidToken            = "invalid_token"
	ErrAuthorizationPending    = "authorization_pending"
	ErrSlowDown                = "slow_down"
	ErrExpiredToken            = "expired_token"
	ErrInvalidRequestObject    = "invalid_request_object"
)

// Error is every error the gateway answers with, written the same way
// everywhere: as JSON with an HTTP status (token, userinfo, si-authorize,
// control API), as redirect_uri parameters (authorize, with state), or
// on an error page when there is nowhere safe to redirect to. Its texts
// never carry secrets, codes or tokens.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	// State is echoed on redirects.
	State string `json:"-"`
	// Status is the HTTP status of a JSON answer (default 400).
	Status int `json:"-"`
	// RetryAfter, when set, becomes the Retry-After header (quota, slow
	// token endpoint).
	RetryAfter time.Duration `json:"-"`
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "mobileconnect: " + e.Code
	}
	return "mobileconnect: " + e.Code + ": " + e.Description
}

func newError(code, desc string) *Error { return &Error{Code: code, Description: desc} }

// mandatory is the GSMA wording for a missing or malformed parameter.
func mandatory(param string) *Error {
	return newError(ErrInvalidRequest, "MANDATORY parameter "+param+" is missing / invalid.")
}

func (e *Error) status() int {
	if e.Status != 0 {
		return e.Status
	}
	switch e.Code {
	case ErrInvalidClient, ErrInvalidToken:
		return http.StatusUnauthorized
	case ErrServerError:
		return http.StatusInternalServerError
	case ErrTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// writeJSON writes e as a JSON error answer (RFC 6749 §5.2).
func (e *Error) writeJSON(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	st := e.status()
	if st == http.StatusUnauthorized {
		if e.Code == ErrInvalidToken {
			h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		} else {
			h.Set("WWW-Authenticate", `Basic realm="simlab mobile connect"`)
		}
	}
	writeJSON(w, st, e)
}

// redirectURL is e as the redirect_uri with its parameters.
func (e *Error) redirectURL(redirectURI, state string) string {
	q := url.Values{"error": {e.Code}}
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	if state != "" {
		q.Set("state", state)
	}
	return withQuery(redirectURI, q)
}

// withQuery adds q to uri's query, keeping what it has.
func withQuery(uri string, q url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + q.Encode()
}

// codeRedirect is the successful login's redirect: redirectURI with code
// and state added, the same string as withQuery with url.Values{"code",
// "state"} makes (keys in order, each value query-escaped), put together
// without the map and its sorting.
func codeRedirect(redirectURI, code, state string) string {
	sep := "?"
	if strings.Contains(redirectURI, "?") {
		sep = "&"
	}
	return redirectURI + sep + "code=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(state)
}

// writeJSON answers code with v as JSON (and a newline, as
// json.Encoder writes it), encoded first into a pooled buffer so that the
// answer carries its Content-Length and its body goes to net/http in one
// Write: net/http then sends the header and the body in one write
// system call, never chunked (it counts a body itself only up to 2,048
// bytes, which a token answer with an RS256 id_token and displayed_data
// comes near).
func writeJSON(w http.ResponseWriter, code int, v any) {
	buf := getBuffer()
	defer putBuffer(buf)
	h := w.Header()
	h["Content-Type"] = hdrJSON
	if err := buf.enc.Encode(v); err != nil {
		// What json.NewEncoder(w).Encode wrote for a value it cannot
		// encode: nothing.
		w.WriteHeader(code)
		return
	}
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// jsonBuffer is a buffer with a json.Encoder writing into it, kept in
// bufferPool for answers, id_token payloads and JWS.
type jsonBuffer struct {
	bytes.Buffer
	enc *json.Encoder
}

// bufferPool holds the jsonBuffers; one grown past maxPooledBuffer (an
// odd answer) is left to the garbage collector rather than kept.
var bufferPool = sync.Pool{New: func() any {
	b := new(jsonBuffer)
	b.enc = json.NewEncoder(&b.Buffer)
	return b
}}

const maxPooledBuffer = 16 << 10

func getBuffer() *jsonBuffer { return bufferPool.Get().(*jsonBuffer) }

func putBuffer(b *jsonBuffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	bufferPool.Put(b)
}
