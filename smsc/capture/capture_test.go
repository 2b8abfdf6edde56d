package capture_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/smsctest"
)

var quiet = slog.New(slog.DiscardHandler)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// do performs an HTTP request against the capture API and decodes JSON;
// it fails t.
func do(t *testing.T, method, u string, hdr http.Header, body any, want int, out any) {
	t.Helper()
	if err := doErr(method, u, hdr, body, want, out); err != nil {
		t.Fatal(err)
	}
}

// doErr is do for goroutines other than the test's: it returns the error.
func doErr(method, u string, hdr http.Header, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s %s (want %d)", method, u, resp.Status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %v in %s", method, u, err, b)
		}
	}
	return nil
}

func submitText(t *testing.T, cl *client.Client, to, text string) []string {
	t.Helper()
	parts, err := client.SplitText(text, 42)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range parts {
		id, err := cl.Submit(ctxT(t), &client.Message{Source: client.Address{TON: 5, Addr: "SIMLAB"}, Dest: client.Address{TON: 1, NPI: 1, Addr: to},
			ESMClass: p.ESMClass, DataCoding: p.DataCoding, ShortMessage: p.ShortMessage, RegisteredDelivery: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestListNamespacesPagination(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	a := srv.Dial(t, client.Config{SystemID: "team-a", Logger: quiet})
	b := srv.Dial(t, client.Config{SystemID: "team-b", Logger: quiet})
	for i := range 12 {
		submitText(t, a, "999000201", fmt.Sprintf("a message %d", i))
	}
	submitText(t, b, "999000201", "b message")

	var all capture.ListResponse
	do(t, "GET", srv.URL+"/api/v1/messages?to=999000201&limit=1000", nil, nil, 200, &all)
	if len(all.Messages) != 13 || all.Messages[0].Text == nil || *all.Messages[0].Text != "b message" {
		t.Fatalf("all namespaces: %d messages, newest %+v", len(all.Messages), all.Messages[0])
	}
	var nsB capture.ListResponse
	do(t, "GET", srv.URL+"/api/v1/messages?to=%2B999000201", http.Header{"X-Simlab-Namespace": {"team-b"}}, nil, 200, &nsB)
	if len(nsB.Messages) != 1 || nsB.Messages[0].Namespace != "team-b" {
		t.Fatalf("namespace team-b: %+v", nsB.Messages)
	}
	// Pages of 5 in namespace team-a: 5, 5, 2, newest first, no repeats.
	seen := map[string]bool{}
	var texts []string
	u := srv.URL + "/api/v1/messages?namespace=team-a&limit=5&to=999000201"
	pages := 0
	for {
		var p capture.ListResponse
		do(t, "GET", u, nil, nil, 200, &p)
		pages++
		for _, m := range p.Messages {
			if seen[m.ID] {
				t.Fatalf("message %s on two pages", m.ID)
			}
			seen[m.ID] = true
			texts = append(texts, *m.Text)
		}
		if p.NextCursor == "" {
			break
		}
		u = srv.URL + "/api/v1/messages?namespace=team-a&limit=5&to=999000201&cursor=" + url.QueryEscape(p.NextCursor)
	}
	if pages != 3 || len(texts) != 12 || texts[0] != "a message 11" || texts[11] != "a message 0" {
		t.Fatalf("%d pages: %v", pages, texts)
	}
	// text contains, case-insensitive; bad parameters are 400.
	var found capture.ListResponse
	do(t, "GET", srv.URL+"/api/v1/messages?text=MESSAGE+1&to=999000201", nil, nil, 200, &found)
	if len(found.Messages) != 3 { // 1, 10, 11
		t.Fatalf("text filter: %d", len(found.Messages))
	}
	do(t, "GET", srv.URL+"/api/v1/messages?since=yesterday", nil, nil, 400, nil)
	do(t, "GET", srv.URL+"/api/v1/messages?limit=0", nil, nil, 400, nil)
	do(t, "GET", srv.URL+"/api/v1/messages?status=NOPE", nil, nil, 400, nil)

	// Delete one namespace's messages for the number, then everything.
	var del map[string]int
	do(t, "DELETE", srv.URL+"/api/v1/messages?number=999000201", http.Header{"X-Simlab-Namespace": {"team-a"}}, nil, 200, &del)
	if del["deleted"] != 12 {
		t.Fatalf("deleted %v", del)
	}
	do(t, "DELETE", srv.URL+"/api/v1/messages", nil, nil, 200, &del)
	if del["deleted"] != 1 {
		t.Fatalf("deleted %v", del)
	}
	do(t, "GET", srv.URL+"/api/v1/messages/latest?to=999000201", nil, nil, 404, nil)
}

func TestDetailConcatAndLatest(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	cl := srv.Dial(t, client.Config{Logger: quiet})
	long := strings.Repeat("Привет, мир! ", 8) + "код 5521"
	ids := submitText(t, cl, "999000202", long)
	if len(ids) != 2 {
		t.Fatalf("%d parts", len(ids))
	}
	var v capture.MessageView
	do(t, "GET", srv.URL+"/api/v1/messages/"+ids[1], nil, nil, 200, &v)
	if v.FullText == nil || *v.FullText != long || len(v.Parts) != 2 || v.Parts[0].ID != ids[0] || v.Alphabet != "ucs2" {
		t.Fatalf("detail: %+v", v)
	}
	if len(v.UDH) != 1 || v.UDH[0].IEI != 0 || v.UDH[0].Data != "2a0202" {
		t.Fatalf("udh %+v", v.UDH)
	}
	do(t, "GET", srv.URL+"/api/v1/messages/latest?to=999000202", nil, nil, 200, &v)
	if v.ID != ids[1] || *v.FullText != long {
		t.Fatalf("latest %+v", v)
	}
	var otp capture.OTPResponse
	do(t, "GET", srv.URL+"/api/v1/otp?to=999000202", nil, nil, 200, &otp)
	if otp.OTP != "5521" || otp.Text != long {
		t.Fatalf("otp %+v", otp)
	}
	do(t, "GET", srv.URL+"/api/v1/messages/nope", nil, nil, 404, nil)
}

// TestOTAHeader submits a SIM data download (PID 7F, DCS F6, UDH 027000)
// carrying the no-security command packet of applet/ota/testdata/vectors.txt (pySim
// test_ota.py shape: TAR B00011, APDU 00A40004023F00).
func TestOTAHeader(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	cl := srv.Dial(t, client.Config{Logger: quiet})
	pkt, _ := hex.DecodeString("0015" + "0d" + "1200" + "00" + "00" + "b00011" + "0000000001" + "00" + "00a40004023f00")
	p, err := client.WithUDH([]byte{2, 0x70, 0}, pkt, 0xF6)
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.Submit(ctxT(t), &client.Message{Dest: client.Address{TON: 1, NPI: 1, Addr: "999000203"}, ESMClass: p.ESMClass, ProtocolID: 0x7F, DataCoding: 0xF6, ShortMessage: p.ShortMessage})
	if err != nil {
		t.Fatal(err)
	}
	var v capture.MessageView
	do(t, "GET", srv.URL+"/api/v1/messages/"+id, nil, nil, 200, &v)
	o := v.OTA
	if !v.SIMDownload || v.Text != nil || o == nil || o.Kind != "command" || o.CPL != 0x15 || o.CHL != 13 || o.SPI != "1200" || o.TAR != "b00011" ||
		o.Counter != "0000000001" || o.Ciphered || o.Error != "" || v.BodyHex != hex.EncodeToString(pkt) {
		t.Fatalf("view %+v ota %+v", v, o)
	}
	if len(v.UDH) != 1 || v.UDH[0].IEI != 0x70 {
		t.Fatalf("udh %+v", v.UDH)
	}
}

// TestWaitAndOTP: a long-poll wait returns the message submitted while it
// waits; with since it also finds one stored just before; a wait with
// nothing coming times out with 408.
func TestWaitAndOTP(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	cl := srv.Dial(t, client.Config{Logger: quiet})
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	type res struct {
		v   capture.MessageView
		otp capture.OTPResponse
		err error
	}
	done := make(chan res, 1)
	go func() {
		var r res
		r.err = doErr("GET", srv.URL+"/api/v1/messages/wait?to=999000204&timeout=10s&since="+url.QueryEscape(since), nil, nil, 200, &r.v)
		if r.err == nil {
			r.err = doErr("GET", srv.URL+"/api/v1/otp?to=999000204&wait=10s&since="+url.QueryEscape(since), nil, nil, 200, &r.otp)
		}
		done <- r
	}()
	submitText(t, cl, "999000204", "G-739201 is your verification code")
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.v.Text == nil || *r.v.Text != "G-739201 is your verification code" || r.otp.OTP != "739201" {
		t.Fatalf("wait %+v otp %+v", r.v, r.otp)
	}
	do(t, "GET", srv.URL+"/api/v1/messages/wait?to=999000299&timeout=50ms", nil, nil, 408, nil)
	do(t, "GET", srv.URL+"/api/v1/messages/wait?timeout=-1s", nil, nil, 400, nil)
	do(t, "GET", srv.URL+"/api/v1/otp?to=999000299", nil, nil, 404, nil)
	do(t, "GET", srv.URL+"/api/v1/otp?pattern=(", nil, nil, 400, nil)
	// A bad wait is refused naming the parameter the request gave.
	for _, c := range []struct{ q, want string }{
		{"otp?to=999000299&wait=10m", "wait: want (0, 5m0s]"},
		{"otp?to=999000299&wait=soon", `wait: want a duration such as 10s, got "soon"`},
		{"messages/wait?to=999000299&timeout=10m", "timeout: want (0, 5m0s]"},
	} {
		var e struct{ Error string }
		do(t, "GET", srv.URL+"/api/v1/"+c.q, nil, nil, 400, &e)
		if !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: error %q, want %q", c.q, e.Error, c.want)
		}
	}
}

// TestStream reads the SSE stream: the leading comment proves the
// subscription exists, so everything submitted afterwards must appear.
func TestStream(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	cl := srv.Dial(t, client.Config{SystemID: "streamer", Logger: quiet})
	ctx := ctxT(t)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/messages/stream?to=999000205", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	rd := bufio.NewReader(resp.Body)
	if line, _ := rd.ReadString('\n'); !strings.HasPrefix(line, ":") {
		t.Fatalf("first line %q", line)
	}
	submitText(t, cl, "999000206", "not for this stream")
	ids := submitText(t, cl, "999000205", "streamed 1")
	var event string
	var stored capture.MessageView
	for stored.ID == "" {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if ev, ok := strings.CutPrefix(line, "event: "); ok {
			event = strings.TrimSpace(ev)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			if err := json.Unmarshal([]byte(data), &stored); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The first event is the new message to this number, not the other.
	if event != "message" || stored.ID != ids[0] || stored.To != "999000205" || stored.Text == nil || *stored.Text != "streamed 1" {
		t.Fatalf("event %q: %+v", event, stored)
	}
}

// TestFaults installs faults over the API and sees the SMSC apply them.
func TestFaults(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t, smsctest.WithFaults(smsc.NewFaults(7)))
	cl := srv.Dial(t, client.Config{Logger: quiet, ThrottleRetries: -1})
	ctx := ctxT(t)
	do(t, "POST", srv.URL+"/api/v1/faults", nil, map[string]any{"dest": "999000207", "submit_status": 8}, 201, nil)
	do(t, "POST", srv.URL+"/api/v1/faults", nil, map[string]any{"dest": "+999000208", "delivery_error": map[string]any{"code": 27, "permanent": true}}, 201, nil)
	do(t, "POST", srv.URL+"/api/v1/faults", nil, map[string]any{"dest": "1", "account": "x", "drop": true}, 400, nil)
	do(t, "POST", srv.URL+"/api/v1/faults", nil, map[string]any{"dest": "1"}, 400, nil)
	do(t, "POST", srv.URL+"/api/v1/faults", nil, map[string]any{"dest": "1", "latency": "soon"}, 400, nil)
	var list capture.FaultList
	do(t, "GET", srv.URL+"/api/v1/faults", nil, nil, 200, &list)
	if len(list.Faults) != 2 {
		t.Fatalf("faults %+v", list)
	}
	_, err := cl.Submit(ctx, &client.Message{Dest: client.Address{Addr: "999000207"}, ShortMessage: []byte("x")})
	var se *client.StatusError
	if !errors.As(err, &se) || se.Status != 8 {
		t.Fatalf("submit to faulty destination: %v, want ESME_RSYSERR", err)
	}
	ids := submitText(t, cl, "999000208", "doomed")
	r, err := cl.AwaitReceipt(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.Stat != "UNDELIV" || r.Err != "027" && r.Err != "27" {
		t.Fatalf("receipt %+v, want UNDELIV err 027", r)
	}
	do(t, "DELETE", srv.URL+"/api/v1/faults?dest=999000207", nil, nil, 200, nil)
	do(t, "DELETE", srv.URL+"/api/v1/faults?dest=999000207", nil, nil, 404, nil)
	if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{Addr: "999000207"}, ShortMessage: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	var cleared map[string]int
	do(t, "DELETE", srv.URL+"/api/v1/faults?seed=9", nil, nil, 200, &cleared)
	if cleared["removed"] != 1 {
		t.Fatalf("cleared %v", cleared)
	}
}

// TestOpenAPI: the served document is the committed docs/openapi.json and
// names every route the API serves.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	resp, err := http.Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	committed, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served, committed) {
		t.Fatal("docs/openapi.json differs from smsc/capture/openapi.json: copy it over")
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(served, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not OpenAPI 3: %v", err)
	}
	for _, route := range []string{"GET /api/v1/messages", "DELETE /api/v1/messages", "POST /api/v1/messages", "GET /api/v1/messages/latest", "GET /api/v1/messages/wait",
		"GET /api/v1/messages/stream", "GET /api/v1/messages/{id}", "DELETE /api/v1/messages/{id}", "GET /api/v1/otp", "GET /api/v1/faults", "POST /api/v1/faults",
		"DELETE /api/v1/faults", "GET /api/v1/openapi.json"} {
		method, path, _ := strings.Cut(route, " ")
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("%s is not documented", route)
		}
	}
}

// TestFindOTP is the OTP extraction table (default 4-8 digits, and a
// custom pattern).
func TestFindOTP(t *testing.T) {
	t.Parallel()
	custom := regexp.MustCompile(`code ([A-Z0-9]{6})`)
	cases := []struct {
		re   *regexp.Regexp
		text string
		want string
	}{
		{nil, "Your code is 123456", "123456"},
		{nil, "1234 is your code", "1234"},
		{nil, "Code: 87654321.", "87654321"},
		{nil, "G-482913 is your Google verification code.", "482913"},
		{nil, "Call 0123456789 now", ""}, // 10 digits: a phone number
		{nil, "PIN 123", ""},
		{nil, "Your code is 12 34", ""},
		{nil, "Ваш код: 5521", "5521"},
		{custom, "Your code AB12CD expires", "AB12CD"},
		{custom, "Your code is 123456", ""},
		{regexp.MustCompile(`\d{3}-\d{3}`), "use 123-456", "123-456"},
	}
	for _, tc := range cases {
		got, ok := capture.FindOTP(tc.re, tc.text)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("FindOTP(%v, %q) = %q, %v; want %q", tc.re, tc.text, got, ok, tc.want)
		}
	}
}

// TestCloseEndsWaits: Close (http.Server shutdown) answers open waits.
func TestCloseEndsWaits(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	done := make(chan error, 1)
	go func() {
		done <- doErr("GET", srv.URL+"/api/v1/messages/wait?to=999000299&timeout=5m", nil, nil, http.StatusServiceUnavailable, nil)
	}()
	srv.Capture.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
