package tpdu

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Concat is what a concatenation element of a user data header says
// (TS 23.040 §9.2.3.24.1, IEI 00, 8-bit reference; §9.2.3.24.8, IEI 08,
// 16-bit reference).
type Concat struct {
	Ref   uint16 // the reference shared by the parts of one message
	Wide  bool   // the reference is 16-bit (IEI 08)
	Total uint8  // the number of parts
	Seq   uint8  // this part's number, from 1
}

// ErrConcat reports a malformed concatenation element: the wrong length, a
// second one in one header, or a part number outside 1..total.
var ErrConcat = errors.New("tpdu: malformed concatenation element")

// Concat returns the concatenation element of the header, ok false when
// there is none, or ErrConcat when there is a malformed one (or two).
func (u UserData) Concat() (c Concat, ok bool, err error) {
	for _, ie := range u.Header {
		if ie.ID != IEIConcat8 && ie.ID != IEIConcat16 {
			continue
		}
		ref, total, seq, good := ie.ConcatInfo()
		switch {
		case !good:
			return Concat{}, false, fmt.Errorf("%w: IEI %02x of %d octets", ErrConcat, ie.ID, len(ie.Data))
		case ok:
			return Concat{}, false, fmt.Errorf("%w: a second concatenation element", ErrConcat)
		case total == 0 || seq == 0 || seq > total:
			return Concat{}, false, fmt.Errorf("%w: part %d of %d", ErrConcat, seq, total)
		}
		c, ok = Concat{Ref: ref, Wide: ie.ID == IEIConcat16, Total: total, Seq: seq}, true
	}
	return c, ok, nil
}

// ReassemblyLimits bound a Reassembler, in parts, bytes, time and
// messages. MaxParts, MaxBytes, MaxAge and MaxPending must be positive.
type ReassemblyLimits struct {
	MaxParts   int           // most parts one message may have (at most 255)
	MaxBytes   int           // most bytes the parts of one message may hold together
	MaxAge     time.Duration // a message still incomplete this long after its first part is given up
	MaxPending int           // most messages being reassembled at once; beyond it the oldest is given up
	// MaxPendingBytes is the most bytes held across all messages being
	// reassembled; the oldest are given up to make room. 0 means
	// MaxBytes × MaxPending; it may not be below MaxBytes.
	MaxPendingBytes int
}

// ErrReassemblyLimit reports a message over a Reassembler's limits: more
// parts than MaxParts, or more bytes than MaxBytes.
var ErrReassemblyLimit = errors.New("tpdu: concatenated message over the reassembly limit")

// Reassembler joins the parts of concatenated short messages (TS 23.040
// §9.2.3.24.1 and .8) as the receiving entity does: by sender, reference
// (8- or 16-bit) and number of parts, in any order, a repeated part
// ignored, an incomplete message given up after MaxAge, memory bounded by
// ReassemblyLimits. T is what the caller keeps of each part (its user
// data, its decoded text, …); the caller gives each part's size in bytes.
//
// It is simlab's one reassembler: the card's secured packets
// (applet/ota.Reassembler), the handset's text messages
// (simulator/handset) use it. It takes the time from its caller (no
// clock of its own) and is safe for concurrent use.
type Reassembler[T any] struct {
	limits  ReassemblyLimits
	mu      sync.Mutex
	pending map[groupKey]*Group[T] // nil until the first part
	held    int                    // bytes held across pending
}

type groupKey struct {
	sender string
	ref    uint16
	wide   bool
	total  uint8
}

// Group is one concatenated message: the parts received so far.
type Group[T any] struct {
	Sender string
	Concat Concat    // the reference and number of parts (Seq: the last part added)
	First  time.Time // when its first part arrived
	Parts  []T       // by part number (index 0 = part 1); the zero T where missing
	Have   []bool    // which parts arrived
	Count  int       // how many parts arrived
	Size   int       // their bytes
}

// Complete reports whether every part arrived.
func (g *Group[T]) Complete() bool { return g.Count == len(g.Parts) }

// Missing returns the numbers (from 1) of the parts that did not arrive.
func (g *Group[T]) Missing() []int {
	var m []int
	for i, ok := range g.Have {
		if !ok {
			m = append(m, i+1)
		}
	}
	return m
}

// Added is what adding one part did.
type Added[T any] struct {
	// Complete is the message this part completed, nil while parts are
	// missing.
	Complete *Group[T]
	// Duplicate reports a part already received (and ignored).
	Duplicate bool
	// GivenUp are incomplete messages dropped by this call: past MaxAge,
	// or the oldest, to stay within MaxPending and MaxPendingBytes.
	GivenUp []*Group[T]
}

