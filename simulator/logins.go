package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/smsc/capture"
)

// DefaultLogins is how many recent Mobile Connect logins GET
// /api/v1/mc/logins keeps.
const DefaultLogins = 1000

// maxLoginSteps bounds the steps kept per login (a client refreshing
// its tokens adds one each time).
const maxLoginSteps = 16

// Login is one Mobile Connect login as GET /api/v1/mc/logins lists it:
// the steps the gateway reported (mobileconnect.LoginEvent), folded. It
// holds no secret.
type Login struct {
	// Seq orders the logins (newest highest): ?before= pages with it.
	Seq        uint64    `json:"seq"`
	ID         string    `json:"id"`
	Flow       string    `json:"flow"`
	Start      time.Time `json:"start"`
	ClientID   string    `json:"client_id"`
	ClientName string    `json:"client_name,omitempty"`
	ACRAsked   string    `json:"acr_asked,omitempty"`
	ACR        string    `json:"acr,omitempty"`
	AMR        []string  `json:"amr,omitempty"`
	// LoginHintMethod: MSISDN, ENCR_MSISDN, PCR, login_hint_token; empty
	// while the number page waits.
	LoginHintMethod string `json:"login_hint_method,omitempty"`
	MSISDN          string `json:"msisdn,omitempty"`
	// PCR is the subscriber's sub for this client.
	PCR string `json:"pcr,omitempty"`
	// Status: number_page, waiting (the phone is being asked),
	// authenticated (code issued, or SI/CIBA tokens ready), redeemed
	// (tokens handed out), failed.
	Status           string `json:"status"`
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	// LatencyMS is from the request to its outcome (authenticated or
	// failed); 0 while waiting.
	LatencyMS float64 `json:"latency_ms"`
	// Challenge is the SIM challenge the phone saw for it (GET
	// /api/v1/challenges: its msisdn and first_seq), once found;
	// MessageID the SMSC's id of the challenge SMS.
	Challenge *ChallengeRef `json:"challenge,omitempty"`
	MessageID string        `json:"message_id,omitempty"`
	Steps     []LoginStep   `json:"steps"`
}

// ChallengeRef names a challenge of GET /api/v1/challenges.
type ChallengeRef struct {
	MSISDN   string `json:"msisdn"`
	FirstSeq uint64 `json:"first_seq"`
}

// LoginStep is one step of a login.
type LoginStep struct {
	Step             string    `json:"step"`
	Time             time.Time `json:"time"`
	ElapsedMS        float64   `json:"elapsed_ms"`
	Outcome          string    `json:"outcome,omitempty"`
	Error            string    `json:"error,omitempty"`
	ErrorDescription string    `json:"error_description,omitempty"`
	// IDToken is the id_token handed to the client, decoded (the token
	// step).
	IDToken *IDTokenView `json:"id_token,omitempty"`
	// issued is the id_token as the gateway reported it, decoded into
	// IDToken when the list is read (complete), not per login.
	issued *mobileconnect.IssuedIDToken
}

// IDTokenView is an issued id_token decoded: its JOSE header and its
// claims. Never the token itself, nor the access or refresh token.
type IDTokenView struct {
	// Alg and Kid are the JOSE header's; alg "none" (unsigned) under the
	// alg_none fault.
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	// Published is false when the signing key is not in the JWKS (the
	// unknown_key fault).
	Published bool `json:"published"`
	// Faults are the faults injected into the token.
	Faults []string      `json:"faults,omitempty"`
	Claims IDTokenClaims `json:"claims"`
}

