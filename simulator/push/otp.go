package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/smsc/client"
)

// OTPRequest is a one-time code sent by SMS, read back through simlab's
// capture API (docs/capture-api.md) the way a test reads the code a user
// would type.
type OTPRequest struct {
	MSISDN     string
	ClientName string // default "simlab"
	// Length is the number of digits (4..10, default 6).
	Length int
	// Timeout bounds the delivery and the read back (default 60 s); it is
	// also the SMS's validity period.
	Timeout time.Duration
	// API is the base URL of the capture API (http://127.0.0.1:8775).
	API string
	// Token is the API's bearer token, when it needs one.
	Token string
	// HTTPClient defaults to a client without timeout (ctx bounds calls).
	HTTPClient *http.Client
}

// ErrCaptureAPI wraps failures talking to the capture API.
var ErrCaptureAPI = errors.New("push: capture API")

// otpText is the SMS of the OTP mode.
func otpText(clientName, code string) string {
	if clientName == "" {
		clientName = "simlab"
	}
	return "Your " + clientName + " code is " + code
}

// PushOTP sends a fresh code by SMS and checks it arrives intact: it
// submits "Your <client_name> code is NNNNNN" with a delivery receipt
// requested, waits for the receipt, then reads the code back from the
// capture API (GET /api/v1/otp?to=…&since=…&wait=…). Outcomes: approved
// (acr "2") when the code read back is the one sent; not_delivered when the
// receipt says the SMS failed or the code read back differs; timeout when
// no receipt or no code comes within r.Timeout. The code itself is not put
// in the Result.
func (p *Pusher) PushOTP(ctx context.Context, r OTPRequest) (Result, error) {
	start := time.Now()
	msisdn, err := fleet.Normalize(r.MSISDN)
	if err != nil {
		return Result{}, fmt.Errorf("push: %w", err)
	}
	if r.Length == 0 {
		r.Length = 6
	}
	if r.Length < 4 || r.Length > 10 {
		return Result{}, fmt.Errorf("push: OTP length %d: want 4..10 digits", r.Length)
	}
	if r.Timeout <= 0 {
		r.Timeout = 60 * time.Second
	}
	api, err := url.Parse(r.API)
	if err != nil || (api.Scheme != "http" && api.Scheme != "https") || api.Host == "" {
		return Result{}, fmt.Errorf("%w: base URL %q: want http(s)://host:port", ErrCaptureAPI, r.API)
	}
	hc := r.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	code, err := digits(r.Length)
	if err != nil {
		return Result{}, err
	}
	txid, err := digits(16)
	if err != nil {
		return Result{}, err
	}
	res := Result{MSISDN: msisdn, TransactionID: txid}

	cl := p.client()
	since := time.Now().Add(-time.Second) // a second of clock skew between us and the SMSC
	t0 := time.Now()
	ids, err := SendText(ctx, cl, p.cfg.Source, msisdn, otpText(r.ClientName, code), r.Timeout)
	res.SubmitLatencyMS = ms(time.Since(t0))
	if err != nil {
		var se *client.StatusError
		if errors.As(err, &se) {
			res.Outcome, res.Detail, res.LatencyMS = NotDelivered, strings.TrimPrefix(err.Error(), "smpp client: "), ms(time.Since(start))
			return res, nil
		}
		return res, p.submitErr(err)
	}
	res.MessageID = ids[0]

	wctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	select {
	case rc := <-p.receipts.awaitAll(wctx, ids):
		res.Receipt = rc.Stat + " err:" + rc.Err
		if !rc.Delivered() {
			res.Outcome, res.Detail, res.LatencyMS = NotDelivered, "delivery receipt "+rc.Stat+" err:"+rc.Err, ms(time.Since(start))
			return res, nil
		}
	case <-p.watch.Lost():
		res.LatencyMS = ms(time.Since(start))
		return res, p.watch.Err()
	case <-wctx.Done():
		res.LatencyMS = ms(time.Since(start))
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		res.Outcome, res.Detail = TimedOut, fmt.Sprintf("no delivery receipt within %v", r.Timeout)
		return res, nil
	}

	rb := otpReader{hc: hc, base: strings.TrimRight(r.API, "/"), token: r.Token}
	pattern := `code is (\d{` + fmt.Sprint(r.Length) + `})`
	got, err := rb.read(wctx, msisdn, since, pattern, time.Until(deadline(wctx)))
	if err == nil && got.MessageID != ids[0] {
		// Another code to the same number came first (or a second of
		// skew let an older one in): read ours by its id.
		got, err = rb.byID(wctx, ids[0], regexp.MustCompile(pattern))
	}
	res.LatencyMS = ms(time.Since(start))
	switch {
	case errors.Is(err, errNoCode):
		res.Outcome, res.Detail = TimedOut, fmt.Sprintf("no code for %s in the capture API within %v", msisdn, r.Timeout)
		return res, nil
	case err != nil:
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, err
	case got.OTP != code:
		res.Outcome, res.Detail = NotDelivered, "the code read back from the capture API differs from the one sent"
		return res, nil
	}
	acr := "2"
	res.Outcome, res.ACR = outcomeApproved, &acr
	res.Detail = fmt.Sprintf("%d-digit code read back from the capture API (message %s)", r.Length, got.MessageID)
	return res, nil
}

