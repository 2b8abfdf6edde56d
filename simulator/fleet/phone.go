package fleet

import (
	"bytes"
	"cmp"
	"container/list"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"weak"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/keys"
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
	// Command names the instruction (ISO/IEC 7816-4, TS 102 221: "SELECT",
	// "ENVELOPE", "FETCH", "TERMINAL RESPONSE", …); Status names the
	// response's status word ("9000 normal ending", "91xx proactive
	// command pending", …).
	Command string `json:"command,omitempty"`
	Status  string `json:"status,omitempty"`
}

// decodeAPDU names a command/response pair for the event log, with PIN
// material masked.
func decodeAPDU(c, r []byte) APDU {
	a := APDU{C: hex.EncodeToString(apdu.MaskSecrets(c)), R: hex.EncodeToString(r)}
	if len(c) >= 2 {
		a.Command = apdu.InsName(c[0], c[1])
	}
	if len(r) >= 2 {
		a.Status = apdu.SW(uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])).String()
	}
	return a
}

// Phone is one emulated subscriber: SIM card with the authenticator applet,
// handset, person, inbox and event log. It implements smsc.Phone.
type Phone struct {
	msisdn string
	rng    *rangeSpec // the plan's range: card profile, defaults
	index  uint64     // card index in the range's profile
	pin    string
	fleet  *Fleet
	self   weak.Pointer[Phone]

	person *person.Person

	// The card, its applet and the handset are built while the phone is
	// resident (Config.MaxCards); resMu guards them. pinState and
	// cardState are the applet's PIN state and the card's own state
	// (counters, changed PINs) when it was put away or built from a
	// record.
	resMu     sync.Mutex
	card      *uicc.Card
	applet    *authn.Applet // nil without NFC SIM
	hs        *handset.Handset
	pinState  authn.PINState
	cardState uicc.State
	// upk is the card's public key as Info shows it, once computed: a
	// card's signing key never changes, and listing the phones must not
	// derive it again for each (it may have left the key cache).
	upk    string
	users  int           // deliveries and sessions under way
	idle   *sync.Cond    // on resMu: users reached 0
	pinned bool          // the card must not be put away
	elem   *list.Element // in Fleet.resident; guarded by Fleet.resMu

	// saveMu orders the phone's records in the Store (persist.go):
	// lastRec is the last one given to it (nil: none), pending its
	// outcome; a retired phone (replaced by Set, or reset) saves no more.
	saveMu  sync.Mutex
	lastRec []byte
	pending *pendingSave
	retired bool

	mu       sync.Mutex
	settings Settings
	spec     Spec // what the API set (Fleet.Set, SetAbsent)
	scripted bool
	inbox    []handset.Message
	// reasm holds the parts of concatenated texts until all are in; it
	// outlives the handset (built when the phone first is).
	reasm  *handset.Reassembly
	events []event
	// active is the download session that last exchanged APDUs with the
	// card: the one holding the handset's toolkit (one at a time), until
	// it ends.
	active *session
}

// session is one SMS-PP download reaching the phone, with what belongs to
// it alone: two downloads to one phone (the second waiting for the
// toolkit, or refused as busy) never share it. It travels in the
// download's context (handset.DeliverSMS keeps its values for the
// background proactive session); its fields are guarded by the phone's mu.
type session struct {
	at       time.Time // when the download reached the phone
	firstSeq uint64    // the first event sequence number it may have
	tracing  bool      // keep the APDU trace (Config.MaxTraces)
	trace    []byte    // appendAPDU framing
	answered bool      // Config.OnSession was told
	// background: the card started a proactive session that runs after
	// the delivery returns (handset.Config.Go); it ends the session.
	background bool
}

type sessionKey struct{}

// sessionFrom returns the download session ctx belongs to, if any.
func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// sessionCard is the card as the phone's handset sees it: every APDU
// exchanged for a download session goes to that session's trace.
type sessionCard struct {
	card *uicc.Card
	p    *Phone
}

