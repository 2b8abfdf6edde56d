// Package handset is the terminal side of the SIM Toolkit: a mobile phone as
// the card sees it (ETSI TS 102 223, 3GPP TS 31.111). It runs over the Card
// seam, so the same code drives simlab's emulated UICC, an NFC SIM in a PC/SC
// reader, or a modem's SIM through AT+CSIM.
//
// The handset powers the card on and sends its TERMINAL PROFILE, passes SMS
// for the SIM to it as ENVELOPE (SMS-PP download), fetches the proactive
// commands the card raises (91xx → FETCH), shows prompts to the Person,
// answers with TERMINAL RESPONSE, and sends the SMS the card asks for (SEND
// SHORT MESSAGE) as mobile-originated messages. Plain text SMS go to the
// inbox, a concatenated one once all its parts are in (Reassembly); a link
// in one is offered to the person to open.
//
// One proactive session runs at a time per handset. A second SMS for the SIM
// that arrives during a session is refused as a real handset does when its
// toolkit is busy: the delivery fails with TP-FCS D4 ("SIM Application Toolkit
// busy", TS 23.040 §9.2.3.22; TS 31.111 §7.1.1.2), and the SMSC retries later.
package handset

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet"
	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/cat"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// DefaultTerminalProfile is the TERMINAL PROFILE a handset sends (TS 102
// 223 §5.2), 20 bytes announcing exactly what this terminal implements:
// SMS-PP data download, UCS2 entry and display, the proactive commands it
// answers (DISPLAY TEXT, GET INKEY, GET INPUT, SELECT ITEM, SEND SHORT
// MESSAGE, PLAY TONE, MORE TIME, SET UP MENU, SET UP EVENT LIST, POLL
// INTERVAL, POLLING OFF, REFRESH) and PROVIDE LOCAL INFORMATION for IMEI,
// date-time and language. An applet that checks the profile before asking
// for a PIN (GET INPUT) therefore finds it.
var DefaultTerminalProfile = []byte(defaultProfile())

func defaultProfile() cat.TerminalProfile {
	p := cat.TerminalProfile(make([]byte, 20))
	for _, f := range []cat.Facility{
		cat.FacProfileDownload, cat.FacSMSPPDownload, cat.FacCommandResult,
		cat.FacUCS2Entry, cat.FacUCS2Display,
		cat.FacDisplayText, cat.FacGetInkey, cat.FacGetInput, cat.FacMoreTime, cat.FacPlayTone,
		cat.FacPollInterval, cat.FacPollingOff, cat.FacRefresh, cat.FacSelectItem,
		cat.FacSendShortMessage, cat.FacSetUpMenu, cat.FacProvideLocalInfo,
		cat.FacSetUpEventList, cat.FacProvideLocalDateTime, cat.FacProvideLocalLanguage,
	} {
		p = p.Set(f)
	}
	return p
}

// DefaultPromptTimeout is how long the terminal waits for the user when the
// proactive command gives no duration.
const DefaultPromptTimeout = 60 * time.Second

// DefaultBusyWait covers a session that is just ending (its answer already
// sent) without holding a delivery up for a person who takes their time.
const DefaultBusyWait = 2 * time.Second

// Answerer decides what the person holding the phone does; *person.Person
// implements it.
type Answerer interface {
	Answer(ctx context.Context, p person.Prompt, override *person.Step) person.Answer
}

