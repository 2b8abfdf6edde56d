package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

func TestParseRange(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		n     int
		at    map[int]string
		error string
	}{
		{in: "9990001000-9990001999", n: 1000, at: map[int]string{0: "9990001000", 999: "9990001999", 1000: "9990001000", 1234: "9990001234"}},
		{in: "+99901000000-+99901000999", n: 1000, at: map[int]string{0: "99901000000", 5: "99901000005", 2001: "99901000001"}},
		{in: " +99901000007 ", n: 1, at: map[int]string{0: "99901000007", 9: "99901000007"}},
		{in: "0012-0014", n: 3, at: map[int]string{0: "0012", 2: "0014", 3: "0012"}},
		{in: "9990001999-9990001000", error: "below the first"},
		{in: "999-1000", error: "3 and 4 digits"},
		{in: "12a-13", error: "first number"},
		{in: "12-", error: "last number"},
		{in: "1234567890123456789-1234567890123456789", error: "18 digits"},
	}
	for _, c := range cases {
		ns, err := ParseRange(c.in)
		if c.error != "" {
			if err == nil || !errors.Is(err, ErrNumbers) || !strings.Contains(err.Error(), c.error) {
				t.Errorf("ParseRange(%q) error = %v, want %q", c.in, err, c.error)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRange(%q): %v", c.in, err)
			continue
		}
		if ns.Len() != c.n {
			t.Errorf("ParseRange(%q).Len() = %d, want %d", c.in, ns.Len(), c.n)
		}
		for i, want := range c.at {
			if got := ns.At(i); got != want {
				t.Errorf("ParseRange(%q).At(%d) = %s, want %s", c.in, i, got, want)
			}
		}
	}
}

