package apiclient_test

// Every endpoint, called through the client against a real server
// (simulator.Start on loopback ports), with answers decoded strictly: a
// field the server sends and the client does not know fails the test.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// start runs a server for the test and returns it with a strict client.
func start(t *testing.T, cfg simulator.Config) (*simulator.Server, *apiclient.Client) {
	t.Helper()
	cfg.SMPPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	if cfg.PromptTimeout == 0 {
		cfg.PromptTimeout = 10 * time.Second
	}
	s, err := simulator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	c, err := apiclient.New("http://" + s.Addrs().HTTP + "/")
	if err != nil {
		t.Fatal(err)
	}
	return s, apiclient.Strict(c)
}

// pusher binds simlab's push client as systemID, answers to source.
func pusher(t *testing.T, s *simulator.Server, systemID, source string) *push.Pusher {
	t.Helper()
	p, err := push.New(t.Context(), push.Config{Source: source,
		SMPP: client.Config{Addr: s.Addrs().SMPP, SystemID: systemID, Password: "x", AddressRange: source}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func number(t *testing.T, outcome string, i int) string {
	t.Helper()
	n, err := fleet.MagicNumberFor(outcome, i)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantStatus(t *testing.T, err error, status int, what string) {
	t.Helper()
	var e *apiclient.Error
	if !errors.As(err, &e) || e.StatusCode != status || e.Message == "" {
		t.Fatalf("%s: %v, want an *apiclient.Error with status %d and a message", what, err, status)
	}
}

func TestRoundTripControl(t *testing.T) {
	t.Parallel()
	s, c := start(t, simulator.Config{})
	// A stream read that never ends must not hang the run.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	h, err := c.Health(ctx)
	if err != nil || h.Status != "ok" || len(h.Subsystems) == 0 {
		t.Fatalf("health %+v %v", h, err)
	}
	nums, err := c.Numbers(ctx)
	if err != nil || len(nums.Magic) < 10 || len(nums.Ranges) != len(nums.Magic)+1 || nums.Fleet == nil || nums.Fleet.Size != fleet.FleetSize ||
		nums.Magic[1].Name != "cancel" || *nums.Magic[1].Code != 1 || nums.Magic[1].Range[0] != "+"+number(t, "cancel", 0) || nums.Magic[1].ICCID == "" {
		t.Fatalf("numbers %+v %v", nums, err)
	}

	n := number(t, "approve", 11)
	ph, err := c.Phone(ctx, "+"+n)
	if err != nil || ph.MSISDN != n || ph.Magic != "approve" || !ph.PIN.Supported || ph.PIN.TriesLeft != 3 || ph.PublicKey == "" || ph.Scripted {
		t.Fatalf("phone %+v %v", ph, err)
	}

	// Follow the phone's events from here on.
	st, err := c.StreamPhoneEvents(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	on := true
	b := apiclient.Behaviour{Steps: []apiclient.Step{{Answer: person.AnswerWrongPIN}}, Then: apiclient.Step{Answer: person.AnswerApprove, Delay: person.Duration(1500 * time.Millisecond)}, OpenURLs: true}
	ph, err = c.UpdatePhone(ctx, n, apiclient.PhoneUpdate{Behaviour: &b, PIN: "24680", Absent: &on})
	if err != nil || !ph.Scripted || !ph.Settings.Absent || len(ph.Behaviour.Steps) != 1 || time.Duration(ph.Behaviour.Then.Delay) != 1500*time.Millisecond {
		t.Fatalf("updated phone %+v %v", ph, err)
	}
	for kinds := map[string]bool{}; !kinds["behaviour"]; {
		e, err := st.Next()
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		if e.MSISDN != n || e.Seq == 0 {
			t.Fatalf("event %+v", e)
		}
		kinds[e.Kind] = true
	}
	evs, err := c.PhoneEvents(ctx, n)
	if err != nil || !slices.ContainsFunc(evs, func(e apiclient.Event) bool { return e.Kind == "behaviour" }) {
		t.Fatalf("events %+v %v", evs, err)
	}
	phones, err := c.Phones(ctx)
	if err != nil || !slices.ContainsFunc(phones, func(p apiclient.Phone) bool { return p.MSISDN == n && p.Scripted }) {
		t.Fatalf("phones %+v %v", phones, err)
	}
	if ph, err = c.ResetPhone(ctx, n); err != nil || ph.Scripted || ph.Settings.Absent {
		t.Fatalf("reset phone %+v %v", ph, err)
	}

	// A challenge and a text: session metrics and the inbox.
	p := pusher(t, s, "rt-control", "99955700999")
	res, err := p.Push(ctx, push.Request{MSISDN: n, LoA: authn.LoA2, Timeout: 10 * time.Second})
	if err != nil || res.Outcome != "approved" {
		t.Fatalf("push %+v %v", res, err)
	}
	// The phone holds the SMS once the SMSC has it delivered.
	ms, err := c.StreamMessages(ctx, apiclient.Filter{To: n})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	ids, err := p.SendText(ctx, n, "Hello from the round trip", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := ms.Next()
		if err != nil {
			t.Fatalf("capture stream: %v", err)
		}
		if ev.Kind == "state" && ev.Message.ID == ids[0] && ev.Message.State == "DELIVERED" {
			break
		}
	}
	in, err := c.PhoneInbox(ctx, n)
	if err != nil || len(in) != 1 || in[0].Text != "Hello from the round trip" || in[0].From == "" || in[0].Received.IsZero() {
		t.Fatalf("inbox %+v %v", in, err)
	}
	// The phone counts the session when its answer leaves it, before
	// the answer reaches the pusher.
	if sm, err := c.SessionMetrics(ctx); err != nil || sm.Outcomes["approved"].Count != 1 {
		t.Fatalf("session metrics %+v %v", sm, err)
	}
	if err := c.ResetSessionMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	if sm, err := c.SessionMetrics(ctx); err != nil || len(sm.Outcomes) != 0 && sm.Outcomes["all"].Count != 0 {
		t.Fatalf("after reset: %+v %v", sm, err)
	}
	if m, err := c.Metrics(ctx); err != nil || !strings.Contains(string(m), "simlab_phones_materialised") {
		t.Fatalf("metrics %.200q %v", m, err)
	}

	// Attachments: none; attaching needs a reader (or PC/SC at all).
	if as, err := c.Attachments(ctx); err != nil || len(as) != 0 {
		t.Fatalf("attachments %+v %v", as, err)
	}
	_, err = c.Attach(ctx, apiclient.AttachRequest{MSISDN: n, Reader: "No Such Reader 00 00"})
	if st := apiclient.StatusCode(err); st != http.StatusNotFound && st != http.StatusServiceUnavailable {
		t.Fatalf("attach to no reader: %v", err)
	}
	wantStatus(t, c.Detach(ctx, n), http.StatusNotFound, "detach of nothing")

	doc, err := c.OpenAPI(ctx)
	var d struct {
		Paths map[string]any `json:"paths"`
	}
	if err != nil || json.Unmarshal(doc, &d) != nil || d.Paths["/api/v1/phones"] == nil {
		t.Fatalf("openapi: %v", err)
	}
}

func TestRoundTripCapture(t *testing.T) {
	t.Parallel()
	s, root := start(t, simulator.Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const ns = "rt-capture"
	c := root.WithNamespace(ns)
	p := pusher(t, s, ns, "99955700998")
	before := time.Now().Add(-time.Second)

	// A challenge: a SIM data download out, the applet's answer back.
	approve := number(t, "approve", 12)
	res, err := p.Push(ctx, push.Request{MSISDN: approve, LoA: authn.LoA3, Timeout: 10 * time.Second})
	if err != nil || res.Outcome != "approved" {
		t.Fatalf("push %+v %v", res, err)
	}
	m, err := c.Message(ctx, res.MessageID)
	if err != nil || !m.SIMDownload || m.Text != nil || m.Namespace != ns || m.Direction != "MT" || m.OTA == nil || m.OTA.Kind != "command" ||
		!slices.ContainsFunc(m.UDH, func(e apiclient.UDHElement) bool { return e.IEI == 0x70 }) {
		t.Fatalf("challenge %+v %v", m, err)
	}
	mo, err := c.LatestMessage(ctx, apiclient.Filter{Direction: "MO", From: approve})
	if err != nil || mo.To != "99955700998" || mo.Namespace != ns || mo.BodyHex == "" {
		t.Fatalf("answer %+v %v", mo, err)
	}

	// Texts: a code, and one long enough for three parts.
	texted := number(t, "approve", 13)
	ids, err := p.SendText(ctx, texted, "Your Example Bank code is 604219", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("0123456789", 40)
	parts, err := p.SendText(ctx, texted, long, time.Minute)
	if err != nil || len(parts) != 3 {
		t.Fatalf("long text: %v %v", parts, err)
	}
	page, err := c.Messages(ctx, apiclient.ListRequest{Filter: apiclient.Filter{To: "+" + texted}, Limit: 2})
	if err != nil || len(page.Messages) != 2 || page.NextCursor == "" {
		t.Fatalf("first page %+v %v", page, err)
	}
	next, err := c.Messages(ctx, apiclient.ListRequest{Filter: apiclient.Filter{To: texted}, Limit: 2, Cursor: page.NextCursor})
	if err != nil || len(next.Messages) != 2 || next.NextCursor != "" || next.Messages[1].ID != ids[0] {
		t.Fatalf("second page %+v %v", next, err)
	}
	if page.Messages[0].FullText == nil || *page.Messages[0].FullText != long || page.Messages[0].Body() != long {
		t.Fatalf("a listed part lacks the full text: %+v", page.Messages[0])
	}
	part, err := c.Message(ctx, parts[1])
	if err != nil || part.Concat == nil || part.Concat.Total != 3 || len(part.Parts) != 3 || part.Body() != long {
		t.Fatalf("part %+v %v", part, err)
	}
	if other, err := root.Messages(ctx, apiclient.ListRequest{Filter: apiclient.Filter{To: texted}}); err != nil || len(other.Messages) != 4 {
		t.Fatalf("without a namespace: %+v %v", other, err)
	}
	if empty, err := root.WithNamespace("another").Messages(ctx, apiclient.ListRequest{}); err != nil || len(empty.Messages) != 0 {
		t.Fatalf("another namespace sees %+v %v", empty, err)
	}

	otp, err := c.OTP(ctx, apiclient.OTPRequest{Filter: apiclient.Filter{To: texted}})
	if err != nil || otp.OTP != "604219" || otp.MessageID != ids[0] || otp.To != texted {
		t.Fatalf("otp %+v %v", otp, err)
	}
	otp, err = c.WaitOTP(ctx, apiclient.OTPRequest{Filter: apiclient.Filter{To: texted, Since: before}, Pattern: `code is (\d{3})`})
	if err != nil || otp.OTP != "604" {
		t.Fatalf("wait otp with a pattern %+v %v", otp, err)
	}
	w, err := c.WaitMessage(ctx, apiclient.Filter{To: texted, Since: before})
	if err != nil || w.ID != ids[0] {
		t.Fatalf("wait since %+v %v", w, err)
	}
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	_, err = c.WaitMessage(short, apiclient.Filter{To: number(t, "approve", 14)})
	cancelShort()
	wantStatus(t, err, http.StatusRequestTimeout, "a wait for nothing")
	_, err = c.OTP(ctx, apiclient.OTPRequest{Filter: apiclient.Filter{To: approve}})
	wantStatus(t, err, http.StatusNotFound, "no code")

	// The stream: a new message, then its state change.
	streamed := number(t, "approve", 15)
	st, err := c.StreamMessages(ctx, apiclient.Filter{To: streamed})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sent, err := p.SendText(ctx, streamed, "streamed", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"message", "state"} {
		ev, err := st.Next()
		if err != nil || ev.Kind != kind || ev.Message == nil || ev.Message.ID != sent[0] || ev.Message.Body() != "streamed" {
			t.Fatalf("stream: %+v %v, want %s of %s", ev, err, kind, sent[0])
		}
	}

	if n, err := c.DeleteMessages(ctx, apiclient.Filter{To: texted}); err != nil || n != 4 {
		t.Fatalf("deleted %d %v", n, err)
	}
	_, err = c.Message(ctx, ids[0])
	wantStatus(t, err, http.StatusNotFound, "a deleted message")

	// Faults.
	f, err := c.AddFault(ctx, apiclient.Fault{Dest: "+" + streamed, DeliveryError: &apiclient.DeliveryError{Code: smsc.ErrCodeAbsentSubscriber, Permanent: true}, Latency: "250ms"})
	if err != nil || f.Dest != streamed || f.DeliveryError.Code != smsc.ErrCodeAbsentSubscriber || f.Latency != "250ms" {
		t.Fatalf("add fault %+v %v", f, err)
	}
	if _, err := c.AddFault(ctx, apiclient.Fault{Account: "flaky", SubmitStatus: 20, Probability: 0.5}); err != nil {
		t.Fatal(err)
	}
	fs, err := c.Faults(ctx)
	if err != nil || len(fs) != 2 {
		t.Fatalf("faults %+v %v", fs, err)
	}
	if err := c.RemoveFault(ctx, streamed, ""); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.RemoveFault(ctx, streamed, ""), http.StatusNotFound, "removing a removed fault")
	if err := c.RemoveFault(ctx, "", ""); err == nil {
		t.Fatal("RemoveFault without a scope")
	}
	if n, err := c.ResetFaults(ctx, 7); err != nil || n != 1 {
		t.Fatalf("reset faults: %d %v", n, err)
	}
	_, err = c.AddFault(ctx, apiclient.Fault{Dest: streamed})
	wantStatus(t, err, http.StatusBadRequest, "a fault that injects nothing")
}

func TestRoundTripNamespaces(t *testing.T) {
	t.Parallel()
	_, c := start(t, simulator.Config{})
	ctx := t.Context()
	ns, err := c.CreateNamespace(ctx, apiclient.NamespaceRequest{Label: "TestRoundTrip/leases"})
	if err != nil || len(ns.Name) > 15 || !strings.HasPrefix(ns.Name, "TestRoun-") || !strings.HasPrefix(ns.Source, simulator.NamespaceSourcePrefix) || len(ns.Numbers) != 0 || ns.Created.IsZero() {
		t.Fatalf("namespace %+v %v", ns, err)
	}
	other, err := c.CreateNamespace(ctx, apiclient.NamespaceRequest{})
	if err != nil || other.Name == ns.Name || other.Source == ns.Source || !strings.HasPrefix(other.Name, "ns-") {
		t.Fatalf("second namespace %+v %v", other, err)
	}
	got, err := c.LeaseNumbers(ctx, ns.Name, apiclient.LeaseRequest{Outcome: "cancel", Count: 2})
	if err != nil || len(got) != 2 || got[0] == got[1] || got[0] != number(t, "cancel", fleet.MagicPerCode-1) {
		t.Fatalf("lease %v %v", got, err)
	}
	theirs, err := c.LeaseNumbers(ctx, other.Name, apiclient.LeaseRequest{Outcome: "cancel"})
	if err != nil || len(theirs) != 1 || slices.Contains(got, theirs[0]) {
		t.Fatalf("the other's lease %v %v", theirs, err)
	}
	if ph, err := c.Phone(ctx, got[1]); err != nil || ph.Magic != "cancel" {
		t.Fatalf("leased phone %+v %v", ph, err)
	}
	fleetNum, err := c.LeaseNumbers(ctx, ns.Name, apiclient.LeaseRequest{})
	if err != nil || len(fleetNum) != 1 || fleetNum[0] != fleet.FleetNumber(fleet.FleetSize-1) {
		t.Fatalf("fleet lease %v %v", fleetNum, err)
	}
	_, err = c.LeaseNumbers(ctx, ns.Name, apiclient.LeaseRequest{Outcome: "dance"})
	wantStatus(t, err, http.StatusBadRequest, "an unknown outcome")
	_, err = c.LeaseNumbers(ctx, ns.Name, apiclient.LeaseRequest{Count: 101})
	wantStatus(t, err, http.StatusBadRequest, "101 numbers")
	_, err = c.LeaseNumbers(ctx, "nobody", apiclient.LeaseRequest{})
	wantStatus(t, err, http.StatusNotFound, "an unknown namespace")

	if g, err := c.GetNamespace(ctx, ns.Name); err != nil || len(g.Numbers) != 3 || g.Label != "TestRoundTrip/leases" {
		t.Fatalf("get %+v %v", g, err)
	}
	if l, err := c.Namespaces(ctx); err != nil || len(l) != 2 || l[0].Name != ns.Name {
		t.Fatalf("list %+v %v", l, err)
	}
	if n, err := c.DeleteNamespace(ctx, ns.Name); err != nil || n != 3 {
		t.Fatalf("delete: %d %v", n, err)
	}
	_, err = c.GetNamespace(ctx, ns.Name)
	wantStatus(t, err, http.StatusNotFound, "a deleted namespace")
	_, err = c.DeleteNamespace(ctx, ns.Name)
	wantStatus(t, err, http.StatusNotFound, "deleting twice")
	// Released numbers are not handed out again while others are free.
	again, err := c.LeaseNumbers(ctx, other.Name, apiclient.LeaseRequest{Outcome: "cancel"})
	if err != nil || slices.Contains(got, again[0]) {
		t.Fatalf("lease after release: %v %v", again, err)
	}
}

// TestNamespacesOnAnSMSCWithAccounts: with configured accounts each
// namespace gets an SMPP account of its own, whose password the POST
// answers once; GET and the list never give it. Without accounts there is
// none.
func TestNamespacesOnAnSMSCWithAccounts(t *testing.T) {
	t.Parallel()
	_, c := start(t, simulator.Config{Accounts: []smsc.Account{{SystemID: "bank", Password: "secret"}}})
	ctx := t.Context()
	a, err := c.CreateNamespace(ctx, apiclient.NamespaceRequest{Label: "x"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateNamespace(ctx, apiclient.NamespaceRequest{Label: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []*apiclient.Namespace{a, b} {
		if len(ns.SMPPPassword) != smsc.MaxPasswordLen || strings.Trim(ns.SMPPPassword, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Errorf("password of %s: %d characters, want %d letters and digits", ns.Name, len(ns.SMPPPassword), smsc.MaxPasswordLen)
		}
		got, err := c.GetNamespace(ctx, ns.Name)
		if err != nil || got.SMPPPassword != "" {
			t.Errorf("GET %s: %+v %v", ns.Name, got, err)
		}
	}
	if a.SMPPPassword == b.SMPPPassword {
		t.Error("two namespaces, one password")
	}
	list, err := c.Namespaces(ctx)
	if err != nil || len(list) != 2 || list[0].SMPPPassword != "" || list[1].SMPPPassword != "" {
		t.Errorf("list: %+v %v", list, err)
	}
	if _, err := c.DeleteNamespace(ctx, a.Name); err != nil {
		t.Fatal(err)
	}
	_, open := start(t, simulator.Config{})
	if ns, err := open.CreateNamespace(ctx, apiclient.NamespaceRequest{}); err != nil || ns.SMPPPassword != "" {
		t.Errorf("a namespace on an SMSC without accounts: %+v %v", ns, err)
	}
}

func TestErrorsCarryStatusAndMessage(t *testing.T) {
	t.Parallel()
	_, c := start(t, simulator.Config{SMPPAddr: "off"})
	_, err := c.Phone(t.Context(), "4915112345678")
	var e *apiclient.Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusNotFound || e.Method != "GET" || e.Path != "/api/v1/phones/4915112345678" ||
		!strings.Contains(e.Message, "not in the fleet's plan") || apiclient.StatusCode(err) != http.StatusNotFound {
		t.Fatalf("%#v", err)
	}
	if want := "apiclient: GET /api/v1/phones/4915112345678: 404 Not Found: fleet: number is not in the fleet's plan"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q, want it to start %q", err, want)
	}
	_, err = c.UpdatePhone(t.Context(), number(t, "approve", 16), apiclient.PhoneUpdate{PIN: "12"})
	wantStatus(t, err, http.StatusBadRequest, "a short PIN")
	if apiclient.StatusCode(errors.New("x")) != 0 {
		t.Error("StatusCode of a plain error")
	}
	for _, bad := range []string{"", "ftp://x", "http://", "127.0.0.1:8775", "http://h/?q=1"} {
		if _, err := apiclient.New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	var zero apiclient.Client
	if _, err := zero.Health(t.Context()); err == nil {
		t.Error("a client without BaseURL called out")
	}
}

// TestToken: the bearer token goes in a header, never into errors.
func TestToken(t *testing.T) {
	t.Parallel()
	_, c := start(t, simulator.Config{SMPPAddr: "off", APIToken: "s3cret-token"})
	_, err := c.Phones(t.Context())
	wantStatus(t, err, http.StatusUnauthorized, "no token")
	c.Token = "s3cret-wrong"
	_, err = c.Phones(t.Context())
	wantStatus(t, err, http.StatusUnauthorized, "a wrong token")
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the token is in the error: %v", err)
	}
	c.Token = "s3cret-token"
	if _, err := c.Phones(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h, err := (&apiclient.Client{BaseURL: c.BaseURL}).Health(t.Context()); err != nil || h.Status != "ok" {
		t.Fatalf("healthz needs no token: %+v %v", h, err)
	}
}

// TestHealthWhileStarting: a 503 from /healthz still gives its body (a
// real server answers so only while it starts, too briefly to catch).
func TestHealthWhileStarting(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"status":"starting","subsystems":{"smsc+fleet":false}}`))
	}))
	defer srv.Close()
	c, err := apiclient.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Health(t.Context())
	if apiclient.StatusCode(err) != http.StatusServiceUnavailable || h == nil || h.Status != "starting" || h.Subsystems["smsc+fleet"] || len(h.Subsystems) != 1 {
		t.Fatalf("%+v %v", h, err)
	}
}
