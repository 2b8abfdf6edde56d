package fleet

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/cards"
	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// DefaultPIN is the applet PIN of every phone nobody gave another.
const DefaultPIN = "12345"

// Config sets up a fleet. The zero value works: the embedded default plan
// and card profile, an in-memory key store with the demo master keys, no
// network.
type Config struct {
	// Profile replaces the embedded card profile (fixtures/cards
	// default.yaml) as the template of the plan's "embedded:default"
	// cards. Card n gets ICCID and IMSI plus n.
	Profile *uicc.Profile
	// Keystore holds the cards' keys, derived per ICCID from the demo
	// masters (fixtures/keys); nil means an in-memory store that derives
	// them on use and keeps KeyCache cards' worth.
	Keystore hsm.Keystore
	// PromptTimeout is the handsets' default toolkit timeout.
	PromptTimeout time.Duration
	// MO takes the SMS phones send (SEND SHORT MESSAGE); typically the
	// SMSC's SubmitMO.
	MO func(ctx context.Context, m *smsc.Message) error
	// OpenURL fetches links persons open; nil uses an HTTP GET limited to
	// AllowedHosts.
	OpenURL func(ctx context.Context, u string) error
	// HTTPClient's transport and timeout fetch the links of the default
	// OpenURL (nil: the default transport), its redirects checked against
	// AllowedHosts; `simlab serve` gives one that trusts its own HTTPS
	// certificate.
	HTTPClient *http.Client
	// AllowedHosts are the hosts a person may open links on (default:
	// loopback only: 127.0.0.1, ::1, localhost).
	AllowedHosts []string
	// Go starts phones' background proactive sessions (handset.Config.Go);
	// nil starts a goroutine for each.
	Go func(func())
	// Trace receives every APDU of every phone.
	Trace func(msisdn string, capdu, rapdu []byte)
	// MaxEvents bounds each phone's event log (default 200).
	MaxEvents int
	// MaxTraces is how many SMS-PP download sessions, fleet-wide and most
	// recent first, keep their APDU trace in the event logs (default
	// DefaultMaxTraces); older sessions keep their event without the
	// APDUs. Negative: no APDU traces at all.
	MaxTraces int
	// KeyCache bounds the default key store (Keystore nil): the derived
	// keys of at most this many cards are kept, the others are derived
	// again from the masters when used (default DefaultKeyCache).
	KeyCache int
	// MaxCards bounds how many phones stay built — emulated SIM, handset,
	// person, inbox and event log — (default DefaultMaxCards; negative:
	// no bound). Beyond it the least recently used idle phone is freed:
	// what must be kept of it (docs/fleet.md, "What is kept": settings,
	// script and its position, PIN tries, OTA counters) goes to Store,
	// and its next use builds it again from the plan and that record.
	// Phones whose card was used directly (Card) or reached by an OTA
	// packet for another applet than the authenticator (RFM) are never
	// freed.
	MaxCards int
	// Store keeps the records of phones that are not in memory; nil is a
	// NewMemoryStore. A durable Store (Store.Durable, `simlab serve
	// --data`) makes phones survive restarts: each record is durable
	// before the phone's answer leaves it.
	Store Store
	// OnSession, when set, is told of every challenge a phone answered:
	// the time from the SMS-PP download reaching the phone to its answer
	// leaving it, and the applet's outcome ("no_answer" when the session
	// ended without one). It is the phones' view of a load the user's own
	// service sends.
	OnSession func(msisdn, outcome string, d time.Duration)
	// Human answers the prompts of phones whose behaviour says "human"
	// (the web page's virtual handsets); nil leaves them unanswered.
	Human *person.Human
	// OnEvent, when set and WantEvents (if set) says so, is told of every
	// event a phone records (live.go). It must not block.
	OnEvent    func(EventRef)
	WantEvents func() bool
	// OnChallenge, when set, is told of every SMS-PP download session
	// that ended or was answered, with its LoA and outcome (live.go).
	OnChallenge func(Challenge)
	// Plan is the numbering plan: which numbers exist, their card
	// profiles and defaults (docs/fleet.md); nil is DefaultPlan().
	// Profile, when set, replaces the embedded card profile in it.
	Plan *Plan
}

