package smsc

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Sink takes delivery of messages for the destinations routed to it
// (DESIGN.md "SMSC routing: destination → sink"): an emulated phone, a modem
// bearer, an upstream SMSC. Deliver returns nil once the message is
// delivered, or an error: a *DeliveryError says whether to retry and which
// network error code to report; any other error is treated as a temporary
// failure with ErrCodeSystemFailure. Deliver must treat m as read-only and
// not keep it after returning (Clone it to keep it).
//
// Deliver may be called concurrently for different destinations; for one
// destination the server calls it for one message at a time, in order.
type Sink interface {
	Deliver(ctx context.Context, m *Message) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, m *Message) error

// Deliver implements Sink.
func (f SinkFunc) Deliver(ctx context.Context, m *Message) error { return f(ctx, m) }

// InlineSink is implemented by sinks whose Deliver never blocks (capture,
// black hole). The server calls them on the submitting goroutine, which saves
// a queue hop per message.
type InlineSink interface {
	Sink
	Inline() bool
}

// Accept is a sink that marks every message delivered at once: where
// messages to unrouted numbers go by default, so they are only captured.
var Accept Sink = acceptSink{}

type acceptSink struct{}

func (acceptSink) Deliver(context.Context, *Message) error { return nil }
func (acceptSink) Inline() bool                            { return true }

// Network error codes used in DeliveryError.Code: GSM MAP error codes (TS
// 29.002 §17.6.6), as SMSCs report them in the network_error_code TLV (with
// network type 3, GSM) and in the err: field of receipts.
const (
	ErrCodeUnknownSubscriber uint16 = 1
	ErrCodeAbsentSubscriber  uint16 = 27
	ErrCodeSubscriberBusy    uint16 = 31 // busy for MT SMS
	ErrCodeSystemFailure     uint16 = 34
	ErrCodeMemoryExceeded    uint16 = 32 // SM delivery failure (cause: memory capacity exceeded)
	ErrCodeIllegalSubscriber uint16 = 9
	ErrCodeTeleserviceNotSup uint16 = 11
)

// DeliveryError is a failed delivery attempt. Code is the network error
// code reported in receipts; Permanent stops retries (the message becomes
// UNDELIVERABLE), otherwise the server retries with backoff until the
// message's validity ends.
type DeliveryError struct {
	Code      uint16
	Permanent bool
	Reason    string
}

func (e *DeliveryError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	if e.Reason != "" {
		return fmt.Sprintf("smsc: delivery failed (%s, error %d): %s", kind, e.Code, e.Reason)
	}
	return fmt.Sprintf("smsc: delivery failed (%s, error %d)", kind, e.Code)
}

// Common delivery errors, for sinks to return (wrap or return as is).
var (
	ErrAbsent  = &DeliveryError{Code: ErrCodeAbsentSubscriber, Reason: "absent subscriber"}
	ErrBusy    = &DeliveryError{Code: ErrCodeSubscriberBusy, Reason: "subscriber busy"}
	ErrUnknown = &DeliveryError{Code: ErrCodeUnknownSubscriber, Permanent: true, Reason: "unknown subscriber"}
	ErrFull    = &DeliveryError{Code: ErrCodeMemoryExceeded, Reason: "memory capacity exceeded"}
)

// AsDeliveryError returns err as a *DeliveryError (a temporary one with
// code ErrCodeSystemFailure for foreign errors).
func AsDeliveryError(err error) *DeliveryError {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de
	}
	return &DeliveryError{Code: ErrCodeSystemFailure, Reason: err.Error()}
}

// Phone is what the simulator's handsets implement to receive SMS: the
// network side of a mobile station (TS 23.040 SM-RL). tpdus are the complete
// SMS-DELIVER TPDUs the SMSC built from the submit (TS 23.040 §9.2.2.1): one,
// or the concatenated parts of a body longer than one SMS. When
// m.SIMDownload is set the handset passes it to the SIM as
// ENVELOPE(SMS-PP download) (TS 31.111 §7.1.1) instead of storing it.
// It returns nil when delivered or an error as Sink.Deliver does (ErrAbsent,
// ErrBusy, ErrFull, a *DeliveryError).
type Phone interface {
	DeliverSMS(ctx context.Context, m *Message, tpdus [][]byte) error
}

// PhoneSink adapts a Phone to a Sink: it builds the SMS-DELIVER TPDU.
type PhoneSink struct {
	Phone Phone
}

// Deliver implements Sink.
func (p PhoneSink) Deliver(ctx context.Context, m *Message) error {
	tp, err := DeliverTPDU(m, m.SubmitTime)
	if err != nil {
		return &DeliveryError{Code: ErrCodeTeleserviceNotSup, Permanent: true, Reason: err.Error()}
	}
	return p.Phone.DeliverSMS(ctx, m, tp)
}

