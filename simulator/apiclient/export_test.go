package apiclient

import "bytes"

// Strict makes c refuse answers with fields this package does not know,
// so the round-trip tests catch a server that grew a field.
func Strict(c *Client) *Client {
	c.strict = true
	return c
}

// The bodies that only one method reads, for the OpenAPI comparison.
type (
	Deleted = deleted
	Removed = removed
)

// SSEEvent is one parsed event, for the parser's tests.
type SSEEvent struct{ Type, Data, ID string }

// ParseSSE reads every event of an event stream (the input's end ends it)
// with a per-event limit.
func ParseSSE(in []byte, max int) ([]SSEEvent, error) {
	r := newSSEReader(bytes.NewReader(in), max)
	var out []SSEEvent
	for {
		ev, err := r.next()
		if err != nil {
			return out, err
		}
		out = append(out, SSEEvent{Type: ev.typ, Data: string(ev.data), ID: ev.id})
	}
}