// DefaultMaxCards is Config.MaxCards's default.
const DefaultMaxCards = 16384

// DefaultMaxTraces is Config.MaxTraces's default: about 1.2 KB each.
const DefaultMaxTraces = 10_000

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
// (Config.Plan, docs/fleet.md) but are built on first use, and the least
// recently used idle ones put their card away again (Config.MaxCards).
type Fleet struct {
	cfg  Config
	ks   hsm.Keystore
	tmpl *uicc.Profile
	plan planIndex
	// reasmLimits bound each phone's Reassembly (Plan.Reassembly).
	reasmLimits tpdu.ReassemblyLimits
	seq         atomic.Uint64

	store Store

	// resident are the phones built that may be freed, most recent first;
	// pinned are the phones that keep their card for good: they are not
	// in the list but count against MaxCards. Both hold their phones;
	// nothing else in the fleet does (entries hold weak pointers), so a
	// phone freed is collected once its last user lets it go.
	resMu    sync.Mutex
	resident list.List
	pinned   map[*Phone]struct{}

	mu     sync.Mutex
	phones map[string]*entry

	// unsaved holds the phones whose last record the Store failed to take
	// (persist.go).
	unsavedMu sync.Mutex
	unsaved   map[*Phone]struct{}

	subsMu sync.Mutex
	subs   map[chan Event]struct{}
	nsubs  atomic.Int32

	// interactive holds the answerers of phones a human answers
	// (msisdn → handset.Answerer).
	interactive sync.Map

	// traces is a ring of the sessions whose APDU trace is kept.
	tracesMu sync.Mutex
	traces   []traceRef
	traceAt  int
	// lastTrace is the length of the last session's APDU trace, the
	// capacity the next one starts with (traceHint).
	lastTrace atomic.Int32
}

// traceRef names the session event of a phone that holds a trace; it
// does not keep the phone in memory.
type traceRef struct {
	p   weak.Pointer[Phone]
	seq uint64
}

// maxTraceHint bounds the capacity a session's trace starts with.
const maxTraceHint = 4096

// traceHint is the capacity of a new session's APDU trace whose first
// pair takes first bytes: the last session's length, at least first.
func (f *Fleet) traceHint(first int) int {
	return max(int(f.lastTrace.Load()), first)
}

// keepTrace records that p's event seq holds an APDU trace, dropping the
// oldest trace beyond Config.MaxTraces.
func (f *Fleet) keepTrace(p *Phone, seq uint64) {
	f.tracesMu.Lock()
	var old traceRef
	if len(f.traces) < f.cfg.MaxTraces {
		f.traces = append(f.traces, traceRef{p.self, seq})
	} else {
		old = f.traces[f.traceAt]
		f.traces[f.traceAt] = traceRef{p.self, seq}
		f.traceAt = (f.traceAt + 1) % len(f.traces)
	}
	f.tracesMu.Unlock()
	if q := old.p.Value(); q != nil {
		q.dropTrace(old.seq)
	}
}

// entry is a phone being built or built: concurrent first uses of one
// number build it once, and building one phone does not hold up others.
// Once ready, p is the phone while it is in memory (a weak pointer: the
// resident list and the phone's users hold it) and err why it could not
// be built.
type entry struct {
	ready chan struct{}
	p     weak.Pointer[Phone]
	err   error
}