func deadline(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(time.Minute)
	}
	return d
}

// otpReader reads codes from the capture API.
type otpReader struct {
	hc    *http.Client
	base  string
	token string
}

// otpAnswer is the body of GET /api/v1/otp (capture.OTPResponse).
type otpAnswer struct {
	OTP       string `json:"otp"`
	MessageID string `json:"message_id"`
}

var errNoCode = errors.New("push: no code arrived")

func (o otpReader) get(ctx context.Context, path string, q url.Values, out any) (int, error) {
	u := o.base + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrCaptureAPI, err)
	}
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	resp, err := o.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrCaptureAPI, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%w: GET %s: %w", ErrCaptureAPI, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%w: GET %s: %s: %s", ErrCaptureAPI, path, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%w: GET %s: %w", ErrCaptureAPI, path, err)
	}
	return resp.StatusCode, nil
}

// read long-polls GET /api/v1/otp for the first code to msisdn stored
// since then.
func (o otpReader) read(ctx context.Context, msisdn string, since time.Time, pattern string, wait time.Duration) (otpAnswer, error) {
	wait = min(max(wait.Truncate(time.Millisecond), time.Millisecond), 5*time.Minute)
	q := url.Values{"to": {msisdn}, "since": {since.UTC().Format(time.RFC3339Nano)}, "pattern": {pattern}, "wait": {wait.String()}}
	var a otpAnswer
	status, err := o.get(ctx, "/api/v1/otp", q, &a)
	if status == http.StatusRequestTimeout || status == http.StatusNotFound {
		return a, errNoCode
	}
	return a, err
}

// byID reads one captured message and finds the code in it.
func (o otpReader) byID(ctx context.Context, id string, re *regexp.Regexp) (otpAnswer, error) {
	var m struct {
		ID       string  `json:"id"`
		Text     *string `json:"text"`
		FullText *string `json:"full_text"`
	}
	status, err := o.get(ctx, "/api/v1/messages/"+url.PathEscape(id), nil, &m)
	if status == http.StatusNotFound {
		return otpAnswer{}, errNoCode
	}
	if err != nil {
		return otpAnswer{}, err
	}
	text := ""
	switch {
	case m.FullText != nil:
		text = *m.FullText
	case m.Text != nil:
		text = *m.Text
	}
	sm := re.FindStringSubmatch(text)
	if sm == nil {
		return otpAnswer{MessageID: m.ID}, nil
	}
	return otpAnswer{OTP: sm[1], MessageID: m.ID}, nil
}
