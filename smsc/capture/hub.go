package capture

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/smsc"
)

// Event names of the message topic, as the SSE streams name them.
const (
	EventStored  = "message"  // a new message was stored
	EventUpdated = "state"    // a stored message changed state
	EventDeleted = "deleted"  // messages were deleted (Message is nil)
	EventLost    = "overflow" // this subscriber was too slow and lost events
)

// Topic is a class of hub events; subscribers ask for a set of them.
type Topic uint8

// Topics. Messages are the SMSC's; the others come from the simulator
// around it (phones' event logs, prompts waiting for a person, challenges
// answered, Mobile Connect logins).
const (
	TopicMessage Topic = 1 << iota
	TopicPhone
	TopicHuman
	TopicChallenge
	TopicLogin
	topicCount = iota
)

// TopicNames are the names of the topics in ?topics= lists.
var TopicNames = map[string]Topic{
	"message": TopicMessage, "phone": TopicPhone, "human": TopicHuman,
	"challenge": TopicChallenge, "login": TopicLogin,
}

// HubEvent is one event on the hub. Its SSE frame is encoded once, by the
// first subscriber that writes it, and shared by every other: publishing
// costs the publisher no encoding at all.
type HubEvent struct {
	// Seq is the hub's sequence number, set by Publish: the SSE id.
	Seq uint64
	// Topic and Name (the SSE event name).
	Topic Topic
	Name  string
	// Message is the message of a message-topic event (nil for
	// "deleted"): filters and long polls read it.
	Message *smsc.Message
	// MSISDN is the phone an event is about, for ?msisdn= filters.
	MSISDN string
	// Value is what the frame's data encodes as JSON; for a message event
	// without Value it is the message's view.
	Value any

	once  sync.Once
	frame []byte
}

// Frame returns the event as a Server-Sent Events frame ("id", "event",
// "data" lines), encoding it on first use.
func (e *HubEvent) Frame() []byte {
	e.once.Do(func() {
		v := e.Value
		if v == nil && e.Message != nil {
			v = view(e.Message)
		}
		data, err := json.Marshal(v)
		if err != nil {
			data = fmt.Appendf(nil, `{"error":%q}`, err.Error())
		}
		b := make([]byte, 0, len(data)+len(e.Name)+40)
		b = append(b, "id: "...)
		b = strconv.AppendUint(b, e.Seq, 10)
		b = append(b, "\nevent: "...)
		b = append(b, e.Name...)
		b = append(b, "\ndata: "...)
		b = append(b, data...)
		e.frame = append(b, "\n\n"...)
	})
	return e.frame
}

// Hub fans events out to subscribers: long polls, SSE streams, the web
// page. It is built so that listeners cost the publisher (the SMSC's
// submit path) next to nothing:
//
//   - each event is encoded at most once (HubEvent.Frame), by a reader;
//   - each subscriber has a bounded buffer; publishing never blocks;
//   - a subscriber whose buffer is full is parked: taken off the list the
//     publisher walks and told, when it next reads, that it lost events
//     (EventLost). It is listed again once it has drained its buffer, so a
//     stalled reader (a page nobody reads, a stuck TCP connection) costs
//     nothing at all, and a slow one costs only what it reads;
//   - Wants reports per topic whether a listed subscriber exists, so the
//     SMSC builds no event while every reader is parked or absent.
//
// The zero value is ready. It is safe for concurrent use.
type Hub struct {
	seq    atomic.Uint64
	listed atomic.Pointer[[]*Subscription] // what Publish walks; copied on change
	counts [topicCount]atomic.Int32        // listed subscribers per topic

	mu   sync.Mutex // guards changes of listed and the subscriptions' listed flags
	open int        // subscriptions open (listed or parked)
}

// Subscription is one reader of the hub.
type Subscription struct {
	hub    *Hub
	topics Topic
	match  func(*HubEvent) bool
	ch     chan *HubEvent
	// parking is set by the publisher that found the buffer full, before
	// it parks the subscription; lost is set when it was parked.
	parking atomic.Bool
	lost    atomic.Bool
	listed  bool // guarded by hub.mu
	closed  bool // guarded by hub.mu
}

// C is the subscription's buffered channel of events.
func (s *Subscription) C() <-chan *HubEvent { return s.ch }

// Lost reports (once) whether events were dropped since the last call
// because the buffer was full.
func (s *Subscription) Lost() bool { return s.lost.Swap(false) }

// Subscribe opens a subscription to topics with a buffer of buf events.
// match, when not nil, selects the events (it runs on the publisher's
// goroutine: keep it cheap). Close it with Unsubscribe.
func (h *Hub) Subscribe(topics Topic, match func(*HubEvent) bool, buf int) *Subscription {
	s := &Subscription{hub: h, topics: topics, match: match, ch: make(chan *HubEvent, max(buf, 1))}
	h.mu.Lock()
	h.open++
	h.list(s)
	h.mu.Unlock()
	return s
}

// Unsubscribe closes s; it receives nothing more.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	h.open--
	h.unlist(s)
}