// New returns a fleet.
func New(cfg Config) (*Fleet, error) {
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = 200
	}
	if cfg.PromptTimeout <= 0 {
		cfg.PromptTimeout = handset.DefaultPromptTimeout
	}
	if cfg.MaxTraces == 0 {
		cfg.MaxTraces = DefaultMaxTraces
	}
	if cfg.KeyCache <= 0 {
		cfg.KeyCache = DefaultKeyCache
	}
	if cfg.MaxCards == 0 {
		cfg.MaxCards = DefaultMaxCards
	}
	if len(cfg.AllowedHosts) == 0 {
		cfg.AllowedHosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	f := &Fleet{cfg: cfg, ks: cfg.Keystore, tmpl: cfg.Profile, store: cfg.Store, pinned: map[*Phone]struct{}{}, unsaved: map[*Phone]struct{}{},
		phones: map[string]*entry{}, subs: map[chan Event]struct{}{}}
	if f.store == nil {
		f.store = NewMemoryStore()
	}
	if f.ks == nil {
		kc, err := newKeyCache(context.Background(), cfg.KeyCache)
		if err != nil {
			return nil, fmt.Errorf("fleet: demo master keys: %w", err)
		}
		f.ks = kc
	}
	if f.tmpl == nil {
		p, err := embeddedProfile()
		if err != nil {
			return nil, fmt.Errorf("fleet: embedded card profile: %w", err)
		}
		f.tmpl = p
	}
	if err := keys.LoadMasters(context.Background(), f.ks); err != nil {
		return nil, fmt.Errorf("fleet: demo master keys: %w", err)
	}
	plan := cfg.Plan
	if plan == nil {
		plan = DefaultPlan()
	}
	ix, err := plan.resolve()
	if err != nil {
		return nil, err
	}
	if err := plan.loadCards(ix, f.tmpl); err != nil {
		return nil, err
	}
	f.plan = ix
	if f.reasmLimits, err = plan.reassemblyLimits(); err != nil {
		return nil, err
	}
	if f.cfg.OpenURL == nil {
		f.cfg.OpenURL = f.openURL
	}
	return f, nil
}

// embeddedProfile is the embedded card profile, parsed once: profiles are
// read-only once cards are made from them (uicc.Profile).
var embeddedProfile = sync.OnceValues(func() (*uicc.Profile, error) {
	return uicc.ParseProfile(cards.Default)
})

// Keystore returns the key store holding the cards' keys. The default one
// (Config.Keystore nil) derives each card's keys from the demo masters when
// they are used and keeps only the most recently used cards' keys
// (Config.KeyCache); every card key of the plan can be used through it.
func (f *Fleet) Keystore() hsm.Keystore { return f.ks }

func (f *Fleet) nextSeq() uint64 { return f.seq.Add(1) }

// index maps a number of the plan to its subscriber index: fleet numbers
// 0..999,999, magic numbers after them.
func index(msisdn string, kind Kind) uint64 {
	var n uint64
	for _, c := range msisdn[5:] {
		n = n*10 + uint64(c-'0')
	}
	if kind == KindMagic {
		return FleetSize + n // OO NNNN: code*10,000 + index
	}
	return n
}

// ErrNotInPlan is returned for numbers outside the fleet's plan (by
// default +99900… and +99901…, docs/numbers.md).
var ErrNotInPlan = errors.New("fleet: number is not in the fleet's plan")

// lookup finds a number in the fleet's plan.
func (f *Fleet) lookup(msisdn string) (string, *rangeSpec, uint64, error) {
	n, err := Normalize(msisdn)
	if err != nil {
		return "", nil, 0, err
	}
	r, idx := f.plan.lookup(n)
	if r == nil {
		return "", nil, 0, fmt.Errorf("%w: %s", ErrNotInPlan, msisdn)
	}
	return n, r, idx, nil
}

// Phone returns the phone for msisdn, building it on first use, or again
// from its record (Config.Store) after it was freed.
func (f *Fleet) Phone(ctx context.Context, msisdn string) (*Phone, error) {
	n, r, idx, err := f.lookup(msisdn)
	if err != nil {
		return nil, err
	}
	for {
		f.mu.Lock()
		e := f.phones[n]
		mine := e == nil
		if mine {
			e = &entry{ready: make(chan struct{})}
			f.phones[n] = e
		}
		f.mu.Unlock()
		if mine {
			p, err := f.buildStored(ctx, n, r, idx)
			f.settle(n, e, p, err)
			return p, err
		}
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil {
			return nil, e.err
		}
		if p := e.p.Value(); p != nil {
			return p, nil
		}
		f.drop(n, e) // freed and collected: build it again from its record
	}
}

