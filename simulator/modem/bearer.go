package modem

import (
	"context"
	"errors"
	"fmt"

	"github.com/warthog618/sms/encoding/tpdu"
)

// Submit is a short message for a Bearer, in the terms an SMSC route
// hands over (submit_sm fields mapped to TS 23.040).
type Submit struct {
	// To is the destination (TP-DA); a leading '+' makes it international.
	To string
	// PID and DCS are TP-PID and TP-DCS.
	PID, DCS byte
	// UDH is the user data header without its length octet (TP-UDHI is
	// set when it is not empty).
	UDH []byte
	// UD is the user data: octets for 8-bit and UCS2, unpacked septets
	// (one per byte) for the GSM 7-bit alphabet.
	UD []byte
	// StatusReport sets TP-SRR.
	StatusReport bool
}

// Bearer is a real radio path for the simulator's SMSC (`simlab serve
// --bearer modem:PORT`): Send carries messages for numbers the simulator
// does not own over the modem, and Run yields what the modem receives (MO
// messages from handsets, status reports) so the SMSC can inject them.
type Bearer struct {
	Modem *Modem
	// Listen tunes Run.
	Listen ListenOptions

	ref byte
}

// NewBearer returns a Bearer over an initialised modem.
func NewBearer(m *Modem) *Bearer { return &Bearer{Modem: m} }

// Send transmits sm, concatenated when the user data does not fit one
// message, and returns the message reference of each segment.
func (b *Bearer) Send(ctx context.Context, sm Submit) ([]int, error) {
	b.ref++
	pdus, err := Submits(sm, b.ref)
	if err != nil {
		return nil, err
	}
	return b.Modem.sendTPDUs(ctx, pdus, SendOptions{StatusReport: sm.StatusReport})
}

// Run listens until ctx is done and calls fn for every message and status
// report the modem receives.
func (b *Bearer) Run(ctx context.Context, fn func(Event)) error {
	return b.Modem.Listen(ctx, b.Listen, fn)
}

// Submits builds the SMS-SUBMIT TPDUs for sm; ref is the concatenation
// reference used when sm needs more than one (TS 23.040 §9.2.3.24.1).
func Submits(sm Submit, ref byte) ([]tpdu.TPDU, error) {
	if sm.To == "" {
		return nil, errors.New("modem: submit without destination")
	}
	t := tpdu.TPDU{Direction: tpdu.MO, PID: sm.PID, DCS: tpdu.DCS(sm.DCS)}
	t.FirstOctet = t.FirstOctet.WithMTI(tpdu.MtSubmit)
	t.DA.SetNumber(sm.To)
	if sm.To[0] != '+' {
		t.DA.SetTypeOfNumber(tpdu.TonUnknown)
	}
	if len(sm.UDH) > 0 {
		var udh tpdu.UserDataHeader
		raw := append([]byte{byte(len(sm.UDH))}, sm.UDH...)
		if _, err := udh.UnmarshalBinary(raw); err != nil {
			return nil, fmt.Errorf("modem: user data header: %w", err)
		}
		t.SetUDH(udh)
	}
	if _, err := t.DCS.Alphabet(); err != nil {
		return nil, fmt.Errorf("modem: DCS %#02x: %w", sm.DCS, err)
	}
	if sm.StatusReport {
		t.FirstOctet |= tpdu.FoSRR
	}
	bs := t.UDBlockSize()
	if len(sm.UD) <= bs {
		t.UD = append([]byte(nil), sm.UD...)
		return []tpdu.TPDU{t}, nil
	}
	segs := t.Segment(sm.UD, tpdu.WithConcatRef(fixedCounter(ref)))
	if len(segs) > 255 {
		return nil, ErrTooLong
	}
	return segs, nil
}

// fixedCounter is a tpdu.Counter that always answers the same value.
type fixedCounter byte

// Count returns the fixed value.
func (c fixedCounter) Count() int { return int(c) }
