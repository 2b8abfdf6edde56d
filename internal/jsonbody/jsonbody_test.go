package jsonbody

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type body struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func TestDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		ok      bool
		trailer bool
	}{
		{`{"name":"a","count":1}`, true, false},
		{"{\"name\":\"a\"}\n\t ", true, false},
		{`{"name":"a"}{"name":"b"}`, false, true},
		{`{"name":"a"} {"name":"b"}`, false, true},
		{`{"name":"a"}]`, false, true},
		{`{"name":"a"} x`, false, true},
		{`{"name":"a","extra":1}`, false, false},
		{``, false, false},
		{`{"name":`, false, false},
		{`{"count":"1"}`, false, false},
	} {
		var b body
		err := DecodeReader(strings.NewReader(tc.in), &b)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok=%v", tc.in, err, tc.ok)
		}
		if errors.Is(err, ErrTrailingData) != tc.trailer {
			t.Errorf("%q: err %v, want trailing-data error %v", tc.in, err, tc.trailer)
		}
	}
}

// TestDecodeLimit: a body over the limit is refused as such, also when
// the excess follows a complete value.
func TestDecodeLimit(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"name":"` + strings.Repeat("x", 100) + `"}`, `{"name":"a"}` + strings.Repeat(" ", 100) + "x"} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(in))
		var b body
		err := Decode(httptest.NewRecorder(), r, 32, &b)
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			t.Errorf("%d octets over a 32-octet limit: %v", len(in), err)
		}
	}
}

// FuzzDecode: any body either decodes into exactly one value (which then
// re-encodes) or is refused; nothing panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1}`, `{"name":"a"}{"name":"b"}`, `{}`, ` `, `[1]`, `{"count":1e400}`, "{\"name\":\"\\ud800\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var b body
		if err := DecodeReader(strings.NewReader(string(in)), &b); err != nil {
			return
		}
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		var again body
		if err := DecodeReader(strings.NewReader(string(enc)), &again); err != nil || again != b {
			t.Fatalf("%q decoded to %+v, which does not round-trip: %+v %v", in, b, again, err)
		}
	})
}