// settle completes entry e of number n with the phone built (or the error
// that kept it from being built, and then forgets e so that a later use
// tries again).
func (f *Fleet) settle(n string, e *entry, p *Phone, err error) {
	e.err = err
	if p != nil {
		e.p = p.self
		runtime.AddCleanup(p, f.collected, collectedEntry{n, e})
	}
	close(e.ready)
	if err != nil {
		f.drop(n, e)
	}
}

// collectedEntry names the entry of a phone the collector took.
type collectedEntry struct {
	n string
	e *entry
}

// collected forgets the entry of a phone that was freed and collected.
func (f *Fleet) collected(c collectedEntry) { f.drop(c.n, c.e) }

// drop forgets entry e of number n unless another replaced it.
func (f *Fleet) drop(n string, e *entry) {
	f.mu.Lock()
	if f.phones[n] == e {
		delete(f.phones, n)
	}
	f.mu.Unlock()
}

// Lookup returns a phone only if it is in memory.
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
	<-e.ready // a build under way
	p := e.p.Value()
	return p, p != nil
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
	// TriesLeft starts the PIN try counter below authn.MaxPINTries.
	TriesLeft int
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
	kind, _ := Classify(n)
	if kind == KindUnknown {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotInPlan, msisdn)
	}
	if tmpl == nil {
		if tmpl, err = embeddedProfile(); err != nil {
			return nil, nil, err
		}
	}
	prof, err := cardProfile(tmpl, index(n, kind), n, opts.NoNFC)
	if err != nil {
		return nil, nil, err
	}
	var a *authn.Applet
	if !opts.NoNFC {
		if a, err = newApplet(ctx, ks, prof, n, opts); err != nil {
			return nil, nil, err
		}
	} else if err := cardKeys(ctx, ks, prof.ICCID); err != nil {
		return nil, nil, fmt.Errorf("fleet: %s: card keys: %w", n, err)
	}
	card, err := newCard(ks, prof, a)
	if err != nil {
		return nil, nil, fmt.Errorf("fleet: %s: %w", n, err)
	}
	return card, a, nil
}

// cardProfile is card index of template tmpl for number msisdn: its
// identities, the fleet's OTA keysets, without the authenticator applet
// when noNFC.
func cardProfile(tmpl *uicc.Profile, index uint64, msisdn string, noNFC bool) (*uicc.Profile, error) {
	prof, err := tmpl.Subscriber(index)
	if err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", msisdn, err)
	}
	prof.MSISDN = "+" + msisdn
	prof.Keysets = cardKeysets
	if noNFC {
		var apps []uicc.AppletProfile
		for _, a := range prof.Applets {
			if a.Name != "authn" {
				apps = append(apps, a)
			}
		}
		prof.Applets = apps
	}
	return prof, nil
}

// cardKeys derives the card iccid's keys into ks (keys.Card), except in the
// fleet's own key store, which derives each key when it is first used.
func cardKeys(ctx context.Context, ks hsm.Keystore, iccid string) error {
	if _, lazy := ks.(*keyCache); lazy {
		return nil
	}
	_, err := keys.Card(ctx, ks, iccid)
	return err
}

// newApplet derives the card's keys in ks (cardKeys) and makes its
// authenticator applet with its signing key.
//
// The card profile's authenticator options apply on top of opts: a profile
// whose authn applet sets pin_supported: "false" makes a card without PIN
// support (docs/uicc.md).
func newApplet(ctx context.Context, ks hsm.Keystore, prof *uicc.Profile, msisdn string, opts CardOptions) (*authn.Applet, error) {
	iccid := prof.ICCID
	for _, ap := range prof.Applets {
		if v, set := ap.BoolOption("pin_supported"); ap.Name == "authn" && set && !v {
			opts.NoPINSupport = true
		}
	}
	if err := cardKeys(ctx, ks, iccid); err != nil {
		return nil, fmt.Errorf("fleet: %s: card keys: %w", msisdn, err)
	}
	pin := opts.PIN
	if pin == "" {
		pin = DefaultPIN
	}
	signer, err := ks.Signer(ctx, keys.CardRef(iccid, "sign"))
	if err != nil {
		return nil, fmt.Errorf("fleet: %s: signing key: %w", msisdn, err)
	}
	a, err := authn.New(authn.Config{Signer: signer, PIN: pin, NoPINSupport: opts.NoPINSupport, Blocked: opts.PINBlocked, TriesLeft: opts.TriesLeft})
	if err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", msisdn, err)
	}
	return a, nil
}

