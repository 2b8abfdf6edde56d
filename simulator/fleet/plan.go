package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/fleets"
	"github.com/simlab-dev/simlab/internal/yamlmsg"
	"github.com/simlab-dev/simlab/simulator/person"
)

// EmbeddedCard names the card profile built into simlab
// (fixtures/cards/default.yaml) in a fleet file's card field.
const EmbeddedCard = "embedded:default"

// ErrPlan is wrapped by every error about a fleet file.
var ErrPlan = errors.New("fleet: invalid fleet file")

// Plan is a fleet file (docs/fleet.md): which numbers exist, the card each
// one carries and how its phone behaves until scripted over the API.
// DefaultPlan returns the embedded one (fixtures/fleets/default.yaml).
type Plan struct {
	// Defaults apply to every range that does not say otherwise.
	Defaults PhoneDefaults `yaml:"defaults"`
	// Ranges are the numbers; they must not overlap.
	Ranges []Range `yaml:"ranges"`
	// Reassembly bounds how the phones join concatenated texts; nil (or
	// a field left out) keeps handset.DefaultReassemblyLimits.
	Reassembly *ReassemblyLimits `yaml:"reassembly,omitempty"`

	// dir is where card profile paths are relative to.
	dir string
}

// PhoneDefaults is what a fleet file sets on the phones of a range. Unset
// fields (nil, "") inherit from the plan's defaults, then from simlab's.
type PhoneDefaults struct {
	// Card is the card profile: EmbeddedCard (the default) or the path of
	// a profile YAML (docs/uicc.md), relative to the fleet file.
	Card string `yaml:"card,omitempty"`
	// PIN is the applet PIN the card holds and the person types (5 digits,
	// default DefaultPIN).
	PIN string `yaml:"pin,omitempty"`
	// Behaviour is the person's (docs/api.md, "Answers"; default:
	// always approve, links opened). Each of its fields is inherited on
	// its own when left out.
	Behaviour *BehaviourDefaults `yaml:"behaviour,omitempty"`
	// PromptTimeout is the handset's toolkit timeout when a prompt has no
	// duration (default: Config.PromptTimeout, else 60 s).
	PromptTimeout *Duration `yaml:"prompt_timeout,omitempty"`
	// Card and network conditions (see Magic).
	NoNFC         *bool `yaml:"no_nfc,omitempty"`
	NoPINSupport  *bool `yaml:"no_pin_support,omitempty"`
	PINBlocked    *bool `yaml:"pin_blocked,omitempty"`
	Absent        *bool `yaml:"absent,omitempty"`
	DeliveryError *bool `yaml:"delivery_error,omitempty"`
	SIMError      *bool `yaml:"sim_error,omitempty"`
}

// BehaviourDefaults is a person.Behaviour in a fleet file, every field
// optional: what a range's behaviour leaves out comes from the defaults'
// behaviour, then from person.Default() (always approve, open links). So
// `behaviour: {then: {answer: cancel}}` in a range keeps the defaults'
// open_urls, and `steps: []` clears inherited steps where leaving steps
// out keeps them.
type BehaviourDefaults struct {
	// Steps are the answers to a phone's first prompts, once each.
	Steps []person.Step `yaml:"steps,omitempty"`
	// Then is the answer to every prompt after them (always).
	Then *person.Step `yaml:"then,omitempty"`
	// OpenURLs says whether the person opens links received by SMS.
	OpenURLs *bool `yaml:"open_urls,omitempty"`
}

// apply sets on b what d gives.
func (d *BehaviourDefaults) apply(b *person.Behaviour) {
	if d.Steps != nil {
		b.Steps = append([]person.Step(nil), d.Steps...)
	}
	if d.Then != nil {
		b.Then = *d.Then
	}
	if d.OpenURLs != nil {
		b.OpenURLs = *d.OpenURLs
	}
}

// Range is a block of numbers with the same card profile and defaults.
type Range struct {
	// Name shows as the phone's "magic" in the API (the outcome name for
	// magic numbers); Description says what a system under test sees.
	Name        string `yaml:"name,omitempty"`
	Description string `yaml:"description,omitempty"`
	// From and To are the first and last number, digits of equal length
	// (a leading + is allowed). Or Prefix: every number of Digits digits
	// (default NumberLength) that starts with it.
	From   string `yaml:"from,omitempty"`
	To     string `yaml:"to,omitempty"`
	Prefix string `yaml:"prefix,omitempty"`
	Digits int    `yaml:"digits,omitempty"`
	// CardIndex is the subscriber index of the range's first number: the
	// card of number From+k is the profile's Subscriber(CardIndex+k)
	// (ICCID, IMSI plus CardIndex+k; docs/numbers.md).
	CardIndex uint64 `yaml:"card_index,omitempty"`
	// PhoneDefaults override the plan's defaults.
	PhoneDefaults `yaml:",inline"`
}

