package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/simlab-dev/simlab/simulator/person"
)

// Behaviour and Step are the person's script (docs/api.md, "The phone"):
// the same types the server validates, so a script can be checked with
// Behaviour.Validate before it is sent.
type (
	Behaviour = person.Behaviour
	Step      = person.Step
)

// Phone is an emulated subscriber as GET /api/v1/phones/{msisdn} shows it
// (schema Phone).
type Phone struct {
	MSISDN string `json:"msisdn"`
	ICCID  string `json:"iccid"`
	IMSI   string `json:"imsi"`
	// Magic is the outcome the number selects (docs/numbers.md), or the
	// fleet range's name; empty for ordinary fleet numbers.
	Magic     string    `json:"magic,omitempty"`
	Settings  Settings  `json:"settings"`
	PIN       PINState  `json:"pin"`
	Behaviour Behaviour `json:"behaviour"`
	// NextStep is the index of the step the next prompt takes.
	NextStep int `json:"next_step"`
	// Scripted is true once a script was set over the API.
	Scripted bool `json:"scripted"`
	// PublicKey is the card's signing key (upk), compressed P-256, hex.
	PublicKey string `json:"public_key"`
	// Inbox and Events count the text SMS and log entries it holds.
	Inbox  int `json:"inbox"`
	Events int `json:"events"`
}

// Settings are a phone's network and card conditions (schema Settings).
type Settings struct {
	Absent        bool `json:"absent"`
	NoNFC         bool `json:"no_nfc"`
	NoPINSupport  bool `json:"no_pin_support"`
	DeliveryError bool `json:"delivery_error,omitempty"`
	SIMError      bool `json:"sim_error,omitempty"`
}

// PINState is the applet PIN's state (schema PINState).
type PINState struct {
	Supported bool `json:"supported"`
	TriesLeft int  `json:"tries_left"`
	Blocked   bool `json:"blocked"`
}

// PhoneUpdate is the body of PUT /api/v1/phones/{msisdn}: what is given
// changes, the rest stays (schema PhoneUpdate).
type PhoneUpdate struct {
	// Behaviour replaces the person's script; it marks the phone scripted.
	Behaviour *Behaviour `json:"behaviour,omitempty"`
	// Next are answers for the next prompts, once each and in order; after
	// them the phone answers as it did ("next time wrong-pin, then as
	// before"). It marks the phone scripted.
	Next []Step `json:"next,omitempty"`
	// PIN is the applet PIN the card holds and the person types (5
	// digits); the card is rebuilt, its tries start again at 3.
	PIN          string `json:"pin,omitempty"`
	NoPINSupport *bool  `json:"no_pin_support,omitempty"`
	NoNFC        *bool  `json:"no_nfc,omitempty"`
	Absent       *bool  `json:"absent,omitempty"`
}

// Event is one entry of a phone's log (schema Event): Kind is prompt,
// answer, sms_in, sms_out, url, session_end, error, delivery, behaviour,
// settings or session (with the session's APDUs).
type Event struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	MSISDN string    `json:"msisdn"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail"`
	APDUs  []APDU    `json:"apdus,omitempty"`
}

// APDU is one command/response pair of an SMS-PP download session, hex
// (schema APDU).
type APDU struct {
	C       string `json:"c"`
	R       string `json:"r"`
	Command string `json:"command,omitempty"`
	Status  string `json:"status,omitempty"`
}

// InboxMessage is a text SMS a phone received (schema InboxMessage).
type InboxMessage struct {
	From string `json:"from"`
	Text string `json:"text"`
	// URL is the link found in the text; Opened says whether the person
	// opened it.
	URL    string `json:"url,omitempty"`
	Opened bool   `json:"opened"`
	// Parts is the number of SMS the text came in; Missing the parts
	// (from 1) that never arrived, for a concatenated message the phone
	// gave up waiting for.
	Parts    int       `json:"parts"`
	Missing  []int     `json:"missing,omitempty"`
	Received time.Time `json:"received"`
}

// PhoneList is the body of GET /api/v1/phones (schema PhoneList).
type PhoneList struct {
	Phones []Phone `json:"phones"`
	Count  int     `json:"count"`
}

// EventList is the body of GET /api/v1/phones/{msisdn}/events (schema
// EventList).
type EventList struct {
	Events []Event `json:"events"`
}

// Inbox is the body of GET /api/v1/phones/{msisdn}/inbox (schema Inbox).
type Inbox struct {
	Messages []InboxMessage `json:"messages"`
}

// Numbers is the body of GET /api/v1/numbers: the numbering plan the
// server runs — the embedded one or its fleet file — range by range, with
// the named ranges (the magic outcomes in the embedded plan) and the first
// unnamed one again as an older summary (schema Numbers).
type Numbers struct {
	Ranges []RangeInfo `json:"ranges"`
	Magic  []RangeInfo `json:"magic"`
	// Fleet is nil when every range is named.
	Fleet *FleetRange `json:"fleet,omitempty"`
}