// newCard makes the card of prof with applet a installed (none when nil).
func newCard(ks hsm.Keystore, prof *uicc.Profile, a *authn.Applet) (*uicc.Card, error) {
	card, err := uicc.New(prof, uicc.Options{Keystore: ks})
	if err != nil {
		return nil, fmt.Errorf("card: %w", err)
	}
	if a != nil {
		if err := card.Install("authn", a); err != nil {
			return nil, err
		}
	}
	return card, nil
}

// cardKeysets are every card's OTA keysets: the references are templates
// the card completes with its ICCID (uicc.KeyRef), shared by all cards.
var cardKeysets = []uicc.Keyset{
	{KVN: 1, KIc: uicc.KeyRef{Ref: keys.CardRef("{iccid}", "aes-kic"), Algorithm: "aes"}, KID: uicc.KeyRef{Ref: keys.CardRef("{iccid}", "aes-kid"), Algorithm: "aes"}},
	{KVN: 2, KIc: uicc.KeyRef{Ref: keys.CardRef("{iccid}", "3des-kic"), Algorithm: "3des-2key"}, KID: uicc.KeyRef{Ref: keys.CardRef("{iccid}", "3des-kid"), Algorithm: "3des-2key"}},
}

// powerOn builds the phone's card and handset and switches it on; p.resMu
// is held.
func (p *Phone) powerOn(ctx context.Context) error {
	f := p.fleet
	prof, err := cardProfile(p.rng.tmpl, p.index, p.msisdn, p.settings.NoNFC)
	if err != nil {
		return err
	}
	var a *authn.Applet
	if p.settings.NoNFC {
		if err := cardKeys(ctx, f.ks, prof.ICCID); err != nil {
			return fmt.Errorf("fleet: %s: card keys: %w", p.msisdn, err)
		}
	} else {
		opts := CardOptions{PIN: p.pin, NoPINSupport: p.settings.NoPINSupport, TriesLeft: p.pinState.TriesLeft, PINBlocked: p.pinState.Blocked}
		if a, err = newApplet(ctx, f.ks, prof, p.msisdn, opts); err != nil {
			return err
		}
	}
	card, err := newCard(f.ks, prof, a)
	if err != nil {
		return fmt.Errorf("fleet: %s: %w", p.msisdn, err)
	}
	// The card it had (put away, or kept in the Store): replay counters,
	// changed PINs.
	if err := card.Import(p.cardState); err != nil {
		return recordErr(p.msisdn, fmt.Errorf("%w: card: %w", ErrRecord, err))
	}
	timeout := p.rng.promptTimeout
	if timeout <= 0 {
		timeout = f.cfg.PromptTimeout
	}
	hs := handset.New(handset.Config{
		Card: sessionCard{card, p}, Person: p, PIN: p.pin, PromptTimeout: timeout,
		IMEI:    imei(p.msisdn),
		SendSMS: p.sendSMS, OpenURL: f.cfg.OpenURL,
		Inbox:      p.addInbox,
		Reassembly: p.reassembly(),
		Trace:      p.traceAPDU,
		Event:      func(e handset.Event) { p.record(e.Kind, e.Detail, nil) },
		Go:         p.goSession(f.cfg.Go),
	})
	if _, err := hs.PowerOn(ctx); err != nil {
		return fmt.Errorf("fleet: %s: power on: %w", p.msisdn, err)
	}
	p.card, p.hs, p.applet = card, hs, a
	return nil
}