// Duration is a time.Duration written as Go writes it ("60s", "1m30s") in
// a fleet file.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler; errors give the line.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %q is not a duration such as 60s or 1m30s", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// rangeSpec is a range resolved against the defaults: everything build
// needs, shared by the range's phones.
type rangeSpec struct {
	name, from, to string
	lo, hi         uint64
	cardIndex      uint64
	card           string
	tmpl           *uicc.Profile // set by Fleet.New
	pin            string
	behaviour      person.Behaviour
	promptTimeout  time.Duration // 0: the fleet's
	magic          Magic
}

// DefaultPlan returns the embedded default plan, fixtures/fleets/default.yaml:
// the magic numbers and the fleet of 1,000,000 ordinary subscribers
// (docs/numbers.md).
func DefaultPlan() *Plan {
	p, err := ParsePlan(fleets.Default)
	if err != nil {
		panic(err) // the embedded file is checked by TestDefaultPlan
	}
	return p
}

// LoadPlan reads a fleet file; card profile paths in it are relative to
// its directory.
func LoadPlan(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	p, err := ParsePlan(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p.dir = filepath.Dir(path)
	return p, nil
}

// ParsePlan parses and checks a fleet file. Errors name the field
// ("ranges[2].to: …") and wrap ErrPlan; unknown fields are errors.
func ParsePlan(b []byte) (*Plan, error) {
	var p Plan
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrPlan, yamlmsg.Message(err))
	}
	if _, err := p.resolve(); err != nil {
		return nil, err
	}
	if _, err := p.reassemblyLimits(); err != nil {
		return nil, err
	}
	return &p, nil
}

func planErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrPlan, field, fmt.Sprintf(format, args...))
}

