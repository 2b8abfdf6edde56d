package push

import (
	"errors"
	"fmt"
	"sync"

	"github.com/simlab-dev/simlab/smsc/client"
)

// ErrSMSCClosed is the error of a push or load run whose SMSC connection
// was closed by the other side (or broke) while it waited: no answer, no
// receipt can come any more, so waiting out the timeout would misreport
// it as the phone's.
var ErrSMSCClosed = errors.New("push: the SMSC closed the connection")

// ConnWatch tells when one of the binds it watches loses its connection
// other than by the client's own Close. Binds that reconnect lose their
// connection only for a while: watch those without reconnection
// (client.Config.NoReconnect).
type ConnWatch struct {
	once sync.Once
	ch   chan struct{}
	err  error // set before ch is closed
}

// NewConnWatch returns a watch that has seen nothing yet.
func NewConnWatch() *ConnWatch { return &ConnWatch{ch: make(chan struct{})} }

// Hook returns an OnState for client.Config that reports to w and then
// calls next (when not nil).
func (w *ConnWatch) Hook(next func(up bool, err error)) func(up bool, err error) {
	return func(up bool, err error) {
		if !up && !errors.Is(err, client.ErrClosed) {
			w.once.Do(func() {
				w.err = ErrSMSCClosed
				if err != nil {
					w.err = fmt.Errorf("%w (%v)", ErrSMSCClosed, err)
				}
				close(w.ch)
			})
		}
		if next != nil {
			next(up, err)
		}
	}
}

// Lost is closed once a watched connection is lost.
func (w *ConnWatch) Lost() <-chan struct{} { return w.ch }

// Err is ErrSMSCClosed, with the cause, once Lost is closed; nil before.
func (w *ConnWatch) Err() error {
	select {
	case <-w.ch:
		return w.err
	default:
		return nil
	}
}

// submitErr is the error of a submit that failed without an SMSC status:
// ErrSMSCClosed when the connection went.
func (p *Pusher) submitErr(err error) error {
	if errors.Is(err, client.ErrConnLost) {
		if lost := p.watch.Err(); lost != nil {
			return lost
		}
		return fmt.Errorf("%w (%v)", ErrSMSCClosed, err)
	}
	return fmt.Errorf("push: submit: %w", err)
}
