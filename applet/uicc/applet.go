package uicc

import (
	"context"
	"github.com/simlab-dev/simlab/smsc/tpdu"
	"time"

	"github.com/simlab-dev/simlab/applet/apdu"
)

// Applet is a card application the emulated UICC dispatches to. It is
// addressed by TAR (OTA secured packets arriving by ENVELOPE SMS-PP
// download, ETSI TS 102 225 / TS 102 226), by AID (SELECT by DF name), or
// receives TERMINAL PROFILE and other ENVELOPEs.
//
// An applet never blocks and starts no goroutine: it is driven step by step.
// Process handles one incoming request and returns a Step; when the Step
// carries a proactive command (a complete BER-TLV object with tag D0, ETSI
// TS 102 223 §6.6) the card announces it with 91xx, the terminal FETCHes it,
// and the terminal's answer comes back through Resume (the TERMINAL RESPONSE
// data, TS 102 223 §6.8). The session goes on until a Step has no proactive
// command; its Data is then the applet's response (for an OTA request: the
// additional data the card seals into the PoR). One instance serves one
// card; calls are serialised by the card.
type Applet interface {
	Process(ctx context.Context, req *Request) (Step, error)
	Resume(ctx context.Context, env *Env, tr []byte) (Step, error)
}

// Kind says why an applet is called.
type Kind uint8

// Request kinds.
const (
	// KindOTA: an OTA command packet for the applet's TAR was opened (CC
	// checked, deciphered, counter checked); Data is the secured data.
	KindOTA Kind = iota + 1
	// KindSelect: the applet was selected by AID; Data is the AID sent.
	KindSelect
	// KindAPDU: a command APDU while the applet is selected; APDU holds it.
	KindAPDU
	// KindEnvelope: an ENVELOPE other than SMS-PP download (menu selection,
	// event download, timer expiration …); Data is the whole BER-TLV object.
	KindEnvelope
	// KindTerminalProfile: the terminal sent TERMINAL PROFILE; Data is it.
	KindTerminalProfile
)

// Request is what an applet is asked to handle. It is only valid during the
// call.
type Request struct {
	Kind Kind
	Data []byte
	APDU apdu.Command
	// TAR is the addressed TAR (KindOTA).
	TAR [3]byte
	// Originator is the TP-Originating-Address of the SMS that carried the
	// OTA packet, as digits with a leading + when international (KindOTA);
	// OA is the same address as parsed, type of number and numbering plan
	// included, to reply to.
	Originator string
	OA         tpdu.Address
	Env        *Env
}

// Step is an applet's answer to a Process or Resume call.
type Step struct {
	// Proactive is the next proactive command to raise (BER-TLV, tag D0).
	// Nil ends the session.
	Proactive []byte
	// Data is the response when the session ends: the PoR additional data
	// (KindOTA), the response data field (KindSelect, KindAPDU), or the
	// ENVELOPE response data (KindEnvelope).
	Data []byte
	// SW is the status word for KindSelect and KindAPDU; 0 means 9000.
	SW apdu.SW
}

// EnvelopeFilter is an optional interface: an applet that implements it
// receives KindEnvelope requests only for the templates it accepts (tag D3
// menu selection, D6 event download …). Applets without it receive none.
type EnvelopeFilter interface {
	AcceptsEnvelope(tag byte) bool
}

// ProfileWatcher is an optional interface: an applet that implements it
// receives KindTerminalProfile requests.
type ProfileWatcher interface {
	WatchesTerminalProfile() bool
}

// ResetWatcher is an optional interface: an applet that implements it is
// told when the card is reset, so it can drop the state of a proactive
// session that the reset ended.
type ResetWatcher interface {
	CardReset()
}

// Env is the card's side of an applet call: the clock, identities, the
// applet's options and, for OTA requests, sealing of response packets.
// It is only valid during the call it was given to.
type Env struct {
	card *Card
	inst *installed
	ota  *otaRequest // the OTA request being served, or nil
	ctx  context.Context
}

// Now returns the card's clock time.
func (e *Env) Now() time.Time { return e.card.now() }

// ICCID returns the card's ICCID.
func (e *Env) ICCID() string { return e.card.prof.ICCID }

// IMSI returns the card's IMSI.
func (e *Env) IMSI() string { return e.card.prof.IMSI }

// MSISDN returns the card's MSISDN.
func (e *Env) MSISDN() string { return e.card.prof.MSISDN }

// TerminalProfile returns the last TERMINAL PROFILE the terminal sent (nil
// before one). The caller must not modify it.
func (e *Env) TerminalProfile() []byte { return e.card.termProfile }

// Option returns the applet's option key from the profile.
func (e *Env) Option(key string) (string, bool) {
	if e.inst == nil {
		return "", false
	}
	v, ok := e.inst.prof.Options[key]
	return v, ok
}

// BoolOption returns the option key as a bool ("true", "1", "yes"); false when absent.
func (e *Env) BoolOption(key string) bool {
	v, ok := e.Option(key)
	return ok && parseBoolOption(v)
}

// BoolOption returns the applet option key read as a bool ("true", "1",
// "yes" are true) and whether the profile sets it.
func (a AppletProfile) BoolOption(key string) (value, set bool) {
	v, ok := a.Options[key]
	return ok && parseBoolOption(v), ok
}

// PIN1Verified reports whether PIN1 is currently verified (or disabled).
func (e *Env) PIN1Verified() bool { return e.card.pin1OK() }
