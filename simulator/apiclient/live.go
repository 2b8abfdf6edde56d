package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The endpoints of the live page (docs/api.md, docs/web.md): a phone
// texting an ESME or opening a link, prompts a person answers, recent
// challenges, a text composed to a phone, one message deleted.

// SendRequest is the body of POST /api/v1/phones/{msisdn}/sms.
type SendRequest struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// IDs is the SMSC's message id of each SMS sent.
type IDs struct {
	IDs []string `json:"ids"`
}

// OpenRequest is the body of POST /api/v1/phones/{msisdn}/open.
type OpenRequest struct {
	URL string `json:"url"`
}

// Prompt is a prompt shown to a person (a phone whose behaviour is human).
type Prompt struct {
	ID         string    `json:"id"`
	MSISDN     string    `json:"msisdn"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	Hidden     bool      `json:"hidden,omitempty"`
	DigitsOnly bool      `json:"digits_only,omitempty"`
	MinLen     int       `json:"min_len,omitempty"`
	MaxLen     int       `json:"max_len,omitempty"`
	Items      []string  `json:"items,omitempty"`
	URL        string    `json:"url,omitempty"`
	Shown      time.Time `json:"shown"`
	Deadline   time.Time `json:"deadline"`
	Open       bool      `json:"open"`
	Result     string    `json:"result,omitempty"`
}

// PromptList is the body of GET /api/v1/prompts.
type PromptList struct {
	Prompts []Prompt `json:"prompts"`
}

// Reply answers a prompt (POST /api/v1/prompts/{id}): Action ok, cancel,
// back, busy or ignore; Input what was typed; Item the 1-based choice.
type Reply struct {
	Action string `json:"action"`
	Input  string `json:"input,omitempty"`
	Item   int    `json:"item,omitempty"`
}

// Challenge is one SMS-PP download session as the phone saw it.
type Challenge struct {
	MSISDN      string    `json:"msisdn"`
	Start       time.Time `json:"start"`
	LatencyMS   float64   `json:"latency_ms"`
	Outcome     string    `json:"outcome"`
	LoAAsked    string    `json:"loa_asked,omitempty"`
	LoAAchieved string    `json:"loa_achieved,omitempty"`
	FirstSeq    uint64    `json:"first_seq"`
}

// ChallengeList is the body of GET /api/v1/challenges.
type ChallengeList struct {
	Challenges []Challenge `json:"challenges"`
}

// ComposeRequest is the body of POST /api/v1/messages: a text to a phone,
// as an ESME's submit_sm would bring it.
type ComposeRequest struct {
	From      string `json:"from,omitempty"`
	To        string `json:"to"`
	Text      string `json:"text"`
	Namespace string `json:"namespace,omitempty"`
}

// SendSMS makes phone msisdn send text to the address to, routed like any
// MO message (POST /api/v1/phones/{msisdn}/sms); it returns the SMSC's id
// of each part.
func (c *Client) SendSMS(ctx context.Context, msisdn, to, text string) ([]string, error) {
	out, err := call[IDs](ctx, c, http.MethodPost, phonePath(msisdn)+"/sms", nil, SendRequest{To: to, Text: text})
	if err != nil {
		return nil, err
	}
	return out.IDs, nil
}

// OpenLink makes phone msisdn open a link from its inbox (POST
// /api/v1/phones/{msisdn}/open); it returns the inbox.
func (c *Client) OpenLink(ctx context.Context, msisdn, link string) ([]InboxMessage, error) {
	out, err := call[Inbox](ctx, c, http.MethodPost, phonePath(msisdn)+"/open", nil, OpenRequest{URL: link})
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// Prompts returns the prompts waiting for a person, of one phone or of all
// ("") (GET /api/v1/prompts).
func (c *Client) Prompts(ctx context.Context, msisdn string) ([]Prompt, error) {
	q := url.Values{}
	if msisdn != "" {
		q.Set("msisdn", msisdn)
	}
	out, err := call[PromptList](ctx, c, http.MethodGet, "/api/v1/prompts", q, nil)
	if err != nil {
		return nil, err
	}
	return out.Prompts, nil
}

// ReplyPrompt answers prompt id as the person holding the phone (POST
// /api/v1/prompts/{id}); a prompt no longer waiting is a 404 *Error.
func (c *Client) ReplyPrompt(ctx context.Context, id string, r Reply) (*Prompt, error) {
	return call[Prompt](ctx, c, http.MethodPost, "/api/v1/prompts/"+url.PathEscape(id), nil, r)
}

// Challenges returns the recent challenges, newest first, of one phone or
// of all ("") (GET /api/v1/challenges); limit 0 is the server's default.
func (c *Client) Challenges(ctx context.Context, msisdn string, limit int) ([]Challenge, error) {
	q := url.Values{}
	if msisdn != "" {
		q.Set("msisdn", msisdn)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	out, err := call[ChallengeList](ctx, c, http.MethodGet, "/api/v1/challenges", q, nil)
	if err != nil {
		return nil, err
	}
	return out.Challenges, nil
}

// Compose sends a text to a phone as an ESME's submit_sm would (POST
// /api/v1/messages); it returns the SMSC's id of each part.
func (c *Client) Compose(ctx context.Context, r ComposeRequest) ([]string, error) {
	out, err := call[IDs](ctx, c, http.MethodPost, "/api/v1/messages", nil, r)
	if err != nil {
		return nil, err
	}
	return out.IDs, nil
}

// DeleteMessage deletes message id, whatever its namespace (DELETE
// /api/v1/messages/{id}); an unknown id is a 404 *Error.
func (c *Client) DeleteMessage(ctx context.Context, id string) error {
	_, err := call[deleted](ctx, c, http.MethodDelete, "/api/v1/messages/"+url.PathEscape(id), nil, nil)
	return err
}
