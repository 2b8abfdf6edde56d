package mobileconnect

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// handleAuthorize is /authorize (GET and POST; OpenID Connect Core
// §3.1.2.1). A POST is answered 303 to the same request as a GET, so that
// every later look at a login is the idempotent GET the headless GSMA SDKs
// repeat until it redirects: 200 with a waiting page while the phone is
// asked, then 302 to redirect_uri with code and state, or error,
// error_description and state.
func (g *Gateway) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/x-www-form-urlencoded" {
			g.errorPage(w, http.StatusBadRequest, newError(ErrInvalidRequest, "POST /authorize takes a form (application/x-www-form-urlencoded)"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
		if err := r.ParseForm(); err != nil {
			g.errorPage(w, http.StatusBadRequest, newError(ErrInvalidRequest, "the form could not be read"))
			return
		}
		form := r.PostForm
		if n := strings.TrimSpace(form.Get("login_hint_msisdn")); n != "" {
			// The number typed on the number page.
			form.Del("login_hint_msisdn")
			form.Set("login_hint", HintMSISDN+":"+strings.TrimPrefix(strings.ReplaceAll(n, " ", ""), "+"))
		}
		w.Header()["Cache-Control"] = hdrNoStore
		http.Redirect(w, r, g.path+"/authorize?"+form.Encode(), http.StatusSeeOther)
		return
	}
	w.Header()["Cache-Control"] = hdrNoStore
	q := readAuthorizeQuery(r.URL.RawQuery)
	// The headless re-GET of a login under way or done: the request was
	// checked when the login started, so it is not parsed again.
	if l, ok := g.st.logins.get(loginKey{q.val[apClientID], q.val[apState], q.val[apNonce]}, g.deps.Now()); ok &&
		q.val[apRedirectURI] == l.req.RedirectURI && q.n[apClientID] == 1 {
		g.showLogin(w, r, l, g.cfg.AuthorizeHold)
		return
	}
	ar, perr := q.parse()
	// Nowhere safe to redirect to: the error goes on a page.
	if ar.ClientID == "" || ar.RedirectURI == "" {
		g.errorPage(w, http.StatusBadRequest, perr)
		return
	}
	cl := g.clients.get(ar.ClientID)
	if cl == nil {
		g.errorPage(w, http.StatusBadRequest, newError(ErrInvalidRequest, "client_id is not registered"))
		return
	}
	if !cl.redirectAllowed(ar.RedirectURI) {
		g.errorPage(w, http.StatusBadRequest, newError(ErrInvalidRequest, "redirect_uri is not registered for this client"))
		return
	}
	fail := func(e *Error) {
		g.refused(&ar, e)
		http.Redirect(w, r, e.redirectURL(ar.RedirectURI, ar.State), http.StatusFound)
	}
	if cl.Disabled {
		fail(newError(ErrAccessDenied, "The client is not allowed to make MC service requests"))
		return
	}
	if perr != nil {
		fail(perr)
		return
	}
	if ar.ClientName != "" && !slices.Contains(cl.ClientNames, ar.ClientName) {
		fail(newError(ErrInvalidRequest, "client_name is not one this client may use"))
		return
	}
	if slices.Contains(ar.Prompt, "none") {
		// Every Mobile Connect login asks the phone: there is no session
		// to reuse without interaction (OpenID Connect Core §3.1.2.6).
		fail(newError(ErrLoginRequired, "prompt=none: every login needs the subscriber's phone"))
		return
	}
	if l, ok := g.st.logins.get(loginKey{ar.ClientID, ar.State, ar.Nonce}, g.deps.Now()); ok {
		g.showLogin(w, r, l, g.cfg.AuthorizeHold)
		return
	}
	if ar.LoginHint == "" && ar.LoginHintToken == "" {
		g.numberPage(w, &ar, r.URL.Query())
		return
	}
	if e := g.quota.take(cl.ID, g.deps.Now()); e != nil {
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
		}
		g.errorPage(w, e.Status, e)
		return
	}
	msisdn, e := g.resolveHint(r.Context(), cl, &ar)
	if e != nil {
		fail(e)
		return
	}
	l, e := g.startLogin(cl, &ar, msisdn)
	if e != nil {
		fail(e)
		return
	}
	// The first look: a client that is not a browser waits a little for
	// the phone, so that a fast one makes this the redirect (one exchange
	// less); a person's browser gets the waiting page at once.
	var hold time.Duration
	if !acceptsHTML(r) {
		hold = g.cfg.AuthorizeFirstHold
	}
	g.showLogin(w, r, l, hold)
}

