package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// MaxSendParts bounds a text a phone sends: at most this many SMS.
const MaxSendParts = 10

// ErrSend reports an SMS a phone cannot send (bad address, empty or too
// long text, no network).
var ErrSend = errors.New("fleet: cannot send the SMS")

// sendRef numbers the concatenated texts phones send (TS 23.040
// §9.2.3.24.1 reference), fleet-wide.
var sendRef atomic.Uint32

// SendText makes the phone send text to the address to, as its owner
// typing an SMS would: SMS-SUBMIT TPDUs (GSM 7-bit, or UCS2 when the text
// needs it; several with a concatenation header when it does not fit
// one) into the network, where the SMSC routes them like any MO message
// (to the ESME whose account or bind owns the address). to is digits, with
// a leading + for an international number (a short code such as 12345
// without). It returns the SMSC's message id of each part.
func (p *Phone) SendText(ctx context.Context, to, text string) ([]string, error) {
	da, err := sendAddress(to)
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, fmt.Errorf("%w: the text is empty", ErrSend)
	}
	if p.fleet.cfg.MO == nil {
		return nil, fmt.Errorf("%w: no network for MO messages", ErrSend)
	}
	p.mu.Lock()
	absent := p.settings.Absent
	p.mu.Unlock()
	if absent {
		return nil, fmt.Errorf("%w: the phone is switched off (absent)", ErrSend)
	}
	dcs, parts, err := tpdu.SplitText(text, byte(sendRef.Add(1)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSend, err)
	}
	if len(parts) > MaxSendParts {
		return nil, fmt.Errorf("%w: the text needs %d SMS, at most %d are sent", ErrSend, len(parts), MaxSendParts)
	}
	ids := make([]string, 0, len(parts))
	for i, ud := range parts {
		ud.HasHeader = len(ud.Header) > 0 // TP-UDHI, as a parsed SMS-SUBMIT has it
		mo, err := MOFromSubmit(p.msisdn, &tpdu.Submit{MR: byte(i), DA: da, DCS: dcs, UD: ud})
		if err != nil {
			return ids, fmt.Errorf("%w: %w", ErrSend, err)
		}
		if err := p.fleet.cfg.MO(ctx, mo); err != nil {
			p.record("error", fmt.Sprintf("SMS to %s failed: %v", da, err), nil)
			return ids, fmt.Errorf("%w: %w", ErrSend, err)
		}
		ids = append(ids, mo.ID)
	}
	p.record("sms_out", fmt.Sprintf("text to %s (%d characters, %d SMS)", da, len([]rune(text)), len(parts)), nil)
	return ids, nil
}

// sendAddress parses the address a phone sends to.
func sendAddress(to string) (tpdu.Address, error) {
	to = strings.TrimSpace(to)
	digits := strings.TrimPrefix(to, "+")
	if digits == "" || len(digits) > 20 || strings.Trim(digits, "0123456789") != "" {
		return tpdu.Address{}, fmt.Errorf("%w: address %q: want digits, + first for an international number", ErrSend, to)
	}
	if strings.HasPrefix(to, "+") {
		return tpdu.InternationalAddress(digits), nil
	}
	return tpdu.Address{TON: tpdu.TONUnknown, NPI: tpdu.NPIISDN, Number: digits}, nil
}

// OpenLink makes the phone open a link it received by SMS, as its owner
// tapping it would (the web page's virtual handset): the phone fetches it
// (Config.OpenURL, loopback hosts only by default) and its inbox marks the
// message opened. Only links in the phone's inbox can be opened.
func (p *Phone) OpenLink(ctx context.Context, url string) error {
	p.mu.Lock()
	found := -1
	for i := len(p.inbox) - 1; i >= 0; i-- {
		if p.inbox[i].URL == url {
			found = i
			break
		}
	}
	p.mu.Unlock()
	if found < 0 {
		return fmt.Errorf("fleet: %s has no SMS with the link %q", p.msisdn, url)
	}
	if err := p.fleet.cfg.OpenURL(ctx, url); err != nil {
		p.record("url", fmt.Sprintf("open %s failed: %v", url, err), nil)
		return err
	}
	p.mu.Lock()
	for i := range p.inbox {
		if p.inbox[i].URL == url {
			p.inbox[i].Opened = true
		}
	}
	p.mu.Unlock()
	p.record("url", "opened "+url, nil)
	return nil
}