// touch marks p as the most recently used resident phone and frees the
// least recently used idle phones beyond MaxCards (their records go to the
// Store). A pinned phone keeps its card for good: it leaves the list (so
// eviction never looks at it again) and joins the pinned set instead.
func (f *Fleet) touch(p *Phone) {
	var freed []*Phone
	f.resMu.Lock()
	switch {
	case p.pinnedNow():
		f.unlist(p)
	case p.elem == nil:
		p.elem = f.resident.PushFront(p)
	default:
		f.resident.MoveToFront(p.elem)
	}
	// Look at a few of the oldest: phones in use are skipped.
	e := f.resident.Back()
	for tries := 0; f.cfg.MaxCards >= 0 && e != nil && f.resident.Len()+len(f.pinned) > f.cfg.MaxCards && tries < 64; tries++ {
		prev := e.Prev()
		if q := e.Value.(*Phone); q.putAway() {
			if f.unlist(q) {
				freed = append(freed, q)
			}
		}
		e = prev
	}
	f.resMu.Unlock()
	// The record of a freed phone is saved while freed still holds it:
	// until then, a use finds it in memory (Lookup, Phone).
	for _, q := range freed {
		q.saveLater()
	}
}

// unlist takes p out of the resident list, into the pinned set when it is
// pinned; it reports whether p was freed (not pinned). f.resMu is held.
func (f *Fleet) unlist(p *Phone) bool {
	if p.elem != nil {
		f.resident.Remove(p.elem)
		p.elem = nil
	}
	if p.pinnedNow() {
		f.pinned[p] = struct{}{}
		return false
	}
	return true
}

// forget takes p out of the resident list and the pinned set (the phone
// was replaced or reset).
func (f *Fleet) forget(p *Phone) {
	f.resMu.Lock()
	defer f.resMu.Unlock()
	if p.elem != nil {
		f.resident.Remove(p.elem)
		p.elem = nil
	}
	delete(f.pinned, p)
}

// Set applies spec to a phone: its card is rebuilt (PIN, NFC, PIN support;
// the OTA replay counters are kept) and its behaviour and log start again;
// absent alone just switches it. The change is in the Store (durable with
// a durable one) when Set returns.
func (f *Fleet) Set(ctx context.Context, msisdn string, spec Spec) (*Phone, error) {
	n, r, idx, err := f.lookup(msisdn)
	if err != nil {
		return nil, err
	}
	if spec.PIN != "" && (len(spec.PIN) != authn.PINLength || !isDigits(spec.PIN)) {
		return nil, fmt.Errorf("fleet: the applet PIN must be %d digits", authn.PINLength)
	}
	old, err := f.Phone(ctx, n)
	if err != nil {
		return nil, err
	}
	if spec.PIN == "" && spec.NoPINSupport == nil && spec.NoNFC == nil {
		if spec.Absent != nil {
			if err := old.SetAbsent(*spec.Absent); err != nil {
				return nil, err
			}
		}
		return old, nil
	}
	merged := old.Spec()
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
	// The old phone's record is the new one's from here: it stops saving.
	// Its card's counters go to the new card, so that a challenge the old
	// one accepted is still a replay.
	old.retire(true)
	rec := &record{Spec: &merged}
	if c := old.counters(); len(c) > 0 {
		rec.Card = &uicc.State{Counters: c}
	}
	p, err := f.build(ctx, n, r, idx, rec, nil)
	if err != nil {
		old.retire(false)
		return nil, err
	}
	ne := &entry{ready: make(chan struct{})}
	f.mu.Lock()
	f.phones[n] = ne
	f.mu.Unlock()
	f.settle(n, ne, p, nil)
	f.forget(old)
	if err := p.save(true); err != nil {
		return nil, err
	}
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

// Reset forgets everything set on a phone and built for it, its record
// in the Store included (even one that cannot be read): the next use
// builds it afresh from the plan.
func (f *Fleet) Reset(msisdn string) error {
	n, err := Normalize(msisdn)
	if err != nil {
		return err
	}
	f.mu.Lock()
	e := f.phones[n]
	delete(f.phones, n)
	f.mu.Unlock()
	if e != nil {
		<-e.ready
		if p := e.p.Value(); p != nil {
			p.retire(true)
			f.forget(p)
		}
	}
	done := make(chan error, 1)
	f.store.Delete(n, func(err error) { done <- err })
	if err := <-done; err != nil {
		return fmt.Errorf("fleet: reset %s: %w", n, err)
	}
	return nil
}

// List returns the phones in memory and those whose settings or script
// were set over the API (built again from their record when freed), by
// number. A phone whose record cannot be used is left out (Phone says
// why).
func (f *Fleet) List() []*Phone {
	ps := f.inMemory()
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		seen[p.msisdn] = true
	}
	listed, _ := f.store.Listed() // a store that cannot list: the phones in memory
	for _, n := range listed {
		if seen[n] {
			continue
		}
		if p, err := f.Phone(context.Background(), n); err == nil {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].msisdn < ps[j].msisdn })
	return ps
}

