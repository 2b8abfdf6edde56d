//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ebfe/scard"
)

// Supported reports whether this binary can talk to pcscd (built with cgo).
const Supported = true

// pnpReader is the pseudo reader whose state changes when readers are
// added or removed (PC/SC part 5, "\\?PnP?\Notification").
const pnpReader = `\\?PnP?\Notification`

// mapErr turns scard errors into this package's sentinels where one fits.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var se scard.Error
	if errors.As(err, &se) {
		switch se {
		case scard.ErrNoService, scard.ErrServiceStopped:
			return fmt.Errorf("%w (%s)", ErrNoService, op)
		case scard.ErrUnknownReader, scard.ErrReaderUnavailable:
			return fmt.Errorf("%w (%s: %v)", ErrNoReader, op, se)
		case scard.ErrNoSmartcard, scard.ErrRemovedCard:
			return fmt.Errorf("%w (%s: %v)", ErrNoCard, op, se)
		}
	}
	return fmt.Errorf("pcsc: %s: %w", op, err)
}

// ListReaders returns every reader pcscd knows with its card state and ATR.
// No readers is an empty list, not an error.
func ListReaders(ctx context.Context) ([]Reader, error) {
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, mapErr("establish context", err)
	}
	defer sc.Release()
	names, err := sc.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return []Reader{}, nil
	}
	if err != nil {
		return nil, mapErr("list readers", err)
	}
	states := make([]scard.ReaderState, len(names))
	for i, n := range names {
		states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
	}
	if err := sc.GetStatusChange(states, 0); err != nil && !errors.Is(err, scard.ErrTimeout) {
		return nil, mapErr("get status", err)
	}
	out := make([]Reader, len(states))
	for i, s := range states {
		out[i] = readerFromState(s)
	}
	return out, nil
}

func readerFromState(s scard.ReaderState) Reader {
	r := Reader{
		Name:        s.Reader,
		CardPresent: s.EventState&scard.StatePresent != 0,
		InUse:       s.EventState&scard.StateInuse != 0,
		Exclusive:   s.EventState&scard.StateExclusive != 0,
		Mute:        s.EventState&scard.StateMute != 0,
	}
	if r.CardPresent && len(s.Atr) > 0 {
		r.ATR = append([]byte(nil), s.Atr...)
	}
	return r
}

// Card is the card in a PC/SC reader, connected in shared mode with any
// protocol. It implements applet.Card; its methods are safe for concurrent
// use (a scard.Card has no lock of its own, so Card serialises every call).
type Card struct {
	reader string

	mu     sync.Mutex
	sc     *scard.Context
	card   *scard.Card
	atr    []byte
	closed bool
}

// Open connects to the card in reader (SCARD_SHARE_SHARED,
// SCARD_PROTOCOL_T0|T1).
func Open(ctx context.Context, reader string) (*Card, error) {
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, mapErr("establish context", err)
	}
	c, err := sc.Connect(reader, scard.ShareShared, scard.ProtocolAny)
	if err != nil {
		sc.Release()
		return nil, mapErr("connect to "+reader, err)
	}
	card := &Card{reader: reader, sc: sc, card: c}
	if st, err := c.Status(); err == nil {
		card.atr = append([]byte(nil), st.Atr...)
	}
	return card, nil
}

// Reader returns the reader's name.
func (c *Card) Reader() string { return c.reader }

// ATR returns the Answer To Reset read at Open or at the last Reset.
func (c *Card) ATR() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.atr)
}

// Protocol returns the negotiated protocol, "T=0" or "T=1".
func (c *Card) Protocol() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ""
	}
	switch c.card.ActiveProtocol() {
	case scard.ProtocolT0:
		return "T=0"
	case scard.ProtocolT1:
		return "T=1"
	}
	return "undefined"
}

// Transmit sends one command APDU and returns the raw response APDU
// (SCardTransmit). It does not chain GET RESPONSE: use apdu.Exchange.
func (c *Card) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	r, err := c.card.Transmit(capdu)
	if errors.Is(err, scard.ErrResetCard) {
		// Acknowledge the reset so the next command goes through.
		if rerr := c.card.Reconnect(scard.ShareShared, scard.ProtocolAny, scard.LeaveCard); rerr != nil {
			return nil, mapErr("reconnect after reset", rerr)
		}
		if st, serr := c.card.Status(); serr == nil {
			c.atr = append([]byte(nil), st.Atr...)
		}
		return nil, fmt.Errorf("%w (transmit)", ErrCardReset)
	}
	if err != nil {
		return nil, mapErr("transmit", err)
	}
	return r, nil
}