func TestReadNumbers(t *testing.T) {
	t.Parallel()
	ns, err := ReadNumbers(strings.NewReader("# test phones\n+99901000001\n\n  99901000002  \n0099901000003\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"99901000001", "99901000002", "99901000003", "99901000001"}
	for i, w := range want {
		if got := ns.At(i); got != w {
			t.Errorf("At(%d) = %s, want %s", i, got, w)
		}
	}
	if _, err := ReadNumbers(strings.NewReader("+999\nnot-a-number\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: error = %v, want one naming line 2", err)
	}
	if _, err := ReadNumbers(strings.NewReader("# nothing\n\n")); !errors.Is(err, ErrNumbers) {
		t.Errorf("empty list: error = %v", err)
	}
}

// TestChallengeResult checks how push's answers are counted.
func TestChallengeResult(t *testing.T) {
	t.Parallel()
	sendErr := errors.New("push: submit: connection refused")
	cases := []struct {
		name    string
		res     push.Result
		err     error
		ctxErr  error
		outcome string
		errIs   error
		noCheck bool
	}{
		{name: "approved and verified", res: push.Result{Outcome: "approved", SignatureValid: true, SubmitLatencyMS: 1.5}, outcome: "approved"},
		{name: "applet timeout is an outcome", res: push.Result{Outcome: "timeout", SignatureValid: true}, outcome: "timeout"},
		{name: "unverified answer fails", res: push.Result{Outcome: "approved"}, errIs: ErrUnverified},
		{name: "unverified answer with verification off", res: push.Result{Outcome: "approved"}, outcome: "approved", noCheck: true},
		{name: "receipt says undelivered", res: push.Result{Outcome: push.NotDelivered, Detail: "delivery receipt UNDELIV err:027"}, outcome: "not_delivered"},
		{name: "SIM refused the download", res: push.Result{Outcome: push.SIMError}, outcome: "sim_error"},
		{name: "push gave up waiting", res: push.Result{Outcome: push.TimedOut, Detail: "no answer within 40s"}, errIs: context.DeadlineExceeded},
		{name: "run timeout", err: context.DeadlineExceeded, ctxErr: context.DeadlineExceeded, errIs: context.DeadlineExceeded},
		{name: "send failed", err: sendErr, errIs: sendErr},
	}
	for _, c := range cases {
		got := challengeResult(c.res, c.err, c.ctxErr, !c.noCheck)
		if got.Outcome != c.outcome {
			t.Errorf("%s: outcome %q, want %q", c.name, got.Outcome, c.outcome)
		}
		if c.errIs == nil && got.Err != nil || c.errIs != nil && !errors.Is(got.Err, c.errIs) {
			t.Errorf("%s: err %v, want %v", c.name, got.Err, c.errIs)
		}
		if want := time.Duration(c.res.SubmitLatencyMS * float64(time.Millisecond)); got.Submit != want {
			t.Errorf("%s: submit %v, want %v", c.name, got.Submit, want)
		}
	}
}

// startSMSC runs simlab's SMSC alone (unrouted messages are delivered to the
// store and receipted) on a loopback port.
func startSMSC(t *testing.T, srv *smsc.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return l.Addr().String()
}

// TestTextsThroughSMSC runs a short text load over 3 binds against the SMSC:
// receipts arrive on whichever bind the SMSC picks, and every one must
// find its submission.
func TestTextsThroughSMSC(t *testing.T) {
	t.Parallel()
	addr := startSMSC(t, &smsc.Server{Store: smsc.NewMemStore(10_000)})
	nums, _ := ParseRange("99901000000-99901000099")
	d, err := NewTarget(t.Context(), TargetConfig{
		SMPP:  client.Config{Addr: addr, SystemID: "t", Password: "x", Window: 20, NoReconnect: true},
		Binds: 3, Kind: KindText, Numbers: nums,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	rep, err := Run(t.Context(), Config{Rate: 400, Duration: 500 * time.Millisecond, Timeout: 10 * time.Second}, d)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Accounted() || rep.Sent != 200 || rep.Completed != 200 || rep.Outcomes["delivered"] != 200 {
		t.Fatalf("sent %d completed %d failed %d timed out %d outcomes %v errors %v",
			rep.Sent, rep.Completed, rep.Failed, rep.TimedOut, rep.Outcomes, rep.Errors)
	}
	if rep.ReceiptLatency == nil || rep.SubmitLatency == nil || rep.ReceiptLatency.Count != 200 {
		t.Errorf("receipt %+v submit %+v", rep.ReceiptLatency, rep.SubmitLatency)
	}
	if rep.ReceiptLatency.P50 <= 0 || rep.ReceiptLatency.Max > rep.Latency.Max {
		t.Errorf("receipt latency %+v against end to end %+v", rep.ReceiptLatency, rep.Latency)
	}
}

// TestTextsRefused: a submit the SMSC refuses fails the challenge with the
// SMPP status in the error.
func TestTextsRefused(t *testing.T) {
	t.Parallel()
	addr := startSMSC(t, &smsc.Server{Store: smsc.NewMemStore(100)})
	nums, _ := ParseRange("99901000000")
	d, err := NewTarget(t.Context(), TargetConfig{
		SMPP: client.Config{Addr: addr, SystemID: "t", NoReconnect: true}, Kind: KindText, Numbers: nums,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	tx := d.Target.(*Texts)
	tx.Text = strings.Repeat("long ", 40) // two parts: refused before sending
	if res := tx.Do(t.Context(), 0); res.Err == nil || !strings.Contains(res.Err.Error(), "2 parts") {
		t.Errorf("long text: %+v", res)
	}
}

func TestNewTargetKinds(t *testing.T) {
	t.Parallel()
	nums, _ := ParseRange("99901000000")
	if _, err := NewTarget(t.Context(), TargetConfig{Kind: "4", Numbers: nums}); !errors.Is(err, ErrKind) {
		t.Errorf("kind 4: %v", err)
	}
	if _, err := NewTarget(t.Context(), TargetConfig{Kind: "text"}); !errors.Is(err, ErrConfig) {
		t.Errorf("no numbers: %v", err)
	}
	if _, err := NewTarget(t.Context(), TargetConfig{Kind: "3 2", Numbers: nums,
		SMPP: client.Config{Addr: "127.0.0.1:1", NoReconnect: true}}); err == nil || errors.Is(err, ErrKind) {
		t.Errorf("3 2 to a closed port: %v, want a dial error", err)
	}
}

func TestFormatProgress(t *testing.T) {
	t.Parallel()
	s := FormatProgress(Progress{Elapsed: 3 * time.Second, Rate: 500, InFlight: 12, Completed: 1400, Failed: 1, TimedOut: 2,
		P50: 2500 * time.Microsecond, P99: 41 * time.Millisecond})
	for _, want := range []string{"3s", "500/s", "in flight     12", "ok      1400", "errors      1", "timeouts      2", "2.500ms / 41.0ms"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
	if s := FormatProgress(Progress{}); !strings.Contains(s, "p50/p99 -") {
		t.Errorf("no latency yet: %q", s)
	}
}

// TestReadOTPToken: the capture API's bearer token goes with every read,
// and a refusal comes back as an error naming the API.
func TestReadOTPToken(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/api/v1/otp" || r.URL.Query().Get("to") != "99901000001" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `{"otp":"123456"}`)
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		token   string
		want    string
		wantErr bool
	}{
		{token: "s3cret", want: "123456"},
		{token: "", wantErr: true},
		{token: "wrong", wantErr: true},
	} {
		tx := &Texts{CaptureURL: srv.URL + "/", CaptureToken: tc.token, HTTP: srv.Client()}
		got, err := tx.readOTP(ctx, "99901000001", "123456", time.Now())
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("token %q: got %q, %v; want %q, error %v", tc.token, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "capture API") {
			t.Errorf("token %q: error %q does not name the capture API", tc.token, err)
		}
		// Read through apiclient (review 1, M5): its error, with the status.
		if err != nil && apiclient.StatusCode(err) != http.StatusUnauthorized {
			t.Errorf("token %q: error %v is not apiclient's 401", tc.token, err)
		}
	}
}