// Transmit implements applet.Card.
func (c sessionCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	r, err := c.card.Transmit(ctx, capdu)
	s := sessionFrom(ctx)
	c.p.mu.Lock()
	// The handset exchanges a download's APDUs while it holds the toolkit,
	// so the session of this APDU is the one running now.
	c.p.active = s
	if s != nil && s.tracing {
		if s.trace == nil {
			// Sized as the last session's trace: a LoA session's eight
			// or so APDUs otherwise grow it by doubling, copying it
			// seven times over.
			s.trace = make([]byte, 0, c.p.fleet.traceHint(len(capdu)+len(r)+4))
		}
		s.trace = appendAPDU(s.trace, capdu, r)
	}
	c.p.mu.Unlock()
	return r, err
}

// Reset implements applet.Card.
func (c sessionCard) Reset(ctx context.Context, cold bool) ([]byte, error) {
	return c.card.Reset(ctx, cold)
}

// goSession is the handset's Config.Go: it starts the background proactive
// session of the download that holds the toolkit (p.active) with run, and
// ends that download's session when the proactive session is over.
func (p *Phone) goSession(run func(func())) func(func()) {
	if run == nil {
		run = func(f func()) { go f() }
	}
	return func(f func()) {
		p.mu.Lock()
		s := p.active
		if s != nil {
			s.background = true
		}
		p.mu.Unlock()
		run(func() {
			f()
			p.saveAnswered(false)
			if s != nil {
				p.endSession(s, nil)
				p.release() // DeliverSMS left the phone acquired for it
			}
		})
	}
}

// event is an Event as a phone keeps it: no copy of the number, the time
// as Unix nanoseconds, the APDU trace as raw bytes (half the size of hex).
type event struct {
	seq    uint64
	at     int64
	kind   string
	detail string
	trace  []byte
}

// appendAPDU frames one command/response pair: 2-byte lengths, then the
// bytes.
func appendAPDU(b, c, r []byte) []byte {
	b = append(b, byte(len(c)>>8), byte(len(c)))
	b = append(b, c...)
	b = append(b, byte(len(r)>>8), byte(len(r)))
	return append(b, r...)
}

// decodeTrace expands a trace framed by appendAPDU.
func decodeTrace(b []byte) []APDU {
	var out []APDU
	next := func() []byte {
		if len(b) < 2 {
			b = nil
			return nil
		}
		n := int(b[0])<<8 | int(b[1])
		if len(b) < 2+n {
			b = nil
			return nil
		}
		v := b[2 : 2+n]
		b = b[2+n:]
		return v
	}
	for len(b) > 0 {
		c := next()
		r := next()
		if c == nil || r == nil { // truncated: not written by appendAPDU
			break
		}
		out = append(out, decodeAPDU(c, r))
	}
	return out
}

func (p *Phone) export(e event) Event {
	return Event{Seq: e.seq, Time: time.Unix(0, e.at), MSISDN: p.msisdn, Kind: e.kind, Detail: e.detail, APDUs: decodeTrace(e.trace)}
}

// MSISDN returns the phone's number (digits, no +).
func (p *Phone) MSISDN() string { return p.msisdn }

// Card returns the phone's SIM. The phone then keeps this card for good
// (it is never put away, Config.MaxCards), since the caller may change it.
func (p *Phone) Card() *uicc.Card {
	p.resMu.Lock()
	p.pinned = true
	p.resMu.Unlock()
	if _, err := p.acquire(context.Background()); err != nil {
		return nil
	}
	defer p.release()
	p.resMu.Lock()
	defer p.resMu.Unlock()
	return p.card
}

// acquire builds the card and handset when they were put away and keeps
// them until release.
func (p *Phone) acquire(ctx context.Context) (*handset.Handset, error) {
	p.resMu.Lock()
	if p.hs == nil {
		if err := p.powerOn(ctx); err != nil {
			p.resMu.Unlock()
			return nil, err
		}
	}
	p.users++
	hs := p.hs
	p.resMu.Unlock()
	p.fleet.touch(p)
	return hs, nil
}