// Reset resets the card (SCardReconnect with SCARD_UNPOWER_CARD when cold,
// SCARD_RESET_CARD when warm) and returns its new ATR.
func (c *Card) Reset(ctx context.Context, cold bool) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	disp := scard.ResetCard
	if cold {
		disp = scard.UnpowerCard
	}
	if err := c.card.Reconnect(scard.ShareShared, scard.ProtocolAny, disp); err != nil {
		return nil, mapErr("reset", err)
	}
	st, err := c.card.Status()
	if err != nil {
		return nil, mapErr("status", err)
	}
	c.atr = append([]byte(nil), st.Atr...)
	return slices.Clone(c.atr), nil
}

// Close disconnects from the card, leaving it powered, and releases the
// PC/SC context.
func (c *Card) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.card.Disconnect(scard.LeaveCard)
	if rerr := c.sc.Release(); err == nil {
		err = rerr
	}
	return mapErr("close", err)
}

// watchPoll bounds each SCardGetStatusChange in Watch.
const watchPoll = 2 * time.Second

// Watch reports reader and card changes to fn until ctx is done
// (SCardGetStatusChange on every reader plus the PnP pseudo reader). The
// first call reports the readers and cards already present as ReaderAdded
// and CardInserted. It blocks; cancelling ctx unblocks pcscd with
// SCardCancel. fn runs on Watch's goroutine.
func Watch(ctx context.Context, fn func(Event)) error {
	sc, err := scard.EstablishContext()
	if err != nil {
		return mapErr("establish context", err)
	}
	defer sc.Release()
	stop := context.AfterFunc(ctx, func() { _ = sc.Cancel() })
	defer stop()

	// states is reused between calls: CurrentState is set to the last
	// EventState so pcscd only returns on a real change.
	states := []scard.ReaderState{{Reader: pnpReader, CurrentState: scard.StateUnaware}}
	known := map[string]bool{} // reader -> card present
	refresh := true
	for {
		if refresh {
			names, err := sc.ListReaders()
			if err != nil && !errors.Is(err, scard.ErrNoReadersAvailable) {
				return mapErr("list readers", err)
			}
			next := states[:1]
			for _, n := range names {
				if _, ok := known[n]; !ok {
					known[n] = false
					fn(Event{Kind: ReaderAdded, Reader: n})
				}
				kept := false
				for _, s := range states[1:] {
					if s.Reader == n {
						next = append(next, s)
						kept = true
						break
					}
				}
				if !kept {
					next = append(next, scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware})
				}
			}
			for n, present := range known {
				if !slices.Contains(names, n) {
					if present {
						fn(Event{Kind: CardRemoved, Reader: n})
					}
					delete(known, n)
					fn(Event{Kind: ReaderRemoved, Reader: n})
				}
			}
			states = next
			refresh = false
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// SCardCancel only unblocks a call in progress: if ctx ends between
		// the check above and the call, the bounded timeout catches it.
		err := sc.GetStatusChange(states, watchPoll)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case errors.Is(err, scard.ErrTimeout):
			continue
		case errors.Is(err, scard.ErrUnknownReader), errors.Is(err, scard.ErrReaderUnavailable):
			refresh = true
			continue
		case err != nil:
			return mapErr("get status change", err)
		}
		for i := range states {
			s := &states[i]
			if s.EventState&scard.StateChanged == 0 {
				continue
			}
			if i == 0 {
				refresh = true
			} else if s.EventState&(scard.StateUnknown|scard.StateUnavailable) != 0 {
				refresh = true
			} else {
				present := s.EventState&scard.StatePresent != 0
				if present != known[s.Reader] {
					known[s.Reader] = present
					if present {
						fn(Event{Kind: CardInserted, Reader: s.Reader, ATR: slices.Clone(s.Atr)})
					} else {
						fn(Event{Kind: CardRemoved, Reader: s.Reader})
					}
				}
			}
			// Acknowledge: keep the flags (without CHANGED) as the new
			// current state so the next call waits for the next change.
			s.CurrentState = s.EventState &^ scard.StateChanged
		}
	}
}
