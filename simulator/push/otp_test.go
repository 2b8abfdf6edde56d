package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", resp.Request.URL, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestPushOTPCaptured(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s, "otp")
	n := simtest.Number(t, "approve", 8101)
	res, err := p.PushOTP(context.Background(), push.OTPRequest{MSISDN: n, ClientName: "Example Bank", Length: 8, API: s.URL, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "2" || res.Receipt != "DELIVRD err:000" {
		t.Fatalf("%+v", res)
	}
	// The phone got it, and the capture API holds the code the push read.
	inbox := s.Phone(t, n).Inbox()
	if len(inbox) != 1 || !regexp.MustCompile(`^Your Example Bank code is \d{8}$`).MatchString(inbox[0].Text) {
		t.Fatalf("inbox %+v", inbox)
	}
	code := inbox[0].Text[len(inbox[0].Text)-8:]
	resp, err := http.Get(s.URL + "/api/v1/otp?to=" + n)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		OTP       string `json:"otp"`
		MessageID string `json:"message_id"`
	}
	decodeJSON(t, resp, &o)
	if o.OTP != code || o.MessageID != res.MessageID {
		t.Errorf("capture API: %+v, message id %s", o, res.MessageID)
	}
	if b, _ := json.Marshal(res); strings.Contains(string(b), code) {
		t.Errorf("the code leaked into the result: %s", b)
	}
}

// TestPushOTPConcurrent sends two codes to one number at once: each push
// must read back its own.
func TestPushOTPConcurrent(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s, "otp2")
	n := simtest.Number(t, "approve", 8102)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			res, err := p.PushOTP(context.Background(), push.OTPRequest{MSISDN: n, API: s.URL, Timeout: 20 * time.Second})
			if err != nil || res.Outcome != "approved" {
				t.Errorf("%+v %v", res, err)
			}
		})
	}
	wg.Wait()
	if got := len(s.Phone(t, n).Inbox()); got != 3 {
		t.Errorf("inbox has %d messages, want 3", got)
	}
}

func TestPushOTPNotDeliveredAndErrors(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s, "otp3")
	ctx := context.Background()
	res, err := p.PushOTP(ctx, push.OTPRequest{MSISDN: simtest.Number(t, "delivery-error", 8103), API: s.URL, Timeout: 10 * time.Second})
	if err != nil || res.Outcome != "not_delivered" || res.ACR != nil {
		t.Errorf("delivery error: %+v %v", res, err)
	}
	n := simtest.Number(t, "approve", 8103)
	if _, err := p.PushOTP(ctx, push.OTPRequest{MSISDN: n, API: s.URL, Length: 3}); err == nil {
		t.Error("3-digit code accepted")
	}
	if _, err := p.PushOTP(ctx, push.OTPRequest{MSISDN: n, API: "127.0.0.1:8775"}); !errors.Is(err, push.ErrCaptureAPI) {
		t.Errorf("API without scheme: %v", err)
	}
	// A capture API that is not there: the push fails (exit 1 in the CLI).
	if _, err := p.PushOTP(ctx, push.OTPRequest{MSISDN: n, API: "http://127.0.0.1:1", Timeout: 10 * time.Second}); !errors.Is(err, push.ErrCaptureAPI) {
		t.Errorf("capture API down: %v", err)
	}
}
