package modem

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/simlab-dev/simlab/applet"
)

// Card is the SIM inside a modem reached through generic SIM access,
// AT+CSIM (TS 27.007 §8.17). It implements applet.Card.
type Card struct{ m *Modem }

var _ applet.Card = (*Card)(nil)

// Card returns the modem's SIM as an applet.Card.
func (m *Modem) Card() *Card { return &Card{m: m} }

// Transmit sends one command APDU as AT+CSIM=<length>,"<hex>" (length in
// hex characters) and returns the response APDU from
// +CSIM: <length>,"<hex>", status word included. 61xx and 9Fxx are
// returned as they are.
func (c *Card) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if len(capdu) < 4 {
		return nil, fmt.Errorf("modem: CSIM: command APDU of %d bytes, need at least 4", len(capdu))
	}
	h := strings.ToUpper(hex.EncodeToString(capdu))
	lines, err := c.m.Command(ctx, fmt.Sprintf(`+CSIM=%d,"%s"`, len(h), h))
	if err != nil {
		return nil, err
	}
	l, err := line(lines, "+CSIM")
	if err != nil {
		return nil, err
	}
	return ParseCSIM(l)
}

// Reset cannot power-cycle the SIM through AT commands without restarting
// the modem, and 27.007 has no command that returns the ATR. It resets
// what a terminal can reset: it selects the MF again (clearing the current
// file), and returns an empty ATR.
func (c *Card) Reset(ctx context.Context, cold bool) ([]byte, error) {
	r, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	if err != nil {
		return nil, err
	}
	if sw1 := r[len(r)-2]; sw1 != 0x90 && sw1 != 0x61 && sw1 != 0x9F {
		return nil, fmt.Errorf("modem: CSIM: SELECT MF answered %X", r[len(r)-2:])
	}
	return []byte{}, nil
}

// ToolkitEvent is what the SIM toolkit session sends to the terminal.
type ToolkitEvent struct {
	// Command is a proactive command (+CUSATP, TS 27.007 §12.2.4), a
	// BER-TLV with tag D0 (TS 102 223 §6.6); nil for an end.
	Command []byte
	// End reports +CUSATEND: the proactive session ended.
	End bool
	// Err reports a +CUSATP line that did not parse.
	Err error
}

// Toolkit is the SIM-toolkit terminal bridge of a modem (TS 27.007 §12):
// with the TE profile active, the modem passes the card's proactive
// commands up as +CUSATP and takes terminal responses (+CUSATT) and
// envelopes (+CUSATE) down. Handset code runs the proactive session on it
// as it would on a card.
type Toolkit struct {
	m      *Modem
	events chan ToolkitEvent
	done   chan struct{}
}

// Toolkit registers for +CUSATP and +CUSATEND, writes profile as the TE
// profile (AT+CUSATW=1,…) when it is not empty and activates it
// (AT+CUSATA=1, which sends TERMINAL PROFILE to the card). Close undoes the
// registration.
func (m *Modem) Toolkit(ctx context.Context, profile []byte) (*Toolkit, error) {
	t := &Toolkit{m: m, events: make(chan ToolkitEvent, 16), done: make(chan struct{})}
	send := func(e ToolkitEvent) {
		select {
		case t.events <- e:
		case <-t.done:
		}
	}
	m.indMu.Lock()
	err := m.g.AddIndication("+CUSATP:", func(lines []string) {
		cmd, err := ParseCUSATP(lines[0])
		send(ToolkitEvent{Command: cmd, Err: err})
	})
	if err == nil {
		err = m.g.AddIndication("+CUSATEND", func([]string) { send(ToolkitEvent{End: true}) })
		if err != nil {
			m.g.CancelIndication("+CUSATP:")
		}
	}
	m.indMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("modem: toolkit: %w", err)
	}
	if len(profile) > 0 {
		if _, err := m.Command(ctx, fmt.Sprintf(`+CUSATW=1,"%X"`, profile)); err != nil {
			t.Close()
			return nil, err
		}
	}
	if _, err := m.Command(ctx, "+CUSATA=1"); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Events delivers proactive commands and session ends, in order.
func (t *Toolkit) Events() <-chan ToolkitEvent { return t.events }

// TerminalResponse sends a TERMINAL RESPONSE body (TS 102 223 §6.8) with
// AT+CUSATT="<hex>" (TS 27.007 §12.2.5).
func (t *Toolkit) TerminalResponse(ctx context.Context, tr []byte) error {
	_, err := t.m.Command(ctx, fmt.Sprintf(`+CUSATT="%X"`, tr))
	return err
}

// Envelope sends an ENVELOPE body (TS 102 223 §7, e.g. D3 menu selection
// or D1 SMS-PP download) with AT+CUSATE="<hex>" (TS 27.007 §12.2.6).
func (t *Toolkit) Envelope(ctx context.Context, env []byte) (EnvelopeResult, error) {
	lines, err := t.m.Command(ctx, fmt.Sprintf(`+CUSATE="%X"`, env))
	if err != nil {
		return EnvelopeResult{}, err
	}
	return ParseCUSATE(lines)
}

// Close stops the indications; Events is not closed.
func (t *Toolkit) Close() {
	select {
	case <-t.done:
		return
	default:
	}
	close(t.done)
	t.m.indMu.Lock()
	t.m.g.CancelIndication("+CUSATP:")
	t.m.g.CancelIndication("+CUSATEND")
	t.m.indMu.Unlock()
}
