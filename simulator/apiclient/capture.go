package apiclient

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Server limits of the capture API's waits (docs/capture-api.md).
const (
	// MaxWait is the longest one long poll may last; a wait whose context
	// has no earlier deadline asks for this long.
	MaxWait = 5 * time.Minute
	// waitMargin is the least left between the server's timeout and the
	// context's deadline, so the server's 408 arrives before the context
	// ends; a quarter of the time left is kept when that is more (a busy
	// machine delays the answer), at most maxWaitMargin.
	waitMargin    = 250 * time.Millisecond
	maxWaitMargin = 5 * time.Second
)

// Message is one captured message — one SMPP submit, i.e. one part of a
// concatenated text — as the capture API shows it (schema Message).
type Message struct {
	ID string `json:"id"`
	// Namespace is the account's namespace, else its system_id.
	Namespace string `json:"namespace"`
	Account   string `json:"account,omitempty"`
	// Direction is "MT" (an ESME submitted it) or "MO" (a phone sent it).
	Direction string  `json:"direction"`
	From      string  `json:"from"`
	To        string  `json:"to"`
	Source    Address `json:"source"`
	Dest      Address `json:"dest"`
	ESMClass  uint8   `json:"esm_class"`
	PID       uint8   `json:"pid"`
	DCS       uint8   `json:"dcs"`
	Alphabet  string  `json:"alphabet"`
	// Text is the decoded text; nil for binary messages and SIM data
	// downloads. FullText is the reassembled text of a concatenated
	// message once every part is there.
	Text     *string `json:"text"`
	FullText *string `json:"full_text,omitempty"`
	UDHHex   string  `json:"udh_hex,omitempty"`
	BodyHex  string  `json:"body_hex"`
	Concat   *Concat `json:"concat,omitempty"`
	// SIMDownload marks an SMS-PP data download (PID 7F, class 2).
	SIMDownload bool `json:"sim_download,omitempty"`
	// State is ENROUTE, DELIVERED, EXPIRED, UNDELIVERABLE, REJECTED, ….
	State      string     `json:"state"`
	ErrorCode  uint16     `json:"error_code,omitempty"`
	Attempts   int        `json:"attempts,omitempty"`
	Registered uint8      `json:"registered_delivery,omitempty"`
	SubmitTime time.Time  `json:"submit_time"`
	DoneTime   *time.Time `json:"done_time,omitempty"`
	// UDH, Parts and OTA are given by the calls that return one message
	// (Message, LatestMessage, WaitMessage), not by lists.
	UDH   []UDHElement `json:"udh,omitempty"`
	Parts []Part       `json:"parts,omitempty"`
	OTA   *OTAHeader   `json:"ota,omitempty"`
	// TPDU is the SMS-DELIVER TPDU of each part of an MT message, hex.
	TPDU []string `json:"tpdu_hex,omitempty"`
}

// Body returns the message's text: the reassembled text of a complete
// concatenated message, else the part's own text ("" for binary).
func (m *Message) Body() string {
	switch {
	case m.FullText != nil:
		return *m.FullText
	case m.Text != nil:
		return *m.Text
	}
	return ""
}

// Address is an SMPP address (schema Address).
type Address struct {
	TON  uint8  `json:"ton"`
	NPI  uint8  `json:"npi"`
	Addr string `json:"addr"`
}

// Concat places a part in its concatenated message (schema Concat).
type Concat struct {
	Ref   uint16 `json:"ref"`
	Total uint8  `json:"total"`
	Seq   uint8  `json:"seq"`
	// Wide is true for a 16-bit reference.
	Wide bool `json:"wide,omitempty"`
}

// UDHElement is one information element of a user data header (schema
// UDHElement).
type UDHElement struct {
	IEI  uint8  `json:"iei"`
	Name string `json:"name"`
	Data string `json:"data_hex"`
}

// Part lists one part of a concatenated message (schema Part).
type Part struct {
	ID   string `json:"id"`
	Seq  uint8  `json:"seq"`
	Text string `json:"text,omitempty"`
}

// OTAHeader is the clear header of a TS 102 225 command or response
// packet (schema OTAHeader).
type OTAHeader struct {
	Kind     string `json:"kind"`
	CPL      int    `json:"cpl,omitempty"`
	CHL      int    `json:"chl,omitempty"`
	SPI      string `json:"spi,omitempty"`
	KIc      string `json:"kic,omitempty"`
	KID      string `json:"kid,omitempty"`
	Ciphered bool   `json:"ciphered,omitempty"`
	RPL      int    `json:"rpl,omitempty"`
	RHL      int    `json:"rhl,omitempty"`
	TAR      string `json:"tar"`
	Counter  string `json:"counter,omitempty"`
	PCNTR    *int   `json:"pcntr,omitempty"`
	Status   *int   `json:"status,omitempty"`
	Error    string `json:"error,omitempty"`
}

