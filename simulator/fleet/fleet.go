package fleet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/cards"
	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc"
)

// DefaultPIN is the applet PIN of every phone nobody gave another.
const DefaultPIN = "12345"

// Config sets up a fleet. The zero value works: the embedded default card
// profile, an in-memory key store with the demo master keys, no network.
type Config struct {
	// Profile is the template of every card (default: fixtures/cards
	// default.yaml). Card n gets ICCID and IMSI plus n.
	Profile *uicc.Profile
	// Keystore holds the cards' keys, derived per ICCID from the demo
	// masters (fixtures/keys); nil means a new in-memory store.
	Keystore hsm.Keystore
	// PromptTimeout is the handsets' default toolkit timeout.
	PromptTimeout time.Duration
	// MO takes the SMS phones send (SEND SHORT MESSAGE); typically the
	// SMSC's SubmitMO.
	MO func(ctx context.Context, m *smsc.Message) error
	// OpenURL fetches links persons open; nil uses an HTTP GET limited to
	// AllowedHosts.
	OpenURL func(ctx context.Context, u string) error
	// AllowedHosts are the hosts a person may open links on (default:
	// loopback only: 127.0.0.1, ::1, localhost).
	AllowedHosts []string
	// Trace receives every APDU of every phone.
	Trace func(msisdn string, capdu, rapdu []byte)
	// MaxEvents bounds each phone's event log (default 200).
	MaxEvents int
}

// Spec is what the API can set on a phone beyond its behaviour: changing
// it rebuilds the phone's card.
type Spec struct {
	// PIN is the applet PIN the card holds and the person types.
	PIN          string `json:"pin,omitempty"`
	NoPINSupport *bool  `json:"no_pin_support,omitempty"`
	NoNFC        *bool  `json:"no_nfc,omitempty"`
	Absent       *bool  `json:"absent,omitempty"`
}

// Fleet is the set of emulated subscribers. Phones exist from the plan
// (numbers.go) but are built on first use.
type Fleet struct {
	cfg  Config
	ks   hsm.Keystore
	tmpl *uicc.Profile
	seq  atomic.Uint64

	mu     sync.Mutex
	phones map[string]*entry
	specs  map[string]Spec

	subsMu sync.Mutex
	subs   map[chan Event]struct{}
}

// entry is a phone being built or built: concurrent first uses of one
// number build it once, and building one phone does not hold up others.
type entry struct {
	once sync.Once
	p    *Phone
	err  error
}

// New returns a fleet.
func New(cfg Config) (*Fleet, error) {
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = 200
	}
	if cfg.PromptTimeout <= 0 {
		cfg.PromptTimeout = handset.DefaultPromptTimeout
	}
	if len(cfg.AllowedHosts) == 0 {
		cfg.AllowedHosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	f := &Fleet{cfg: cfg, ks: cfg.Keystore, tmpl: cfg.Profile,
		phones: map[string]*entry{}, specs: map[string]Spec{}, subs: map[chan Event]struct{}{}}
	if f.ks == nil {
		f.ks = soft.NewMemory()
	}
	if f.tmpl == nil {
		p, err := uicc.ParseProfile(cards.Default)
		if err != nil {
			return nil, fmt.Errorf("fleet: embedded card profile: %w", err)
		}
		f.tmpl = p
	}
	if err := keys.LoadMasters(context.Background(), f.ks); err != nil {
		return nil, fmt.Errorf("fleet: demo master keys: %w", err)
	}
	if f.cfg.OpenURL == nil {
		f.cfg.OpenURL = f.openURL
	}
	return f, nil
}

// Keystore returns the key store holding the cards' keys.
func (f *Fleet) Keystore() hsm.Keystore { return f.ks }

func (f *Fleet) nextSeq() uint64 { return f.seq.Add(1) }

// index maps a number of the plan to its subscriber index: fleet numbers
// 0..999,999, magic numbers after them.
func index(msisdn string, kind Kind, m Magic) uint64 {
	var n uint64
	for _, c := range msisdn[5:] {
		n = n*10 + uint64(c-'0')
	}
	if kind == KindMagic {
		return FleetSize + n // OO NNNN: code*10,000 + index
	}
	return n
}

// ErrNotInPlan is returned for numbers outside simlab's plan.
var ErrNotInPlan = errors.New("fleet: number is not in simlab's plan (+99900… or +99901…)")