// resolve checks the plan and returns its ranges merged with the defaults,
// sorted by number length and first number.
func (p *Plan) resolve() (planIndex, error) {
	if err := p.Defaults.check("defaults"); err != nil {
		return nil, err
	}
	if len(p.Ranges) == 0 {
		return nil, planErr("ranges", "a fleet file needs at least one range")
	}
	out := make([]*rangeSpec, 0, len(p.Ranges))
	for i, r := range p.Ranges {
		field := fmt.Sprintf("ranges[%d]", i)
		if err := r.check(field); err != nil {
			return nil, err
		}
		s := &rangeSpec{name: r.Name, cardIndex: r.CardIndex, pin: DefaultPIN, behaviour: person.Default(), card: EmbeddedCard}
		s.from, s.to = r.bounds()
		s.lo, s.hi = digitsValue(s.from), digitsValue(s.to)
		if s.hi-s.lo > ^uint64(0)-r.CardIndex {
			return nil, planErr(field+".card_index", "%d plus the range's size overflows", r.CardIndex)
		}
		s.magic = Magic{Name: r.Name, Description: r.Description}
		for _, d := range []PhoneDefaults{p.Defaults, r.PhoneDefaults} {
			if d.Card != "" {
				s.card = d.Card
			}
			if d.PIN != "" {
				s.pin = d.PIN
			}
			if d.Behaviour != nil {
				d.Behaviour.apply(&s.behaviour)
			}
			if d.PromptTimeout != nil {
				s.promptTimeout = time.Duration(*d.PromptTimeout)
			}
			setBool(&s.magic.NoNFC, d.NoNFC)
			setBool(&s.magic.NoPINSupport, d.NoPINSupport)
			setBool(&s.magic.PINBlocked, d.PINBlocked)
			setBool(&s.magic.Absent, d.Absent)
			setBool(&s.magic.DeliveryError, d.DeliveryError)
			setBool(&s.magic.SIMError, d.SIMError)
		}
		s.magic.Answer = s.behaviour.Then
		for _, o := range out {
			if len(o.from) == len(s.from) && o.lo <= s.hi && s.lo <= o.hi {
				j := indexOfRange(p.Ranges, o)
				return nil, planErr(field, "numbers %s-%s overlap ranges[%d] (%s-%s)", s.from, s.to, j, o.from, o.to)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func indexOfRange(rs []Range, s *rangeSpec) int {
	for i, r := range rs {
		if f, t := r.bounds(); f == s.from && t == s.to {
			return i
		}
	}
	return -1
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// check validates the phone defaults of field.
func (d *PhoneDefaults) check(field string) error {
	if d.PIN != "" && (len(d.PIN) != authn.PINLength || !isDigits(d.PIN)) {
		return planErr(field+".pin", "the applet PIN must be %d digits", authn.PINLength)
	}
	if d.Behaviour != nil {
		// Each field checked alone; the merged behaviour is whole.
		b := person.Default()
		d.Behaviour.apply(&b)
		if err := b.Validate(); err != nil {
			return planErr(field+".behaviour", "%v", err)
		}
	}
	if d.PromptTimeout != nil && (*d.PromptTimeout <= 0 || time.Duration(*d.PromptTimeout) > 255*time.Minute) {
		return planErr(field+".prompt_timeout", "%v is outside (0, 255m]", time.Duration(*d.PromptTimeout))
	}
	if strings.HasPrefix(d.Card, "embedded:") && d.Card != EmbeddedCard {
		return planErr(field+".card", "unknown embedded profile %q (want %q or a path)", d.Card, EmbeddedCard)
	}
	return nil
}

// maxDigits bounds numbers: E.164 numbers have at most 15 digits.
const maxDigits = 15

// check validates a range.
func (r *Range) check(field string) error {
	switch {
	case r.Prefix != "" && (r.From != "" || r.To != ""):
		return planErr(field, "give either prefix or from/to, not both")
	case r.Prefix != "":
		pre := strings.TrimPrefix(r.Prefix, "+")
		digits := r.Digits
		if digits == 0 {
			digits = NumberLength
		}
		if pre == "" || !isDigits(pre) {
			return planErr(field+".prefix", "%q is not digits", r.Prefix)
		}
		if digits < len(pre) || digits > maxDigits {
			return planErr(field+".digits", "%d must be between the prefix's length %d and %d", digits, len(pre), maxDigits)
		}
	case r.From == "" || r.To == "":
		return planErr(field, "needs from and to, or prefix")
	default:
		if r.Digits != 0 {
			return planErr(field+".digits", "goes with prefix, not from/to")
		}
		from, to := strings.TrimPrefix(r.From, "+"), strings.TrimPrefix(r.To, "+")
		if !isDigits(from) || len(from) > maxDigits {
			return planErr(field+".from", "%q is not a number of 1 to %d digits", r.From, maxDigits)
		}
		if !isDigits(to) || len(to) != len(from) {
			return planErr(field+".to", "%q is not a number as long as from (%d digits)", r.To, len(from))
		}
		if to < from {
			return planErr(field+".to", "%s is before from %s", to, from)
		}
	}
	return r.PhoneDefaults.check(field)
}

// bounds returns the range's first and last number.
func (r *Range) bounds() (from, to string) {
	if r.Prefix != "" {
		pre := strings.TrimPrefix(r.Prefix, "+")
		digits := r.Digits
		if digits == 0 {
			digits = NumberLength
		}
		return pre + strings.Repeat("0", digits-len(pre)), pre + strings.Repeat("9", digits-len(pre))
	}
	return strings.TrimPrefix(r.From, "+"), strings.TrimPrefix(r.To, "+")
}

// digitsValue is the value of at most 15 decimal digits.
func digitsValue(s string) uint64 {
	var n uint64
	for i := 0; i < len(s); i++ {
		n = n*10 + uint64(s[i]-'0')
	}
	return n
}

// planIndex finds numbers in resolved ranges.
type planIndex []*rangeSpec

// lookup returns the range of a normalised number and the number's card
// index, or nil.
func (ix planIndex) lookup(msisdn string) (*rangeSpec, uint64) {
	if len(msisdn) > maxDigits || !isDigits(msisdn) {
		return nil, 0
	}
	v := digitsValue(msisdn)
	for _, r := range ix {
		if len(r.from) == len(msisdn) && v >= r.lo && v <= r.hi {
			return r, r.cardIndex + (v - r.lo)
		}
	}
	return nil, 0
}

// loadCards parses the card profiles the ranges name, once each:
// EmbeddedCard is def (the embedded profile when nil); paths are relative
// to the plan's directory.
func (p *Plan) loadCards(ix planIndex, def *uicc.Profile) error {
	profiles := map[string]*uicc.Profile{}
	for i, r := range ix {
		if prof, ok := profiles[r.card]; ok {
			r.tmpl = prof
			continue
		}
		var prof *uicc.Profile
		var err error
		switch {
		case r.card == EmbeddedCard && def != nil:
			prof = def
		case r.card == EmbeddedCard:
			prof, err = embeddedProfile()
		default:
			path := r.card
			if !filepath.IsAbs(path) {
				path = filepath.Join(p.dir, path)
			}
			prof, err = uicc.LoadProfile(path)
		}
		if err != nil {
			return fmt.Errorf("%w: ranges[%d].card (%s-%s): %w", ErrPlan, i, r.from, r.to, err)
		}
		profiles[r.card] = prof
		r.tmpl = prof
	}
	return nil
}
