package simtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

func newPusher(t *testing.T, s *simtest.Server) *push.Pusher {
	t.Helper()
	p, err := push.New(context.Background(), push.Config{SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "ci", Password: "x", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func TestOutcomesEndToEnd(t *testing.T) {
	s := simtest.NewServer(t, simtest.WithPromptTimeout(2*time.Second))
	p := newPusher(t, s)
	type tc struct {
		outcome string
		loa     authn.LoA
		want    string
		acr     string
	}
	cases := []tc{
		{"approve", authn.LoA2, "approved", "2"},
		{"approve", authn.LoA3, "approved", "3"},
		{"approve", authn.LoA3Fallback2, "approved", "3"},
		{"cancel", authn.LoA3, "cancelled", ""},
		{"ignore", authn.LoA2, "timeout", ""},
		{"wrong-pin", authn.LoA3, "wrong_pin", ""},
		{"pin-blocked", authn.LoA3, "pin_blocked", ""},
		{"no-pin-support", authn.LoA3, "pin_not_supported", ""},
		{"no-pin-support", authn.LoA3Fallback2, "approved", "2"},
		{"busy", authn.LoA2, "busy", ""},
		{"delivery-error", authn.LoA2, "not_delivered", ""},
		{"sim-error", authn.LoA2, "sim_error", ""},
		{"no-nfc", authn.LoA2, "sim_error", ""},
	}
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msisdn := simtest.Number(t, c.outcome, i)
			res, err := p.Push(context.Background(), push.Request{MSISDN: msisdn, LoA: c.loa, ClientName: "Example Bank", BindingMessage: "Login", Timeout: 2 * time.Second})
			if err != nil {
				t.Errorf("%s LoA %v: %v", c.outcome, c.loa, err)
				return
			}
			acr := ""
			if res.ACR != nil {
				acr = *res.ACR
			}
			if res.Outcome != c.want || acr != c.acr {
				t.Errorf("%s (%s) LoA %v: outcome %s acr %q (%s), want %s acr %q", c.outcome, msisdn, c.loa, res.Outcome, acr, res.Detail, c.want, c.acr)
			}
			if res.Outcome != "not_delivered" && res.Outcome != "sim_error" && res.Outcome != "timeout" && !res.SignatureValid {
				t.Errorf("%s: signature not valid", c.outcome)
			}
		}()
	}
	wg.Wait()
}

func TestWrongPINThenBlockedThenStillBlocked(t *testing.T) {
	s := simtest.NewServer(t)
	p := newPusher(t, s)
	n := simtest.Number(t, "approve", 500)
	s.Next(t, n, "wrong-pin", "wrong-pin", "wrong-pin")
	for i, want := range []string{"wrong_pin", "wrong_pin", "pin_blocked", "pin_blocked"} {
		res, err := p.Push(context.Background(), push.Request{MSISDN: n, LoA: authn.LoA3, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != want {
			t.Fatalf("push %d: %s (%s), want %s", i+1, res.Outcome, res.Detail, want)
		}
	}
	if st := s.Phone(t, n).Info().PIN; !st.Blocked || st.TriesLeft != 0 {
		t.Errorf("PIN state %+v", st)
	}
}

// TestAnswerAlwaysAndNext: Answer is "always", Next "next time, then as
// before" — the two sequences of docs/api.md's "Answers".
func TestAnswerAlwaysAndNext(t *testing.T) {
	s := simtest.NewServer(t)
	p := newPusher(t, s)
	n := simtest.Number(t, "approve", 501)
	push3 := func() string {
		t.Helper()
		res, err := p.Push(context.Background(), push.Request{MSISDN: n, LoA: authn.LoA3, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return res.Outcome
	}
	s.Answer(t, n, "cancel")
	s.Next(t, n, "wrong-pin", "approve")
	var got []string
	for range 5 {
		got = append(got, push3())
	}
	if want := []string{"wrong_pin", "approved", "cancelled", "cancelled", "cancelled"}; !slices.Equal(got, want) {
		t.Errorf("always cancel, next wrong-pin and approve: %v, want %v", got, want)
	}
	// Queued again in the middle of a script: before the rest of it.
	s.Next(t, n, "approve")
	if got := push3(); got != "approved" {
		t.Errorf("after Next approve: %s", got)
	}
	if got := push3(); got != "cancelled" {
		t.Errorf("then as before: %s, want cancelled", got)
	}
}

func TestThousandPhonesInParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	s := simtest.NewServer(t)
	// A generous response timeout: 1,000 phones are built at once on a
	// 2-core machine that may be running other tests under -race.
	p, err := push.New(context.Background(), push.Config{Binds: 4, SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "ci", Password: "x", NoReconnect: true, Window: 50, ResponseTimeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := p.Push(context.Background(), push.Request{MSISDN: fleet.FleetNumber(i), LoA: authn.LoA3, Timeout: 30 * time.Second})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				counts["error: "+err.Error()]++
				return
			}
			counts[res.Outcome]++
		}()
	}
	wg.Wait()
	if counts["approved"] != 1000 {
		t.Fatalf("outcomes %v, want 1000 approved", counts)
	}
}

// TestPhonesReportSessionLatency: the fleet's view of a challenge (SMS-PP
// download in, answer out) appears in /api/v1/metrics/sessions and
// /metrics, by outcome.
func TestPhonesReportSessionLatency(t *testing.T) {
	s := simtest.NewServer(t)
	p := newPusher(t, s)
	for _, n := range []string{simtest.Number(t, "approve", 700), simtest.Number(t, "cancel", 700)} {
		if _, err := p.Push(context.Background(), push.Request{MSISDN: n, LoA: authn.LoA3, Timeout: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
		s.Phone(t, n).Wait()
	}
	resp, err := http.Get(s.URL + "/api/v1/metrics/sessions")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Outcomes map[string]struct {
			Count int64   `json:"count"`
			P50   float64 `json:"p50"`
		} `json:"outcomes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Outcomes["approved"].Count != 1 || got.Outcomes["cancelled"].Count != 1 {
		t.Fatalf("session metrics %+v, want one approved and one cancelled", got.Outcomes)
	}
	m, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(m.Body)
	m.Body.Close()
	if !strings.Contains(string(body), `simlab_phone_session_seconds_count{outcome="approved"} 1`) {
		t.Errorf("/metrics lacks the session histogram:\n%s", body)
	}
}

// TestPINNotInPhoneEvents: after a LoA3 challenge the phone's event log,
// APDU traces included, does not carry the PIN (12345 = hex 3132333435).
func TestPINNotInPhoneEvents(t *testing.T) {
	s := simtest.NewServer(t)
	p := newPusher(t, s)
	n := simtest.Number(t, "approve", 701)
	if res, err := p.Push(context.Background(), push.Request{MSISDN: n, LoA: authn.LoA3, Timeout: 10 * time.Second}); err != nil || res.Outcome != "approved" {
		t.Fatalf("push: %+v %v", res, err)
	}
	s.Phone(t, n).Wait()
	resp, err := http.Get(s.URL + "/api/v1/phones/" + n + "/events")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "TERMINAL RESPONSE") {
		t.Fatalf("no decoded trace in the events:\n%s", body)
	}
	if strings.Contains(string(body), "3132333435") || strings.Contains(string(body), "12345") {
		t.Errorf("the PIN appears in the phone's events:\n%s", body)
	}
}
