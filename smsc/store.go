package smsc

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a Store for an unknown message id.
var ErrNotFound = errors.New("smsc: message not found")

// ErrStoreFull is returned by a Store that cannot take more messages
// (messages still owed delivery or a receipt fill its limits); the server
// answers ESME_RMSGQFUL.
var ErrStoreFull = errors.New("smsc: message store full")

// Store keeps every message the SMSC has seen: the queue of what is still to
// be delivered after a restart and the capture that tests read.
// Implementations are safe for concurrent use. The in-memory MemStore is the
// default; smsc/store is the durable one.
//
// Append takes ownership of the messages it is given: the caller never
// modifies them afterwards but may go on reading their immutable fields
// (everything except State, ErrorCode, Attempts and DoneTime, which change
// only through Update). Messages returned by Get, List and Update are
// copies owned by the caller.
type Store interface {
	// Append stores new messages. When it returns nil they are durable:
	// the server answers submit_sm with ESME_ROK only after that.
	// ErrStoreFull makes the server answer ESME_RMSGQFUL.
	Append(ctx context.Context, msgs ...*Message) error
	// Update applies fn to the stored message id and stores the result
	// durably; it returns the updated copy. fn must not keep m.
	Update(ctx context.Context, id string, fn func(m *Message)) (*Message, error)
	// Get returns a copy of message id, or ErrNotFound.
	Get(ctx context.Context, id string) (*Message, error)
	// List returns the messages matching q, newest first, one page at a
	// time.
	List(ctx context.Context, q Query) (Page, error)
	// Delete removes the messages matching f and returns how many.
	Delete(ctx context.Context, f Filter) (int, error)
	// Pending returns every message for which NeedsWork is true (not
	// yet in a final state, or a receipt still owed), oldest first: the
	// work to resume after a restart.
	Pending(ctx context.Context) ([]*Message, error)
	// Close releases the store.
	Close() error
}

// AsyncAppender is implemented by stores that commit in groups. The server
// hands each submit over and goes on reading; done is called (on any
// goroutine) once the message is durable or has failed, and the server
// answers then. Responses may thus leave out of order, as SMPP allows.
type AsyncAppender interface {
	AppendAsync(m *Message, done func(error))
}

// HealthChecker is implemented by stores that can become unable to take
// messages for a reason outside the SMSC (a full disk, a failing device):
// Health returns that reason, nil while the store works. The server's
// health endpoint reports it.
type HealthChecker interface {
	Health() error
}

// Patcher is implemented by stores that can apply an update without
// returning a copy (saving an allocation on the server's hot paths).
type Patcher interface {
	Patch(ctx context.Context, id string, fn func(m *Message)) error
}

// patch applies fn through Patch when st has it, else through Update.
func patch(ctx context.Context, st Store, id string, fn func(m *Message)) error {
	if p, ok := st.(Patcher); ok {
		return p.Patch(ctx, id, fn)
	}
	_, err := st.Update(ctx, id, fn)
	return err
}

// Filter selects messages. Empty fields match everything; Number matches
// either the source or the destination address.
type Filter struct {
	// ID selects one message by its id.
	ID        string
	Namespace string
	// AllNamespaces ignores Namespace (the default matches only the
	// given namespace, "" included).
	AllNamespaces bool
	Number        string
	To            string
	From          string
	Account       string
	// Text matches messages whose decoded text contains it.
	Text      string
	Since     time.Time
	State     State
	Direction *Direction
}

// Match reports whether m passes the filter.
func (f *Filter) Match(m *Message) bool {
	if f.ID != "" && m.ID != f.ID {
		return false
	}
	if !f.AllNamespaces && m.Namespace != f.Namespace {
		return false
	}
	// Addresses match however they are written: +99901000042,
	// 99901000042 and 0099901000042 are one number (NormalizeAddr).
	if f.Number != "" && !sameAddr(m.Dest.Addr, f.Number) && !sameAddr(m.Source.Addr, f.Number) {
		return false
	}
	if f.To != "" && !sameAddr(m.Dest.Addr, f.To) {
		return false
	}
	if f.From != "" && !sameAddr(m.Source.Addr, f.From) {
		return false
	}
	if f.Account != "" && m.Account != f.Account {
		return false
	}
	if !f.Since.IsZero() && m.SubmitTime.Before(f.Since) {
		return false
	}
	if f.State != 0 && m.State != f.State {
		return false
	}
	if f.Direction != nil && m.Direction != *f.Direction {
		return false
	}
	if f.Text != "" && !textContains(m, f.Text) {
		return false
	}
	return true
}

// Query is a Filter plus pagination. Cursor is the Next of the previous
// Page; Limit defaults to 100 and is capped at 1000. MaxBytes, when set,
// also ends a page once its messages add up to about that many bytes
// (MessageSize; a page has at least one message), so a page of large
// messages stays bounded.
type Query struct {
	Filter
	Limit    int
	Cursor   string
	MaxBytes int64
}

// Page is one page of List results, newest first. Next is the cursor of the
// following page, "" on the last one.
type Page struct {
	Messages []*Message
	Next     string
}

// limit returns the effective page size of q.
func (q *Query) limit() int {
	switch {
	case q.Limit <= 0:
		return 100
	case q.Limit > 1000:
		return 1000
	}
	return q.Limit
}
