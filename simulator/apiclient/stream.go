package apiclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// MaxEventBytes bounds one Server-Sent Event (its lines and data); a
// longer one ends the stream with an error.
const MaxEventBytes = 4 << 20

// ErrEventTooLong is returned by Stream.Next for an event longer than
// MaxEventBytes.
var ErrEventTooLong = errors.New("apiclient: server-sent event longer than MaxEventBytes")

// Stream is an open Server-Sent Events answer: Next returns its events one
// by one; Close (or cancelling the context it was opened with) ends it.
// A Stream is for one goroutine.
type Stream[T any] struct {
	body   io.ReadCloser
	events *sseReader
	decode func(event string, data []byte) (T, error)
}

// openStream starts a GET of an event stream.
func openStream[T any](ctx context.Context, c *Client, path string, q url.Values, decode func(string, []byte) (T, error)) (*Stream[T], error) {
	resp, err := c.send(ctx, http.MethodGet, path, q, nil, "text/event-stream")
	if err != nil {
		return nil, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		resp.Body.Close()
		return nil, fmt.Errorf("apiclient: GET %s: answer is %q, not an event stream", path, resp.Header.Get("Content-Type"))
	}
	return &Stream[T]{body: resp.Body, events: newSSEReader(resp.Body, MaxEventBytes), decode: decode}, nil
}

// Next blocks until the next event and returns it decoded. It returns
// io.EOF when the server ended the stream, and the context's error once
// the stream's context is done. An event that does not decode is an error
// too; the stream stays usable.
func (s *Stream[T]) Next() (T, error) {
	ev, err := s.events.next()
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := s.decode(ev.typ, ev.data)
	if err != nil {
		return v, fmt.Errorf("apiclient: event %q: %w", ev.typ, err)
	}
	return v, nil
}

// Close ends the stream.
func (s *Stream[T]) Close() error { return s.body.Close() }

// sseEvent is one dispatched event.
type sseEvent struct {
	typ  string // "message" when the stream gave none
	data []byte
	id   string
}

// sseReader parses an event stream as the WHATWG HTML standard says
// (§9.2.6 "Interpreting an event stream"): lines end in CRLF, LF or CR;
// a line starting with a colon is a comment; "field: value" lines set
// event, data (one line each, joined by LF), id and retry; a blank line
// dispatches the event when it has data. It is written here rather than
// taken from a library because it is this small and an importable client
// should not add a dependency to its users' builds; FuzzSSE checks it.
type sseReader struct {
	r      *bufio.Reader
	max    int
	skipLF bool // the last line ended in CR: a following LF belongs to it
	line   []byte
	lastID string
}

func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{r: bufio.NewReader(r), max: max}
}

// readLine returns the next line without its terminator. A line cut short
// by the end of the input is not a line: io.EOF (or the read error).
func (s *sseReader) readLine(budget int) ([]byte, error) {
	s.line = s.line[:0]
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if s.skipLF {
			s.skipLF = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\r':
			s.skipLF = true
			return s.line, nil
		case '\n':
			return s.line, nil
		}
		if len(s.line) >= budget {
			return nil, ErrEventTooLong
		}
		s.line = append(s.line, b)
	}
}

// next returns the next event with data.
func (s *sseReader) next() (sseEvent, error) {
	var (
		typ     string
		data    []byte
		hasData bool
		size    int
	)
	for {
		line, err := s.readLine(s.max - size)
		if err != nil {
			return sseEvent{}, err
		}
		size += len(line) + 1
		if size > s.max {
			return sseEvent{}, ErrEventTooLong
		}
		if len(line) == 0 {
			if hasData {
				if typ == "" {
					typ = "message"
				}
				return sseEvent{typ: typ, data: bytes.TrimSuffix(data, []byte("\n")), id: s.lastID}, nil
			}
			typ, size = "", 0
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(field) {
		case "event":
			typ = string(value)
		case "data":
			data = append(append(data, value...), '\n')
			hasData = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				s.lastID = string(value)
			}
		}
	}
}