// IDTokenClaims are the claims of an id_token a list of logins shows
// (MOBILE-CONNECT.md §1.4); times in seconds since the epoch.
type IDTokenClaims struct {
	Iss           string         `json:"iss"`
	Aud           string         `json:"aud"`
	Azp           string         `json:"azp,omitempty"`
	Sub           string         `json:"sub"`
	ACR           string         `json:"acr,omitempty"`
	AMR           []string       `json:"amr,omitempty"`
	Nonce         string         `json:"nonce,omitempty"`
	AuthTime      int64          `json:"auth_time,omitempty"`
	Iat           int64          `json:"iat"`
	Exp           int64          `json:"exp"`
	JTI           string         `json:"jti,omitempty"`
	AtHash        string         `json:"at_hash,omitempty"`
	HashedHint    string         `json:"hashed_login_hint,omitempty"`
	DisplayedData *DisplayedData `json:"displayed_data,omitempty"`
	DTS           string         `json:"dts,omitempty"`
	DTSTime       *int64         `json:"dts_time,omitempty"`
	UPK           *JWK           `json:"upk,omitempty"`
	Recipient     string         `json:"recipient,omitempty"`
}

// idTokenView decodes the gateway's id_token: the claims it shows, from
// the payload the gateway signed (the CIBA auth_req_id is dropped).
func idTokenView(t *mobileconnect.IssuedIDToken) *IDTokenView {
	if t == nil {
		return nil
	}
	v := &IDTokenView{Alg: t.Alg, Kid: t.Kid, Published: t.Published, Faults: t.Faults}
	if err := json.Unmarshal(t.Claims, &v.Claims); err != nil {
		return nil
	}
	return v
}

// DisplayedData is what the phone showed (the displayed_data claim of
// an authorization login).
type DisplayedData struct {
	ClientName     string `json:"client_name"`
	BindingMessage string `json:"binding_message,omitempty"`
	Context        string `json:"context,omitempty"`
}

// JWK is the card's public key of the upk claim (a P-256 JWK).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// LoginList is the body of GET /api/v1/mc/logins.
type LoginList struct {
	Logins []Login `json:"logins"`
	// Before is the ?before= of the next (older) page; 0 when none.
	Before uint64 `json:"before,omitempty"`
}

// LoginLog keeps the most recent logins, by id, in a bounded ring.
type LoginLog struct {
	Max int

	mu   sync.Mutex
	seq  uint64
	ring []*Login // in order of arrival; ring[next] is the oldest once full
	next int
	byID map[string]*Login
}

// add folds one event of the gateway into its login; it returns the
// login's PCR when known.
func (l *LoginLog) add(e mobileconnect.LoginEvent, idt *IDTokenView) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.byID[e.ID]
	if r == nil {
		r = l.insertLocked(e)
	}
	if e.Step != mobileconnect.StepNumberPage && r.Status == mobileconnect.StepNumberPage {
		// The number typed: the login proper starts.
		r.Start, r.LoginHintMethod = e.Time, e.LoginHintMethod
	}
	if e.MSISDN != "" {
		r.MSISDN = e.MSISDN
	}
	if e.ACR != "" {
		r.ACR = e.ACR
	}
	if e.AMR != nil {
		r.AMR = e.AMR
	}
	if e.MessageID != "" {
		r.MessageID = e.MessageID
	}
	elapsed := float64(e.Time.Sub(r.Start).Microseconds()) / 1000
	switch e.Step {
	case mobileconnect.StepNumberPage:
		r.Status = "number_page"
	case mobileconnect.StepRequest, mobileconnect.StepAsked, mobileconnect.StepAnswered:
		if r.Status == "number_page" || r.Status == "" {
			r.Status = "waiting"
		}
	case mobileconnect.StepCode:
		r.Status, r.LatencyMS = "authenticated", elapsed
	case mobileconnect.StepToken:
		r.Status = "redeemed"
	case mobileconnect.StepError:
		r.Status, r.Error, r.ErrorDescription = "failed", e.Error, e.ErrorDescription
		if r.LatencyMS == 0 {
			r.LatencyMS = elapsed
		}
	}
	if len(r.Steps) < maxLoginSteps {
		r.Steps = append(r.Steps, LoginStep{Step: e.Step, Time: e.Time, ElapsedMS: elapsed, Outcome: e.Outcome,
			Error: e.Error, ErrorDescription: e.ErrorDescription, IDToken: idt, issued: e.IDToken})
	}
	return r.PCR
}