func (p *Phone) release() {
	p.resMu.Lock()
	p.users--
	if p.users == 0 && p.idle != nil {
		p.idle.Broadcast()
	}
	p.resMu.Unlock()
}

// putAway drops the card and handset of an idle, unpinned phone. It
// reports whether p may leave the list of resident phones: its card is put
// away, or it is pinned, and so resident for good.
func (p *Phone) putAway() bool {
	p.resMu.Lock()
	defer p.resMu.Unlock()
	if p.pinned || p.hs == nil {
		return true
	}
	if p.users > 0 {
		return false
	}
	if p.applet != nil {
		p.pinState = p.applet.State()
	}
	p.cardState = p.card.Export() // the rebuilt card must still refuse replays
	p.card, p.hs, p.applet = nil, nil, nil
	return true
}

// pinFor keeps the card of a phone that receives an OTA command packet for
// an applet other than the authenticator (RFM may change its files). The
// TAR is in clear in the command header (TS 102 225 §5.1.1, TS 31.115
// §4.2: CPL, CHL, SPI, KIc, KID, TAR after the UDH).
func (p *Phone) pinFor(m *smsc.Message) {
	if !m.SIMDownload || len(m.Body) < 10 || p.pinnedNow() {
		return
	}
	first := true
	for i := 1; i+1 < len(m.UDH); {
		id, l := m.UDH[i], int(m.UDH[i+1])
		if i+2+l > len(m.UDH) {
			break
		}
		if (id == 0x00 && l == 3 && m.UDH[i+4] != 1) || (id == 0x08 && l == 4 && m.UDH[i+5] != 1) {
			first = false
		}
		i += 2 + l
	}
	if !first {
		return
	}
	tar := m.Body[7:10]
	for _, a := range p.rng.tmpl.Applets {
		if a.Name != "authn" {
			continue
		}
		for _, t := range a.TARs {
			if bytes.Equal(t.TAR, tar) {
				return
			}
		}
	}
	p.resMu.Lock()
	p.pinned = true
	p.resMu.Unlock()
}

func (p *Phone) pinnedNow() bool {
	p.resMu.Lock()
	defer p.resMu.Unlock()
	return p.pinned
}

// Answer implements handset.Answerer: a behaviour scripted over the API
// wins over keywords in the prompt; otherwise a keyword wins over the
// number's default behaviour.
func (p *Phone) Answer(ctx context.Context, pr person.Prompt, override *person.Step) person.Answer {
	if a, ok := p.fleet.interactive.Load(p.msisdn); ok {
		return a.(handset.Answerer).Answer(ctx, pr, override)
	}
	p.mu.Lock()
	scripted := p.scripted
	p.mu.Unlock()
	if scripted {
		override = nil
	}
	return p.person.Answer(ctx, pr, override)
}

func (p *Phone) record(kind, detail string, trace []byte) {
	p.mu.Lock()
	e := event{seq: p.fleet.nextSeq(), at: time.Now().UnixNano(), kind: kind, detail: detail, trace: trace}
	p.events = append(p.events, e)
	// Keep the last MaxEvents, trimming only when half as many again have
	// piled up: trimming on every event copied the whole log each time.
	if n := p.fleet.cfg.MaxEvents; len(p.events) > n+n/2 {
		p.events = append(p.events[:0], p.events[len(p.events)-n:]...)
	}
	p.mu.Unlock()
	if trace != nil {
		p.fleet.keepTrace(p, e.seq)
	}
	if p.fleet.nsubs.Load() > 0 {
		p.fleet.publish(p.export(e))
	}
	if f := p.fleet.cfg.OnEvent; f != nil && (p.fleet.cfg.WantEvents == nil || p.fleet.cfg.WantEvents()) {
		f(EventRef{MSISDN: p.msisdn, Kind: kind, Seq: e.seq, p: p, e: e})
	}
}

// recentEvents returns the last MaxEvents events; p.mu must be held.
func (p *Phone) recentEvents() []event {
	if n := p.fleet.cfg.MaxEvents; len(p.events) > n {
		return p.events[len(p.events)-n:]
	}
	return p.events
}