// Phone returns the phone for msisdn, building it on first use.
func (f *Fleet) Phone(ctx context.Context, msisdn string) (*Phone, error) {
	n, err := Normalize(msisdn)
	if err != nil {
		return nil, err
	}
	kind, m := Classify(n)
	if kind == KindUnknown {
		return nil, fmt.Errorf("%w: %s", ErrNotInPlan, msisdn)
	}
	f.mu.Lock()
	e := f.phones[n]
	if e == nil {
		e = &entry{}
		f.phones[n] = e
	}
	spec := f.specs[n]
	f.mu.Unlock()
	e.once.Do(func() { e.p, e.err = f.build(ctx, n, kind, m, spec) })
	if e.err != nil {
		f.mu.Lock()
		if f.phones[n] == e {
			delete(f.phones, n) // let a later use try again
		}
		f.mu.Unlock()
	}
	return e.p, e.err
}

// Lookup returns a phone only if it has been built.
func (f *Fleet) Lookup(msisdn string) (*Phone, bool) {
	n, err := Normalize(msisdn)
	if err != nil {
		return nil, false
	}
	f.mu.Lock()
	e := f.phones[n]
	f.mu.Unlock()
	if e == nil {
		return nil, false
	}
	e.once.Do(func() {}) // wait for a build under way
	return e.p, e.p != nil
}

// CardOptions shape one emulated SIM.
type CardOptions struct {
	// PIN is the applet PIN (default DefaultPIN).
	PIN          string
	NoPINSupport bool
	// NoNFC leaves the authenticator applet out.
	NoNFC bool
	// PINBlocked starts with the applet PIN blocked.
	PINBlocked bool
}

// NewCard builds the emulated SIM of number msisdn from the card profile
// template tmpl (nil: the embedded default): identities from the plan, OTA
// keysets and signing key derived in ks from the demo masters
// (fixtures/keys: AES keyset 1, 3DES keyset 2), the authenticator applet
// installed unless opts.NoNFC. The applet is nil without NFC.
func NewCard(ctx context.Context, ks hsm.Keystore, tmpl *uicc.Profile, msisdn string, opts CardOptions) (*uicc.Card, *authn.Applet, error) {
	n, err := Normalize(msisdn)
	if err != nil {
		return nil, nil, err
	}
	kind, m := Classify(n)
	if kind == KindUnknown {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotInPlan, msisdn)
	}
	if tmpl == nil {
		if tmpl, err = uicc.ParseProfile(cards.Default); err != nil {
			return nil, nil, err
		}
	}
	if err := keys.LoadMasters(ctx, ks); err != nil {
		return nil, nil, err
	}
	prof, err := tmpl.Subscriber(index(n, kind, m))
	if err != nil {
		return nil, nil, fmt.Errorf("fleet: %s: %w", n, err)
	}
	prof.MSISDN = "+" + n
	ck, err := keys.Card(ctx, ks, prof.ICCID)
	if err != nil {
		return nil, nil, fmt.Errorf("fleet: %s: card keys: %w", n, err)
	}
	prof.Keysets = []uicc.Keyset{
		{KVN: 1, KIc: uicc.KeyRef{Ref: ck.AESKIc, Algorithm: "aes"}, KID: uicc.KeyRef{Ref: ck.AESKID, Algorithm: "aes"}},
		{KVN: 2, KIc: uicc.KeyRef{Ref: ck.TDESKIc, Algorithm: "3des-2key"}, KID: uicc.KeyRef{Ref: ck.TDESKID, Algorithm: "3des-2key"}},
	}
	if opts.NoNFC {
		var apps []uicc.AppletProfile
		for _, a := range prof.Applets {
			if a.Name != "authn" {
				apps = append(apps, a)
			}
		}
		prof.Applets = apps
	}
	card, err := uicc.New(prof, uicc.Options{Keystore: ks})
	if err != nil {
		return nil, nil, fmt.Errorf("fleet: %s: card: %w", n, err)
	}
	if opts.NoNFC {
		return card, nil, nil
	}
	pin := opts.PIN
	if pin == "" {
		pin = DefaultPIN
	}
	signer, err := ks.Signer(ctx, ck.Sign)
	if err != nil {
		return nil, nil, fmt.Errorf("fleet: %s: signing key: %w", n, err)
	}
	a, err := authn.New(authn.Config{Signer: signer, PIN: pin, NoPINSupport: opts.NoPINSupport, Blocked: opts.PINBlocked})
	if err != nil {
		return nil, nil, fmt.Errorf("fleet: %s: %w", n, err)
	}
	if err := card.Install("authn", a); err != nil {
		return nil, nil, fmt.Errorf("fleet: %s: %w", n, err)
	}
	return card, a, nil
}

