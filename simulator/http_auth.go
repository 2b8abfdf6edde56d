package simulator

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The auth rule, the same for everything on the HTTP listener (docs/api.md
// "Authentication"). With an API token configured, a request needs one of:
//
//   - "Authorization: Bearer TOKEN", the scheme matched case-insensitively
//     (RFC 7235 §2.1);
//   - the session cookie that POST /api/v1/session sets for a browser page
//     (HttpOnly, SameSite=Strict);
//   - "?token=TOKEN" on a GET of one of the event streams
//     (eventStreamPatterns) that asks for one (Accept: text/event-stream),
//     for EventSource clients that can set neither a header nor a cookie;
//     nowhere else, so tokens stay out of other URLs and logs.
//
// Public patterns (Server.HandlePublic: /healthz, the OpenAPI document, the
// session endpoints, a subsystem's login page) need none. Wrong tokens cost
// time: after authFreeFailures from one source address (an IPv6 /64), each
// further failure locks that address out for a doubling delay (429 with
// Retry-After) up to authMaxLockout; a valid session cookie still passes,
// and the right token clears the count.
const (
	sessionCookie    = "simlab_session"
	sessionTTL       = 12 * time.Hour
	maxSessions      = 1024
	authFreeFailures = 5
	authFirstLockout = time.Second
	authMaxLockout   = 5 * time.Minute
	authForgetAfter  = 15 * time.Minute
	maxAuthSources   = 10_000
)

// eventStreamPatterns are the routes that take "?token=": the phones'
// events and the capture stream.
var eventStreamPatterns = map[string]bool{
	"GET /api/v1/events":          true,
	"GET /api/v1/messages/stream": true,
}

type authenticator struct {
	token []byte // empty: no auth
	// pattern returns the mux pattern that serves r ("" for none).
	pattern func(*http.Request) string
	// tokenSum is the token's SHA-256: comparing digests of equal length
	// reveals nothing of the token's length through timing.
	tokenSum [sha256.Size]byte
	stats    *httpStats
	now      func() time.Time // injected in tests

	mu       sync.Mutex
	sessions map[string]time.Time // session id → expiry
	failures map[netip.Addr]*authFailures
	// nfail is len(failures), read without the lock: most requests come
	// from sources that never failed.
	nfail atomic.Int32
}

type authFailures struct {
	n     int
	last  time.Time
	until time.Time // locked out until then
}

func newAuthenticator(token string, st *httpStats) *authenticator {
	return &authenticator{token: []byte(token), tokenSum: sha256.Sum256([]byte(token)), stats: st, now: time.Now,
		sessions: map[string]time.Time{}, failures: map[netip.Addr]*authFailures{}}
}

// middleware applies the auth rule in front of next; public says whether a
// request goes to a public pattern.
func (a *authenticator) middleware(next http.Handler, public func(*http.Request) bool) http.Handler {
	if len(a.token) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r) {
			next.ServeHTTP(w, r)
			return
		}
		res, ok := a.verify(w, r)
		switch {
		case !ok:
		case res == credOK:
			next.ServeHTTP(w, r)
		default:
			a.unauthorized(w)
		}
	})
}

// verify checks r's credentials under the lockout: while r's source is
// locked out it answers 429 itself and returns false; a wrong token is
// counted.
//
// A valid session cookie passes even while its source is locked out: it is
// no guess, and on a shared address (CI behind one NAT, loopback) another
// client's stale token must not lock a logged-in page out. A right token
// clears its source's failures.
func (a *authenticator) verify(w http.ResponseWriter, r *http.Request) (credResult, bool) {
	src := remoteIP(r)
	if r.Header.Get("Authorization") == "" {
		if c, err := r.Cookie(sessionCookie); err == nil && a.validSession(c.Value) {
			return credOK, true
		}
	}
	if wait, locked := a.lockedOut(src); locked {
		a.tooMany(w, wait)
		return credNone, false
	}
	res := a.check(r)
	switch res {
	case credWrong:
		a.failed(src)
	case credOK:
		if a.nfail.Load() > 0 {
			a.succeeded(src)
		}
	}
	return res, true
}

type credResult int

const (
	credNone  credResult = iota // nothing presented (or a stale session, another scheme)
	credWrong                   // a token that is not the one
	credOK
)

