package simulator

import (
	"encoding/json"
	"net/http"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	h, ok := s.health()
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

// authenticate requires "Authorization: Bearer TOKEN" (or the web page's
// session cookie, session.go) on everything but /healthz and the page
// when an API token is configured.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if s.cfg.APIToken == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The page's assets and session endpoints, /healthz (session.go).
		if publicPath(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !bearerOK(r, s.cfg.APIToken) && !sessionOK(r, s.cfg.APIToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="simlab"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong API token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
