// Package pcsc is simlab's PC/SC terminal: it lists the readers pcscd knows
// (with card presence and a decoded ATR), opens the card in a reader as an
// applet.Card, and watches readers and cards come and go. It talks to pcscd
// through github.com/ebfe/scard, which needs cgo and libpcsclite; a binary
// built without cgo reports ErrNotSupported from every call that needs pcscd
// (see Supported).
//
// The ATR decoder (ParseATR) and the T=0 helper (TransmitWithResponse) are
// pure Go and work in every build.
package pcsc

import (
	"context"
	"errors"
	"fmt"

	"github.com/simlab-dev/simlab/applet"
)

// ErrNotSupported is returned by every pcscd operation in a binary built
// without cgo.
var ErrNotSupported = errors.New("simlab was built without PC/SC support (cgo disabled); rebuild with CGO_ENABLED=1 and libpcsclite-dev")

// ErrNoService means pcscd is not running (PC/SC SCARD_E_NO_SERVICE).
var ErrNoService = errors.New("pcsc: pcscd is not running (start it with `pcscd -f` or `systemctl start pcscd.socket`)")

// ErrNoReader means the named reader is unknown to pcscd.
var ErrNoReader = errors.New("pcsc: no such reader")

// ErrNoCard means the reader holds no card (PC/SC SCARD_E_NO_SMARTCARD).
var ErrNoCard = errors.New("pcsc: no card in the reader")

// ErrCardReset means another application reset the card since the last
// command (PC/SC SCARD_W_RESET_CARD): its volatile state (selected files,
// verified PINs) is gone. The Card has reconnected; the caller decides
// whether to start again.
var ErrCardReset = errors.New("pcsc: the card was reset by another application")

// ErrClosed is returned by a Card after Close.
var ErrClosed = errors.New("pcsc: card closed")

// Reader is a PC/SC reader as SCardGetStatusChange reports it.
type Reader struct {
	Name        string `json:"name"`
	CardPresent bool   `json:"card_present"`
	// InUse and Exclusive report other applications' connections
	// (SCARD_STATE_INUSE, SCARD_STATE_EXCLUSIVE).
	InUse     bool `json:"in_use,omitempty"`
	Exclusive bool `json:"exclusive,omitempty"`
	// Mute is set when the card does not answer the reset (SCARD_STATE_MUTE).
	Mute bool `json:"mute,omitempty"`
	// ATR is the card's Answer To Reset, empty without a card.
	ATR []byte `json:"atr,omitempty"`
}

// EventKind says what changed in a Watch event.
type EventKind string

// Kinds of Watch events.
const (
	ReaderAdded   EventKind = "reader-added"
	ReaderRemoved EventKind = "reader-removed"
	CardInserted  EventKind = "card-inserted"
	CardRemoved   EventKind = "card-removed"
)

// Event is one change seen by Watch.
type Event struct {
	Kind   EventKind `json:"kind"`
	Reader string    `json:"reader"`
	ATR    []byte    `json:"atr,omitempty"` // set on CardInserted
}

// TransmitWithResponse sends capdu to card and completes a T=0 style
// exchange (ISO/IEC 7816-4 §5.1.3, ETSI TS 102 221 §7.3.1.1.5): on SW 61xx
// (or 9Fxx, GSM 11.11) it issues GET RESPONSE (CLA of the command, INS C0,
// Le = xx) until the data is complete, concatenating the data; on 6Cxx it
// resends the command with Le = xx. The card itself (Card.Transmit) returns
// raw answers, as the applet.Card seam specifies; this helper is the
// terminal's T=0 transport layer on top of it.
func TransmitWithResponse(ctx context.Context, card applet.Card, capdu []byte) ([]byte, error) {
	if len(capdu) < 4 {
		return nil, fmt.Errorf("pcsc: command APDU of %d bytes, expected at least 4 (CLA INS P1 P2)", len(capdu))
	}
	cmd := capdu
	var data []byte
	// Bound the loop: a card answering 61xx forever must not hang us.
	for i := 0; i < 64; i++ {
		r, err := card.Transmit(ctx, cmd)
		if err != nil {
			return nil, err
		}
		if len(r) < 2 {
			return nil, fmt.Errorf("pcsc: response APDU of %d bytes, expected at least SW1 SW2", len(r))
		}
		sw1, sw2 := r[len(r)-2], r[len(r)-1]
		switch {
		case sw1 == 0x61 || sw1 == 0x9F:
			data = append(data, r[:len(r)-2]...)
			cmd = []byte{capdu[0], 0xC0, 0x00, 0x00, sw2}
		case sw1 == 0x6C && len(capdu) >= 4:
			cmd = withLe(capdu, sw2)
		default:
			return append(data, r...), nil
		}
	}
	return nil, errors.New("pcsc: card kept asking for GET RESPONSE after 64 exchanges")
}

// withLe returns capdu (short APDU) with its Le replaced or appended.
func withLe(capdu []byte, le byte) []byte {
	body := capdu[4:]
	out := append([]byte(nil), capdu[:4]...)
	switch {
	case len(body) == 0 || len(body) == 1:
		// case 1 or case 2: Le alone
		return append(out, le)
	case int(body[0])+1 == len(body):
		// case 3: Lc data
		return append(append(out, body...), le)
	case int(body[0])+2 == len(body):
		// case 4: Lc data Le
		return append(append(out, body[:len(body)-1]...), le)
	}
	return append(out, le)
}

var _ applet.Card = (*Card)(nil)
