package authn

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet/cat"
	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// MaxPINTries is how many wrong PINs block the applet PIN.
const MaxPINTries = 3

// PINLength is the applet PIN's length (5 digits, GET INPUT 5..5).
const PINLength = 5

// Config sets up one applet instance, for one card.
type Config struct {
	// Signer is the card's ECDSA P-256 key (hsm.Keystore.Signer).
	Signer crypto.Signer
	// PIN is the applet PIN, PINLength digits; ignored without PIN support.
	PIN string
	// NoPINSupport makes LoA 3 impossible ("3,2" falls back to OK).
	NoPINSupport bool
	// TriesLeft starts the PIN try counter (default MaxPINTries; 0 with
	// Blocked set starts blocked).
	TriesLeft int
	Blocked   bool
	// Rand is the randomness for signatures (crypto/rand when nil).
	Rand io.Reader
}

// Applet is the authenticator applet (docs/applet-protocol.md). It
// implements uicc.Applet: it is driven step by step by the card, one session
// at a time.
type Applet struct {
	mu        sync.Mutex // guards the PIN state, read by State from outside the card
	signer    crypto.Signer
	upkOnce   sync.Once
	upk       []byte
	upkErr    error
	pin       []byte
	noPIN     bool
	triesLeft int
	rnd       io.Reader

	// The session in progress (the card serialises calls).
	state     state
	challenge Challenge
	raw       []byte        // challenge template, kept for the signature
	dest      tpdu.Address  // where the response goes
	outbox    []cat.Command // SEND SHORT MESSAGE commands still to raise
	ref       byte          // concatenation reference of the last response
	last      Outcome       // outcome of the last answered challenge; guarded by mu
	lastLoA   [2]LoA        // LoA asked and achieved by it; guarded by mu
}

// LastLoA returns the LoA the last answered challenge asked for and the
// one it achieved (0 when it failed).
func (a *Applet) LastLoA() (asked, achieved LoA) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastLoA[0], a.lastLoA[1]
}

// LastOutcome returns the outcome of the last challenge the applet answered.
func (a *Applet) LastOutcome() Outcome {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

type state int

const (
	idle state = iota
	awaitDisplay
	awaitPIN
	awaitSent
)

// New returns an applet for one card.
func New(cfg Config) (*Applet, error) {
	if cfg.Signer == nil {
		return nil, errors.New("authn: the applet needs the card's signing key")
	}
	if !cfg.NoPINSupport && (len(cfg.PIN) != PINLength || strings.Trim(cfg.PIN, "0123456789") != "") {
		return nil, fmt.Errorf("authn: the applet PIN must be %d digits", PINLength)
	}
	a := &Applet{signer: cfg.Signer, pin: []byte(cfg.PIN), noPIN: cfg.NoPINSupport, triesLeft: cfg.TriesLeft, rnd: cfg.Rand}
	if a.triesLeft <= 0 && !cfg.Blocked {
		a.triesLeft = MaxPINTries
	}
	if cfg.Blocked {
		a.triesLeft = 0
	}
	return a, nil
}

// PINState is the applet PIN's state as the control API shows it.
type PINState struct {
	Supported bool `json:"supported"`
	TriesLeft int  `json:"tries_left"`
	Blocked   bool `json:"blocked"`
}

// State returns the PIN state.
func (a *Applet) State() PINState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return PINState{Supported: !a.noPIN, TriesLeft: a.triesLeft, Blocked: !a.noPIN && a.triesLeft == 0}
}

// PublicKey returns the card's public key (upk), compressed, or nil when the
// signer's key is not ECDSA P-256.
func (a *Applet) PublicKey() []byte {
	upk, _ := a.publicKey()
	return append([]byte(nil), upk...)
}

// publicKey computes upk on first use: most cards never send it, and the
// signer may compute its public point only when asked (internal/p256).
func (a *Applet) publicKey() ([]byte, error) {
	a.upkOnce.Do(func() {
		pub, ok := a.signer.Public().(*ecdsa.PublicKey)
		if !ok {
			a.upkErr = errors.New("authn: the card's key must be ECDSA P-256")
			return
		}
		a.upk, a.upkErr = CompressPublicKey(pub)
	})
	return a.upk, a.upkErr
}

