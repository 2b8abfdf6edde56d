package capture_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
)

// FuzzAPI sends arbitrary requests to the capture API: query parameters
// (filters, cursors, limits, timeouts, OTP patterns), paths and JSON
// bodies (fault rules). Properties: no panic, no 5xx but the documented
// 501/503, and every answer is one JSON document (an error has "error").
func FuzzAPI(f *testing.F) {
	for _, s := range [][3]string{
		{"GET", "/api/v1/messages?to=%2B999000001&text=CODE&limit=2&since=2026-11-22T00:00:00Z&status=delivered&direction=mt", ""},
		{"GET", "/api/v1/messages?cursor=18446744073709551615&limit=1000", ""},
		{"GET", "/api/v1/messages?limit=0&cursor=x", ""},
		{"GET", "/api/v1/messages/latest?number=999000001&namespace=n", ""},
		{"GET", "/api/v1/messages/m1", ""},
		{"GET", "/api/v1/messages/wait?to=1&timeout=1ms", ""},
		{"GET", "/api/v1/otp?to=999000001&pattern=(%5Cd%7B6%7D)", ""},
		{"GET", "/api/v1/otp?wait=0.001&pattern=(", ""},
		{"POST", "/api/v1/faults", `{"dest":"999000207","submit_status":8,"latency":"10ms","jitter":"x"}`},
		{"POST", "/api/v1/faults", `{"account":"a","delivery_error":{"code":27,"permanent":true},"probability":2}`},
		{"POST", "/api/v1/faults", `{"dest":"1"}{"dest":"2"}`},
		{"DELETE", "/api/v1/faults?seed=12", ""},
		{"DELETE", "/api/v1/messages?to=999000001", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	st := smsc.NewMemStore(0)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i, text := range []string{"Your code is 123456", "Part one of two, ", "part two."} {
		dcs, body := smsc.EncodeText(text)
		m := &smsc.Message{ID: "m" + string(rune('1'+i)), Namespace: "n", Dest: smsc.Address{Addr: "999000001"},
			Source: smsc.Address{Addr: "SimLab"}, DCS: dcs, Body: body, State: smsc.Delivered, SubmitTime: t0}
		if i > 0 {
			m.Concat = &smsc.Concat{Ref: 1, Total: 2, Seq: uint8(i)}
		}
		st.Append(context.Background(), m)
	}
	api := capture.New(st)
	api.Faults = smsc.NewFaults(1)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://simlab"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req.WithContext(ctx))
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			var v any
			dec := json.NewDecoder(rec.Body)
			if err := dec.Decode(&v); err != nil || dec.More() {
				t.Fatalf("%s %s: not one JSON document: %v", method, target, err)
			}
			if rec.Code >= 400 {
				if m, ok := v.(map[string]any); !ok || m["error"] == nil {
					t.Fatalf("%s %s: %d without an error: %v", method, target, rec.Code, v)
				}
			}
		}
	})
}
