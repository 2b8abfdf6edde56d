// Package pcsc is simlab's PC/SC terminal: it lists the readers pcscd knows
// (with card presence and a decoded ATR), opens the card in a reader as an
// applet.Card, and watches readers and cards come and go. It talks to pcscd
// through github.com/ebfe/scard, which needs cgo and libpcsclite; a binary
// built without cgo reports ErrNotSupported from every call that needs pcscd
// (see Supported).
//
// The ATR decoder (ParseATR) is pure Go and works in every build. A Card
// returns T=0 answers (61xx, 6Cxx) as they are: apdu.Exchange completes
// them.
package pcsc

import (
	"errors"

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

var _ applet.Card = (*Card)(nil)
