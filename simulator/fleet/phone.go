package fleet

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Settings are a phone's conditions, set by its magic number and over the
// API.
type Settings struct {
	// Absent: switched off; deliveries fail as absent subscriber and the
	// SMSC retries until the validity period ends.
	Absent bool `json:"absent"`
	// NoNFC: the SIM has no authenticator applet.
	NoNFC bool `json:"no_nfc"`
	// NoPINSupport: the applet offers OK only.
	NoPINSupport bool `json:"no_pin_support"`
	// DeliveryError makes every delivery fail permanently.
	DeliveryError bool `json:"delivery_error,omitempty"`
	// SIMError makes the SIM fail every SMS-PP download.
	SIMError bool `json:"sim_error,omitempty"`
}

// Info is what the API shows of a phone.
type Info struct {
	MSISDN    string           `json:"msisdn"`
	ICCID     string           `json:"iccid"`
	IMSI      string           `json:"imsi"`
	Magic     string           `json:"magic,omitempty"`
	Settings  Settings         `json:"settings"`
	PIN       authn.PINState   `json:"pin"`
	Behaviour person.Behaviour `json:"behaviour"`
	// NextStep is the index of the behaviour step the next prompt uses.
	NextStep int `json:"next_step"`
	// Scripted is true when the behaviour was set over the API (it then
	// wins over binding-message keywords).
	Scripted bool `json:"scripted"`
	// PublicKey is the card's signing key (upk), compressed, hex.
	PublicKey string `json:"public_key"`
	Inbox     int    `json:"inbox"`
	Events    int    `json:"events"`
}

// Event is one entry of a phone's event log.
type Event struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	MSISDN string    `json:"msisdn"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail"`
	// APDUs is the APDU trace of an SMS-PP download session (kind
	// "session"), command and response in hex.
	APDUs []APDU `json:"apdus,omitempty"`
}

// APDU is one command/response pair of a trace.
type APDU struct {
	C string `json:"c"`
	R string `json:"r"`
}

// Phone is one emulated subscriber: SIM card with the authenticator applet,
// handset, person, inbox and event log. It implements smsc.Phone.
type Phone struct {
	msisdn string
	magic  Magic
	fleet  *Fleet

	card   *uicc.Card
	applet *authn.Applet // nil without NFC SIM
	hs     *handset.Handset
	person *person.Person

	mu       sync.Mutex
	settings Settings
	scripted bool
	inbox    []handset.Message
	events   []Event
	trace    []APDU // the session being traced
	tracing  bool
}

// MSISDN returns the phone's number (digits, no +).
func (p *Phone) MSISDN() string { return p.msisdn }

// Card returns the phone's SIM.
func (p *Phone) Card() *uicc.Card { return p.card }

// Answer implements handset.Answerer: a behaviour scripted over the API
// wins over keywords in the prompt; otherwise a keyword wins over the
// number's default behaviour.
func (p *Phone) Answer(ctx context.Context, pr person.Prompt, override *person.Step) person.Answer {
	p.mu.Lock()
	scripted := p.scripted
	p.mu.Unlock()
	if scripted {
		override = nil
	}
	return p.person.Answer(ctx, pr, override)
}

func (p *Phone) record(kind, detail string, apdus []APDU) {
	p.mu.Lock()
	e := Event{Seq: p.fleet.nextSeq(), Time: time.Now(), MSISDN: p.msisdn, Kind: kind, Detail: detail, APDUs: apdus}
	p.events = append(p.events, e)
	if n := p.fleet.cfg.MaxEvents; len(p.events) > n {
		p.events = append(p.events[:0], p.events[len(p.events)-n:]...)
	}
	p.mu.Unlock()
	p.fleet.publish(e)
}

func (p *Phone) traceAPDU(c, r []byte) {
	p.mu.Lock()
	if p.tracing {
		p.trace = append(p.trace, APDU{C: hex.EncodeToString(c), R: hex.EncodeToString(r)})
	}
	p.mu.Unlock()
	if f := p.fleet.cfg.Trace; f != nil {
		f(p.msisdn, c, r)
	}
}

