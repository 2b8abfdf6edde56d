// Package capture is the SMSC's HTTP capture API, the "Mailpit for SMS":
// tests and people read every message the SMSC has seen under /api/v1 —
// list and search, one message decoded (text, UDH, parts, binary, OTA
// header), the latest for a number, a long-poll wait for the next match,
// one-time-password extraction, deletion, a live Server-Sent Events stream
// and fault injection. Namespaces (the X-Simlab-Namespace header or the
// namespace query parameter) keep parallel tests apart. The OpenAPI 3
// description is served at /api/v1/openapi.json.
//
// API is an http.Handler with no authentication of its own: `simlab serve`
// puts it behind the server's one auth rule (simulator/http_auth.go). Feed
// it the server's events (Server.OnEvent =
// api.Publish) so waits and streams wake up when messages arrive.
package capture

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/smsc"
)

// OpenAPI is the OpenAPI 3 description of the capture API (also committed
// as docs/openapi.json).
//
//go:embed openapi.json
var OpenAPI []byte

// DefaultOTPPattern finds a one-time password: a run of 4 to 8 digits not
// part of a longer number.
const DefaultOTPPattern = `(?:^|\D)(\d{4,8})(?:\D|$)`

// NamespaceHeader selects the namespace of a request; the namespace query
// parameter does the same and wins.
const NamespaceHeader = "X-Simlab-Namespace"

// Defaults and limits of waits.
const (
	DefaultWait = 30 * time.Second
	MaxWait     = 5 * time.Minute
)

// API serves the capture API. Set the fields, then use it as an
// http.Handler; Publish may be called from any goroutine.
type API struct {
	// Store is where the SMSC keeps messages (the same one as
	// smsc.Server.Store).
	Store smsc.Store
	// Faults, if set, is managed at /api/v1/faults (the server's).
	Faults *smsc.Faults
	// Submit, if set, takes the messages composed with POST
	// /api/v1/messages (smsc.Server.Submit); without it that answers 501.
	Submit func(ctx context.Context, m *smsc.Message) (string, error)
	// OTPPattern overrides DefaultOTPPattern. The first capture group,
	// or the whole match without groups, is the code.
	OTPPattern *regexp.Regexp
	// Heartbeat is the SSE keep-alive interval; 15 s when 0.
	Heartbeat time.Duration

	// Hub carries the live events of waits and streams; set it to share
	// one hub with other publishers (simlab serve's phones and prompts),
	// or leave it nil for a hub of the API's own.
	Hub *Hub

	scans     chan struct{} // store scans under way (scan)
	once      sync.Once
	mux       *http.ServeMux
	closeOnce sync.Once
	closed    chan struct{}
}

func (a *API) init() {
	a.once.Do(func() {
		a.mux = a.routes()
		a.closed = make(chan struct{})
		if a.Hub == nil {
			a.Hub = &Hub{}
		}
		a.scans = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))
	})
}

// Close ends every open stream and wait, so an http.Server can shut down
// without waiting for long polls (register it with
// http.Server.RegisterOnShutdown). Later requests are still served.
func (a *API) Close() {
	a.init()
	a.closeOnce.Do(func() { close(a.closed) })
}

var defaultOTP = regexp.MustCompile(DefaultOTPPattern)

// Done is closed by Close: long-lived handlers of others sharing the hub
// (simlab serve's event stream) end with it.
func (a *API) Done() <-chan struct{} {
	a.init()
	return a.closed
}

// New returns an API over store.
func New(store smsc.Store) *API { return &API{Store: store} }

// Subscribed reports whether anyone (a long poll, a stream) waits for
// events: install it as smsc.Server.WantEvents so that the server builds
// no event snapshots nobody reads.
func (a *API) Subscribed() bool {
	a.init()
	return a.Hub.Wants(TopicMessage)
}

// Publish feeds a server event to waiters and streams. It never blocks
// and encodes nothing; use it as smsc.Server.OnEvent.
func (a *API) Publish(ev smsc.Event) {
	a.init()
	name := EventStored
	if ev.Type == smsc.EventState {
		name = EventUpdated
	}
	a.Hub.Publish(&HubEvent{Topic: TopicMessage, Name: name, Message: ev.Message})
}

// MessageFilter returns a hub match function for the messages f selects
// (other events of the message topic, such as deletions, pass).
func MessageFilter(f smsc.Filter) func(*HubEvent) bool {
	return func(e *HubEvent) bool {
		return e.Topic != TopicMessage || e.Message == nil || f.Match(e.Message)
	}
}

func (a *API) routes() *http.ServeMux {
	mux := http.NewServeMux()
	a.register(mux)
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(OpenAPI)
	})
	return mux
}