// check looks at r's credentials. Only a token that is not the one counts
// as wrong (a Bearer header, or ?token= on a stream); another scheme (a
// proxy's Basic) is no guess and counts as nothing.
func (a *authenticator) check(r *http.Request) credResult {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(strings.TrimSpace(h), " ")
		if strings.EqualFold(scheme, "Bearer") {
			return a.compare(strings.TrimSpace(tok))
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil && a.validSession(c.Value) {
		return credOK
	}
	if isEventStreamGET(r) && r.URL.Query().Has("token") &&
		a.pattern != nil && eventStreamPatterns[a.pattern(r)] {
		return a.compare(r.URL.Query().Get("token"))
	}
	return credNone
}

func (a *authenticator) compare(tok string) credResult {
	sum := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(sum[:], a.tokenSum[:]) == 1 {
		return credOK
	}
	return credWrong
}

func (a *authenticator) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="simlab"`)
	writeError(w, http.StatusUnauthorized, "missing or wrong API token")
}

func (a *authenticator) tooMany(w http.ResponseWriter, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	a.stats.authThrottled.Inc()
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "too many failed authentications from this address: retry in %d s", secs)
}

// sourceKey is what failures are counted by: the address, or for IPv6 its
// /64 (one subscriber's prefix; an attacker holding one rotates through
// it at will).
func sourceKey(src netip.Addr) netip.Addr {
	if src.Is6() && !src.Is4In6() {
		if p, err := src.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return src
}

// lockedOut reports whether src must wait, and how long.
func (a *authenticator) lockedOut(src netip.Addr) (time.Duration, bool) {
	if a.nfail.Load() == 0 {
		return 0, false
	}
	src = sourceKey(src)
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.failures[src]
	if f == nil {
		return 0, false
	}
	if d := f.until.Sub(a.now()); d > 0 {
		return d, true
	}
	return 0, false
}

// failed records a wrong token from src and locks it out once it has had
// its free failures.
func (a *authenticator) failed(src netip.Addr) {
	src = sourceKey(src)
	a.stats.authFailures.Inc()
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.failures[src]
	if f != nil && now.Sub(f.last) > authForgetAfter {
		f = nil
	}
	if f == nil {
		if len(a.failures) >= maxAuthSources {
			a.forget(now)
		}
		f = &authFailures{}
		a.failures[src] = f
	}
	a.nfail.Store(int32(len(a.failures)))
	f.n++
	f.last = now
	if over := f.n - authFreeFailures; over > 0 {
		d := authFirstLockout << min(over-1, 20)
		f.until = now.Add(min(d, authMaxLockout))
	}
}

// forget drops stale failure records, and the oldest if none is stale.
// Caller holds mu.
func (a *authenticator) forget(now time.Time) {
	var oldest netip.Addr
	var at time.Time
	for k, f := range a.failures {
		if now.Sub(f.last) > authForgetAfter && now.After(f.until) {
			delete(a.failures, k)
			continue
		}
		if at.IsZero() || f.last.Before(at) {
			oldest, at = k, f.last
		}
	}
	if len(a.failures) >= maxAuthSources {
		delete(a.failures, oldest)
	}
}

// succeeded clears src's failures.
func (a *authenticator) succeeded(src netip.Addr) {
	src = sourceKey(src)
	a.mu.Lock()
	delete(a.failures, src)
	a.nfail.Store(int32(len(a.failures)))
	a.mu.Unlock()
}

func remoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// SessionState is the body of GET, POST and DELETE /api/v1/session.
type SessionState struct {
	// TokenRequired says whether the server has an API token at all.
	TokenRequired bool `json:"token_required"`
	// Authenticated says whether this request carries valid credentials
	// (a session cookie, or none needed).
	Authenticated bool       `json:"authenticated"`
	Expires       *time.Time `json:"expires,omitempty"`
}

func (a *authenticator) getSession(w http.ResponseWriter, r *http.Request) {
	st := SessionState{TokenRequired: len(a.token) > 0, Authenticated: len(a.token) == 0}
	if st.TokenRequired {
		// A public endpoint, but no oracle for guessing tokens: a wrong
		// one counts like anywhere else.
		res, ok := a.verify(w, r)
		if !ok {
			return
		}
		st.Authenticated = res == credOK
		if c, err := r.Cookie(sessionCookie); err == nil {
			a.mu.Lock()
			exp, ok := a.sessions[c.Value]
			a.mu.Unlock()
			if ok && a.now().Before(exp) {
				st.Expires = &exp
			}
		}
	}
	writeJSON(w, http.StatusOK, st)
}

// login is POST /api/v1/session {"token": "…"}: with the right token it
// sets the session cookie a browser page then sends instead of the token.
func (a *authenticator) login(w http.ResponseWriter, r *http.Request) {
	if len(a.token) == 0 {
		writeJSON(w, http.StatusOK, SessionState{Authenticated: true})
		return
	}
	src := remoteIP(r)
	if wait, locked := a.lockedOut(src); locked {
		a.tooMany(w, wait)
		return
	}
	var body struct {
		Token string `json:"token"`
	}
	if err := decodeBody(w, r, 4096, &body); err != nil {
		writeError(w, http.StatusBadRequest, `body: want {"token": "…"}: %v`, err)
		return
	}
	if a.compare(body.Token) != credOK {
		a.failed(src)
		a.unauthorized(w)
		return
	}
	a.succeeded(src)
	id, exp := a.newSession()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", Expires: exp, MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	writeJSON(w, http.StatusOK, SessionState{TokenRequired: true, Authenticated: true, Expires: &exp})
}

// logout is DELETE /api/v1/session: the session ends and its cookie is
// cleared.
func (a *authenticator) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	w.WriteHeader(http.StatusNoContent)
}

func (a *authenticator) newSession() (string, time.Time) {
	var b [32]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := a.now()
	exp := now.Add(sessionTTL)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sessions) >= maxSessions {
		var oldest string
		var at time.Time
		for k, e := range a.sessions {
			if !now.Before(e) {
				delete(a.sessions, k)
				continue
			}
			if at.IsZero() || e.Before(at) {
				oldest, at = k, e
			}
		}
		if len(a.sessions) >= maxSessions {
			delete(a.sessions, oldest)
		}
	}
	a.sessions[id] = exp
	return id, exp
}

func (a *authenticator) validSession(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.sessions[id]
	if ok && !a.now().Before(exp) {
		delete(a.sessions, id)
		return false
	}
	return ok
}
