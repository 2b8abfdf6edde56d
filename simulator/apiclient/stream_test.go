package apiclient_test

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/apiclient"
)

type ev = apiclient.SSEEvent

// sseCases are the examples of the WHATWG HTML standard, §9.2.6
// "Interpreting an event stream" (the streams and what a browser
// dispatches for them), then what simlab's two streams send.
var sseCases = []struct {
	name, in string
	want     []ev
}{
	{"whatwg: three data lines, one event", "data: YHOO\ndata: +2\ndata: 10\n\n",
		[]ev{{"message", "YHOO\n+2\n10", ""}}},
	{"whatwg: comment, ids, an unfinished event at the end", ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n",
		[]ev{{"message", "first event", "1"}, {"message", "second event", ""}}},
	{"whatwg: empty data", "data\n\ndata\ndata\n\ndata:",
		[]ev{{"message", "", ""}, {"message", "\n", ""}}},
	{"whatwg: one leading space is dropped", "data:test\n\ndata: test\n\n",
		[]ev{{"message", "test", ""}, {"message", "test", ""}}},
	{"CRLF and CR line ends", "event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r",
		[]ev{{"a", "1", ""}, {"b", "2", ""}}},
	{"a blank line without data resets the type", "event: lost\n\ndata: x\n\n",
		[]ev{{"message", "x", ""}}},
	{"unknown fields and retry are ignored", "retry: 10\nfoo: bar\ndata: y\n\n",
		[]ev{{"message", "y", ""}}},
	{"an id with NUL is ignored", "id: 7\ndata: a\n\nid: 8\x009\ndata: b\n\n",
		[]ev{{"message", "a", "7"}, {"message", "b", "7"}}},
	{"capture stream", ": simlab capture stream\n\nevent: message\ndata: {\"id\":\"1\"}\n\n: keep-alive\n\nevent: deleted\ndata: {}\n\n",
		[]ev{{"message", `{"id":"1"}`, ""}, {"deleted", "{}", ""}}},
	{"phone events", ": simlab phone events\n\nid: 55\nevent: sms_in\ndata: {\"seq\":55}\n\n",
		[]ev{{"sms_in", `{"seq":55}`, "55"}}},
}

func TestSSE(t *testing.T) {
	t.Parallel()
	for _, c := range sseCases {
		got, err := apiclient.ParseSSE([]byte(c.in), 1<<10)
		if !errors.Is(err, io.EOF) {
			t.Errorf("%s: ends with %v, want io.EOF", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestSSELimit(t *testing.T) {
	t.Parallel()
	// One long line, and many short lines of one event: both are bounded.
	for _, in := range []string{"data: " + strings.Repeat("x", 100) + "\n\n", strings.Repeat("data: x\n", 30) + "\n"} {
		got, err := apiclient.ParseSSE([]byte(in), 64)
		if !errors.Is(err, apiclient.ErrEventTooLong) || len(got) != 0 {
			t.Errorf("%.20q…: %q %v, want ErrEventTooLong", in, got, err)
		}
	}
	// Events under the limit one by one pass, however long the stream.
	in := strings.Repeat("data: 0123456789\n\n", 100)
	if got, err := apiclient.ParseSSE([]byte(in), 64); len(got) != 100 || !errors.Is(err, io.EOF) {
		t.Errorf("100 small events: %d, %v", len(got), err)
	}
}

// FuzzSSE: any input parses to events or an error, never a crash, and no
// event is bigger than the limit.
func FuzzSSE(f *testing.F) {
	for _, c := range sseCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 256
		evs, err := apiclient.ParseSSE(in, limit)
		if err == nil {
			t.Fatal("ParseSSE ended without an error")
		}
		for _, e := range evs {
			if len(e.Type)+len(e.Data) > limit {
				t.Fatalf("event of %d bytes passed a %d limit", len(e.Type)+len(e.Data), limit)
			}
			if e.Type == "" {
				t.Fatal("an event without a type")
			}
		}
	})
}