// dropTrace forgets the APDU trace of event seq (the fleet keeps only the
// most recent sessions' traces, Config.MaxTraces).
func (p *Phone) dropTrace(seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// The log is in sequence order (record appends under p.mu).
	i, ok := slices.BinarySearchFunc(p.events, seq, func(e event, seq uint64) int { return cmp.Compare(e.seq, seq) })
	if ok {
		p.events[i].trace = nil
	}
}

// traceAPDU hands every APDU to Config.Trace.
func (p *Phone) traceAPDU(c, r []byte) {
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
	p.pinFor(m)
	hs, err := p.acquire(ctx)
	if err != nil {
		return &smsc.DeliveryError{Code: smsc.ErrCodeSystemFailure, Reason: err.Error()}
	}
	if !m.SIMDownload {
		_, err = hs.DeliverSMS(ctx, tpdus)
		p.release()
		return DeliveryFailure(err)
	}
	s := &session{at: time.Now(), tracing: p.fleet.cfg.MaxTraces >= 0, firstSeq: p.fleet.seq.Load() + 1}
	_, err = hs.DeliverSMS(context.WithValue(ctx, sessionKey{}, s), tpdus)
	p.mu.Lock()
	background := s.background
	p.mu.Unlock()
	if !background { // else the proactive session ends it (goSession)
		// The deliver report carries the card's answer (a PoR): the
		// counter the card accepted is durable first.
		if serr := p.saveAnswered(true); serr != nil && err == nil {
			err = serr
		}
		p.endSession(s, err)
		p.release()
	}
	return DeliveryFailure(err)
}

// endSession logs download session s with its APDUs, and tells
// Config.OnSession of a session that ended without an answer. A download
// refused as busy was no session: it is logged as a refused delivery.
func (p *Phone) endSession(s *session, err error) {
	p.mu.Lock()
	tr := slices.Clip(s.trace)
	s.trace = nil
	if tr != nil {
		p.fleet.lastTrace.Store(int32(min(len(tr), maxTraceHint)))
	}
	answered := s.answered
	s.answered = true
	if p.active == s {
		p.active = nil
	}
	p.mu.Unlock()
	if errors.Is(err, handset.ErrToolkitBusy) {
		p.record("delivery", "SMS-PP download refused: "+err.Error(), tr)
		return
	}
	if !answered {
		if f := p.fleet.cfg.OnSession; f != nil {
			f(p.msisdn, "no_answer", time.Since(s.at))
		}
		p.challenge(s, "no_answer", time.Since(s.at))
	}
	// A background proactive session that failed says so in the
	// handset's own "error" event, just before this one.
	detail := "SMS-PP download session ended"
	if err != nil {
		detail += ": " + err.Error()
	}
	p.record("session", detail, tr)
}

// Wait blocks until the phone has finished every delivery under way,
// proactive sessions included.
func (p *Phone) Wait() {
	p.resMu.Lock()
	for p.users > 0 && p.idle != nil {
		p.idle.Wait()
	}
	hs := p.hs
	p.resMu.Unlock()
	if hs != nil {
		_ = hs.Wait()
	}
}

// Resident reports whether the phone's card and handset are built now
// (Config.MaxCards puts idle ones away).
func (p *Phone) Resident() bool {
	p.resMu.Lock()
	defer p.resMu.Unlock()
	return p.hs != nil
}

// ErrCodeSIMDownload is the network error code of a failed SMS-PP download
// in receipts: TP-FCS D5, "(U)SIM data download error" (TS 23.040
// §9.2.3.22).
const ErrCodeSIMDownload = 0xD5

// sendSMS is the handset's network: an SMS-SUBMIT becomes an MO message,
// once what the card accepted for it (OTA counter, PIN try) is durable.
func (p *Phone) sendSMS(ctx context.Context, submit *tpdu.Submit) error {
	if err := p.saveAnswered(true); err != nil {
		return err
	}
	p.observeAnswer(ctx)
	mo, err := MOFromSubmit(p.msisdn, submit)
	if err != nil {
		return err
	}
	if p.fleet.cfg.MO == nil {
		return errors.New("fleet: no network for MO messages")
	}
	return p.fleet.cfg.MO(ctx, mo)
}