// insertLocked starts login e's record. Once the ring is full it reuses
// the oldest login's record and its steps' array, which leave the log:
// readers hold copies (Recent), never a record, so the log allocates
// nothing per login in steady state (docs/benchmarks.md (aa)).
func (l *LoginLog) insertLocked(e mobileconnect.LoginEvent) *Login {
	if l.byID == nil {
		l.byID = map[string]*Login{}
	}
	var r *Login
	if len(l.ring) < max(l.Max, 1) {
		r = &Login{Steps: make([]LoginStep, 0, 6)}
		l.ring = append(l.ring, r)
	} else {
		r = l.ring[l.next]
		delete(l.byID, r.ID)
		l.next = (l.next + 1) % len(l.ring)
		clear(r.Steps) // the old steps' id_tokens go with them
	}
	l.seq++
	*r = Login{Seq: l.seq, ID: e.ID, Flow: e.Flow, Start: e.Time, ClientID: e.ClientID, ClientName: e.ClientName,
		ACRAsked: e.ACRAsked, LoginHintMethod: e.LoginHintMethod, Steps: r.Steps[:0]}
	l.byID[e.ID] = r
	return r
}

// LoginFilter selects logins: of one number, of one client, older than
// Before (a Seq), at most Limit.
type LoginFilter struct {
	MSISDN, ClientID string
	Before           uint64
	Limit            int
}

// Recent returns the logins f selects, newest first, as copies, and the
// Before of the next page (0 when there is none).
func (l *LoginLog) Recent(f LoginFilter) ([]Login, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []Login{}
	n := len(l.ring)
	for i := range n {
		r := l.ring[(l.next-1-i+2*n)%n]
		if (f.Before != 0 && r.Seq >= f.Before) || (f.MSISDN != "" && r.MSISDN != f.MSISDN) || (f.ClientID != "" && r.ClientID != f.ClientID) {
			continue
		}
		if len(out) == f.Limit {
			return out, out[len(out)-1].Seq
		}
		c := *r
		c.Steps = append([]LoginStep(nil), r.Steps...)
		out = append(out, c)
	}
	return out, 0
}

// complete fills what the list shows beyond the gateway's events, once,
// outside the hot path: the PCR (two MACs) and the challenge the phone
// saw between the login's asking and its answer.
func (l *LoginLog) complete(ctx context.Context, logins []Login, gw *mobileconnect.Gateway, ch *ChallengeLog) {
	for i := range logins {
		r := &logins[i]
		l.decodeIDTokens(r)
		if r.MSISDN == "" {
			continue
		}
		if r.PCR == "" && gw != nil {
			if p, err := gw.PCR(ctx, r.ClientID, r.MSISDN); err == nil {
				r.PCR = p
			}
		}
		if r.Challenge == nil && r.MessageID != "" {
			r.Challenge = findChallenge(ch, r)
		}
		l.mu.Lock()
		if s := l.byID[r.ID]; s != nil && s.Seq == r.Seq {
			s.PCR = r.PCR
			if s.Challenge == nil {
				s.Challenge = r.Challenge
			}
		}
		l.mu.Unlock()
	}
}

// findChallenge is the phone's challenge that began after the login asked
// it and before its answer came back.
func findChallenge(ch *ChallengeLog, r *Login) *ChallengeRef {
	var asked, answered time.Time
	for _, s := range r.Steps {
		switch s.Step {
		case mobileconnect.StepAsked:
			asked = s.Time
		case mobileconnect.StepAnswered:
			answered = s.Time
		}
	}
	if asked.IsZero() || answered.IsZero() {
		return nil
	}
	for _, c := range ch.Recent(r.MSISDN, 50) {
		if !c.Start.Before(asked) && !c.Start.After(answered) {
			return &ChallengeRef{MSISDN: c.MSISDN, FirstSeq: c.FirstSeq}
		}
	}
	return nil
}

