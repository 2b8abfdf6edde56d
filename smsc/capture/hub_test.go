package capture

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
)

// TestHubEncodesOnce: subscribers share one frame per event, encoded by
// the first reader, never by the publisher.
func TestHubEncodesOnce(t *testing.T) {
	t.Parallel()
	var h Hub
	a := h.Subscribe(TopicPhone, nil, 4)
	b := h.Subscribe(TopicPhone, nil, 4)
	encoded := 0
	h.Publish(&HubEvent{Topic: TopicPhone, Name: "phone", Value: countingValue{&encoded}})
	if encoded != 0 {
		t.Fatal("Publish encoded the event")
	}
	ea, eb := <-a.C(), <-b.C()
	fa, fb := ea.Frame(), eb.Frame()
	if encoded != 1 || &fa[0] != &fb[0] {
		t.Fatalf("encoded %d times; frames shared: %v", encoded, &fa[0] == &fb[0])
	}
	if want := "id: 1\nevent: phone\ndata: {\"n\":1}\n\n"; string(fa) != want {
		t.Fatalf("frame %q, want %q", fa, want)
	}
}

type countingValue struct{ n *int }

func (c countingValue) MarshalJSON() ([]byte, error) {
	*c.n++
	return []byte(`{"n":1}`), nil
}

// TestHubParksFullSubscribers: a subscriber whose buffer is full is taken
// off the publisher's list (Wants turns false for its topic), told that it
// lost events, and listed again once it has drained its buffer.
func TestHubParksFullSubscribers(t *testing.T) {
	t.Parallel()
	var h Hub
	s := h.Subscribe(TopicMessage, nil, 2)
	other := h.Subscribe(TopicPhone, nil, 8)
	defer h.Unsubscribe(other)
	for i := range 5 {
		h.Publish(&HubEvent{Topic: TopicMessage, Name: EventStored, Value: i})
	}
	if h.Wants(TopicMessage) {
		t.Fatal("a full subscriber is still listed")
	}
	if !h.Wants(TopicPhone) || h.Open() != 2 {
		t.Fatalf("wants phone %v, open %d", h.Wants(TopicPhone), h.Open())
	}
	if got := len(s.C()); got != 2 {
		t.Fatalf("buffered %d, want the first 2", got)
	}
	<-s.C()
	<-s.C()
	if !s.Lost() || s.Lost() {
		t.Fatal("Lost must report the drop exactly once")
	}
	h.Relist(s)
	if !h.Wants(TopicMessage) {
		t.Fatal("not listed again after draining")
	}
	h.Publish(&HubEvent{Topic: TopicMessage, Name: EventStored, Value: 9})
	if e := <-s.C(); e.Value != 9 {
		t.Fatalf("got %v after relisting", e.Value)
	}
	h.Unsubscribe(s)
	h.Unsubscribe(s) // twice is harmless
	if h.Wants(TopicMessage) || h.Open() != 1 {
		t.Fatal("still subscribed after Unsubscribe")
	}
}

// TestHubFilters: topics and match functions select what a subscriber
// gets.
func TestHubFilters(t *testing.T) {
	t.Parallel()
	var h Hub
	f := smsc.Filter{To: "999000001", AllNamespaces: true}
	s := h.Subscribe(TopicMessage, MessageFilter(f), 8)
	h.Publish(&HubEvent{Topic: TopicMessage, Name: EventStored, Message: &smsc.Message{ID: "1", Dest: smsc.Address{Addr: "999000002"}}})
	h.Publish(&HubEvent{Topic: TopicPhone, Name: "phone", MSISDN: "999000001"})
	h.Publish(&HubEvent{Topic: TopicMessage, Name: EventStored, Message: &smsc.Message{ID: "2", Dest: smsc.Address{Addr: "999000001"}}})
	h.Publish(&HubEvent{Topic: TopicMessage, Name: EventDeleted, Value: map[string]int{"deleted": 1}})
	if got := len(s.C()); got != 2 {
		t.Fatalf("got %d events, want message 2 and the deletion", got)
	}
	if e := <-s.C(); e.Message.ID != "2" {
		t.Fatalf("first event %+v", e)
	}
}

// TestHubConcurrent publishes from several goroutines while subscribers
// come, read and go (for -race).
func TestHubConcurrent(t *testing.T) {
	t.Parallel()
	var h Hub
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					h.Publish(&HubEvent{Topic: TopicMessage, Name: EventStored, Value: 1})
				}
			}
		}()
	}
	for range 50 {
		s := h.Subscribe(TopicMessage, nil, 4)
		for range 8 {
			if s.Lost() {
				h.Relist(s)
			}
			(<-s.C()).Frame()
		}
		h.Unsubscribe(s)
	}
	close(stop)
	wg.Wait()
	if h.Open() != 0 || h.Wants(TopicMessage) {
		t.Fatal("subscriptions left open")
	}
}

// TestWriteStream: frames in order, the overflow notice after a drop, and
// the stream ends with the request.
func TestWriteStream(t *testing.T) {
	t.Parallel()
	var h Hub
	subscribed := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := h.Subscribe(TopicPhone, nil, 2)
		defer h.Unsubscribe(s)
		subscribed <- struct{}{}
		h.WriteStream(w, r, s, StreamOptions{Hello: "test", MinInterval: time.Millisecond})
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if l, _ := rd.ReadString('\n'); l != ": test\n" {
		t.Fatalf("hello %q", l)
	}
	<-subscribed
	// Four events into a buffer of two: two are kept (three if the writer
	// was already waiting for the first), the rest lost.
	for i := range 4 {
		h.Publish(&HubEvent{Topic: TopicPhone, Name: "phone", Value: i})
	}
	var names []string
	for len(names) == 0 || names[len(names)-1] != EventLost {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := strings.CutPrefix(l, "event: "); ok {
			names = append(names, strings.TrimSpace(n))
		}
	}
	if got := strings.Join(names, ","); got != "phone,phone,overflow" && got != "phone,phone,phone,overflow" {
		t.Fatalf("events %v", names)
	}
}
