package simtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fiorix/go-smpp/smpp"
	gopdu "github.com/fiorix/go-smpp/smpp/pdu"
	"github.com/fiorix/go-smpp/smpp/pdu/pdufield"
	"github.com/fiorix/go-smpp/smpp/pdu/pdutext"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
)

// esme is an external ESME: go-smpp's transceiver bound to simlab, with the
// delivery receipts it receives by message id.
type esme struct {
	tc *smpp.Transceiver

	mu       sync.Mutex
	receipts map[string]*smsc.Receipt
	arrived  chan struct{} // closed and replaced on each receipt
}

func newESME(t *testing.T, s *simtest.Server, systemID string) *esme {
	t.Helper()
	return newESMEAuth(t, s, systemID, "x")
}

// newESMEAuth is newESME binding with a password (an SMSC with accounts).
func newESMEAuth(t *testing.T, s *simtest.Server, systemID, password string) *esme {
	t.Helper()
	e := &esme{receipts: map[string]*smsc.Receipt{}, arrived: make(chan struct{})}
	e.tc = &smpp.Transceiver{Addr: s.SMPPAddr, User: systemID, Passwd: password, Handler: func(p gopdu.Body) {
		if p.Header().ID != gopdu.DeliverSMID {
			return
		}
		f := p.Fields()
		if f[pdufield.ESMClass].Bytes()[0]&0x3C != 0x04 {
			return // an MO message, not a receipt
		}
		r, err := smsc.ParseReceipt(string(f[pdufield.ShortMessage].Bytes()))
		if err != nil {
			t.Errorf("receipt: %v", err)
			return
		}
		e.mu.Lock()
		e.receipts[r.ID] = r
		close(e.arrived)
		e.arrived = make(chan struct{})
		e.mu.Unlock()
	}}
	t.Cleanup(func() { e.tc.Close() })
	select {
	case st := <-e.tc.Bind():
		if st.Status() != smpp.Connected {
			t.Fatalf("go-smpp bind: %v %v", st.Status(), st.Error())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("go-smpp bind: no status")
	}
	return e
}

// submit sends a text SMS asking for a final receipt; it returns the id.
func (e *esme) submit(t *testing.T, to, text string, validity time.Duration) string {
	t.Helper()
	sm, err := e.tc.Submit(&smpp.ShortMessage{Src: "99955510", Dst: to, Text: pdutext.Raw(text), Validity: validity,
		Register: pdufield.FinalDeliveryReceipt, SourceAddrTON: 1, SourceAddrNPI: 1, DestAddrTON: 1, DestAddrNPI: 1})
	if err != nil {
		t.Fatalf("submit to %s: %v", to, err)
	}
	return sm.RespID()
}

// receipt waits for the final receipt of id.
func (e *esme) receipt(t *testing.T, id string, within time.Duration) *smsc.Receipt {
	t.Helper()
	deadline := time.After(within)
	for {
		e.mu.Lock()
		r, ch := e.receipts[id], e.arrived
		e.mu.Unlock()
		if r != nil {
			return r
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no receipt for %s within %v", id, within)
		}
	}
}

// awaitEvent waits on a fleet subscription for an event of msisdn whose
// kind and detail match.
func awaitEvent(t *testing.T, ch <-chan fleet.Event, msisdn, kind, detail string) fleet.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-ch:
			if e.MSISDN == msisdn && e.Kind == kind && strings.Contains(e.Detail, detail) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event %q for %s", kind, detail, msisdn)
		}
	}
}