// Mount registers the API's endpoints on mux, each under its own method
// and path pattern (so that mux answers 405 and 404 for the rest), but not
// the OpenAPI document: a server that mounts several APIs serves one
// document of its own.
func (a *API) Mount(mux *http.ServeMux) {
	a.init()
	a.register(mux)
}

func (a *API) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/messages", a.list)
	mux.HandleFunc("DELETE /api/v1/messages", a.delete)
	mux.HandleFunc("POST /api/v1/messages", a.compose)
	mux.HandleFunc("GET /api/v1/messages/latest", a.latest)
	mux.HandleFunc("GET /api/v1/messages/wait", a.wait)
	mux.HandleFunc("GET /api/v1/messages/stream", a.stream)
	mux.HandleFunc("GET /api/v1/messages/{id}", a.get)
	mux.HandleFunc("DELETE /api/v1/messages/{id}", a.deleteOne)
	mux.HandleFunc("GET /api/v1/otp", a.otp)
	mux.HandleFunc("GET /api/v1/faults", a.faultsList)
	mux.HandleFunc("POST /api/v1/faults", a.faultsAdd)
	mux.HandleFunc("DELETE /api/v1/faults", a.faultsClear)
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.init()
	a.mux.ServeHTTP(w, r)
}

// Handler returns a as an http.Handler.
func (a *API) Handler() http.Handler { return a }

