package simulator

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	h, ok := s.health()
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

// authenticate requires "Authorization: Bearer TOKEN" on everything but
// /healthz when an API token is configured.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if s.cfg.APIToken == "" {
		return next
	}
	want := []byte(s.cfg.APIToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || s.isPublic(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
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