// TestAbsentPhoneExpires: an absent phone's SMS is retried until its
// validity ends; with a validity shorter than the SMSC's first retry (5 s)
// the message expires after the first failed attempt and the receipt says
// so, with network error 027 (absent subscriber). SMPP 3.4 reports an
// expired validity as stat EXPIRED (Appendix B), not UNDELIV.
func TestAbsentPhoneExpires(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	e := newESME(t, s, "absent1")
	n := simtest.Number(t, "absent", 1)
	id := e.submit(t, n, "hello", 2*time.Second)
	r := e.receipt(t, id, 20*time.Second)
	if r.State != smsc.Expired || r.Err != smsc.ErrCodeAbsentSubscriber {
		t.Fatalf("receipt %+v, want EXPIRED err 027", r)
	}
	// A challenge to the same phone: not_delivered.
	p := newPusher(t, s)
	res, err := p.Push(context.Background(), push.Request{MSISDN: n, LoA: authn.LoA3, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != push.NotDelivered || !strings.Contains(res.Receipt, "EXPIRED err:027") {
		t.Fatalf("challenge to an absent phone: %+v", res)
	}
}

// TestAbsentPhoneReturnsWithinValidity: the phone is off for the first
// attempt and switched on before the SMSC's retry, so the challenge is
// delivered late and answered. The test waits for the failed attempt in the
// phone's events, not for a time.
func TestAbsentPhoneReturnsWithinValidity(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s)
	n := simtest.Number(t, "approve", 2001)
	off := true
	if _, err := s.Fleet().Set(context.Background(), n, fleet.Spec{Absent: &off}); err != nil {
		t.Fatal(err)
	}
	events, stop := s.Fleet().Subscribe(64)
	defer stop()
	done := make(chan push.Result, 1)
	go func() {
		res, err := p.Push(context.Background(), push.Request{MSISDN: n, LoA: authn.LoA3, Timeout: 30 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	awaitEvent(t, events, n, "delivery", "absent")
	on := false
	if _, err := s.Fleet().Set(context.Background(), n, fleet.Spec{Absent: &on}); err != nil {
		t.Fatal(err)
	}
	res := <-done
	acr := ""
	if res.ACR != nil {
		acr = *res.ACR
	}
	if res.Outcome != "approved" || acr != "3" || !res.SignatureValid {
		t.Fatalf("%+v", res)
	}
	// The SMSC needed two attempts. The answer can overtake the SMSC's
	// bookkeeping of the delivery, so settle the number first.
	settle(t, s, n)
	var m struct {
		Attempts int    `json:"attempts"`
		State    string `json:"state"`
	}
	getJSON(t, s.URL+"/api/v1/messages/"+res.MessageID, &m)
	if m.Attempts != 2 || m.State != "DELIVERED" {
		t.Errorf("challenge message: %+v, want 2 attempts, DELIVERED", m)
	}
}

// settle returns once every message submitted to msisdn so far has been
// handled: the SMSC delivers to one number in order, so when a marker SMS
// submitted now has its receipt, everything before it is final.
func settle(t *testing.T, s *simtest.Server, msisdn string) {
	t.Helper()
	e := newESME(t, s, "settle")
	id := e.submit(t, msisdn, "marker", time.Minute)
	if r := e.receipt(t, id, 30*time.Second); r.State != smsc.Delivered {
		t.Fatalf("marker SMS to %s: %+v", msisdn, r)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestSMSWithURL: an external ESME sends a text with a link; a phone whose
// person opens links GETs it (only loopback hosts are allowed), one whose
// person does not, does not. The phone opens the link while it takes the
// SMS, so by the DELIVRD receipt the GET has happened or never will.
func TestSMSWithURL(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	e := newESME(t, s, "url1")
	var hits atomic.Int32
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login/abc" {
			hits.Add(1)
		}
	}))
	defer page.Close()

	opener := simtest.Number(t, "approve", 3001)
	id := e.submit(t, opener, "Example Bank: tap to log in "+page.URL+"/login/abc", time.Minute)
	if r := e.receipt(t, id, 20*time.Second); r.State != smsc.Delivered {
		t.Fatalf("receipt %+v", r)
	}
	if hits.Load() != 1 {
		t.Fatalf("link opened %d times, want 1", hits.Load())
	}
	if in := s.Phone(t, opener).Inbox(); len(in) != 1 || !in[0].Opened || in[0].URL != page.URL+"/login/abc" {
		t.Errorf("inbox %+v", in)
	}

	refuser := simtest.Number(t, "approve", 3002)
	if err := s.Phone(t, refuser).SetBehaviour(person.Behaviour{Then: person.Step{Answer: person.AnswerApprove}, OpenURLs: false}); err != nil {
		t.Fatal(err)
	}
	id = e.submit(t, refuser, "Example Bank: tap to log in "+page.URL+"/login/abc", time.Minute)
	if r := e.receipt(t, id, 20*time.Second); r.State != smsc.Delivered {
		t.Fatalf("receipt %+v", r)
	}
	if hits.Load() != 1 {
		t.Errorf("link opened by a person who does not open links")
	}
	if in := s.Phone(t, refuser).Inbox(); len(in) != 1 || in[0].Opened {
		t.Errorf("inbox %+v", in)
	}

	// The push client's SMS+URL mode, both ways.
	p := newPusher(t, s)
	res, err := p.PushURL(context.Background(), push.URLRequest{MSISDN: opener, ClientName: "Example Bank", BindingMessage: "Login", Timeout: 20 * time.Second})
	if err != nil || res.Outcome != "approved" || res.ACR == nil || *res.ACR != "2" {
		t.Errorf("PushURL opened: %+v %v", res, err)
	}
	res, err = p.PushURL(context.Background(), push.URLRequest{MSISDN: refuser, Timeout: 500 * time.Millisecond})
	if err != nil || res.Outcome != "timeout" || res.ACR != nil {
		t.Errorf("PushURL not opened: %+v %v", res, err)
	}
}

// TestOTPCaptured: an ESME sends a code; the test reads it back from the
// capture API with a long poll that is already waiting when it arrives.
func TestOTPCaptured(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	e := newESME(t, s, "otp1")
	n := simtest.Number(t, "approve", 4001)
	got := make(chan string, 1)
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	go func() {
		var o struct {
			OTP string `json:"otp"`
		}
		getJSON(t, s.URL+"/api/v1/otp?to="+n+"&since="+since+"&wait=20s", &o)
		got <- o.OTP
	}()
	id := e.submit(t, n, "Your Example Bank code is 482913", time.Minute)
	if otp := <-got; otp != "482913" {
		t.Errorf("OTP %q", otp)
	}
	if r := e.receipt(t, id, 20*time.Second); r.State != smsc.Delivered {
		t.Errorf("receipt %+v", r)
	}

	p := newPusher(t, s)
	res, err := p.PushOTP(context.Background(), push.OTPRequest{MSISDN: n, ClientName: "Example Bank", API: s.URL, Timeout: 20 * time.Second})
	if err != nil || res.Outcome != "approved" {
		t.Errorf("PushOTP: %+v %v", res, err)
	}
}

// TestTwoChallengesAtOnce: a second challenge reaches a phone whose
// toolkit is still busy with the first (the person takes 2 s to answer).
// The handset refuses it as a real one does (TP-FCS D4, SIM Application
// Toolkit busy, a temporary error), the SMSC keeps it and retries after
// its backoff (5 s), by when the first session is over: both challenges
// end approved, the second one later.
func TestTwoChallengesAtOnce(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s)
	n := simtest.Number(t, "approve", 5001)
	ph := s.Phone(t, n)
	// The first session outlasts the handset's busy wait (2 s), so the
	// second challenge is refused as toolkit busy and retried by the SMSC.
	if err := ph.SetBehaviour(person.Behaviour{Then: person.Step{Answer: person.AnswerApprove, Delay: person.Duration(5 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	events, stop := s.Fleet().Subscribe(64)
	defer stop()
	results := make(chan push.Result, 2)
	pushOne := func(binding string) {
		res, err := p.Push(context.Background(), push.Request{MSISDN: n, LoA: authn.LoA3, BindingMessage: binding, Timeout: 30 * time.Second})
		if err != nil {
			t.Error(err)
		}
		results <- res
	}
	go pushOne("first")
	awaitEvent(t, events, n, "prompt", "")
	go pushOne("second")
	awaitEvent(t, events, n, "error", "SMS-PP download refused")
	var got []push.Result
	for range 2 {
		got = append(got, <-results)
	}
	for i, r := range got {
		if r.Outcome != "approved" || r.ACR == nil || *r.ACR != "3" || !r.SignatureValid {
			t.Errorf("challenge %d: %+v", i+1, r)
		}
	}
	if got[0].TransactionID == got[1].TransactionID {
		t.Error("one transaction answered twice")
	}
	// The second needed a retry.
	settle(t, s, n)
	attempts := map[int]int{}
	for _, r := range got {
		var m struct {
			Attempts int `json:"attempts"`
		}
		getJSON(t, s.URL+"/api/v1/messages/"+r.MessageID, &m)
		attempts[m.Attempts]++
	}
	if attempts[1] != 1 || attempts[2] != 1 {
		t.Errorf("delivery attempts %v, want one message delivered at once and one at the second attempt", attempts)
	}
}

// TestControlAPIMatchesOpenAPI calls every operation docs/openapi-control.json
// describes, with its example body, and checks the server answers with a
// documented status and content type, so the document cannot drift from
// the routes.
func TestControlAPIMatchesOpenAPI(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docs/openapi-control.json")
	if err != nil {
		t.Fatal(err)
	}
	type media struct {
		Example json.RawMessage `json:"example"`
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	s := simtest.NewServer(t)
	n := simtest.Number(t, "approve", 6001)
	ops := 0
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths) // a phone's PUT comes before its reset
	for _, path := range paths {
		for _, method := range []string{"get", "put", "patch", "post", "delete"} {
			rawOp, ok := doc.Paths[path][method]
			if !ok {
				continue
			}
			var op struct {
				Tags []string `json:"tags"`
				// Needs names the state an operation's example cannot
				// succeed without (a link in an inbox, a prompt waiting).
				Needs       string `json:"x-simlab-needs"`
				RequestBody *struct {
					Content map[string]media `json:"content"`
				} `json:"requestBody"`
				Responses map[string]struct {
					Content map[string]media `json:"content"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops++
			var body io.Reader
			if op.RequestBody != nil {
				body = bytes.NewReader(op.RequestBody.Content["application/json"].Example)
			}
			url := s.URL + strings.ReplaceAll(path, "{msisdn}", n)
			if strings.Contains(path, "{name}") { // a namespace of its own
				resp, err := http.Post(s.URL+"/api/v1/namespaces", "application/json", strings.NewReader(`{"label":"openapi"}`))
				if err != nil {
					t.Fatal(err)
				}
				var ns struct{ Name string }
				err = json.NewDecoder(resp.Body).Decode(&ns)
				resp.Body.Close()
				if err != nil || ns.Name == "" {
					t.Fatalf("a namespace for %s: %v", path, err)
				}
				url = strings.ReplaceAll(url, "{name}", ns.Name)
			}
			ctx, cancel := context.WithCancel(context.Background())
			// {id}: the client the Mobile Connect example registers.
			url = strings.ReplaceAll(url, "{id}", "openapi-example")
			req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), url, body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			r, ok := op.Responses[strconv.Itoa(resp.StatusCode)]
			if !ok {
				t.Errorf("%s %s: status %d is not documented", method, path, resp.StatusCode)
			} else if ct := strings.Split(resp.Header.Get("Content-Type"), ";")[0]; len(r.Content) > 0 {
				if _, ok := r.Content[ct]; !ok {
					t.Errorf("%s %s: content type %q is not documented", method, path, ct)
				}
			}
			// The lab operations need a PC/SC reader with a card: here
			// they must answer with a documented error (checked above).
			if resp.StatusCode/100 != 2 && !slices.Contains(op.Tags, "lab") && op.Needs == "" {
				t.Errorf("%s %s: %s", method, path, resp.Status)
			}
			cancel() // ends the event stream
			resp.Body.Close()
		}
	}
	if ops < 12 {
		t.Errorf("only %d operations in the document", ops)
	}
	// The PUT example scripted the phone and set its PIN; DELETE then reset it.
	if in := s.Phone(t, n).Info(); in.Scripted {
		t.Errorf("phone still scripted after the reset operations: %+v", in)
	}
}