// NewReassembler returns a Reassembler bounded by l.
func NewReassembler[T any](l ReassemblyLimits) (*Reassembler[T], error) {
	if l.MaxPendingBytes == 0 {
		l.MaxPendingBytes = l.MaxBytes * l.MaxPending
	}
	if l.MaxParts <= 0 || l.MaxParts > 255 || l.MaxBytes <= 0 || l.MaxAge <= 0 || l.MaxPending <= 0 || l.MaxPendingBytes < l.MaxBytes {
		return nil, fmt.Errorf("tpdu: reassembly limits must be positive (MaxParts at most 255, MaxPendingBytes at least MaxBytes): %+v", l)
	}
	return &Reassembler[T]{limits: l}, nil
}

// Add takes part c of a message from sender, received at now, with what
// the caller keeps of it (v, size bytes). A part over a limit (more parts
// than MaxParts, the message over MaxBytes) is refused with
// ErrReassemblyLimit and its message dropped. A message of one part
// (Total 1) is complete at once.
func (r *Reassembler[T]) Add(now time.Time, sender string, c Concat, v T, size int) (Added[T], error) {
	var a Added[T]
	if c.Total == 0 || c.Seq == 0 || c.Seq > c.Total {
		return a, fmt.Errorf("%w: part %d of %d", ErrConcat, c.Seq, c.Total)
	}
	if int(c.Total) > r.limits.MaxParts {
		return a, fmt.Errorf("%w: %d parts, limit %d", ErrReassemblyLimit, c.Total, r.limits.MaxParts)
	}
	if size > r.limits.MaxBytes {
		return a, fmt.Errorf("%w: a part of %d bytes, limit %d", ErrReassemblyLimit, size, r.limits.MaxBytes)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a.GivenUp = r.expire(now)
	k := groupKey{sender: sender, ref: c.Ref, wide: c.Wide, total: c.Total}
	g := r.pending[k]
	if g != nil && g.Have[c.Seq-1] {
		a.Duplicate = true
		return a, nil
	}
	if g != nil && g.Size+size > r.limits.MaxBytes {
		r.drop(k, g)
		return a, fmt.Errorf("%w: more than %d bytes in parts", ErrReassemblyLimit, r.limits.MaxBytes)
	}
	if g == nil {
		if c.Total == 1 {
			g := &Group[T]{Sender: sender, Concat: c, First: now, Parts: []T{v}, Have: []bool{true}, Count: 1, Size: size}
			a.Complete = g
			return a, nil
		}
		if r.pending == nil {
			r.pending = make(map[groupKey]*Group[T])
		}
		for len(r.pending) >= r.limits.MaxPending {
			a.GivenUp = append(a.GivenUp, r.dropOldest(k))
		}
		g = &Group[T]{Sender: sender, Concat: c, First: now, Parts: make([]T, c.Total), Have: make([]bool, c.Total)}
		r.pending[k] = g
	}
	for r.held+size > r.limits.MaxPendingBytes {
		o := r.dropOldest(k)
		if o == nil {
			break // only g is left, and it fits MaxBytes ≤ MaxPendingBytes
		}
		a.GivenUp = append(a.GivenUp, o)
	}
	g.Concat.Seq = c.Seq
	g.Parts[c.Seq-1], g.Have[c.Seq-1] = v, true
	g.Count++
	g.Size += size
	r.held += size
	if g.Complete() {
		r.drop(k, g)
		a.Complete = g
	}
	return a, nil
}

// Expire gives up the messages still incomplete MaxAge after their first
// part, at now, and returns them.
func (r *Reassembler[T]) Expire(now time.Time) []*Group[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.expire(now)
}

// Pending returns how many messages wait for parts, and the bytes their
// parts hold.
func (r *Reassembler[T]) Pending() (messages, bytes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending), r.held
}

func (r *Reassembler[T]) expire(now time.Time) []*Group[T] {
	var out []*Group[T]
	for k, g := range r.pending {
		if now.Sub(g.First) >= r.limits.MaxAge {
			r.drop(k, g)
			out = append(out, g)
		}
	}
	return out
}

func (r *Reassembler[T]) drop(k groupKey, g *Group[T]) {
	delete(r.pending, k)
	r.held -= g.Size
}

// dropOldest gives up the oldest pending message other than keep's, and
// returns it (nil if there is none).
func (r *Reassembler[T]) dropOldest(keep groupKey) *Group[T] {
	var ok groupKey
	var old *Group[T]
	for k, g := range r.pending {
		if k != keep && (old == nil || g.First.Before(old.First)) {
			ok, old = k, g
		}
	}
	if old != nil {
		r.drop(ok, old)
	}
	return old
}
