// Package apiclient is the Go client of simlab's HTTP API, as `simlab
// serve` answers it under /api/v1 (docs/api.md, docs/capture-api.md; the
// OpenAPI document is served at /api/v1/openapi.json):
//
//   - the control API of the emulated fleet: phones, their scripts
//     (behaviours), event logs and inboxes, the numbering plan, the phones'
//     session metrics, PC/SC readers attached as phones, and test
//     namespaces with leased numbers;
//   - the SMSC's capture API: messages (list, get, delete), long-poll waits,
//     one-time-password extraction, Server-Sent Events streams and fault
//     injection.
//
// A Client holds the base URL, the bearer token, the namespace its capture
// calls are scoped to and the *http.Client that sends them. Every call
// takes a context; an answer that is not 2xx is an *Error carrying the HTTP
// status and the server's JSON error message.
//
// The package imports nothing of the server (only the small
// simulator/person package, for the behaviour scripts), so a service's tests
// can drive a `simlab serve` running elsewhere — a CI service — without
// linking the simulator in. simulator/simtest and the simlab command are
// built on it.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// NamespaceHeader carries a request's namespace (docs/capture-api.md).
const NamespaceHeader = "X-Simlab-Namespace"

// MaxResponseBytes bounds the body of one answer the client reads; a
// longer one is an error (a list of 1,000 messages is a few MiB).
const MaxResponseBytes = 64 << 20

// maxErrorBytes bounds what is read of an error answer.
const maxErrorBytes = 64 << 10

// Client calls simlab's HTTP API. The zero value is not usable: set BaseURL
// (New checks it). A Client is safe for concurrent use; do not change its
// fields while calls are in flight (WithNamespace gives a copy).
type Client struct {
	// BaseURL is where simlab's HTTP listener answers, without /api/v1:
	// "http://127.0.0.1:8775" for `simlab serve` by default.
	BaseURL string
	// Token is the API bearer token (`--api-token-file`,
	// $SIMLAB_API_TOKEN on the server); empty sends none. It is sent as
	// an Authorization header, never in a URL.
	Token string
	// Namespace scopes the capture calls (messages, waits, OTPs, streams)
	// to one namespace: it is sent as the X-Simlab-Namespace header. Empty
	// sees every namespace.
	Namespace string
	// HTTPClient sends the requests; nil means http.DefaultClient. Waits
	// and streams last as long as their context allows: a Timeout set here
	// cuts them short.
	HTTPClient *http.Client

	// strict refuses answers with fields this package does not know (the
	// round-trip tests set it, export_test.go).
	strict bool
}

// New returns a client for the API at baseURL (http or https, with a host;
// a trailing slash is dropped).
func New(baseURL string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("apiclient: base URL %q: want http://host:port or https://host:port", baseURL)
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/")}, nil
}

// WithNamespace returns a copy of c whose calls are scoped to namespace ns.
func (c *Client) WithNamespace(ns string) *Client {
	cp := *c
	cp.Namespace = ns
	return &cp
}

// Error is an answer outside 2xx: its status and the server's message (the
// "error" of its JSON body, or the body's text when it is not JSON). Use
// errors.As to read it.
type Error struct {
	// Method and Path are the request's (the path without the query).
	Method string
	Path   string
	// StatusCode is the HTTP status, e.g. http.StatusNotFound.
	StatusCode int
	// Message is what the server said went wrong.
	Message string

	body []byte // the answer, for the calls that read an error's body
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("apiclient: %s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// StatusCode returns the HTTP status of err when it is (or wraps) an
// *Error, else 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

// send makes one request and returns the response when its status is 2xx
// (the caller closes the body), else an *Error. body, when not nil, is sent
// as JSON.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, body any, accept string) (*http.Response, error) {
	if c.BaseURL == "" {
		return nil, errors.New("apiclient: no BaseURL")
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("apiclient: %s %s: encoding the body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("apiclient: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Namespace != "" {
		req.Header.Set(NamespaceHeader, c.Namespace)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		// The *url.Error names the URL; it holds no secret (the token
		// travels in a header).
		return nil, fmt.Errorf("apiclient: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	return nil, &Error{Method: method, Path: path, StatusCode: resp.StatusCode, Message: errorMessage(raw), body: raw}
}

// errorMessage is the "error" of a JSON error body, else its text.
func errorMessage(raw []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"` // the gateway's OAuth-style errors
	}
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		if e.Description != "" {
			return e.Error + ": " + e.Description
		}
		return e.Error
	}
	msg := strings.TrimSpace(string(raw))
	if msg == "" {
		return "(no message)"
	}
	return msg
}

// do makes one request and decodes a 2xx JSON answer into out (when out is
// not nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, q, body, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBytes))
		return nil
	}
	if err := c.decode(resp.Body, out); err != nil {
		return fmt.Errorf("apiclient: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// call makes one request and returns its 2xx JSON answer decoded as a T.
func call[T any](ctx context.Context, c *Client, method, path string, q url.Values, body any) (*T, error) {
	out := new(T)
	if err := c.do(ctx, method, path, q, body, out); err != nil {
		return nil, err
	}
	return out, nil
}

// decode reads one JSON value of at most MaxResponseBytes from r.
func (c *Client) decode(r io.Reader, out any) error {
	lr := &io.LimitedReader{R: r, N: MaxResponseBytes + 1}
	dec := json.NewDecoder(lr)
	if c.strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(out); err != nil {
		if lr.N <= 0 {
			return fmt.Errorf("answer longer than %d bytes", MaxResponseBytes)
		}
		return err
	}
	return nil
}

// raw makes one request and returns the 2xx answer's body.
func (c *Client) raw(ctx context.Context, method, path, accept string) ([]byte, error) {
	resp, err := c.send(ctx, method, path, nil, nil, accept)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("apiclient: %s %s: %w", method, path, err)
	}
	if len(b) > MaxResponseBytes {
		return nil, fmt.Errorf("apiclient: %s %s: answer longer than %d bytes", method, path, MaxResponseBytes)
	}
	return b, nil
}

// phonePath is the path of one phone's resource (msisdn as given; the
// server normalises it).
func phonePath(msisdn string) string { return "/api/v1/phones/" + url.PathEscape(msisdn) }
