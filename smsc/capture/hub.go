package capture

import (
	"sync"
	"sync/atomic"

	"github.com/simlab-dev/simlab/smsc"
)

// Event kinds published to the hub.
const (
	EventStored  = "message"  // a new message was stored
	EventUpdated = "state"    // a stored message changed state
	EventDeleted = "deleted"  // messages were deleted (Message is nil)
	eventDropped = "overflow" // a slow subscriber lost events
)

// Event is what the hub hands to subscribers: a message stored or updated.
type Event struct {
	Kind    string
	Message *smsc.Message
}

// hub fans events out to subscribers: long-poll waiters and SSE streams.
// Publishing never blocks: a subscriber whose buffer is full loses the
// event and is told so by an overflow event.
type hub struct {
	n    atomic.Int32 // subscribers, read without the lock on the hot path
	mu   sync.Mutex
	subs map[*subscription]struct{}
}

type subscription struct {
	filter smsc.Filter
	ch     chan Event
	lost   bool
}

func (h *hub) subscribe(f smsc.Filter, buf int) *subscription {
	s := &subscription{filter: f, ch: make(chan Event, buf)}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[*subscription]struct{})
	}
	h.subs[s] = struct{}{}
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
}

func (h *hub) publish(ev Event) {
	if h.n.Load() == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if ev.Message != nil && !s.filter.Match(ev.Message) {
			continue
		}
		if s.lost {
			// Make room for the overflow notice first.
			select {
			case s.ch <- Event{Kind: eventDropped}:
				s.lost = false
			default:
				continue
			}
		}
		select {
		case s.ch <- ev:
		default:
			s.lost = true
		}
	}
}