// list adds s to the listed subscribers; h.mu is held.
func (h *Hub) list(s *Subscription) {
	if s.listed || s.closed {
		return
	}
	old := h.listed.Load()
	var next []*Subscription
	if old != nil {
		next = make([]*Subscription, 0, len(*old)+1)
		next = append(next, *old...)
	}
	next = append(next, s)
	h.listed.Store(&next)
	s.listed = true
	h.count(s.topics, 1)
}

// unlist removes s from the listed subscribers; h.mu is held.
func (h *Hub) unlist(s *Subscription) {
	if !s.listed {
		return
	}
	old := *h.listed.Load()
	next := make([]*Subscription, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	h.listed.Store(&next)
	s.listed = false
	h.count(s.topics, -1)
}

func (h *Hub) count(t Topic, d int32) {
	for i := range topicCount {
		if t&(1<<i) != 0 {
			h.counts[i].Add(d)
		}
	}
}

// park takes s off the list after a publisher found its buffer full,
// unless its reader has drained it meanwhile.
func (h *Hub) park(s *Subscription) {
	h.mu.Lock()
	if len(s.ch) == cap(s.ch) {
		h.unlist(s)
		s.lost.Store(true)
	}
	s.parking.Store(false)
	h.mu.Unlock()
}

// Relist lists s again if it was parked. A reader calls it after draining
// its buffer and before waiting on it (WriteStream does), at most a few
// times a second.
func (h *Hub) Relist(s *Subscription) {
	h.mu.Lock()
	h.list(s)
	h.mu.Unlock()
}

// Wants reports whether a listed subscriber takes topic t: when false, a
// publisher may skip building the event.
func (h *Hub) Wants(t Topic) bool {
	for i := range topicCount {
		if t&(1<<i) != 0 && h.counts[i].Load() > 0 {
			return true
		}
	}
	return false
}

// Open reports how many subscriptions are open, listed or parked.
func (h *Hub) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open
}

// Publish hands e to every listed subscriber of its topic whose match
// accepts it. It never blocks and never encodes.
func (h *Hub) Publish(e *HubEvent) {
	subs := h.listed.Load()
	if subs == nil || len(*subs) == 0 {
		return
	}
	e.Seq = h.seq.Add(1)
	for _, s := range *subs {
		if s.topics&e.Topic == 0 || (s.match != nil && !s.match(e)) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			if s.parking.CompareAndSwap(false, true) {
				h.park(s)
			}
		}
	}
}

// Stream buffers: a stream reader gets at most this many events per batch
// (ten batches a second) before it is parked and told it lost some. A page
// shows far fewer; a client that wants more asks with ?buffer=.
const (
	DefaultStreamBuffer = 32
	MaxStreamBuffer     = 4096
)

// StreamBuffer reads the ?buffer= parameter of a stream request: the events
// its reader may have waiting (default DefaultStreamBuffer, at most
// MaxStreamBuffer).
func StreamBuffer(r *http.Request) (int, error) {
	s := r.URL.Query().Get("buffer")
	if s == "" {
		return DefaultStreamBuffer, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxStreamBuffer {
		return 0, fmt.Errorf("buffer: want 1..%d events, got %q", MaxStreamBuffer, s)
	}
	return n, nil
}

// StreamOptions shape WriteStream.
type StreamOptions struct {
	// Heartbeat is the keep-alive comment interval (default 15 s).
	Heartbeat time.Duration
	// MinInterval is the least time between two writes to the client
	// (default 100 ms): events arriving faster are sent in batches, so a
	// busy SMSC costs a stream at most ten wake-ups a second.
	MinInterval time.Duration
	// Done ends the stream early (a server shutting down); may be nil.
	Done <-chan struct{}
	// Hello is the comment written first, proving the subscription open.
	Hello string
}

// WriteStream writes s to w as Server-Sent Events until the client goes
// away or o.Done closes: each event's shared frame, an EventLost event
// after events were dropped, and keep-alive comments. It subscribes
// nothing itself: open s before, close it after.
func (h *Hub) WriteStream(w http.ResponseWriter, r *http.Request, s *Subscription, o StreamOptions) {
	rc := http.NewResponseController(w)
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.MinInterval <= 0 {
		o.MinInterval = 100 * time.Millisecond
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": %s\n\n", o.Hello)
	if rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(o.Heartbeat)
	defer beat.Stop()
	pause := time.NewTimer(0)
	defer pause.Stop()
	<-pause.C
	for {
		h.Relist(s)
		select {
		case ev := <-s.ch:
			w.Write(ev.Frame())
		case <-beat.C:
			w.Write([]byte(": keep-alive\n\n"))
		case <-r.Context().Done():
			return
		case <-o.Done:
			return
		}
		// Take what else is buffered, without waiting.
	drain:
		for range cap(s.ch) {
			select {
			case ev := <-s.ch:
				w.Write(ev.Frame())
			default:
				break drain
			}
		}
		if s.Lost() {
			fmt.Fprintf(w, "event: %s\ndata: {\"lost\":true}\n\n", EventLost)
		}
		if rc.Flush() != nil {
			return
		}
		pause.Reset(o.MinInterval)
		select {
		case <-pause.C:
		case <-r.Context().Done():
			return
		case <-o.Done:
			return
		}
	}
}