// MOFromSubmit turns the SMS-SUBMIT a handset sends (SEND SHORT MESSAGE,
// TS 23.040 §9.2.2.2), as the handset parsed it, into the SMSC's
// mobile-originated message from msisdn (SMPP deliver_sm to the ESME).
func MOFromSubmit(msisdn string, s *tpdu.Submit) (*smsc.Message, error) {
	var err error
	mo := &smsc.Message{
		Source: smsc.Address{TON: 1, NPI: 1, Addr: msisdn},
		Dest:   smsc.Address{TON: uint8(s.DA.TON), NPI: uint8(s.DA.NPI), Addr: s.DA.Number},
		PID:    s.PID, DCS: byte(s.DCS), Body: s.UD.Data,
	}
	if s.UD.HasHeader {
		if mo.UDH, err = tpdu.AppendHeader(nil, s.UD.Header); err != nil {
			return nil, err
		}
		mo.ESMClass |= 0x40
	}
	return mo, nil
}

// DeliveryFailure maps a handset's delivery error to the SMSC's: its TP-FCS
// becomes the network error code; toolkit busy (D4) is retried, other
// failures are permanent. Other errors are returned as they are.
func DeliveryFailure(err error) error {
	var de *handset.DeliveryError
	if errors.As(err, &de) {
		return &smsc.DeliveryError{Code: uint16(de.FCS), Permanent: de.FCS != handset.ErrToolkitBusy.FCS, Reason: de.Reason}
	}
	return err
}

// Info describes the phone, its card's public key included (which may
// derive the card's signing key: use Settings and PINState for cheap
// looks at many phones).
func (p *Phone) Info() Info {
	p.expireParts()
	var pin authn.PINState
	var upk string
	if !p.settings.NoNFC { // fixed when the phone is built
		pin, upk = p.PINState(), p.publicKey() // before p.mu: acquire holds resMu, then p.mu
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b, next := p.person.Behaviour()
	var iccid, imsi string
	if prof, err := p.rng.tmpl.Subscriber(p.index); err == nil {
		iccid, imsi = prof.ICCID, prof.IMSI
	}
	in := Info{MSISDN: p.msisdn, ICCID: iccid, IMSI: imsi, Magic: p.rng.magic.Name, Settings: p.settings,
		Behaviour: b, NextStep: next, Scripted: p.scripted, Inbox: len(p.inbox), Events: len(p.recentEvents()),
		PIN: pin, PublicKey: upk}
	return in
}

// Settings returns the phone's conditions.
func (p *Phone) Settings() Settings {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.settings
}

// PINState returns the applet's PIN state (the zero state without an
// authenticator applet), without building a card that was put away or
// touching its keys.
func (p *Phone) PINState() authn.PINState {
	if p.settings.NoNFC { // fixed when the phone is built
		return authn.PINState{}
	}
	p.resMu.Lock()
	a, st := p.applet, p.pinState
	p.resMu.Unlock()
	if a != nil {
		return a.State()
	}
	return st
}

// publicKey returns the card's signing public key (upk), compressed, hex,
// without building a card that was put away ("" when it cannot be had).
func (p *Phone) publicKey() string {
	p.resMu.Lock()
	a, upk := p.applet, p.upk
	p.resMu.Unlock()
	if upk != "" {
		return upk
	}
	upk = p.derivePublicKey(a)
	if upk != "" {
		p.resMu.Lock()
		p.upk = upk
		p.resMu.Unlock()
	}
	return upk
}

// derivePublicKey computes the card's public key: the applet's when the
// card is built, else from the key store.
func (p *Phone) derivePublicKey(a *authn.Applet) string {
	if a != nil {
		return hex.EncodeToString(a.PublicKey())
	}
	prof, err := p.rng.tmpl.Subscriber(p.index)
	if err != nil {
		return ""
	}
	sg, err := p.fleet.ks.Signer(context.Background(), keys.CardRef(prof.ICCID, "sign"))
	if err != nil {
		return ""
	}
	pub, ok := sg.Public().(*ecdsa.PublicKey)
	if !ok {
		return ""
	}
	upk, err := authn.CompressPublicKey(pub)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(upk)
}

// SetBehaviour scripts the person; it then wins over keywords. The script
// is in the fleet's Store (durable with a durable one) when it returns.
func (p *Phone) SetBehaviour(b person.Behaviour) error {
	if err := b.Validate(); err != nil {
		return err
	}
	p.person.Set(b)
	p.mu.Lock()
	p.scripted = true
	p.mu.Unlock()
	p.record("behaviour", "script set over the API", nil)
	return p.save(true)
}

// QueueAnswers makes the person answer the next prompts with steps, once
// each and in order, and then go on as before (person.Person.Queue); it
// marks the phone scripted, like SetBehaviour.
func (p *Phone) QueueAnswers(steps []person.Step) error {
	if err := person.ValidateSteps(steps); err != nil {
		return err
	}
	p.person.Queue(steps...)
	p.mu.Lock()
	p.scripted = true
	p.mu.Unlock()
	p.record("behaviour", fmt.Sprintf("next %d answer(s) queued over the API", len(steps)), nil)
	return p.save(true)
}

// SetAbsent switches the phone off (true) or on; the setting is in the
// fleet's Store when it returns.
func (p *Phone) SetAbsent(absent bool) error {
	p.mu.Lock()
	p.settings.Absent = absent
	p.spec.Absent = &absent
	p.mu.Unlock()
	p.record("settings", fmt.Sprintf("absent=%v", absent), nil)
	return p.save(true)
}

// Inbox returns the text messages received, oldest first: a
// concatenated one once, whole, or with its missing parts named once the
// phone gave up waiting for them (handset.DefaultReassemblyLimits).
func (p *Phone) Inbox() []handset.Message {
	p.expireParts()
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]handset.Message(nil), p.inbox...)
}

