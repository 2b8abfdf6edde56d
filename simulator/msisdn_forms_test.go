package simulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestMSISDNInputForms: every API input that takes a phone number — the
// {msisdn} of a path, the ?msisdn=, ?to=, ?from=, ?number= and ?dest=
// filters, the numbers of a body — takes it as 99900010007, +99900010007
// and %2B99900010007 (a raw "+" in a query decodes to a space; in a path
// it stays a "+"), and answers the same whichever form is used. Answers
// print numbers without the "+" (docs/api.md, "How numbers are written").
func TestMSISDNInputForms(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	base := "http://" + s.Addrs().HTTP
	hdr := http.Header{"Content-Type": {"application/json"}}
	do := func(method, path string, body any) (int, string) {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil || body == nil {
			b = nil
		}
		code, _, got := call(t, nil, method, base+path, hdr, string(b))
		return code, got
	}
	const n = "99900010007"
	forms := []string{n, "+" + n, "%2B" + n}

	// A phone sends one SMS, so that the capture's filters have a
	// message to find, with its destination in each form.
	for _, to := range []string{"12345", "+12345"} {
		if code, body := do("POST", "/api/v1/phones/"+n+"/sms", map[string]string{"to": to, "text": "hi"}); code != http.StatusAccepted {
			t.Fatalf("POST sms to %q: %d %s", to, code, body)
		}
	}

	for _, c := range []struct {
		method, path string // %s: the number
		body         func(form string) any
		want         int
	}{
		{"GET", "/api/v1/phones/%s", nil, 200},
		{"PATCH", "/api/v1/phones/%s", func(string) any { return map[string]any{"absent": false} }, 200},
		{"PUT", "/api/v1/phones/%s", func(string) any { return map[string]any{"no_nfc": false} }, 200},
		{"GET", "/api/v1/phones/%s/events", nil, 200},
		{"GET", "/api/v1/phones/%s/inbox", nil, 200},
		{"POST", "/api/v1/phones/%s/open", func(string) any { return map[string]string{"url": "https://example.invalid/x"} }, 0},
		{"DELETE", "/api/v1/attached/%s", nil, 0},
		{"GET", "/api/v1/prompts?msisdn=%s", nil, 200},
		{"GET", "/api/v1/challenges?msisdn=%s", nil, 200},
		{"GET", "/api/v1/mc/logins?msisdn=%s", nil, 200},
		{"GET", "/api/v1/messages?from=%s", nil, 200},
		{"GET", "/api/v1/messages?number=%s", nil, 200},
		{"GET", "/api/v1/messages/latest?from=%s", nil, 200},
		{"GET", "/api/v1/otp?to=%s", nil, 0},
	} {
		var first string
		for i, f := range forms {
			path := strings.Replace(c.path, "%s", f, 1)
			var body any
			if c.body != nil {
				body = c.body(f)
			}
			code, got := do(c.method, path, body)
			if c.want != 0 && code != c.want {
				t.Errorf("%s %s: %d %s, want %d", c.method, path, code, got, c.want)
			}
			if code == http.StatusNotFound && strings.Contains(got, "no such endpoint") || strings.Contains(got, "unknown query parameter") {
				t.Errorf("%s %s: %d %s", c.method, path, code, got)
			}
			if strings.Contains(got, `"+`+n) {
				t.Errorf("%s %s printed the number with a +: %s", c.method, path, got)
			}
			got = stripVolatile(got)
			if i == 0 {
				first = got
				if strings.Contains(c.path, "messages") && !strings.Contains(got, n) {
					t.Errorf("%s %s found no message of %s: %s", c.method, path, n, got)
				}
			} else if got != first {
				t.Errorf("%s %s answers\n%s\nwith %s\n%s", c.method, path, got, forms[0], first)
			}
		}
	}

	// The numbers in bodies: an SMS to a short code written with a "+",
	// a fault rule's dest.
	for _, f := range []string{n, "+" + n} {
		code, got := do("POST", "/api/v1/faults", map[string]any{"dest": f, "submit_status": 8})
		if code != http.StatusCreated || !strings.Contains(got, `"dest":"`+n+`"`) {
			t.Errorf("POST /api/v1/faults dest %q: %d %s, want the dest as digits", f, code, got)
		}
	}
	for _, f := range forms {
		do("POST", "/api/v1/faults", map[string]any{"dest": n, "submit_status": 8})
		if code, got := do("DELETE", "/api/v1/faults?dest="+f, nil); code != http.StatusOK {
			t.Errorf("DELETE /api/v1/faults?dest=%s: %d %s", f, code, got)
		}
	}
	if code, got := do("GET", "/api/v1/messages?to=%2B12345", nil); code != 200 || strings.Count(got, `"to":"12345"`) != 2 {
		t.Errorf("the two SMS sent to 12345 and +12345: %d %s, want both to 12345", code, got)
	}
}

// stripVolatile drops what changes between two identical requests so that
// answers can be compared: a phone's event count grows with each change.
func stripVolatile(s string) string { return eventCount.ReplaceAllString(s, `"events":_`) }

var eventCount = regexp.MustCompile(`"events":[0-9]+`)
