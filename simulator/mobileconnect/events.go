package mobileconnect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/simlab-dev/simlab/simulator/push"
)

// LoginEvent is one step of a login as the gateway reports it to
// Deps.OnLogin (simlab serve lists them at GET /api/v1/mc/logins and
// publishes them on the event hub's "login" topic for the web page). It
// never holds a secret: no code, token, PIN, client secret, state, nonce
// or auth_req_id — the login's ID is a digest — except in IDToken, the
// claims of an id_token already handed to its client (its nonce, and the
// CIBA auth_req_id a reader must drop).
type LoginEvent struct {
	// ID names the login: the same for every step of one login, the
	// number page included (a digest of client_id, state and nonce; of
	// the auth_req_id for SI and CIBA).
	ID string `json:"id"`
	// Step is what happened (StepRequest, …).
	Step string    `json:"step"`
	Time time.Time `json:"time"`
	// Flow is FlowRedirect, FlowSI or FlowCIBA.
	Flow       string `json:"flow"`
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name,omitempty"`
	// ACRAsked is acr_values as asked ("3 2"); ACR the level achieved and
	// AMR how (once known).
	ACRAsked string   `json:"acr_asked,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	// LoginHintMethod is MSISDN, ENCR_MSISDN, PCR or login_hint_token
	// (empty on the number page).
	LoginHintMethod string `json:"login_hint_method,omitempty"`
	MSISDN          string `json:"msisdn,omitempty"`
	// Outcome is the SIM challenge's (approved, cancelled, …) on
	// StepAnswered.
	Outcome string `json:"outcome,omitempty"`
	// Error and ErrorDescription are the client's error on StepError.
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	// MessageID is the SMSC's id of the challenge SMS (StepAnswered).
	MessageID string `json:"message_id,omitempty"`
	// ElapsedMS is the time since the request arrived.
	ElapsedMS float64 `json:"elapsed_ms"`
	// IDToken is the id_token handed to the client (StepToken), decoded:
	// header and claims, not the token. Not encoded with the event (its
	// claims may name the CIBA auth_req_id): a reader decodes the claims
	// it shows.
	IDToken *IssuedIDToken `json:"-"`
}

// Login steps, in the order a login goes through them.
const (
	StepNumberPage = "number_page" // no login_hint: the page asks for the number
	StepRequest    = "request"     // an authorize, SI or CIBA request arrived
	StepAsked      = "asked"       // the phone is asked (SIM challenge or SMS)
	StepAnswered   = "answered"    // the SIM challenge's outcome came back
	StepCode       = "code"        // authenticated: code issued (redirect) or tokens ready (SI, CIBA)
	StepToken      = "token"       // tokens handed to the client
	StepError      = "error"       // the login ended with an error for the client
)

// Login flows.
const (
	FlowRedirect = "redirect"
	FlowSI       = "si"
	FlowCIBA     = "ciba"
)

// trace is what every event of one login repeats; nil when no one
// listens (Deps.OnLogin unset), which makes every emit a no-op.
type trace struct {
	base  LoginEvent
	start time.Time
	on    func(LoginEvent)
	now   func() time.Time
}

// emit reports one step, completing e with the login's fields.
func (t *trace) emit(e LoginEvent) {
	if t == nil {
		return
	}
	b := t.base
	b.Step, b.Time = e.Step, t.now()
	b.ElapsedMS = float64(b.Time.Sub(t.start).Microseconds()) / 1000
	if e.MSISDN != "" {
		b.MSISDN = e.MSISDN
	}
	b.ACR, b.AMR, b.Outcome, b.Error, b.ErrorDescription, b.MessageID = e.ACR, e.AMR, e.Outcome, e.Error, e.ErrorDescription, e.MessageID
	b.IDToken = e.IDToken
	t.on(b)
}

// fail reports the error a login ended with.
func (t *trace) fail(e *Error) {
	if t != nil && e != nil {
		t.emit(LoginEvent{Step: StepError, Error: e.Code, ErrorDescription: e.Description})
	}
}

// done reports a login's end: authenticated (sess) or its error.
func (t *trace) done(sess *session, e *Error) {
	if t == nil {
		return
	}
	if e != nil {
		t.fail(e)
		return
	}
	sess.trace = t
	t.emit(LoginEvent{Step: StepCode, ACR: sess.acr, AMR: sess.amr})
}

// tokens reports tokens handed to the client for sess, with its id_token
// decoded.
func (sess *session) tokens(resp *TokenResponse) {
	if sess != nil && sess.trace != nil {
		e := LoginEvent{Step: StepToken, ACR: sess.acr, AMR: sess.amr}
		if resp != nil {
			e.IDToken = resp.issued
		}
		sess.trace.emit(e)
	}
}

// newTrace starts the events of a login; nil when no one listens.
func (g *Gateway) newTrace(flow, id string, clientID string, ar *AuthRequest, msisdn string) *trace {
	if g.deps.OnLogin == nil {
		return nil
	}
	now := g.deps.Now()
	return &trace{start: now, on: g.deps.OnLogin, now: g.deps.Now, base: LoginEvent{ID: id, Flow: flow, ClientID: clientID,
		ClientName: ar.ClientName, ACRAsked: strings.Join(ar.ACR, " "), LoginHintMethod: hintMethod(ar), MSISDN: msisdn}}
}

// redirectTrace starts the events of a redirect login and reports its
// request (or, without a number yet, the number page).
func (g *Gateway) redirectTrace(ar *AuthRequest, msisdn string) *trace {
	if g.deps.OnLogin == nil {
		return nil
	}
	t := g.newTrace(FlowRedirect, loginID(ar.ClientID, ar.State, ar.Nonce), ar.ClientID, ar, msisdn)
	step := StepRequest
	if ar.LoginHint == "" && ar.LoginHintToken == "" {
		step = StepNumberPage
	}
	t.emit(LoginEvent{Step: step})
	return t
}

// backchannelTrace starts the events of an SI or CIBA request and reports
// it.
func (g *Gateway) backchannelTrace(ciba bool, authReqID, clientID string, ar *AuthRequest, msisdn string) *trace {
	if g.deps.OnLogin == nil {
		return nil
	}
	flow := FlowSI
	if ciba {
		flow = FlowCIBA
	}
	t := g.newTrace(flow, digestID("bc", authReqID), clientID, ar, msisdn)
	t.emit(LoginEvent{Step: StepRequest})
	return t
}

// refused reports a redirect request refused before a login started (its
// error goes back to the client).
func (g *Gateway) refused(ar *AuthRequest, e *Error) {
	if g.deps.OnLogin != nil {
		t := g.newTrace(FlowRedirect, loginID(ar.ClientID, ar.State, ar.Nonce), ar.ClientID, ar, "")
		t.fail(e)
	}
}

// hintMethod names how a request named the subscriber.
func hintMethod(ar *AuthRequest) string {
	if ar.LoginHintToken != "" {
		return "login_hint_token"
	}
	m, _, ok := strings.Cut(ar.LoginHint, ":")
	if !ok {
		return ""
	}
	return strings.ToUpper(m)
}

// loginID is the public name of the redirect login (client_id, state,
// nonce): a digest, so that neither state nor nonce is shown.
func loginID(clientID, state, nonce string) string {
	return digestID(clientID, state+"\x00"+nonce)
}

func digestID(a, b string) string {
	h := sha256.New()
	h.Write([]byte(a))
	h.Write([]byte{0})
	h.Write([]byte(b))
	var sum [32]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// traceKey carries a login's trace in the context its authentication runs
// under, so that the challenger wrapper reports the phone's steps.
type traceKey struct{}

func withTrace(ctx context.Context, t *trace) context.Context {
	if t == nil {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, t)
}

// tracedChallenger reports the phone's steps of the login whose context
// it is called with.
type tracedChallenger struct{ Challenger }

func (c tracedChallenger) Push(ctx context.Context, r push.Request) (push.Result, error) {
	t, _ := ctx.Value(traceKey{}).(*trace)
	t.emit(LoginEvent{Step: StepAsked})
	res, err := c.Challenger.Push(ctx, r)
	if err == nil {
		acr := ""
		if res.ACR != nil {
			acr = *res.ACR
		}
		t.emit(LoginEvent{Step: StepAnswered, Outcome: res.Outcome, ACR: acr, MessageID: res.MessageID})
	}
	return res, err
}

func (c tracedChallenger) SendText(ctx context.Context, msisdn, text string, validity time.Duration) ([]string, error) {
	t, _ := ctx.Value(traceKey{}).(*trace)
	t.emit(LoginEvent{Step: StepAsked})
	return c.Challenger.SendText(ctx, msisdn, text, validity)
}

// PCR returns the subscriber's PCR for a client: the sub of its id_tokens
// (for a list of logins; it costs two MACs in the key store).
func (g *Gateway) PCR(ctx context.Context, clientID, msisdn string) (string, error) {
	return g.keys.pcr(ctx, clientID, msisdn)
}