// RangeInfo is one range of the plan (schema RangeInfo): what a sender
// needs to derive its cards' keys, and how its phones behave.
type RangeInfo struct {
	// Name and Description are the range's; Code is the outcome code of
	// a range named after a magic outcome (docs/numbers.md).
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Code        *int   `json:"code,omitempty"`
	// Range is the first and last number, with a leading +; Size how many
	// numbers there are.
	Range [2]string `json:"range"`
	Size  uint64    `json:"size"`
	// CardIndex is the subscriber index of the first number's card; ICCID
	// and IMSI are that card's (the k-th number's card has ICCID + k, its
	// Luhn digit recomputed, and IMSI + k).
	CardIndex uint64 `json:"card_index"`
	ICCID     string `json:"iccid"`
	IMSI      string `json:"imsi"`
	// Answer is what the range's phones answer until scripted; the rest
	// are the range's card and network conditions.
	Answer        Step `json:"answer"`
	NoNFC         bool `json:"no_nfc,omitempty"`
	NoPINSupport  bool `json:"no_pin_support,omitempty"`
	PINBlocked    bool `json:"pin_blocked,omitempty"`
	Absent        bool `json:"absent,omitempty"`
	DeliveryError bool `json:"delivery_error,omitempty"`
	SIMError      bool `json:"sim_error,omitempty"`
}

// FleetRange is the first unnamed range in short.
type FleetRange struct {
	Range [2]string `json:"range"`
	Size  uint64    `json:"size"`
}

// Health is the body of GET /healthz (schema Health).
type Health struct {
	// Status is "ok" once every subsystem is ready, else "starting".
	Status     string          `json:"status"`
	Subsystems map[string]bool `json:"subsystems"`
}

// Percentiles are latency figures in milliseconds.
type Percentiles struct {
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	Count int64   `json:"count"`
}

// SessionMetrics is the body of GET /api/v1/metrics/sessions: per
// outcome (and "all"), the time from an SMS-PP download reaching a phone to
// its answer leaving it.
type SessionMetrics struct {
	Outcomes map[string]Percentiles `json:"outcomes"`
}

// ReaderAttachment is a PC/SC reader whose card is a phone of the server
// (schema ReaderAttachment).
type ReaderAttachment struct {
	MSISDN string `json:"msisdn"`
	Reader string `json:"reader"`
	// Present says whether a card is in the reader and powered on.
	Present bool `json:"present"`
	// Error says why following the reader stopped.
	Error string `json:"error,omitempty"`
}

// AttachRequest is the body of POST /api/v1/attached (schema
// AttachRequest).
type AttachRequest struct {
	MSISDN string `json:"msisdn"`
	Reader string `json:"reader"`
	// PIN is the applet PIN the person knows (default 12345).
	PIN string `json:"pin,omitempty"`
	// Answer is what the person does with every prompt: approve (default),
	// cancel, ignore, wrong-pin.
	Answer string `json:"answer,omitempty"`
}

// AttachmentList is the body of GET /api/v1/attached (schema
// AttachmentList).
type AttachmentList struct {
	Attached []ReaderAttachment `json:"attached"`
}

// Detached is the body of DELETE /api/v1/attached/{msisdn}.
type Detached struct {
	MSISDN   string `json:"msisdn"`
	Detached bool   `json:"detached"`
}