// DeliverSMS implements smsc.Phone: the network delivers an SMS.
func (p *Phone) DeliverSMS(ctx context.Context, m *smsc.Message, tpdus [][]byte) error {
	p.mu.Lock()
	st := p.settings
	p.mu.Unlock()
	switch {
	case st.Absent:
		p.record("delivery", "absent: not delivered", nil)
		return smsc.ErrAbsent
	case st.DeliveryError:
		p.record("delivery", "permanent delivery failure", nil)
		return &smsc.DeliveryError{Code: smsc.ErrCodeSystemFailure, Permanent: true, Reason: "delivery failure (magic number)"}
	case st.SIMError && m.SIMDownload:
		p.record("delivery", "SIM failed the SMS-PP download", nil)
		return &smsc.DeliveryError{Code: ErrCodeSIMDownload, Permanent: true, Reason: "(U)SIM data download error"}
	}
	p.mu.Lock()
	p.tracing, p.trace = m.SIMDownload, nil
	p.mu.Unlock()
	_, err := p.hs.DeliverSMS(ctx, tpdus)
	if m.SIMDownload {
		go p.finishTrace()
	}
	var de *handset.DeliveryError
	if errors.As(err, &de) {
		return &smsc.DeliveryError{Code: uint16(de.FCS), Permanent: de.FCS != handset.ErrToolkitBusy.FCS, Reason: de.Reason}
	}
	return err
}

// finishTrace waits for the proactive session and logs it with its APDUs.
func (p *Phone) finishTrace() {
	err := p.hs.Wait()
	p.mu.Lock()
	tr := p.trace
	p.tracing, p.trace = false, nil
	p.mu.Unlock()
	detail := "SMS-PP download session ended"
	if err != nil {
		detail += ": " + err.Error()
	}
	p.record("session", detail, tr)
}

// Wait blocks until the phone has no proactive session running.
func (p *Phone) Wait() { _ = p.hs.Wait() }

// ErrCodeSIMDownload is the network error code of a failed SMS-PP download
// in receipts: TP-FCS D5, "(U)SIM data download error" (TS 23.040
// §9.2.3.22).
const ErrCodeSIMDownload = 0xD5

// sendSMS is the handset's network: an SMS-SUBMIT becomes an MO message.
func (p *Phone) sendSMS(ctx context.Context, submit []byte) error {
	m, err := tpdu.Parse(submit, tpdu.MO)
	if err != nil {
		return err
	}
	s, ok := m.(*tpdu.Submit)
	if !ok {
		return fmt.Errorf("fleet: SEND SHORT MESSAGE carried a %s", m.Type())
	}
	mo := &smsc.Message{
		Source: smsc.Address{TON: 1, NPI: 1, Addr: p.msisdn},
		Dest:   smsc.Address{TON: uint8(s.DA.TON), NPI: uint8(s.DA.NPI), Addr: s.DA.Number},
		PID:    s.PID, DCS: byte(s.DCS), Body: s.UD.Data,
	}
	if s.UD.HasHeader {
		if mo.UDH, err = tpdu.AppendHeader(nil, s.UD.Header); err != nil {
			return err
		}
		mo.ESMClass |= 0x40
	}
	if p.fleet.cfg.MO == nil {
		return errors.New("fleet: no network for MO messages")
	}
	return p.fleet.cfg.MO(ctx, mo)
}

// Info describes the phone.
func (p *Phone) Info() Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, next := p.person.Behaviour()
	prof := p.card.Profile()
	in := Info{MSISDN: p.msisdn, ICCID: prof.ICCID, IMSI: prof.IMSI, Magic: p.magic.Name, Settings: p.settings,
		Behaviour: b, NextStep: next, Scripted: p.scripted, Inbox: len(p.inbox), Events: len(p.events)}
	if p.applet != nil {
		in.PIN = p.applet.State()
		in.PublicKey = hex.EncodeToString(p.applet.PublicKey())
	}
	return in
}

// SetBehaviour scripts the person; it then wins over keywords.
func (p *Phone) SetBehaviour(b person.Behaviour) error {
	if err := b.Validate(); err != nil {
		return err
	}
	p.person.Set(b)
	p.mu.Lock()
	p.scripted = true
	p.mu.Unlock()
	p.record("behaviour", "script set over the API", nil)
	return nil
}

// SetAbsent switches the phone off (true) or on.
func (p *Phone) SetAbsent(absent bool) {
	p.mu.Lock()
	p.settings.Absent = absent
	p.mu.Unlock()
	p.record("settings", fmt.Sprintf("absent=%v", absent), nil)
}

// Inbox returns the text messages received, oldest first.
func (p *Phone) Inbox() []handset.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]handset.Message(nil), p.inbox...)
}

// Events returns the phone's event log, oldest first.
func (p *Phone) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}
