package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/apiclient"
)

// TestAPICallsUseAPIClient: the plan and the codes are read through
// apiclient (review 1, M5): the bearer token goes with each call, a
// refusal is an *apiclient.Error with its status and the server's
// message, a wait that ends without a code is errNoCode.
func TestAPICallsUseAPIClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"missing or wrong API token"}`)
			return
		}
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/api/v1/numbers":
			fmt.Fprint(w, `{"ranges":[{"range":["+99901000000","+99901000009"],"size":10,"card_index":0,"iccid":"8999","imsi":"999","answer":{"action":"approve"}}],"magic":[]}`)
		case r.URL.Path == "/api/v1/otp" && q.Get("to") == "99901000001" && q.Get("wait") != "" && q.Get("since") != "":
			fmt.Fprint(w, `{"otp":"123456","message_id":"7"}`)
		case r.URL.Path == "/api/v1/otp":
			w.WriteHeader(http.StatusRequestTimeout)
			fmt.Fprint(w, `{"error":"no message matched"}`)
		case r.URL.Path == "/api/v1/messages/7":
			fmt.Fprint(w, `{"id":"7","text":"Your simlab code is 654321"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":"not found"}`)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	d, err := FetchFleet(ctx, srv.Client(), srv.URL+"/", "s3cret")
	if err != nil || len(d.Ranges) != 1 || d.Ranges[0].Size != 10 {
		t.Fatalf("FetchFleet: %+v %v", d, err)
	}
	_, err = FetchFleet(ctx, srv.Client(), srv.URL, "wrong")
	if apiclient.StatusCode(err) != http.StatusUnauthorized || !strings.Contains(err.Error(), "missing or wrong API token") || strings.Contains(err.Error(), "{") {
		t.Errorf("FetchFleet with a wrong token: %v", err)
	}

	api, _ := apiclient.New(srv.URL)
	api.Token = "s3cret"
	got, err := readOTP(ctx, api, "99901000001", time.Now(), `code is (\d{6})`)
	if err != nil || got.OTP != "123456" || got.MessageID != "7" {
		t.Errorf("readOTP: %+v %v", got, err)
	}
	if _, err := readOTP(ctx, api, "99901000002", time.Now(), `code is (\d{6})`); !errors.Is(err, errNoCode) {
		t.Errorf("readOTP without a code: %v, want errNoCode", err)
	}
	if o, err := otpByID(ctx, api, "7", regexp.MustCompile(`code is (\d{6})`)); err != nil || o.OTP != "654321" {
		t.Errorf("otpByID: %+v %v", o, err)
	}
	if _, err := otpByID(ctx, api, "8", regexp.MustCompile(`code is (\d{6})`)); !errors.Is(err, errNoCode) {
		t.Errorf("otpByID of an unknown id: %v, want errNoCode", err)
	}
	api.Token = "wrong"
	if _, err := readOTP(ctx, api, "99901000001", time.Now(), `code is (\d{6})`); !errors.Is(err, ErrCaptureAPI) || apiclient.StatusCode(err) != http.StatusUnauthorized {
		t.Errorf("readOTP with a wrong token: %v", err)
	}
}