// Config wires a handset to its card, its person and the network.
type Config struct {
	Card   applet.Card
	Person Answerer
	// PIN is the PIN the owner knows (the applet's), given to the person
	// with PIN prompts; it is never logged or put in events.
	PIN string
	// IMEI answers PROVIDE LOCAL INFORMATION (IMEI); 15 digits.
	IMEI string
	// TerminalProfile defaults to DefaultTerminalProfile.
	TerminalProfile []byte
	// PromptTimeout defaults to DefaultPromptTimeout.
	PromptTimeout time.Duration
	// BusyWait is how long an SMS for the SIM waits for a running
	// proactive session to end (the terminal retrying its ENVELOPE, TS
	// 31.111 §7.1.1.2) before the delivery fails as toolkit busy (D4).
	// Default DefaultBusyWait; negative fails at once.
	BusyWait time.Duration
	// SendSMS sends the SMS-SUBMIT of a SEND SHORT MESSAGE into the
	// network, as the handset parsed it (its user data aliases the
	// proactive command); nil makes SEND SHORT MESSAGE fail with "network
	// unable".
	SendSMS func(ctx context.Context, submit *tpdu.Submit) error
	// OpenURL fetches a link the person chose to open; nil never opens.
	OpenURL func(ctx context.Context, url string) error
	// Inbox receives text messages, a concatenated one once, whole.
	Inbox func(Message)
	// Reassembly holds the parts of concatenated text messages until all
	// are in; nil: the handset keeps its own, with
	// DefaultReassemblyLimits. A phone gives its own so that parts
	// outlive a rebuilt handset.
	Reassembly *Reassembly
	// Now is the handset's clock (reassembly timeouts, receipt times);
	// nil: time.Now.
	Now func() time.Time
	// Trace receives every APDU exchanged with the card, in order.
	Trace func(capdu, rapdu []byte)
	// Event receives what happened, for the phone's event log.
	Event func(Event)
	// Go starts a proactive session in the background (a
	// internal/workers Pool's Go, whose parked goroutines spare a session
	// its stack growth); nil starts a goroutine.
	Go func(func())
}

// Message is a text SMS as the phone's inbox holds it: a concatenated
// one (TS 23.040 §9.2.3.24.1) once, its parts joined.
type Message struct {
	From   string `json:"from"`
	Text   string `json:"text"`
	URL    string `json:"url,omitempty"`
	Opened bool   `json:"opened"`
	// Parts is the number of SMS the text came in (1 for a single one).
	Parts int `json:"parts"`
	// Missing lists the parts (from 1) that never arrived, for a
	// concatenated message given up incomplete (its text is the parts
	// that did, and no link in it was offered to the person).
	Missing  []int     `json:"missing,omitempty"`
	Received time.Time `json:"received"`
}

