package simulator

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc/client"
)

// TestUnknownQueryParameters: a query parameter the API document does not
// declare for the operation is a JSON 400 naming it, on the capture and
// the control API alike; declared ones pass; paths outside /api/v1/ are
// not checked.
func TestUnknownQueryParameters(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off"})
	base := "http://" + s.Addrs().HTTP
	for _, tc := range []struct {
		method, path string
		code         int
		msg          string
	}{
		{"GET", "/api/v1/otp?msisdn=99901000042", 400, `unknown query parameter "msisdn" for GET /api/v1/otp (allowed: `},
		{"GET", "/api/v1/messages?to=99901000042&bogus=1", 400, `unknown query parameter "bogus"`},
		{"DELETE", "/api/v1/messages?tp=1", 400, `unknown query parameter "tp"`},
		{"GET", "/api/v1/phones/99901000042?verbose=1", 400, `"verbose" for GET /api/v1/phones/99901000042 (it takes none)`},
		{"PUT", "/api/v1/phones/99901000042?answer=cancel", 400, `unknown query parameter "answer"`},
		{"GET", "/api/v1/namespaces?all=1", 400, `unknown query parameter "all"`},
		{"GET", "/api/v1/prompts?number=99901000042", 400, `unknown query parameter "number"`},
		{"GET", "/api/v1/phones?token=abc", 400, "Authorization header"},
		{"GET", "/api/v1/messages?to=99901000042&limit=1", 200, `"messages"`},
		{"GET", "/api/v1/prompts?msisdn=%2B99901000042", 200, `"prompts"`},
		{"GET", "/healthz?probe=1", 200, `"status"`},
		{"GET", "/no/such/thing?x=1", 404, "no such endpoint"},
	} {
		code, hdr, body := call(t, nil, tc.method, base+tc.path, nil, "")
		var e errorBody
		if json.Unmarshal([]byte(body), &e) == nil && e.Error != "" {
			body = e.Error
		}
		if code != tc.code || !strings.Contains(body, tc.msg) || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s = %d %s, want %d JSON with %q", tc.method, tc.path, code, body, tc.code, tc.msg)
		}
	}
}

// TestQueryParamsOfEveryOperation: the parameters come from the document
// (HEAD as GET), and the OpenID Connect endpoints are left alone.
func TestQueryParamsOfEveryOperation(t *testing.T) {
	t.Parallel()
	params, err := apiQueryParams()
	if err != nil {
		t.Fatal(err)
	}
	if ps, ok := params.allowed("GET", "GET /api/v1/messages"); !ok || !strings.Contains(strings.Join(ps, ","), "to") {
		t.Fatalf("GET /api/v1/messages: %v %v", ps, ok)
	}
	if ps, ok := params.allowed("HEAD", "GET /api/v1/messages"); !ok || len(ps) == 0 {
		t.Errorf("HEAD falls back to GET: %v %v", ps, ok)
	}
	if _, ok := params.allowed("GET", "GET /mc/authorize"); ok {
		t.Errorf("the OpenID Connect endpoints are not checked")
	}
}

// TestNumbersWrittenAnyWay: a message submitted to +99901000042 over SMPP
// is found by to=99901000042, to=%2B99901000042, to=+99901000042 (a raw +
// decodes to a space) and to=0099901000042, and one submitted without +
// by to=%2B…; the phone's control path takes every spelling too.
func TestNumbersWrittenAnyWay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := startTest(t, Config{})
	base := "http://" + s.Addrs().HTTP
	cl, err := client.Dial(ctx, client.Config{Addr: s.Addrs().SMPP, SystemID: "numbers", Password: "secret", NoReconnect: true, Mode: client.Transmitter})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(ctx)
	for _, to := range []string{"+99901000042", "99901000043"} {
		if _, err := cl.Submit(ctx, &client.Message{Source: client.Address{Addr: "SIMLAB"}, Dest: client.Address{TON: 1, NPI: 1, Addr: to}, ShortMessage: []byte("hello " + to)}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(query string) int {
		t.Helper()
		code, _, body := call(t, nil, "GET", base+"/api/v1/messages?"+query, nil, "")
		var r struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil || code != 200 {
			t.Fatalf("?%s = %d %s", query, code, body)
		}
		return len(r.Messages)
	}
	for _, n := range []string{"99901000042", "99901000043"} {
		for _, q := range []string{"to=" + n, "to=" + url.QueryEscape("+"+n), "to=+" + n, "to=00" + n, "number=%2B" + n, "to=%20" + n + "%20"} {
			if got := count(q); got != 1 {
				t.Errorf("?%s: %d messages, want 1", q, got)
			}
		}
	}
	for _, p := range []string{"99901000042", "%2B99901000042", "0099901000042"} {
		code, _, body := call(t, nil, "GET", base+"/api/v1/phones/"+p, nil, "")
		if code != 200 || !strings.Contains(body, `"msisdn":"99901000042"`) && !strings.Contains(body, `"msisdn":"+99901000042"`) {
			t.Errorf("GET /api/v1/phones/%s = %d %.120s", p, code, body)
		}
	}
}