// Process starts a session for an OTA challenge.
func (a *Applet) Process(ctx context.Context, req *uicc.Request) (uicc.Step, error) {
	if req.Kind != uicc.KindOTA {
		return uicc.Step{SW: 0x6D00}, nil
	}
	a.state, a.outbox = idle, nil
	a.dest = req.OA // its type (international, national, alphanumeric) kept
	a.raw = append(a.raw[:0], req.Data...)
	c, raw, err := ParseChallenge(a.raw)
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		// Echo the transaction id when it was read (a challenge that
		// parsed but did not validate, or one that broke after tag 81),
		// so that the SUT can match the invalid_request answer.
		var txid []byte
		if n := len(c.TransactionID); n >= 1 && n <= MaxTransactionID {
			txid = bytes.Clone(c.TransactionID)
		}
		a.challenge = Challenge{TransactionID: txid}
		return a.finish(ctx, req.Env, InvalidRequest, 0)
	}
	a.raw = raw
	a.challenge = c
	if len(c.ReplyAddress) > 0 {
		if a.dest, err = parseAddressField(c.ReplyAddress); err != nil {
			return a.finish(ctx, req.Env, InvalidRequest, 0)
		}
	}
	wantPIN := c.LoA == LoA3 || c.LoA == LoA3Fallback2
	switch {
	case wantPIN && !a.noPIN:
		if a.State().Blocked {
			return a.finish(ctx, req.Env, PINBlocked, 0)
		}
		a.state = awaitPIN
		return a.raise(a.getInput())
	case c.LoA == LoA3 && a.noPIN:
		return a.finish(ctx, req.Env, PINNotSupported, 0)
	default: // LoA2, or 3,2 on a card without PIN
		a.state = awaitDisplay
		return a.raise(a.displayText())
	}
}

// text is what the user is shown: client_name, then binding_message and
// context on their own lines.
func (a *Applet) text() string {
	parts := []string{a.challenge.ClientName}
	if a.challenge.BindingMessage != "" {
		parts = append(parts, a.challenge.BindingMessage)
	}
	if a.challenge.Context != "" {
		parts = append(parts, a.challenge.Context)
	}
	return strings.Join(parts, "\n")
}

func (a *Applet) duration() *cat.Duration {
	if a.challenge.TimeoutSeconds == 0 {
		return nil
	}
	d := cat.DurationOf(time.Duration(a.challenge.TimeoutSeconds) * time.Second)
	return &d
}

// displayText is the LoA2 prompt (cat.ConfirmPrompt) with the challenge's
// timeout.
func (a *Applet) displayText() cat.Command {
	c := cat.ConfirmPrompt(1, a.text(), true)
	c.Duration = a.duration()
	return c
}

// getInput is the LoA3 prompt (cat.PINPrompt) with the challenge's timeout.
func (a *Applet) getInput() cat.Command {
	c := cat.PINPrompt(1, a.text()+"\nEnter PIN", PINLength)
	c.Duration = a.duration()
	return c
}

func (a *Applet) raise(c cat.Command) (uicc.Step, error) {
	b, err := cat.MarshalCommand(c)
	if err != nil {
		return uicc.Step{}, fmt.Errorf("authn: %w", err)
	}
	return uicc.Step{Proactive: b}, nil
}

// Resume takes the terminal response to the command raised last.
func (a *Applet) Resume(ctx context.Context, env *uicc.Env, trb []byte) (uicc.Step, error) {
	tr, err := cat.ParseTerminalResponse(trb)
	if err != nil {
		return a.finish(ctx, env, SIMError, 0)
	}
	switch a.state {
	case awaitDisplay:
		if tr.Result.General.Success() {
			return a.finish(ctx, env, Approved, LoA2)
		}
		return a.finish(ctx, env, userOutcome(tr.Result.General), 0)
	case awaitPIN:
		if !tr.Result.General.Success() {
			return a.finish(ctx, env, userOutcome(tr.Result.General), 0)
		}
		var entered string
		if tr.Text != nil {
			entered, _ = tr.Text.String()
		}
		return a.checkPIN(ctx, env, entered)
	case awaitSent:
		if len(a.outbox) > 0 && tr.Result.General.Success() {
			next := a.outbox[0]
			a.outbox = a.outbox[1:]
			return a.raise(next)
		}
		a.state, a.outbox = idle, nil
		return uicc.Step{}, nil
	}
	return uicc.Step{}, nil
}

// userOutcome maps a terminal response's general result (TS 102 223 §8.12).
func userOutcome(g cat.GeneralResult) Outcome {
	switch g {
	case cat.ResultSessionTerminated, cat.ResultBackwardMove:
		return Cancelled
	case cat.ResultNoResponse:
		return Timeout
	case cat.ResultTerminalUnable:
		return Busy
	}
	return SIMError
}