// Event is one step of what the handset did, for logs and the API.
type Event struct {
	Time time.Time `json:"time"`
	// Kind is prompt, answer, sms_out, sms_in, url, session_end, error.
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Errors of a delivery, each with the TP-FCS a real handset would put in
// its RP-ERROR (TS 23.040 §9.2.3.22).
var (
	// ErrToolkitBusy: the SIM toolkit is busy with another session (D4).
	ErrToolkitBusy = &DeliveryError{FCS: 0xD4, Reason: "SIM Application Toolkit busy"}
	// ErrDownload: the card rejected the SMS-PP download (D5).
	ErrDownload = &DeliveryError{FCS: 0xD5, Reason: "(U)SIM data download error"}
)

// DeliveryError is a failed delivery with its TP failure cause.
type DeliveryError struct {
	FCS    byte
	Reason string
	Err    error
}

func (e *DeliveryError) Error() string {
	s := fmt.Sprintf("handset: delivery failed (TP-FCS %02X %s)", e.FCS, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Is matches delivery errors by FCS.
func (e *DeliveryError) Is(target error) bool {
	t, ok := target.(*DeliveryError)
	return ok && t.FCS == e.FCS
}

// Handset is one phone's terminal. It is safe for concurrent use.
type Handset struct {
	cfg     Config
	card    apdu.Transmitter // cfg.Card, traced when cfg.Trace is set
	reasm   *Reassembly      // cfg.Reassembly, or the handset's own
	session chan struct{}    // a one-slot semaphore held during an SMS-PP download and its proactive session
	cardMu  sync.Mutex       // serialises APDUs
	errMu   sync.Mutex
	lastErr error // the last background session's failure
}

// Wait blocks until no proactive session is running and returns the error
// of the last one that failed since the previous Wait, if any. It may be
// called from several goroutines, while new sessions start.
func (h *Handset) Wait() error {
	h.lock() // the background session holds the semaphore until it ends
	h.unlock()
	h.errMu.Lock()
	defer h.errMu.Unlock()
	err := h.lastErr
	h.lastErr = nil
	return err
}

// New returns a handset; call PowerOn before delivering SMS.
func New(cfg Config) *Handset {
	if cfg.TerminalProfile == nil {
		cfg.TerminalProfile = DefaultTerminalProfile
	}
	if cfg.PromptTimeout <= 0 {
		cfg.PromptTimeout = DefaultPromptTimeout
	}
	if cfg.BusyWait == 0 {
		cfg.BusyWait = DefaultBusyWait
	}
	h := &Handset{cfg: cfg, session: make(chan struct{}, 1), card: cfg.Card, reasm: cfg.Reassembly}
	if h.reasm == nil {
		h.reasm, _ = NewReassembly(DefaultReassemblyLimits) // valid limits: no error
	}
	if cfg.Trace != nil {
		h.card = tracedCard{card: cfg.Card, trace: cfg.Trace}
	}
	return h
}

func (h *Handset) lock()   { h.session <- struct{}{} }
func (h *Handset) unlock() { <-h.session }

// tryLock takes the session, waiting at most d for a running one to end.
func (h *Handset) tryLock(ctx context.Context, d time.Duration) bool {
	select {
	case h.session <- struct{}{}:
		return true
	default:
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case h.session <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (h *Handset) event(kind, format string, args ...any) {
	if h.cfg.Event != nil {
		h.cfg.Event(Event{Time: h.now(), Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
}

// PowerOn resets the card, sends the TERMINAL PROFILE and runs any proactive
// session the card starts (SET UP MENU, SET UP EVENT LIST, …). It returns
// the ATR.
func (h *Handset) PowerOn(ctx context.Context) ([]byte, error) {
	h.lock()
	defer h.unlock()
	h.cardMu.Lock()
	atr, err := h.cfg.Card.Reset(ctx, true)
	h.cardMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("handset: power on: %w", err)
	}
	tp := append([]byte{0x80, 0x10, 0x00, 0x00, byte(len(h.cfg.TerminalProfile))}, h.cfg.TerminalProfile...)
	_, sw, err := h.transmit(ctx, tp)
	if err != nil {
		return nil, fmt.Errorf("handset: TERMINAL PROFILE: %w", err)
	}
	if !swOK(sw) {
		return nil, fmt.Errorf("handset: TERMINAL PROFILE answered %04X", sw)
	}
	if err := h.proactive(ctx, sw); err != nil {
		return atr, err
	}
	return atr, nil
}

func swOK(sw uint16) bool { return sw == 0x9000 || sw>>8 == 0x91 }

// transmit sends one command APDU and completes it as a T=0 terminal does
// (apdu.Exchange: 61xx → GET RESPONSE, 6Cxx → the command again with the
// right Le). It returns the response data and the final status word.
func (h *Handset) transmit(ctx context.Context, capdu []byte) ([]byte, uint16, error) {
	h.cardMu.Lock()
	defer h.cardMu.Unlock()
	r, err := apdu.Exchange(ctx, h.card, capdu)
	if err != nil {
		return nil, 0, fmt.Errorf("handset: %w", err)
	}
	return r.Data, uint16(r.SW), nil
}

// tracedCard hands every APDU pair to trace.
type tracedCard struct {
	card  applet.Card
	trace func(capdu, rapdu []byte)
}

func (t tracedCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	r, err := t.card.Transmit(ctx, capdu)
	t.trace(capdu, r)
	return r, err
}

// DeliverSMS delivers the SMS-DELIVER TPDUs of one message (several for a
// concatenated one). SIM data download (PID 7F) goes to the card; anything
// else to the inbox. For a download it returns the ENVELOPE response data,
// which the network carries back in the SMS-DELIVER-REPORT (RP-ACK) as the
// PoR when the card sends one there.
//
// Like a real handset, it acknowledges the SMS once the card has answered
// the ENVELOPE: a proactive session the card then starts (prompts, SEND
// SHORT MESSAGE) runs in the background, on ctx's values but not its
// cancellation, and a second download is refused as busy until it ends. Use
// Wait to wait for it.
func (h *Handset) DeliverSMS(ctx context.Context, tpdus [][]byte) (report []byte, err error) {
	if len(tpdus) == 0 {
		return nil, errors.New("handset: no TPDU")
	}
	msgs := make([]*tpdu.Deliver, len(tpdus))
	for i, b := range tpdus {
		m, err := tpdu.Parse(b, tpdu.MT)
		if err != nil {
			return nil, fmt.Errorf("handset: SMS part %d: %w", i+1, err)
		}
		d, ok := m.(*tpdu.Deliver)
		if !ok {
			return nil, fmt.Errorf("handset: SMS part %d is a %s, not an SMS-DELIVER", i+1, m.Type())
		}
		msgs[i] = d
	}
	if isDownload(msgs[0]) {
		return h.download(ctx, tpdus)
	}
	h.inbox(ctx, msgs)
	return nil, nil
}

// isDownload reports (U)SIM data download: PID 7F (TS 23.040 §9.2.3.9).
// A class 2 message with another PID is for the SIM's SMS storage, not its
// toolkit (TS 23.038 §4), and goes to the inbox here.
func isDownload(d *tpdu.Deliver) bool {
	return d.PID == tpdu.PIDSIMDataDownload
}

func (h *Handset) download(ctx context.Context, tpdus [][]byte) ([]byte, error) {
	if !h.tryLock(ctx, h.cfg.BusyWait) {
		h.event("error", "SMS-PP download refused: a proactive session is running")
		return nil, ErrToolkitBusy
	}
	background := false
	defer func() {
		if !background {
			h.unlock()
		}
	}()
	var report []byte
	for i, b := range tpdus {
		env := &cat.SMSPPDownload{TPDU: b}
		apdu, err := cat.EnvelopeAPDU(env)
		if err != nil {
			return nil, fmt.Errorf("handset: ENVELOPE: %w", err)
		}
		data, sw, err := h.transmit(ctx, apdu)
		if err != nil {
			return nil, &DeliveryError{FCS: ErrDownload.FCS, Reason: ErrDownload.Reason, Err: err}
		}
		if h.cfg.Event != nil {
			h.emit("sms_in", downloadText(i+1, len(tpdus), sw))
		}
		switch {
		case sw == 0x9300:
			return nil, ErrToolkitBusy
		case sw == 0x9000:
			report = data
		case sw>>8 == 0x91:
			report = data
			if i < len(tpdus)-1 {
				if err := h.proactive(ctx, sw); err != nil {
					return report, err
				}
				continue
			}
			background = true
			run := h.cfg.Go
			if run == nil {
				run = func(f func()) { go f() }
			}
			run(func() {
				defer h.unlock()
				if err := h.proactive(context.WithoutCancel(ctx), sw); err != nil {
					h.event("error", "proactive session: %v", err)
					h.errMu.Lock()
					h.lastErr = err
					h.errMu.Unlock()
				}
			})
		case sw>>8 == 0x62 || sw>>8 == 0x63:
			// TS 31.111 §7.1.1.2: warnings carry response data for RP-ERROR.
			return data, &DeliveryError{FCS: ErrDownload.FCS, Reason: ErrDownload.Reason, Err: fmt.Errorf("card answered %04X", sw)}
		default:
			return nil, &DeliveryError{FCS: ErrDownload.FCS, Reason: ErrDownload.Reason, Err: fmt.Errorf("card answered %04X", sw)}
		}
	}
	return report, nil
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"']+`)
