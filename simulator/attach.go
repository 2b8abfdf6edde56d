package simulator

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/pcsc"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// AttachOptions shape a phone made of a real card (Core.Attach).
type AttachOptions struct {
	// Person answers the card's prompts; nil approves at once
	// (person.Default).
	Person handset.Answerer
	// PIN is the applet PIN the person knows (default fleet.DefaultPIN).
	PIN string
	// PromptTimeout is the handset's toolkit timeout when a prompt has
	// none (default handset.DefaultPromptTimeout).
	PromptTimeout time.Duration
	// Event receives what the handset does (prompts, answers, SMS) and
	// card insertion and removal.
	Event func(handset.Event)
	// Trace receives every APDU exchanged with the card.
	Trace func(capdu, rapdu []byte)
}

// Attached is a card attached to a number of the SMSC: simlab's handset
// (simulator/handset) over the card, reached by SMS to that number, its
// SEND SHORT MESSAGE going back into the SMSC as MO. While no card is in
// place deliveries fail as absent subscriber, and the SMSC retries until
// the message's validity ends. It implements smsc.Phone.
type Attached struct {
	core   *Core
	msisdn string
	opts   AttachOptions
	sink   smsc.Sink

	mu   sync.Mutex
	card applet.Card
	hs   *handset.Handset
}

// ErrNoSMSC means the server runs without an SMSC to attach phones to.
var ErrNoSMSC = errors.New("simulator: no SMSC in this server")

// Attach makes card the phone behind msisdn, ahead of the fleet's plan and
// of bearers: SMPP traffic to msisdn reaches the card as ENVELOPE(SMS-PP
// download) or into the inbox, and what the card sends comes back as MO.
// card may be nil (no card yet: absent); SetCard changes it.
func (c *Core) Attach(ctx context.Context, msisdn string, card applet.Card, opts AttachOptions) (*Attached, error) {
	if c == nil || c.SMSC == nil || c.routes == nil {
		return nil, ErrNoSMSC
	}
	n, err := fleet.Normalize(msisdn)
	if err != nil {
		return nil, err
	}
	if opts.PIN == "" {
		opts.PIN = fleet.DefaultPIN
	}
	if opts.Person == nil {
		h := fnv.New64a()
		h.Write([]byte(n))
		opts.Person = person.New(person.Default(), h.Sum64())
	}
	if p, ok := opts.Person.(*person.Person); ok && c.Live != nil {
		// "human": the card's prompts wait on the web page too.
		p.SetHuman(func(ctx context.Context, pr person.Prompt) person.Answer { return c.Live.Human.Ask(ctx, n, pr) })
	}
	a := &Attached{core: c, msisdn: n, opts: opts}
	a.sink = smsc.PhoneSink{Phone: a}
	if card != nil {
		if err := a.SetCard(ctx, card); err != nil {
			return nil, err
		}
	}
	c.routes.attach(n, a.sink)
	return a, nil
}

// MSISDN returns the attached number (digits).
func (a *Attached) MSISDN() string { return a.msisdn }

// Present reports whether a card is in place.
func (a *Attached) Present() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.card != nil
}

// SetCard puts card in the phone (powering it on and sending the TERMINAL
// PROFILE) or, with nil, takes the card out. The previous card is closed
// when it is an io.Closer.
func (a *Attached) SetCard(ctx context.Context, card applet.Card) error {
	var hs *handset.Handset
	if card != nil {
		hs = handset.New(handset.Config{
			Card: card, Person: a.opts.Person, PIN: a.opts.PIN, PromptTimeout: a.opts.PromptTimeout,
			SendSMS: a.sendSMS, Trace: a.opts.Trace, Event: a.opts.Event,
		})
		if _, err := hs.PowerOn(ctx); err != nil {
			return fmt.Errorf("simulator: attach %s: power on: %w", a.msisdn, err)
		}
	}
	a.mu.Lock()
	old := a.card
	a.card, a.hs = card, hs
	a.mu.Unlock()
	if cl, ok := old.(io.Closer); ok && old != card {
		_ = cl.Close()
	}
	if a.opts.Event != nil {
		kind := "card_inserted"
		if card == nil {
			kind = "card_removed"
		}
		a.opts.Event(handset.Event{Time: time.Now(), Kind: kind, Detail: "+" + a.msisdn})
	}
	return nil
}

// Detach removes the number's route (it falls back to the fleet's plan or
// a bearer) and closes the card.
func (a *Attached) Detach() {
	a.core.routes.detach(a.msisdn, a.sink)
	a.mu.Lock()
	old := a.card
	a.card, a.hs = nil, nil
	a.mu.Unlock()
	if cl, ok := old.(io.Closer); ok {
		_ = cl.Close()
	}
}

// Wait blocks until the card's proactive session, if any, has ended.
func (a *Attached) Wait() error {
	a.mu.Lock()
	hs := a.hs
	a.mu.Unlock()
	if hs == nil {
		return nil
	}
	return hs.Wait()
}

// DeliverSMS implements smsc.Phone.
func (a *Attached) DeliverSMS(ctx context.Context, m *smsc.Message, tpdus [][]byte) error {
	a.mu.Lock()
	hs := a.hs
	a.mu.Unlock()
	if hs == nil {
		return smsc.ErrAbsent
	}
	_, err := hs.DeliverSMS(ctx, tpdus)
	var de *handset.DeliveryError
	if errors.As(err, &de) {
		return fleet.DeliveryFailure(err)
	}
	if err != nil {
		// The card went away mid-delivery (removed, reader unplugged):
		// absent, so the SMSC retries.
		return &smsc.DeliveryError{Code: smsc.ErrAbsent.Code, Reason: "card: " + err.Error()}
	}
	return nil
}

// sendSMS is the handset's network: an SMS-SUBMIT from the card becomes an
// MO message of the SMSC (TS 23.040 §9.2.2.2 → SMPP deliver_sm).
func (a *Attached) sendSMS(ctx context.Context, submit *tpdu.Submit) error {
	mo, err := fleet.MOFromSubmit(a.msisdn, submit)
	if err != nil {
		return err
	}
	_, err = a.core.SMSC.SubmitMO(ctx, mo)
	return err
}

// AttachReader attaches the card in the PC/SC reader to msisdn and follows
// it until ctx ends (PC/SC SCardGetStatusChange through pcsc.Watch): a card
// inserted is opened and powered on, a card or reader removed makes the
// phone absent. On return the number is detached.
func (c *Core) AttachReader(ctx context.Context, reader, msisdn string, opts AttachOptions) error {
	a, err := c.Attach(ctx, msisdn, nil, opts)
	if err != nil {
		return err
	}
	defer a.Detach()
	return a.follow(ctx, reader)
}

// follow keeps the phone's card in step with the reader until ctx ends.
func (a *Attached) follow(ctx context.Context, reader string) error {
	err := pcsc.Watch(ctx, func(e pcsc.Event) {
		if e.Reader != reader {
			return
		}
		switch e.Kind {
		case pcsc.CardInserted:
			card, err := pcsc.Open(ctx, reader)
			if err == nil {
				if err = a.SetCard(ctx, card); err != nil {
					card.Close()
				}
			}
			if err != nil && a.opts.Event != nil {
				a.opts.Event(handset.Event{Time: time.Now(), Kind: "error", Detail: err.Error()})
			}
		case pcsc.CardRemoved, pcsc.ReaderRemoved:
			_ = a.SetCard(ctx, nil)
		}
	})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