// acceptsHTML reports whether r comes from a browser: its Accept header
// names text/html, as every browser's navigation does (the headless
// SDKs, curl and RP libraries send */*, application/json or nothing).
func acceptsHTML(r *http.Request) bool {
	for _, a := range r.Header["Accept"] {
		if strings.Contains(a, "text/html") {
			return true
		}
	}
	return false
}

// startLogin records a login and runs its authentication in the
// background; a concurrent request for the same key gets the same login.
func (g *Gateway) startLogin(cl *registered, ar *AuthRequest, msisdn string) (*login, *Error) {
	key := loginKey{ar.ClientID, ar.State, ar.Nonce}
	now := g.deps.Now()
	l := &login{key: key, req: *ar, created: now, done: make(chan struct{}), otpAsked: make(chan struct{})}
	if !g.st.begin(g.cfg.MaxPending) {
		return nil, newError(ErrTemporarilyUnavailable, "too many logins under way")
	}
	exp := now.Add(g.loginTTL())
	if old, stored := g.st.logins.putNew(key, l, now, exp); !stored {
		g.st.end()
		return old, nil
	}
	if g.log.Enabled(context.Background(), slog.LevelDebug) {
		// Checked first: the arguments cost allocations even unlogged.
		g.log.Debug("mc: login started", "client_id", cl.ID, "msisdn", msisdn, "acr_values", strings.Join(ar.ACR, " "))
	}
	t := g.redirectTrace(ar, msisdn)
	g.goCtx(func(ctx context.Context) {
		sess, e := g.authenticate(withTrace(ctx, t), cl, &l.req, msisdn, l)
		loc := ""
		if e == nil {
			code, err := g.issueCode(sess, &l.req)
			if err != nil {
				e = newError(ErrServerError, "no code could be issued")
			} else {
				t.done(sess, nil)
				loc = codeRedirect(l.req.RedirectURI, code, l.req.State)
			}
		}
		if e != nil {
			g.log.Debug("mc: login failed", "client_id", cl.ID, "msisdn", msisdn, "error", e.Code)
			t.fail(e)
			loc = e.redirectURL(l.req.RedirectURI, l.req.State)
		}
		l.mu.Lock()
		l.location = loc
		l.mu.Unlock()
		g.st.end()
		close(l.done)
	})
	return l, nil
}

// showLogin answers a look at a login: the redirect once it is done, the
// code entry page while it waits for a one-time code, else the waiting
// page (which reloads itself, as the headless SDKs poll). A positive
// hold first waits up to that long for the login to end or to want a
// code, so that the answer is the redirect as soon as the phone has
// answered instead of one more waiting page: Config.AuthorizeHold for a
// look again at a login under way (a headless SDK's next poll, the page's
// reload), Config.AuthorizeFirstHold for a non-browser's first look. The
// wait runs on Deps.After, so tests hold it in fake time.
func (g *Gateway) showLogin(w http.ResponseWriter, r *http.Request, l *login, hold time.Duration) {
	if hold > 0 {
		l.mu.Lock()
		otp := l.otpWanted
		l.mu.Unlock()
		if !otp {
			select {
			case <-l.done:
			default:
				var t *time.Timer
				var timeout <-chan time.Time
				if g.realAfter {
					t = holdTimer(hold)
					timeout = t.C
				} else {
					timeout = g.deps.After(hold)
				}
				expired := false
				select {
				case <-l.done:
				case <-l.otpAsked:
				case <-timeout:
					expired = true
				case <-r.Context().Done():
				case <-g.ctx.Done():
				}
				if t != nil {
					releaseHoldTimer(t, expired)
				}
			}
		}
	}
	select {
	case <-l.done:
		redirect(w, l.result())
		return
	default:
	}
	l.mu.Lock()
	otp, tries, id := l.otpWanted, l.otpTries, l.id
	l.mu.Unlock()
	// The page reloads the request as sent when it is all URL-safe
	// characters (as clients send it), else as parsed and encoded again.
	raw := r.URL.RawQuery
	if !urlSafe(raw) {
		raw = r.URL.Query().Encode()
	}
	self := g.path + "/authorize?" + raw
	if otp {
		g.render(w, http.StatusOK, "otp", pageData{Title: "Enter your code", Action: g.path + "/otp", LoginID: id,
			Back: self, Wrong: tries > 0, ClientName: l.req.ClientName})
		return
	}
	g.renderWait(w, self, l.req.ClientName, l.req.BindingMessage)
}

