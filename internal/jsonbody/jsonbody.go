// Package jsonbody decodes the JSON body of an HTTP request strictly: one
// JSON value of a bounded size, no unknown fields, nothing after it. Every
// handler of simlab's HTTP API that reads a JSON body goes through Decode,
// so that a body the API would read differently from another parser (two
// documents, of which encoding/json's Decoder applies the first) is a 400
// everywhere.
package jsonbody

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// ErrTrailingData is returned for a body with more than one JSON value.
var ErrTrailingData = errors.New("jsonbody: more than one JSON value (anything but whitespace after the body's value)")

// Decode reads r's body, at most limit octets, as exactly one JSON value
// into v. Unknown object fields are refused. Whitespace may follow the
// value; anything else is ErrTrailingData. A body over the limit is an
// *http.MaxBytesError (answer 413 or 400), and the connection is closed
// after the response, as http.MaxBytesReader does.
func Decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return DecodeReader(http.MaxBytesReader(w, r.Body, limit), v)
}

// DecodeReader is Decode on any reader (the caller bounds its size).
func DecodeReader(rd io.Reader, v any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("jsonbody: empty body, want a JSON value")
		}
		return err // encoding/json's errors say "json: …" already
	}
	// Token skips whitespace; at the end of the input it returns io.EOF.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return ErrTrailingData
	}
	return nil
}