// build makes a phone.
func (f *Fleet) build(ctx context.Context, msisdn string, kind Kind, m Magic, spec Spec) (*Phone, error) {
	st := Settings{Absent: m.Absent, NoNFC: m.NoNFC, NoPINSupport: m.NoPINSupport, DeliveryError: m.DeliveryError, SIMError: m.SIMError}
	if spec.NoNFC != nil {
		st.NoNFC = *spec.NoNFC
	}
	if spec.NoPINSupport != nil {
		st.NoPINSupport = *spec.NoPINSupport
	}
	if spec.Absent != nil {
		st.Absent = *spec.Absent
	}
	pin := DefaultPIN
	if spec.PIN != "" {
		pin = spec.PIN
	}
	card, applet, err := NewCard(ctx, f.ks, f.tmpl, msisdn, CardOptions{PIN: pin, NoPINSupport: st.NoPINSupport, NoNFC: st.NoNFC, PINBlocked: m.PINBlocked})
	if err != nil {
		return nil, err
	}
	p := &Phone{msisdn: msisdn, magic: m, fleet: f, card: card, applet: applet, settings: st}
	b := person.Default()
	if m.Answer.Answer != "" {
		b.Then = m.Answer
	}
	h := fnv.New64a()
	h.Write([]byte(msisdn))
	p.person = person.New(b, h.Sum64())
	p.hs = handset.New(handset.Config{
		Card: card, Person: p, PIN: pin, PromptTimeout: f.cfg.PromptTimeout,
		IMEI:    imei(msisdn),
		SendSMS: p.sendSMS, OpenURL: f.cfg.OpenURL,
		Inbox: func(msg handset.Message) {
			p.mu.Lock()
			p.inbox = append(p.inbox, msg)
			if len(p.inbox) > f.cfg.MaxEvents {
				p.inbox = p.inbox[1:]
			}
			p.mu.Unlock()
		},
		Trace: p.traceAPDU,
		Event: func(e handset.Event) { p.record(e.Kind, e.Detail, nil) },
	})
	if _, err := p.hs.PowerOn(ctx); err != nil {
		return nil, fmt.Errorf("fleet: %s: power on: %w", msisdn, err)
	}
	return p, nil
}

// Set applies spec to a phone: its card is rebuilt (PIN, NFC, PIN support)
// and its behaviour and log start again; absent alone just switches it.
func (f *Fleet) Set(ctx context.Context, msisdn string, spec Spec) (*Phone, error) {
	n, err := Normalize(msisdn)
	if err != nil {
		return nil, err
	}
	kind, m := Classify(n)
	if kind == KindUnknown {
		return nil, fmt.Errorf("%w: %s", ErrNotInPlan, msisdn)
	}
	if spec.PIN != "" && (len(spec.PIN) != authn.PINLength || !isDigits(spec.PIN)) {
		return nil, fmt.Errorf("fleet: the applet PIN must be %d digits", authn.PINLength)
	}
	f.mu.Lock()
	old := f.specs[n]
	merged := old
	if spec.PIN != "" {
		merged.PIN = spec.PIN
	}
	if spec.NoPINSupport != nil {
		merged.NoPINSupport = spec.NoPINSupport
	}
	if spec.NoNFC != nil {
		merged.NoNFC = spec.NoNFC
	}
	if spec.Absent != nil {
		merged.Absent = spec.Absent
	}
	f.specs[n] = merged
	e := f.phones[n]
	f.mu.Unlock()
	if e != nil && spec.PIN == "" && spec.NoPINSupport == nil && spec.NoNFC == nil {
		e.once.Do(func() {})
		if e.p != nil {
			if spec.Absent != nil {
				e.p.SetAbsent(*spec.Absent)
			}
			return e.p, nil
		}
	}
	p, err := f.build(ctx, n, kind, m, merged)
	if err != nil {
		return nil, err
	}
	ne := &entry{p: p}
	ne.once.Do(func() {})
	f.mu.Lock()
	f.phones[n] = ne
	f.mu.Unlock()
	return p, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Reset forgets everything set on a phone and built for it: the next use
// builds it afresh from the plan.
func (f *Fleet) Reset(msisdn string) error {
	n, err := Normalize(msisdn)
	if err != nil {
		return err
	}
	f.mu.Lock()
	delete(f.phones, n)
	delete(f.specs, n)
	f.mu.Unlock()
	return nil
}

// List returns the phones built so far, by number.
func (f *Fleet) List() []*Phone {
	f.mu.Lock()
	es := make([]*entry, 0, len(f.phones))
	for _, e := range f.phones {
		es = append(es, e)
	}
	f.mu.Unlock()
	ps := make([]*Phone, 0, len(es))
	for _, e := range es {
		e.once.Do(func() {})
		if e.p != nil {
			ps = append(ps, e.p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].msisdn < ps[j].msisdn })
	return ps
}

// Len returns how many phones are built.
func (f *Fleet) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.phones)
}

