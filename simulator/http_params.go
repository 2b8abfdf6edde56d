package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Query parameters are checked against the API document itself: a
// parameter that the operation does not declare in /api/v1/openapi.json is
// answered 400 naming it, so `/api/v1/otp?msisdn=…` (a misspelt "to") no
// longer returns another number's code, and the document and the check
// cannot drift apart. Only /api/v1/ operations the document describes are
// checked: the OpenID Connect endpoints (/mc/…) follow OpenID Connect,
// which says unknown parameters are ignored, and the web page is no API.

// queryParams maps "METHOD /path/{template}" to the query parameters the
// document declares for it (path-level ones included).
type queryParams map[string][]string

// apiQueryParams is the merged document's parameters, read once.
var apiQueryParams = sync.OnceValues(func() (queryParams, error) {
	doc, err := mergedOpenAPI()
	if err != nil {
		return nil, err
	}
	return parseQueryParams(doc)
})

// parseQueryParams reads the query parameters of every operation of an
// OpenAPI 3 document (parameters given inline or by $ref).
func parseQueryParams(doc []byte) (queryParams, error) {
	type param struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]param `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	resolve := func(ps []param) []string {
		var names []string
		for _, p := range ps {
			if p.Ref != "" {
				p = d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			if p.In == "query" {
				names = append(names, p.Name)
			}
		}
		return names
	}
	out := queryParams{}
	for path, item := range d.Paths {
		var shared []param
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, fmt.Errorf("openapi: %s parameters: %w", path, err)
			}
		}
		for method, raw := range item {
			if method == "parameters" || strings.HasPrefix(method, "x-") || method == "summary" || method == "description" || method == "servers" {
				continue
			}
			var op struct {
				Parameters []param `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi: %s %s: %w", method, path, err)
			}
			names := append(resolve(shared), resolve(op.Parameters)...)
			slices.Sort(names)
			out[strings.ToUpper(method)+" "+path] = slices.Compact(names)
		}
	}
	return out, nil
}

// allowed returns the parameters of the operation serving method and the
// mux pattern, and whether the document describes it.
func (q queryParams) allowed(method, pattern string) ([]string, bool) {
	m, path, ok := strings.Cut(pattern, " ")
	if !ok {
		m, path = method, pattern
	}
	if method == http.MethodHead && m == http.MethodGet {
		method = http.MethodGet
	}
	ps, ok := q[method+" "+path]
	if !ok && m == http.MethodGet {
		ps, ok = q["GET "+path]
	}
	return ps, ok
}

// checkQuery answers 400 for a query parameter that the operation serving
// r does not declare in the API document.
func (s *Server) checkQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" || !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		params, err := apiQueryParams()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "%v", err)
			return
		}
		_, pattern := s.mux.Handler(r)
		allowed, described := params.allowed(r.Method, pattern)
		if !described {
			next.ServeHTTP(w, r)
			return
		}
		for name := range r.URL.Query() {
			if slices.Contains(allowed, name) || (name == "token" && isEventStreamGET(r)) {
				continue
			}
			msg := fmt.Sprintf("unknown query parameter %q for %s %s", name, r.Method, r.URL.Path)
			switch {
			case name == "token":
				msg += ": a token goes in the Authorization header (?token= only on event streams, Accept: text/event-stream)"
			case len(allowed) == 0:
				msg += " (it takes none)"
			default:
				msg += " (allowed: " + strings.Join(allowed, ", ") + ")"
			}
			writeError(w, http.StatusBadRequest, "%s", msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isEventStreamGET reports whether r asks for an event stream, where the
// auth rule takes ?token= (http_auth.go).
func isEventStreamGET(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}
