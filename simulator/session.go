package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/simlab-dev/simlab/simulator/web"
)

// The web page's session (a minimal version of the shared mechanism: the
// page asks for the API token once and keeps a session cookie instead).
// POST /api/v1/session {"token": "…"} checks the token and sets an HttpOnly,
// SameSite=Strict cookie that authenticate accepts in place of the bearer
// token; DELETE /api/v1/session clears it; GET /api/v1/session says whether
// a token is needed and whether the request carries a valid one.
//
// The cookie holds HMAC-SHA256(token, "simlab web session"), not the
// token: it is worth the token on this server only, and changing the token
// ends every session.

// SessionCookie is the name of the page's session cookie.
const SessionCookie = "simlab_session"

// SessionState is the body of GET /api/v1/session.
type SessionState struct {
	// TokenRequired is true when the server has an API token.
	TokenRequired bool `json:"token_required"`
	// Authenticated is true when this request may use the API.
	Authenticated bool `json:"authenticated"`
}

func sessionValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("simlab web session"))
	return hex.EncodeToString(m.Sum(nil))
}

// sessionOK reports whether r carries the session cookie of token and,
// for a request that changes something, comes from this server's own
// origin (the cookie is SameSite=Strict already; this also covers older
// browsers).
func sessionOK(r *http.Request, token string) bool {
	c, err := r.Cookie(SessionCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sessionValue(token))) != 1 {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// publicPath is what needs no token: health, the session endpoints and
// the page itself (it asks for the token).
func publicPath(r *http.Request) bool {
	p := r.URL.Path
	return p == "/healthz" || p == "/api/v1/session" || web.Public(r)
}

func init() {
	subsystemStarters = append(subsystemStarters, func(s *Server, cfg Config) (Subsystem, error) {
		mountSession(s.Mux(), cfg.APIToken)
		return nil, nil
	})
}

func mountSession(mux *http.ServeMux, token string) {
	mux.HandleFunc("GET /api/v1/session", func(w http.ResponseWriter, r *http.Request) {
		ok := token == "" || bearerOK(r, token) || sessionOK(r, token)
		writeJSON(w, http.StatusOK, SessionState{TokenRequired: token != "", Authenticated: ok})
	})
	mux.HandleFunc("POST /api/v1/session", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Token string `json:"token"`
		}
		if err := decodeBody(w, r, &body); err != nil {
			apiError(w, err)
			return
		}
		if token == "" {
			writeJSON(w, http.StatusOK, SessionState{Authenticated: true})
			return
		}
		if subtle.ConstantTimeCompare([]byte(body.Token), []byte(token)) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "wrong API token"})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: sessionValue(token), Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		writeJSON(w, http.StatusOK, SessionState{TokenRequired: true, Authenticated: true})
	})
	mux.HandleFunc("DELETE /api/v1/session", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.WriteHeader(http.StatusNoContent)
	})
}

// bearerOK reports whether r carries "Authorization: Bearer token".
func bearerOK(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}
