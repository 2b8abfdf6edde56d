package simulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/simlab-dev/simlab/internal/jsonbody"
)

// The HTTP stack every subsystem shares (Mailpit's shape: one mux, one
// middleware chain). A request passes, outermost first:
//
//  1. jsonErrors: every error answer is JSON {"error": "…"}, including the
//     mux's own 404 and 405 and anything written with http.Error;
//  2. the Host check (http_host.go): a Host header that is not this
//     server's is answered 421, so that a DNS-rebinding page cannot use it;
//  3. cross-origin protection (net/http's): a browser on another origin
//     cannot make state-changing requests with the session cookie (public
//     patterns of HandlePublic are exempt);
//  4. the auth rule (http_auth.go);
//  5. the query check: parameters the API document does not declare for
//     the operation are refused (http_params.go);
//  6. the mux, where subsystems mount their handlers.
//
// The server behind it has read-header, read and idle timeouts and sits on
// a listener with connection caps (config.go HTTPLimits).
func (s *Server) newHTTPServer() *http.Server {
	lim := s.cfg.HTTPLimits
	hs := &http.Server{
		Handler:           jsonErrors(s.hosts.check(s.cop.Handler(s.auth.middleware(s.checkQuery(s.mux), s.isPublic)))),
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		// net/http's own complaints (bad requests, panics) go to the
		// server's log, not to the standard logger.
		ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	for _, f := range s.onShutdown {
		hs.RegisterOnShutdown(f)
	}
	s.mu.Unlock()
	return hs
}

// OnHTTPShutdown registers f to run when the HTTP server starts shutting
// down: end long polls and event streams there, so that shutdown does not
// wait for them. Call it from a subsystem starter.
func (s *Server) OnHTTPShutdown(f func()) {
	s.mu.Lock()
	s.onShutdown = append(s.onShutdown, f)
	s.mu.Unlock()
}

// mountServerRoutes mounts what belongs to the server rather than to a
// subsystem: health, metrics, the API document and the session login.
func (s *Server) mountServerRoutes() {
	s.HandlePublic("GET /healthz", http.HandlerFunc(s.handleHealthz))
	s.mux.Handle("GET /metrics", s.metricsHandler())
	s.HandlePublic("GET /api/v1/openapi.json", http.HandlerFunc(serveOpenAPI))
	s.handlePublic("GET /api/v1/session", http.HandlerFunc(s.auth.getSession))
	s.handlePublic("POST /api/v1/session", http.HandlerFunc(s.auth.login))
	s.handlePublic("DELETE /api/v1/session", http.HandlerFunc(s.auth.logout))
}

// isPublic reports whether the pattern that serves r is public.
func (s *Server) isPublic(r *http.Request) bool {
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.public[pattern]
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	h, ok := s.health()
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

// decodeBody reads r's body as exactly one JSON document into v: at most
// limit bytes, no unknown field, nothing after it (a second document would
// otherwise be ignored silently). It is jsonbody.Decode, which the capture
// API's bodies go through too.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return jsonbody.Decode(w, r, limit, v)
}

// errorBody is the body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, errorBody{Error: fmt.Sprintf(format, args...)})
}

// jsonErrors turns plain-text error answers (the mux's 404 and 405,
// http.Error anywhere below) into the JSON error body, keeping the status
// and headers such as Allow. Answers that are already JSON, HTML or
// anything else pass untouched.
func jsonErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ew := &errorWriter{ResponseWriter: w, r: r}
		next.ServeHTTP(ew, r)
		ew.finish()
	})
}

type errorWriter struct {
	http.ResponseWriter
	r       *http.Request
	code    int
	rewrite bool
	buf     bytes.Buffer
}

func (w *errorWriter) WriteHeader(code int) {
	if w.code != 0 {
		return
	}
	w.code = code
	ct := w.Header().Get("Content-Type")
	if code >= 400 && (ct == "" || strings.HasPrefix(ct, "text/plain")) {
		w.rewrite = true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.rewrite {
		if w.buf.Len() < 4096 {
			w.buf.Write(b[:min(len(b), 4096-w.buf.Len())])
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps event streams working through the wrapper.
func (w *errorWriter) Flush() {
	if w.rewrite {
		return
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection over (websockets), as the writer below does.
func (w *errorWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *errorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *errorWriter) finish() {
	if !w.rewrite {
		return
	}
	msg := strings.TrimSpace(w.buf.String())
	switch w.code {
	case http.StatusNotFound:
		msg = "no such endpoint: " + w.r.URL.Path
	case http.StatusMethodNotAllowed:
		msg = fmt.Sprintf("method %s not allowed on %s", w.r.Method, w.r.URL.Path)
		if allow := w.Header().Get("Allow"); allow != "" {
			msg += " (allowed: " + allow + ")"
		}
	}
	if msg == "" {
		msg = http.StatusText(w.code)
	}
	h := w.Header()
	h.Del("X-Content-Type-Options")
	h.Del("Content-Length")
	writeJSON(w.ResponseWriter, w.code, errorBody{Error: msg})
}

// refuseHTTP answers a connection beyond the listener's caps: 503 with a
// JSON body and Retry-After, then a lingering close (the request, if any,
// is read and dropped for up to a second, so that the peer sees the answer
// rather than a reset).
func refuseHTTP(c net.Conn, reason string) {
	deadline := time.Now().Add(time.Second)
	c.SetDeadline(deadline)
	body := fmt.Sprintf(`{"error":"too many connections (%s cap): try again later"}`+"\n", strings.ReplaceAll(reason, "_", "-"))
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s", len(body), body)
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
	var sink [4096]byte
	for n := 0; n < 64<<10; {
		k, err := c.Read(sink[:])
		n += k
		if err != nil {
			break
		}
	}
}
