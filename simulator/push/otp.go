package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/simlab-dev/simlab/simulator/apiclient"
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
	api, err := apiclient.New(r.API)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrCaptureAPI, err)
	}
	api.Token, api.HTTPClient = r.Token, r.HTTPClient
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

	pattern := `code is (\d{` + fmt.Sprint(r.Length) + `})`
	got, err := readOTP(wctx, api, msisdn, since, pattern)
	if err == nil && got.MessageID != ids[0] {
		// Another code to the same number came first (or a second of
		// skew let an older one in): read ours by its id.
		got, err = otpByID(wctx, api, ids[0], regexp.MustCompile(pattern))
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

var errNoCode = errors.New("push: no code arrived")

// readOTP long-polls the capture API (GET /api/v1/otp) for the first
// code to msisdn stored since then, until ctx's deadline.
func readOTP(ctx context.Context, api *apiclient.Client, msisdn string, since time.Time, pattern string) (*apiclient.OTP, error) {
	got, err := api.WaitOTP(ctx, apiclient.OTPRequest{Filter: apiclient.Filter{To: msisdn, Since: since}, Pattern: pattern})
	if st := apiclient.StatusCode(err); st == http.StatusRequestTimeout || st == http.StatusNotFound {
		return nil, errNoCode
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCaptureAPI, err)
	}
	return got, nil
}

// otpByID reads one captured message and finds the code in it.
func otpByID(ctx context.Context, api *apiclient.Client, id string, re *regexp.Regexp) (*apiclient.OTP, error) {
	m, err := api.Message(ctx, id)
	if apiclient.StatusCode(err) == http.StatusNotFound {
		return nil, errNoCode
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCaptureAPI, err)
	}
	sm := re.FindStringSubmatch(m.Body())
	if sm == nil {
		return &apiclient.OTP{MessageID: m.ID}, nil
	}
	return &apiclient.OTP{OTP: sm[1], MessageID: m.ID}, nil
}