// Router chooses the sink for a destination address. A nil Sink means "no
// route": the server then uses its Unrouted sink.
type Router interface {
	Route(m *Message) Sink
}

// Routes is a Router by address: exact numbers, numeric ranges and
// prefixes, the most specific match winning (exact, then the narrowest
// range, then the longest prefix). It is safe for concurrent use; the zero value routes
// nothing.
type Routes struct {
	mu       sync.RWMutex
	exact    map[string]Sink
	prefixes []prefixRoute // longest first
	ranges   []rangeRoute
}

type prefixRoute struct {
	prefix string
	sink   Sink
}

type rangeRoute struct {
	r     Range
	sink  Sink
	width string // Hi − Lo, as digits: narrower ranges win
}

// Range is an inclusive range of same-length numeric addresses, e.g.
// 99900000000..99900009999. A Range with Lo == Hi is a single number.
type Range struct{ Lo, Hi string }

// ParseRange parses "LO-HI", "LO..HI" or a single number into a Range, or
// "PREFIX*" into prefix (then r is zero).
func ParseRange(s string) (r Range, prefix string, err error) {
	s = strings.TrimSpace(strings.TrimPrefix(s, "+"))
	if strings.HasSuffix(s, "*") {
		return Range{}, strings.TrimSuffix(s, "*"), nil
	}
	lo, hi, ok := strings.Cut(s, "..")
	if !ok {
		lo, hi, ok = strings.Cut(s, "-")
	}
	if !ok {
		hi = lo
	}
	lo, hi = strings.TrimPrefix(strings.TrimSpace(lo), "+"), strings.TrimPrefix(strings.TrimSpace(hi), "+")
	if lo == "" || len(lo) != len(hi) || !digits(lo) || !digits(hi) || lo > hi {
		return Range{}, "", fmt.Errorf("smsc: bad address range %q (want LO-HI of equal-length digits, or PREFIX*)", s)
	}
	return Range{lo, hi}, "", nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Contains reports whether addr (leading '+' ignored) is inside r.
func (r Range) Contains(addr string) bool {
	addr = strings.TrimPrefix(addr, "+")
	return len(addr) == len(r.Lo) && addr >= r.Lo && addr <= r.Hi && digits(addr)
}

// AddNumber routes one exact address.
func (t *Routes) AddNumber(addr string, s Sink) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exact == nil {
		t.exact = make(map[string]Sink)
	}
	t.exact[strings.TrimPrefix(addr, "+")] = s
}

// RemoveNumber removes an exact route.
func (t *Routes) RemoveNumber(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.exact, strings.TrimPrefix(addr, "+"))
}

// AddPrefix routes every address starting with prefix ("" = default route).
func (t *Routes) AddPrefix(prefix string, s Sink) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prefixes = append(t.prefixes, prefixRoute{strings.TrimPrefix(prefix, "+"), s})
	sort.SliceStable(t.prefixes, func(i, j int) bool { return len(t.prefixes[i].prefix) > len(t.prefixes[j].prefix) })
}

// AddRange routes every address in r.
func (t *Routes) AddRange(r Range, s Sink) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ranges = append(t.ranges, rangeRoute{r, s, subtractDigits(r.Hi, r.Lo)})
}

// Route implements Router.
func (t *Routes) Route(m *Message) Sink {
	addr := NormalizeAddr(m.Dest.Addr) // +999…, 00999… and 999… are one number
	t.mu.RLock()
	defer t.mu.RUnlock()
	if s, ok := t.exact[addr]; ok {
		return s
	}
	var best Sink
	var width string
	for _, rr := range t.ranges {
		// Ranges containing addr have its length, so their widths
		// compare as strings.
		if rr.r.Contains(addr) && (best == nil || rr.width < width) {
			best, width = rr.sink, rr.width
		}
	}
	if best != nil {
		return best
	}
	for _, p := range t.prefixes {
		if strings.HasPrefix(addr, p.prefix) {
			return p.sink
		}
	}
	return nil
}

// subtractDigits returns a string ordering like hi-lo for equal-length
// digit strings (used only for comparison between ranges of equal length;
// ranges of different lengths never contain the same address).
func subtractDigits(hi, lo string) string {
	b := make([]byte, len(hi))
	borrow := 0
	for i := len(hi) - 1; i >= 0; i-- {
		d := int(hi[i]-'0') - int(lo[i]-'0') - borrow
		borrow = 0
		if d < 0 {
			d += 10
			borrow = 1
		}
		b[i] = byte('0' + d)
	}
	return string(b)
}