// holdTimer is a timer running for d, for a hold with the real clock
// (Gateway.realAfter): one of holdTimers, stopped and put back when the
// hold ends (releaseHoldTimer), which spares every held GET a new timer
// and channel.
func holdTimer(d time.Duration) *time.Timer {
	t, _ := holdTimers.Get().(*time.Timer)
	if t == nil {
		return time.NewTimer(d)
	}
	t.Reset(d)
	return t
}

// releaseHoldTimer stops a hold's timer and puts it back in holdTimers
// unless a value it sent may still wait in its channel: received says the
// hold took the timer's value. Since Go 1.23 Stop drains a value sent and
// not received (and reports true), but a binary run with
// GODEBUG=asynctimerchan=1 has the buffered channels of before, where
// such a value stays (Stop reports false) and would end the next hold
// that reuses the timer at once; that timer is left to the collector.
func releaseHoldTimer(t *time.Timer, received bool) {
	if t.Stop() || received {
		holdTimers.Put(t)
	}
}

// holdTimers are the stopped timers holdTimer reuses.
var holdTimers sync.Pool

// urlSafe reports whether a query holds only unreserved characters,
// percent escapes and the separators "&", "=" and "+".
func urlSafe(q string) bool {
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case isUnreserved(c), c == '&', c == '=', c == '+':
		case c == '%' && i+2 < len(q) && isHex(q[i+1:i+3]):
			i += 2
		default:
			return false
		}
	}
	return true
}

// numberPage asks the person for their number when the request has no
// login_hint; the form posts the request back with one.
func (g *Gateway) numberPage(w http.ResponseWriter, ar *AuthRequest, q url.Values) {
	var hidden []field
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "login_hint" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	g.redirectTrace(ar, "")
	for _, k := range keys {
		hidden = append(hidden, field{k, q.Get(k)})
	}
	g.render(w, http.StatusOK, "number", pageData{Title: "Log in with your phone", Action: g.path + "/authorize",
		Hidden: hidden, ClientName: ar.ClientName})
}

// handleOTP takes the one-time code typed on the page, then sends the
// browser back to the login (303).
func (g *Gateway) handleOTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		g.errorPage(w, http.StatusBadRequest, newError(ErrInvalidRequest, "the form could not be read"))
		return
	}
	id, code, back := r.PostForm.Get("login"), strings.TrimSpace(r.PostForm.Get("code")), r.PostForm.Get("back")
	if !strings.HasPrefix(back, g.path+"/authorize?") {
		g.errorPage(w, http.StatusBadRequest, newError(ErrInvalidRequest, "the form is incomplete"))
		return
	}
	g.checkOTP(id, code)
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// handleLink is the SMS+URL link the person opens on the phone.
func (g *Gateway) handleLink(w http.ResponseWriter, r *http.Request) {
	ch, ok := g.st.links.get(r.PathValue("token"), g.deps.Now())
	if !ok {
		g.render(w, http.StatusNotFound, "message", pageData{Title: "Link expired", Message: "This login link is no longer valid."})
		return
	}
	select {
	case ch <- struct{}{}:
	default:
	}
	g.render(w, http.StatusOK, "message", pageData{Title: "Logged in", Message: "You are logged in. You can close this page."})
}

// AwaitLogin waits until the redirect login of (clientID, state, nonce)
// has finished, so a test can fetch /authorize once more and get its
// redirect instead of polling. It fails at once when no such login was
// started, and with ctx.
func (g *Gateway) AwaitLogin(ctx context.Context, clientID, state, nonce string) error {
	l, ok := g.st.logins.get(loginKey{clientID, state, nonce}, g.deps.Now())
	if !ok {
		return errNoLogin
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loginTTL is how long a redirect login is remembered: the challenge,
// then its code's lifetime, with a minute's margin for the phone's network.
func (g *Gateway) loginTTL() time.Duration {
	return g.cfg.ChallengeTimeout + g.cfg.CodeTTL + time.Minute
}

// redirect answers 302 to loc without a body: http.Redirect also writes a
// small HTML page for GET requests, which no relying party reads.
func redirect(w http.ResponseWriter, loc string) {
	w.Header()["Location"] = []string{loc} // canonical key: no Set
	w.WriteHeader(http.StatusFound)
}

var (
	errNoLogin   = errors.New("mobileconnect: no such login")
	errNoRequest = errors.New("mobileconnect: no such auth_req_id")
)