// addInbox keeps msg in the inbox, the newest Config.MaxEvents only.
func (p *Phone) addInbox(msg handset.Message) {
	p.mu.Lock()
	p.inbox = append(p.inbox, msg)
	if len(p.inbox) > p.fleet.cfg.MaxEvents {
		p.inbox = p.inbox[1:]
	}
	p.mu.Unlock()
}

// reassembly returns the phone's Reassembly, made on first use.
func (p *Phone) reassembly() *handset.Reassembly {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reasm == nil {
		p.reasm, _ = handset.NewReassembly(p.fleet.reasmLimits) // checked by New: no error
	}
	return p.reasm
}

// expireParts moves the concatenated texts still incomplete past their
// time to the inbox, as a delivery would: the phone is looked at.
func (p *Phone) expireParts() {
	p.mu.Lock()
	r := p.reasm
	p.mu.Unlock()
	if r == nil {
		return
	}
	for _, m := range r.Expire(time.Now()) {
		p.record("sms_in", m.IncompleteNote(), nil)
		p.addInbox(m)
	}
}

// Events returns the phone's event log, oldest first.
func (p *Phone) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	evs := p.recentEvents()
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = p.export(e)
	}
	return out
}

// observeAnswer reports the challenge being answered to Config.OnSession
// when its first answer SMS leaves the phone; ctx is the download
// session's.
func (p *Phone) observeAnswer(ctx context.Context) {
	f := p.fleet.cfg.OnSession
	s := sessionFrom(ctx)
	if (f == nil && p.fleet.cfg.OnChallenge == nil) || s == nil {
		return
	}
	p.mu.Lock()
	answered := s.answered
	s.answered = true
	p.mu.Unlock()
	if answered {
		return
	}
	d := time.Since(s.at)
	outcome := "answered"
	p.resMu.Lock()
	if p.applet != nil {
		outcome = p.applet.LastOutcome().String()
	}
	p.resMu.Unlock()
	if f != nil {
		f(p.msisdn, outcome, d)
	}
	p.challenge(s, outcome, d)
}