// LoginStepEvent is what the hub's "login" topic sends: one step of a
// login and, from the step that authenticated it on, the subscriber's PCR
// (the id_token's sub).
type LoginStepEvent struct {
	mobileconnect.LoginEvent
	PCR string `json:"pcr,omitempty"`
	// IDToken is the id_token decoded (the token step).
	IDToken *IDTokenView `json:"id_token,omitempty"`
}

// onLogin is the gateway's Deps.OnLogin: the login log, and the hub's
// "login" topic when someone listens (one non-blocking publish; the hub
// encodes the event once, for every reader). Only then are the PCR (two
// MACs, once per login) and the id_token's claims (one JSON decoding)
// worked out here; otherwise the list does it when read.
func (l *Live) onLogin(e mobileconnect.LoginEvent) {
	if !l.Hub.Wants(capture.TopicLogin) {
		l.Logins.add(e, nil)
		return
	}
	idt := idTokenView(e.IDToken)
	pcr := l.Logins.add(e, idt)
	if pcr == "" && l.pcr != nil && e.MSISDN != "" && (e.Step == mobileconnect.StepCode || e.Step == mobileconnect.StepToken) {
		if p, err := l.pcr(context.Background(), e.ClientID, e.MSISDN); err == nil {
			pcr = p
			l.Logins.setPCR(e.ID, p)
		}
	}
	l.Hub.Publish(&capture.HubEvent{Topic: capture.TopicLogin, Name: "login", MSISDN: e.MSISDN, Value: LoginStepEvent{e, pcr, idt}})
}

// decodeIDTokens decodes the id_tokens of r's steps not yet decoded, and
// keeps them in the log: once per login, when the list is read.
func (l *LoginLog) decodeIDTokens(r *Login) {
	for j := range r.Steps {
		st := &r.Steps[j]
		if st.issued == nil || st.IDToken != nil {
			continue
		}
		st.IDToken = idTokenView(st.issued)
		l.mu.Lock()
		if s := l.byID[r.ID]; s != nil && s.Seq == r.Seq && j < len(s.Steps) && s.Steps[j].issued == st.issued {
			s.Steps[j].IDToken = st.IDToken
		}
		l.mu.Unlock()
	}
}

// setPCR records the PCR of login id.
func (l *LoginLog) setPCR(id, pcr string) {
	l.mu.Lock()
	if r := l.byID[id]; r != nil {
		r.PCR = pcr
	}
	l.mu.Unlock()
}

// loginsHandler serves GET /api/v1/mc/logins: the recent logins, newest
// first, ?msisdn=, ?client_id=, ?limit= (1..DefaultLogins, default 50)
// and ?before= (the answer's before, for the next page).
func (c *Core) loginsHandler(gw *mobileconnect.Gateway) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var f LoginFilter
		var err error
		if f.MSISDN, err = msisdnParam(r); err != nil {
			apiError(w, err)
			return
		}
		f.ClientID = q.Get("client_id")
		f.Limit = 50
		if s := q.Get("limit"); s != "" {
			if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 1 || f.Limit > DefaultLogins {
				apiError(w, fmt.Errorf("limit: want 1..%d, got %q", DefaultLogins, s))
				return
			}
		}
		if s := q.Get("before"); s != "" {
			if f.Before, err = strconv.ParseUint(s, 10, 64); err != nil || f.Before == 0 {
				apiError(w, fmt.Errorf("before: want a login's seq, got %q", s))
				return
			}
		}
		list, before := c.Live.Logins.Recent(f)
		c.Live.Logins.complete(r.Context(), list, gw, c.Live.Challenges)
		writeJSON(w, http.StatusOK, LoginList{Logins: list, Before: before})
	}
}