// MessageList is a page of GET /api/v1/messages, newest first (schema
// MessageList). NextCursor, when not empty, asks for the next page.
type MessageList struct {
	Messages   []Message `json:"messages"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// deleted is the body of DELETE /api/v1/messages.
type deleted struct {
	Deleted int `json:"deleted"`
}

// removed is the body of DELETE /api/v1/faults.
type removed struct {
	Removed int `json:"removed"`
}

// OTP is a one-time password found in a message (schema OTP).
type OTP struct {
	OTP       string `json:"otp"`
	MessageID string `json:"message_id"`
	From      string `json:"from"`
	To        string `json:"to"`
	Text      string `json:"text"`
}

// Filter selects messages (docs/capture-api.md, "Filters"). Empty fields
// match everything; the namespace is the Client's.
type Filter struct {
	// To and From match the destination and source address, Number
	// either (a leading + is ignored).
	To, From, Number string
	// Text matches messages whose text contains it, case-insensitively.
	Text string
	// Account is the system_id of the ESME (MT) or of the bind owning the
	// destination (MO).
	Account string
	// Since keeps messages submitted at or after it (the server's clock).
	Since time.Time
	// Status is a state: ENROUTE, DELIVERED, UNDELIVERABLE, EXPIRED, ….
	Status string
	// Direction is "MT" or "MO".
	Direction string
}

func (f Filter) values() url.Values {
	q := url.Values{}
	for _, kv := range [...][2]string{
		{"to", f.To}, {"from", f.From}, {"number", f.Number}, {"text", f.Text},
		{"account", f.Account}, {"status", f.Status}, {"direction", f.Direction},
	} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	return q
}

// ListRequest selects a page of messages.
type ListRequest struct {
	Filter
	// Limit is the page size, 1..1000 (0: the server's 100).
	Limit int
	// Cursor is a previous page's NextCursor.
	Cursor string
}

// OTPRequest selects the message to read a one-time password from.
type OTPRequest struct {
	Filter
	// Pattern is an RE2 regexp whose first group (or whole match) is the
	// code; empty means the server's 4 to 8 digits.
	Pattern string
}

func (r OTPRequest) values() url.Values {
	q := r.Filter.values()
	if r.Pattern != "" {
		q.Set("pattern", r.Pattern)
	}
	return q
}

// Messages lists messages, newest first (GET /api/v1/messages).
func (c *Client) Messages(ctx context.Context, r ListRequest) (*MessageList, error) {
	q := r.Filter.values()
	if r.Limit != 0 {
		q.Set("limit", strconv.Itoa(r.Limit))
	}
	if r.Cursor != "" {
		q.Set("cursor", r.Cursor)
	}
	return call[MessageList](ctx, c, http.MethodGet, "/api/v1/messages", q, nil)
}

// Message returns one message, decoded: UDH elements, the parts of a
// concatenated message, the OTA header (GET /api/v1/messages/{id}). An
// unknown id is a 404 *Error.
func (c *Client) Message(ctx context.Context, id string) (*Message, error) {
	return call[Message](ctx, c, http.MethodGet, "/api/v1/messages/"+url.PathEscape(id), nil, nil)
}

// LatestMessage returns the newest message that matches, decoded (GET
// /api/v1/messages/latest); none is a 404 *Error.
func (c *Client) LatestMessage(ctx context.Context, f Filter) (*Message, error) {
	return call[Message](ctx, c, http.MethodGet, "/api/v1/messages/latest", f.values(), nil)
}

// WaitMessage long-polls for the next message that matches (GET
// /api/v1/messages/wait): with f.Since set, the oldest one already stored
// since then is returned at once. The wait lasts until ctx's deadline, at
// most MaxWait; when it ends without a match the error is an *Error with
// status 408.
func (c *Client) WaitMessage(ctx context.Context, f Filter) (*Message, error) {
	q := f.values()
	q.Set("timeout", waitTimeout(ctx).String())
	return call[Message](ctx, c, http.MethodGet, "/api/v1/messages/wait", q, nil)
}

// DeleteMessages deletes what the filter matches — in the Client's
// namespace, or everything without one — and returns how many (DELETE
// /api/v1/messages).
func (c *Client) DeleteMessages(ctx context.Context, f Filter) (int, error) {
	out, err := call[deleted](ctx, c, http.MethodDelete, "/api/v1/messages", f.values(), nil)
	if err != nil {
		return 0, err
	}
	return out.Deleted, nil
}

// OTP returns the one-time password in the newest matching message (GET
// /api/v1/otp); none is a 404 *Error.
func (c *Client) OTP(ctx context.Context, r OTPRequest) (*OTP, error) {
	return call[OTP](ctx, c, http.MethodGet, "/api/v1/otp", r.values(), nil)
}

// WaitOTP long-polls for a message with a one-time password (GET
// /api/v1/otp?wait=…): with Since set, the oldest one already stored since
// then is returned at once. The wait lasts as WaitMessage's does.
func (c *Client) WaitOTP(ctx context.Context, r OTPRequest) (*OTP, error) {
	q := r.values()
	q.Set("wait", waitTimeout(ctx).String())
	return call[OTP](ctx, c, http.MethodGet, "/api/v1/otp", q, nil)
}

// waitTimeout is the server-side timeout of a long poll made under ctx:
// until shortly before ctx's deadline, at most MaxWait.
func waitTimeout(ctx context.Context) time.Duration {
	d := MaxWait
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		d = min(d, left-min(max(waitMargin, left/4), maxWaitMargin))
	}
	return max(d, time.Millisecond).Truncate(time.Millisecond)
}

// MessageEvent is one event of the capture stream: Kind "message" (a new
// message), "state" (a message changed state), "deleted" (messages were
// deleted) or "overflow" (this client was too slow and lost events).
// Message is nil for deleted and overflow.
type MessageEvent struct {
	Kind    string
	Message *Message
}

// StreamMessages follows the messages that match as they are stored and
// change state (GET /api/v1/messages/stream, Server-Sent Events). Close the
// stream, or cancel ctx, to end it.
func (c *Client) StreamMessages(ctx context.Context, f Filter) (*Stream[MessageEvent], error) {
	return openStream(ctx, c, "/api/v1/messages/stream", f.values(), func(event string, data []byte) (MessageEvent, error) {
		ev := MessageEvent{Kind: event}
		if event == "message" || event == "state" {
			ev.Message = new(Message)
			if err := c.decode(bytes.NewReader(data), ev.Message); err != nil {
				return ev, err
			}
		}
		return ev, nil
	})
}

// Fault is a fault-injection rule at /api/v1/faults (schema FaultRule):
// scope (Dest or Account, exactly one) and what to inject.
type Fault struct {
	Dest    string `json:"dest,omitempty"`
	Account string `json:"account,omitempty"`
	// SubmitStatus answers matching submit_sm with this command_status.
	SubmitStatus uint32 `json:"submit_status,omitempty"`
	// BindStatus refuses the account's binds with this command_status.
	BindStatus uint32 `json:"bind_status,omitempty"`
	// Throttle limits matching submits per second.
	Throttle float64 `json:"throttle,omitempty"`
	// Drop closes the submitting ESME's connection instead of answering.
	Drop bool `json:"drop,omitempty"`
	// DeliveryError fails delivery attempts with a network error code.
	DeliveryError *DeliveryError `json:"delivery_error,omitempty"`
	// Latency and Jitter delay each delivery attempt by Latency +
	// uniform[0, Jitter), as Go durations ("250ms").
	Latency string `json:"latency,omitempty"`
	Jitter  string `json:"jitter,omitempty"`
	// Probability applies the fault to this fraction of matches (0:
	// always); Count to the next Count matches only.
	Probability float64 `json:"probability,omitempty"`
	Count       int     `json:"count,omitempty"`
	// Hits is how often the fault was applied (reported, not sent).
	Hits int `json:"hits,omitempty"`
}

// DeliveryError is the network error code a fault puts in the receipt,
// and whether it is permanent (no retries).
type DeliveryError struct {
	Code      uint16 `json:"code"`
	Permanent bool   `json:"permanent,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// FaultList is the body of GET /api/v1/faults (schema FaultList).
type FaultList struct {
	Faults []Fault `json:"faults"`
}

// Faults lists the fault rules (GET /api/v1/faults).
func (c *Client) Faults(ctx context.Context) ([]Fault, error) {
	out, err := call[FaultList](ctx, c, http.MethodGet, "/api/v1/faults", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Faults, nil
}

// AddFault installs a rule, replacing the one of the same scope (POST
// /api/v1/faults).
func (c *Client) AddFault(ctx context.Context, f Fault) (*Fault, error) {
	return call[Fault](ctx, c, http.MethodPost, "/api/v1/faults", nil, f)
}

// RemoveFault removes the rule of one scope: dest or account, exactly one
// non-empty (DELETE /api/v1/faults?dest=… or ?account=…). A scope without a
// rule is a 404 *Error.
func (c *Client) RemoveFault(ctx context.Context, dest, account string) error {
	q := url.Values{}
	if dest != "" {
		q.Set("dest", dest)
	}
	if account != "" {
		q.Set("account", account)
	}
	if len(q) != 1 {
		return errors.New("apiclient: RemoveFault: give exactly one of dest and account")
	}
	_, err := call[removed](ctx, c, http.MethodDelete, "/api/v1/faults", q, nil)
	return err
}

// ResetFaults removes every rule and reseeds the generator that draws
// probabilities and jitter, so a run can be replayed (DELETE
// /api/v1/faults?seed=…). It returns how many rules were removed.
func (c *Client) ResetFaults(ctx context.Context, seed uint64) (int, error) {
	q := url.Values{"seed": {strconv.FormatUint(seed, 10)}}
	out, err := call[removed](ctx, c, http.MethodDelete, "/api/v1/faults", q, nil)
	if err != nil {
		return 0, err
	}
	return out.Removed, nil
}