// Phones lists the phones the server has built so far (GET
// /api/v1/phones); numbers nobody used yet are not listed.
func (c *Client) Phones(ctx context.Context) ([]Phone, error) {
	out, err := call[PhoneList](ctx, c, http.MethodGet, "/api/v1/phones", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Phones, nil
}

// Phone returns one phone, built from the plan on first use (GET
// /api/v1/phones/{msisdn}). A number outside the plan is a 404 *Error.
func (c *Client) Phone(ctx context.Context, msisdn string) (*Phone, error) {
	return call[Phone](ctx, c, http.MethodGet, phonePath(msisdn), nil, nil)
}

// UpdatePhone changes a phone (PUT /api/v1/phones/{msisdn}; PATCH is the
// same) and returns it as changed.
func (c *Client) UpdatePhone(ctx context.Context, msisdn string, u PhoneUpdate) (*Phone, error) {
	return call[Phone](ctx, c, http.MethodPut, phonePath(msisdn), nil, u)
}

// ResetPhone forgets everything set on a phone — script, PIN, settings,
// card state, inbox, log — (DELETE /api/v1/phones/{msisdn}) and returns it
// as the plan defines it.
func (c *Client) ResetPhone(ctx context.Context, msisdn string) (*Phone, error) {
	return call[Phone](ctx, c, http.MethodDelete, phonePath(msisdn), nil, nil)
}

// PhoneEvents returns a phone's event log, oldest first (GET
// /api/v1/phones/{msisdn}/events).
func (c *Client) PhoneEvents(ctx context.Context, msisdn string) ([]Event, error) {
	out, err := call[EventList](ctx, c, http.MethodGet, phonePath(msisdn)+"/events", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Events, nil
}

// PhoneInbox returns the text SMS a phone received, oldest first (GET
// /api/v1/phones/{msisdn}/inbox).
func (c *Client) PhoneInbox(ctx context.Context, msisdn string) ([]InboxMessage, error) {
	out, err := call[Inbox](ctx, c, http.MethodGet, phonePath(msisdn)+"/inbox", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// Numbers returns the numbering plan the server runs (GET
// /api/v1/numbers).
func (c *Client) Numbers(ctx context.Context) (*Numbers, error) {
	return call[Numbers](ctx, c, http.MethodGet, "/api/v1/numbers", nil, nil)
}

// StreamPhoneEvents follows the phones' events as they happen (GET
// /api/v1/events, Server-Sent Events); msisdn "" follows every phone. Close
// the stream, or cancel ctx, to end it.
func (c *Client) StreamPhoneEvents(ctx context.Context, msisdn string) (*Stream[Event], error) {
	var q url.Values
	if msisdn != "" {
		q = url.Values{"msisdn": {msisdn}}
	}
	return openStream(ctx, c, "/api/v1/events", q, func(_ string, data []byte) (Event, error) {
		var e Event
		err := c.decode(bytes.NewReader(data), &e)
		return e, err
	})
}

// Health returns the server's readiness (GET /healthz, which needs no
// token). While a subsystem is starting the server answers 503: Health
// then returns what it said (Status "starting") and an *Error.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var out Health
	err := c.do(ctx, http.MethodGet, "/healthz", nil, nil, &out)
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusServiceUnavailable {
		if json.Unmarshal(e.body, &out) != nil || out.Status == "" {
			out.Status = "starting"
		}
		return &out, err
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Metrics returns the Prometheus exposition (GET /metrics), as text.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	return c.raw(ctx, http.MethodGet, "/metrics", "text/plain")
}

// SessionMetrics returns the phones' view of challenge latency by outcome
// (GET /api/v1/metrics/sessions).
func (c *Client) SessionMetrics(ctx context.Context) (*SessionMetrics, error) {
	return call[SessionMetrics](ctx, c, http.MethodGet, "/api/v1/metrics/sessions", nil, nil)
}

// ResetSessionMetrics empties the session metrics (DELETE
// /api/v1/metrics/sessions).
func (c *Client) ResetSessionMetrics(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/metrics/sessions", nil, nil, nil)
}

// Attachments lists the PC/SC readers attached as phones (GET
// /api/v1/attached).
func (c *Client) Attachments(ctx context.Context) ([]ReaderAttachment, error) {
	out, err := call[AttachmentList](ctx, c, http.MethodGet, "/api/v1/attached", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Attached, nil
}

// Attach makes the card in a reader of the serving machine the phone
// behind a number (POST /api/v1/attached). An unknown reader is a 404
// *Error, a number already attached 409, a server without PC/SC 503.
func (c *Client) Attach(ctx context.Context, r AttachRequest) (*ReaderAttachment, error) {
	return call[ReaderAttachment](ctx, c, http.MethodPost, "/api/v1/attached", nil, r)
}

// Detach stops using the card attached to msisdn (DELETE
// /api/v1/attached/{msisdn}); a number with no reader is a 404 *Error.
func (c *Client) Detach(ctx context.Context, msisdn string) error {
	_, err := call[Detached](ctx, c, http.MethodDelete, "/api/v1/attached/"+url.PathEscape(msisdn), nil, nil)
	return err
}

// OpenAPI returns the OpenAPI 3 document of the server's API (GET
// /api/v1/openapi.json).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	return c.raw(ctx, http.MethodGet, "/api/v1/openapi.json", "application/json")
}

// SessionState says whether the server needs a token and whether this
// client's request was authenticated (GET, POST /api/v1/session).
type SessionState struct {
	TokenRequired bool       `json:"token_required"`
	Authenticated bool       `json:"authenticated"`
	Expires       *time.Time `json:"expires,omitempty"`
}

// Session returns the session state as the server sees this client (GET
// /api/v1/session). The session endpoints exist for browser pages: a Go
// client authenticates every request with Token and needs no session.
func (c *Client) Session(ctx context.Context) (*SessionState, error) {
	var out SessionState
	if err := c.do(ctx, http.MethodGet, "/api/v1/session", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LoginRequest is the body of POST /api/v1/session.
type LoginRequest struct {
	Token string `json:"token"`
}

// Login exchanges token for the session cookie a browser page keeps (POST
// /api/v1/session); the cookie is kept only if HTTPClient has a cookie jar.
func (c *Client) Login(ctx context.Context, token string) (*SessionState, error) {
	var out SessionState
	if err := c.do(ctx, http.MethodPost, "/api/v1/session", nil, LoginRequest{Token: token}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Logout ends the session of the cookie HTTPClient's jar holds (DELETE
// /api/v1/session).
func (c *Client) Logout(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/session", nil, nil, nil)
}
