package simulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzControlAPI sends arbitrary requests to the HTTP API of `simlab
// serve` (control, capture, attach): paths with phone numbers, query
// parameters and JSON bodies (PhoneUpdate with its behaviour scripts,
// AttachRequest, fault rules). Properties: no panic, no 500, and a JSON
// answer is one document.
func FuzzControlAPI(f *testing.F) {
	for _, s := range [][3]string{
		{"PUT", "/api/v1/phones/99901000050", `{"behaviour":{"steps":[{"answer":"wrong-pin"}],"then":{"answer":"approve","delay":"1.5s"},"open_urls":true},"pin":"24680"}`},
		{"PATCH", "/api/v1/phones/+99901000050", `{"absent":true,"no_nfc":false}`},
		{"PUT", "/api/v1/phones/99901000050", `{"behaviour":{"then":{"answer":"dance"}}}`},
		{"PUT", "/api/v1/phones/99901000050", `{"pin":"12"}{"pin":"24680"}`},
		{"GET", "/api/v1/phones/4915112345678", ""},
		{"GET", "/api/v1/phones/99901000050/events?since=3&wait=1ms", ""},
		{"POST", "/api/v1/phones/99901000050/reset", ""},
		{"GET", "/api/v1/numbers", ""},
		{"POST", "/api/v1/attached", `{"reader":"Virtual PCD 00 00","msisdn":"+4930123456"}`},
		{"GET", "/api/v1/messages?text=code&limit=5", ""},
		{"GET", "/api/v1/metrics/sessions", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	s, err := Start(Config{SMPPAddr: "off", HTTPAddr: "off"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Shutdown(context.Background()) })
	h := s.Mux()
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "/api/v1/attached") && method == "POST" && strings.Contains(body, "reader") {
			return // attaching a reader would look for PC/SC hardware
		}
		req, err := http.NewRequest(method, "http://simlab"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s %s %q: 500 %s", method, target, body, rec.Body)
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			var v any
			dec := json.NewDecoder(rec.Body)
			if err := dec.Decode(&v); err != nil || dec.More() {
				t.Fatalf("%s %s: not one JSON document: %v", method, target, err)
			}
		}
	})
}