// ListResponse is the body of GET /api/v1/messages.
type ListResponse struct {
	Messages   []*MessageView `json:"messages"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// OTPResponse is the body of GET /api/v1/otp.
type OTPResponse struct {
	OTP       string `json:"otp"`
	MessageID string `json:"message_id"`
	From      string `json:"from"`
	To        string `json:"to"`
	Text      string `json:"text"`
}

// errorBody is every error response.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeErr(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, errorBody{Error: "capture: " + fmt.Sprintf(format, args...)})
}

// filterOf reads the filter query parameters (and namespace) of r.
func filterOf(r *http.Request) (smsc.Filter, error) {
	q := r.URL.Query()
	f := smsc.Filter{
		// +99901000042, 99901000042, 0099901000042 and " 99901000042"
		// (a raw + in a query is a space) are one number.
		To: smsc.NormalizeAddr(q.Get("to")), From: smsc.NormalizeAddr(q.Get("from")),
		Number: smsc.NormalizeAddr(q.Get("number")), Account: q.Get("account"), Text: q.Get("text"),
	}
	ns, hasNS := q.Get("namespace"), q.Has("namespace")
	if !hasNS {
		ns = r.Header.Get(NamespaceHeader)
		hasNS = ns != ""
	}
	f.Namespace, f.AllNamespaces = ns, !hasNS
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return f, fmt.Errorf("since: want an RFC 3339 time such as 2026-11-22T00:00:00Z, got %q", s)
		}
		f.Since = t
	}
	if s := q.Get("status"); s != "" {
		st, err := smsc.ParseState(strings.ToUpper(s))
		if err != nil {
			return f, fmt.Errorf("status: %v", err)
		}
		f.State = st
	}
	if s := q.Get("direction"); s != "" {
		var d smsc.Direction
		if err := d.UnmarshalText([]byte(s)); err != nil {
			return f, fmt.Errorf("direction: %v", err)
		}
		f.Direction = &d
	}
	return f, nil
}

// scan is Store.List for a request, at most half the cores at a time: a search
// scans the whole store, and on a small machine a few clients searching in
// a loop would otherwise take every core from the submit path. Requests
// beyond the limit wait their turn (or their context).
func (a *API) scan(ctx context.Context, q smsc.Query) (smsc.Page, error) {
	select {
	case a.scans <- struct{}{}:
	case <-ctx.Done():
		return smsc.Page{}, ctx.Err()
	}
	defer func() { <-a.scans }()
	return a.Store.List(ctx, q)
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	q := smsc.Query{Filter: f, Cursor: r.URL.Query().Get("cursor")}
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeErr(w, http.StatusBadRequest, "limit: want 1..1000, got %q", s)
			return
		}
		q.Limit = n
	}
	q.MaxBytes = ListMaxBytes
	page, err := a.scan(r.Context(), q)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	// The page is written one message at a time (a ListResponse), so the
	// response costs one message's view at a time, not the page's.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	bw.WriteString(`{"messages":[`)
	groups := map[smsc.ConcatKey]*string{}
	for i, m := range page.Messages {
		v := view(m)
		if k, ok := smsc.KeyOf(m); ok {
			full, seen := groups[k]
			if !seen {
				if text, _, ok := a.group(r.Context(), m); ok {
					full = &text
				}
				groups[k] = full
			}
			v.FullText = full
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		if enc.Encode(v) != nil {
			return
		}
		page.Messages[i] = nil // done with it
	}
	bw.WriteString(`]`)
	if page.Next != "" {
		next, _ := json.Marshal(page.Next)
		bw.WriteString(`,"next_cursor":`)
		bw.Write(next)
	}
	bw.WriteString("}\n")
	bw.Flush()
}

// ListMaxBytes bounds one page of GET /api/v1/messages in stored bytes
// (smsc.MessageSize): a page of large messages ends early, with a
// next_cursor for the rest, so one request cannot make the server hold a
// thousand 64 KiB messages and their views at once.
const ListMaxBytes = 8 << 20

// group finds the parts of m's concatenated message and reassembles them:
// through the store's concatenation index when it has one, else by
// listing the messages between the same numbers.
func (a *API) group(ctx context.Context, m *smsc.Message) (string, []PartView, bool) {
	k, ok := smsc.KeyOf(m)
	if !ok {
		return "", nil, false
	}
	if pf, ok := a.Store.(smsc.PartsFinder); ok {
		parts, err := pf.Parts(ctx, k)
		if err != nil {
			return "", nil, false
		}
		slices.Reverse(parts) // newest first, as listed: a part sent again wins
		return reassemble(parts)
	}
	f := smsc.Filter{Namespace: m.Namespace, From: m.Source.Addr, To: m.Dest.Addr}
	page, err := a.scan(ctx, smsc.Query{Filter: f, Limit: 1000, MaxBytes: ListMaxBytes})
	if err != nil {
		return "", nil, false
	}
	var parts []*smsc.Message
	for _, p := range page.Messages {
		if pk, ok := smsc.KeyOf(p); ok && pk == k {
			parts = append(parts, p)
		}
	}
	return reassemble(parts)
}

// detailed returns the full view of m: decoded UDH, OTA header, parts.
func (a *API) detailed(ctx context.Context, m *smsc.Message) *MessageView {
	v := view(m)
	detail(v)
	if m.Concat != nil {
		text, parts, ok := a.group(ctx, m)
		v.Parts = parts
		if ok {
			v.FullText = &text
		}
	}
	return v
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	m, err := a.Store.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, smsc.ErrNotFound) {
		writeErr(w, http.StatusNotFound, "no message %q", r.PathValue("id"))
		return
	}
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, a.detailed(r.Context(), m))
}

func (a *API) latest(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	page, err := a.scan(r.Context(), smsc.Query{Filter: f, Limit: 1})
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if len(page.Messages) == 0 {
		writeErr(w, http.StatusNotFound, "no message matches")
		return
	}
	writeJSON(w, http.StatusOK, a.detailed(r.Context(), page.Messages[0]))
}

func (a *API) delete(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	n, err := a.Store.Delete(r.Context(), f)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	a.Hub.Publish(&HubEvent{Topic: TopicMessage, Name: EventDeleted, Value: map[string]int{"deleted": n}})
	writeJSON(w, http.StatusOK, map[string]int{"deleted": n})
}

// deleteOne serves DELETE /api/v1/messages/{id}: one message, whatever
// its namespace.
func (a *API) deleteOne(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	n, err := a.Store.Delete(r.Context(), smsc.Filter{ID: id, AllNamespaces: true})
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if n == 0 {
		writeErr(w, http.StatusNotFound, "no message %q", id)
		return
	}
	a.Hub.Publish(&HubEvent{Topic: TopicMessage, Name: EventDeleted, Value: map[string]any{"deleted": n, "id": id}})
	writeJSON(w, http.StatusOK, map[string]int{"deleted": n})
}

// waitTimeout reads the timeout parameter (a Go duration or seconds), or
// /otp's wait, naming in an error the one the request gave.
func waitTimeout(r *http.Request) (time.Duration, error) {
	q := r.URL.Query()
	name, s := "timeout", q.Get("timeout")
	if !q.Has("timeout") && q.Has("wait") {
		name, s = "wait", q.Get("wait")
	}
	if s == "" {
		return DefaultWait, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, err2 := strconv.ParseFloat(s, 64)
		if err2 != nil {
			return 0, fmt.Errorf("%s: want a duration such as 10s, got %q", name, s)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d <= 0 || d > MaxWait {
		return 0, fmt.Errorf("%s: want (0, %v], got %v", name, MaxWait, d)
	}
	return d, nil
}

// awaitMessage returns the first message matching f that satisfies ok:
// one already stored since f.Since (when set), or the next to arrive. It
// subscribes before looking at the store, so nothing arriving in between
// is missed.
func (a *API) awaitMessage(ctx context.Context, f smsc.Filter, ok func(*smsc.Message) bool) (*smsc.Message, error) {
	sub := a.Hub.Subscribe(TopicMessage, MessageFilter(f), 256)
	defer a.Hub.Unsubscribe(sub)
	if !f.Since.IsZero() {
		page, err := a.scan(ctx, smsc.Query{Filter: f, Limit: 1000, MaxBytes: ListMaxBytes})
		if err != nil {
			return nil, err
		}
		for i := len(page.Messages) - 1; i >= 0; i-- { // oldest first
			if ok(page.Messages[i]) {
				return page.Messages[i], nil
			}
		}
	}
	for {
		if sub.Lost() { // parked when its buffer filled: take it back
			a.Hub.Relist(sub)
		}
		select {
		case ev := <-sub.C():
			if ev.Name == EventStored && ev.Message != nil && ok(ev.Message) {
				return ev.Message, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-a.closed:
			return nil, errors.New("capture: server shutting down")
		}
	}
}

func (a *API) wait(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	d, err := waitTimeout(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	m, err := a.awaitMessage(ctx, f, func(*smsc.Message) bool { return true })
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			writeErr(w, http.StatusRequestTimeout, "no message matched within %v", d)
			return
		}
		writeErr(w, http.StatusServiceUnavailable, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, a.detailed(r.Context(), m))
}

// FindOTP returns the one-time password in text found by re (nil: the
// default 4-8 digit pattern): its first capture group, or the whole match.
func FindOTP(re *regexp.Regexp, text string) (string, bool) {
	if re == nil {
		re = defaultOTP
	}
	sm := re.FindStringSubmatch(text)
	if sm == nil {
		return "", false
	}
	for _, g := range sm[1:] {
		if g != "" {
			return g, true
		}
	}
	return sm[0], true
}

// otp serves GET /api/v1/otp: the code in the newest matching message,
// or with wait=DURATION the first one to arrive.
func (a *API) otp(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	re := a.OTPPattern
	if p := r.URL.Query().Get("pattern"); p != "" {
		if re, err = regexp.Compile(p); err != nil {
			writeErr(w, http.StatusBadRequest, "pattern: %v", err)
			return
		}
	}
	extract := func(m *smsc.Message) (OTPResponse, bool) {
		text, ok := m.Text()
		if !ok || m.SIMDownload {
			return OTPResponse{}, false
		}
		if m.Concat != nil {
			full, _, complete := a.group(r.Context(), m)
			if !complete {
				return OTPResponse{}, false
			}
			text = full
		}
		code, ok := FindOTP(re, text)
		return OTPResponse{OTP: code, MessageID: m.ID, From: m.Source.Addr, To: m.Dest.Addr, Text: text}, ok
	}
	if r.URL.Query().Has("wait") || r.URL.Query().Has("timeout") {
		d, err := waitTimeout(r)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "%v", err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		var found OTPResponse
		_, err = a.awaitMessage(ctx, f, func(m *smsc.Message) bool {
			var ok bool
			found, ok = extract(m)
			return ok
		})
		if errors.Is(err, context.DeadlineExceeded) {
			writeErr(w, http.StatusRequestTimeout, "no message with a code arrived within %v", d)
			return
		}
		if err != nil {
			writeErr(w, http.StatusServiceUnavailable, "%v", err)
			return
		}
		writeJSON(w, http.StatusOK, found)
		return
	}
	page, err := a.scan(r.Context(), smsc.Query{Filter: f, Limit: 100})
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	for _, m := range page.Messages {
		if res, ok := extract(m); ok {
			writeJSON(w, http.StatusOK, res)
			return
		}
	}
	writeErr(w, http.StatusNotFound, "no message with a code matches")
}

// stream serves GET /api/v1/messages/stream as Server-Sent Events: an
// event "message" for each new message, "state" for each state change,
// "deleted" after a deletion, "overflow" when the client was too slow and
// lost events. A comment line keeps idle connections open. Events come in
// batches at most ten times a second (Hub.WriteStream), at most ?buffer=
// (default DefaultStreamBuffer) a batch.
func (a *API) stream(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	buf, err := StreamBuffer(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	sub := a.Hub.Subscribe(TopicMessage, MessageFilter(f), buf)
	defer a.Hub.Unsubscribe(sub)
	a.Hub.WriteStream(w, r, sub, StreamOptions{Heartbeat: a.Heartbeat, Done: a.closed, Hello: "simlab capture stream"})
}