func (a *Applet) checkPIN(ctx context.Context, env *uicc.Env, entered string) (uicc.Step, error) {
	a.mu.Lock()
	ok := len(entered) == len(a.pin) && subtle.ConstantTimeCompare([]byte(entered), a.pin) == 1
	if ok {
		a.triesLeft = MaxPINTries
	} else if a.triesLeft > 0 {
		a.triesLeft--
	}
	left := a.triesLeft
	a.mu.Unlock()
	switch {
	case ok:
		return a.finish(ctx, env, Approved, LoA3)
	case left == 0:
		return a.finish(ctx, env, PINBlocked, 0)
	}
	return a.finish(ctx, env, WrongPIN, 0)
}

// finish signs the response, seals it as a response packet (TS 102 225
// §5.2, with the security SPI2 asks for) and sends it by SEND SHORT
// MESSAGE to the reply address or the challenge's originator, in
// concatenated SMS when it does not fit one.
func (a *Applet) finish(ctx context.Context, env *uicc.Env, o Outcome, loa LoA) (uicc.Step, error) {
	r := Response{TransactionID: a.challenge.TransactionID, Outcome: o, AchievedLoA: loa, DTSTime: uint32(env.Now().Unix())}
	if !a.noPIN && (a.state == awaitPIN || o == PINBlocked) {
		st := a.State()
		r.TriesLeft, r.HasTriesLeft = byte(st.TriesLeft), true
	}
	if a.challenge.WantUPK {
		upk, err := a.publicKey()
		if err != nil {
			return uicc.Step{}, err
		}
		r.UPK = upk
	}
	a.state = idle
	a.mu.Lock()
	a.last, a.lastLoA = o, [2]LoA{a.challenge.LoA, loa}
	a.mu.Unlock()
	if err := Sign(a.signer, a.rnd, a.raw, &r); err != nil {
		return uicc.Step{}, err
	}
	data := AppendResponse(nil, &r)
	pkt, err := env.SealResponse(data)
	if err != nil {
		return uicc.Step{Data: data}, nil //nolint:nilerr // not an OTA request: the card's own answer carries it
	}
	a.ref++
	if a.outbox, err = responseSMS(a.dest, pkt, a.ref); err != nil {
		return uicc.Step{}, err
	}
	first := a.outbox[0]
	a.outbox = a.outbox[1:]
	a.state = awaitSent
	return a.raise(first)
}

// responseSMS builds the SEND SHORT MESSAGE commands carrying a sealed
// response packet (which starts with its UDH 02 71 00): SMS-SUBMITs with
// PID 7F and DCS F6, cut by ota.Segments (TS 31.115 §4.2: when it needs
// several, each has an 8-bit concatenation IE and only the first the
// response packet IE 71).
func responseSMS(da tpdu.Address, pkt []byte, ref byte) ([]cat.Command, error) {
	if len(pkt) < 3 || pkt[0] != 2 || pkt[1] != ota.IEIResponsePacket {
		return nil, errors.New("authn: sealed response does not start with UDH 02 71 00")
	}
	segs, err := ota.Segments(ota.IEIResponsePacket, pkt[3:], ref)
	if err != nil {
		return nil, fmt.Errorf("authn: response SMS: %w", err)
	}
	cmds := make([]cat.Command, len(segs))
	for i, ud := range segs {
		sub := &tpdu.Submit{DA: da, PID: tpdu.PIDSIMDataDownload, DCS: 0xF6, UD: ud}
		b, err := sub.AppendBinary(nil)
		if err != nil {
			return nil, fmt.Errorf("authn: response SMS: %w", err)
		}
		cmds[i] = &cat.SendShortMessage{Header: cat.Header{Number: byte(2 + i)}, TPDU: b}
	}
	return cmds, nil
}

// parseAddressField reads a TS 23.040 §9.1.2.5 address field: number of
// digits, type of address, BCD digits.
func parseAddressField(b []byte) (tpdu.Address, error) {
	if len(b) < 2 || len(b) != 2+(int(b[0])+1)/2 {
		return tpdu.Address{}, fmt.Errorf("%w: reply address %x", ErrMalformed, b)
	}
	digits, err := tpdu.DecodeSemiOctets(b[2:], int(b[0]))
	if err != nil {
		return tpdu.Address{}, fmt.Errorf("%w: reply address: %w", ErrMalformed, err)
	}
	return tpdu.Address{TON: tpdu.TypeOfNumber((b[1] >> 4) & 7), NPI: tpdu.NumberingPlan(b[1] & 0x0F), Number: digits}, nil
}