// Route implements smsc.Router: numbers of the plan go to their phone.
func (f *Fleet) Route(m *smsc.Message) smsc.Sink {
	n, err := Normalize(m.Dest.Addr)
	if err != nil {
		return nil
	}
	if k, _ := Classify(n); k == KindUnknown {
		return nil
	}
	return phoneSink{f}
}

// phoneSink builds the phone when a message first arrives for it.
type phoneSink struct{ f *Fleet }

func (s phoneSink) Deliver(ctx context.Context, m *smsc.Message) error {
	p, err := s.f.Phone(ctx, m.Dest.Addr)
	if err != nil {
		return &smsc.DeliveryError{Code: smsc.ErrCodeSystemFailure, Reason: err.Error()}
	}
	return smsc.PhoneSink{Phone: p}.Deliver(ctx, m)
}

// Subscribe returns a channel of every phone's events and a function to
// stop. Slow subscribers lose events rather than slow the phones.
func (f *Fleet) Subscribe(buffer int) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	f.subsMu.Lock()
	f.subs[ch] = struct{}{}
	f.subsMu.Unlock()
	return ch, func() {
		f.subsMu.Lock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
		f.subsMu.Unlock()
	}
}

func (f *Fleet) publish(e Event) {
	f.subsMu.Lock()
	defer f.subsMu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// openURL is the default link opener: GET, loopback hosts only.
func (f *Fleet) openURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	allowed := false
	for _, h := range f.cfg.AllowedHosts {
		if u.Hostname() == h {
			allowed = true
		}
	}
	if !allowed {
		return fmt.Errorf("fleet: host %q is not in the allowed hosts %v", u.Hostname(), f.cfg.AllowedHosts)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("fleet: GET %s: %s", raw, resp.Status)
	}
	return nil
}

// Identity returns the ICCID and IMSI of the card behind msisdn in the
// default plan, computed from the card profile template (nil: the embedded
// default) without building the phone. A system under test uses the same
// rule (docs/numbers.md) to find the card keys for a number.
func Identity(tmpl *uicc.Profile, msisdn string) (iccid, imsi string, err error) {
	n, err := Normalize(msisdn)
	if err != nil {
		return "", "", err
	}
	kind, m := Classify(n)
	if kind == KindUnknown {
		return "", "", fmt.Errorf("%w: %s", ErrNotInPlan, msisdn)
	}
	if tmpl == nil {
		if tmpl, err = uicc.ParseProfile(cards.Default); err != nil {
			return "", "", err
		}
	}
	p, err := tmpl.Subscriber(index(n, kind, m))
	if err != nil {
		return "", "", err
	}
	return p.ICCID, p.IMSI, nil
}

// imei makes a stable 15-digit IMEI for a phone: TAC-like prefix 35, the
// 11-digit number, 0, and the Luhn check digit (3GPP TS 23.003 §6.2.1).
func imei(msisdn string) string {
	body := "35" + msisdn
	if len(body) > 14 {
		body = body[:14]
	}
	for len(body) < 14 {
		body += "0"
	}
	sum := 0
	for i := 0; i < 14; i++ {
		d := int(body[13-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return body + string(rune('0'+(10-sum%10)%10))
}