// Len returns how many phones are in memory.
func (f *Fleet) Len() int { return len(f.inMemory()) }

// inMemory returns the phones in memory (built, and not yet collected once
// freed), after the builds under way.
func (f *Fleet) inMemory() []*Phone {
	f.mu.Lock()
	es := make([]*entry, 0, len(f.phones))
	for _, e := range f.phones {
		es = append(es, e)
	}
	f.mu.Unlock()
	ps := make([]*Phone, 0, len(es))
	for _, e := range es {
		<-e.ready
		if p := e.p.Value(); p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// Route implements smsc.Router: numbers of the plan go to their phone.
func (f *Fleet) Route(m *smsc.Message) smsc.Sink {
	n, err := Normalize(m.Dest.Addr)
	if err != nil {
		return nil
	}
	if r, _ := f.plan.lookup(n); r == nil {
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
	f.nsubs.Store(int32(len(f.subs)))
	f.subsMu.Unlock()
	return ch, func() {
		f.subsMu.Lock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
		f.nsubs.Store(int32(len(f.subs)))
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

// maxRedirects bounds the redirects a person's link may take.
const maxRedirects = 10

// allowedURL checks a link, or a hop it redirects to, against
// AllowedHosts: http or https, on an allowed host.
func (f *Fleet) allowedURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("fleet: scheme %q is not http or https", u.Scheme)
	}
	for _, h := range f.cfg.AllowedHosts {
		if u.Hostname() == h {
			return nil
		}
	}
	return fmt.Errorf("fleet: host %q is not in the allowed hosts %v", u.Hostname(), f.cfg.AllowedHosts)
}

// openURL is the default link opener: GET, loopback hosts only, every
// redirect hop checked against the same list (an allowed host answering
// 302 to another host does not take the phone there).
func (f *Fleet) openURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if err := f.allowedURL(u); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return err
	}
	client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("fleet: stopped after %d redirects", maxRedirects)
		}
		return f.allowedURL(req.URL)
	}}
	if hc := f.cfg.HTTPClient; hc != nil {
		// Its transport trusts the server's own HTTPS certificate.
		client.Transport, client.Timeout = hc.Transport, hc.Timeout
	}
	resp, err := client.Do(req)
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
	kind, _ := Classify(n)
	if kind == KindUnknown {
		return "", "", fmt.Errorf("%w: %s", ErrNotInPlan, msisdn)
	}
	if tmpl == nil {
		if tmpl, err = embeddedProfile(); err != nil {
			return "", "", err
		}
	}
	p, err := tmpl.Subscriber(index(n, kind))
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

// SetInteractive makes a a human's answerer for msisdn's prompts (the
// interactive mode of the Person seam, e.g. person.Interactive): it wins
// over scripts, keywords and the number's behaviour. nil gives the phone
// back to its behaviour. The setting outlives Set and Reset.
func (f *Fleet) SetInteractive(msisdn string, a handset.Answerer) error {
	n, err := Normalize(msisdn)
	if err != nil {
		return err
	}
	if a == nil {
		f.interactive.Delete(n)
		return nil
	}
	f.interactive.Store(n, a)
	return nil
}
