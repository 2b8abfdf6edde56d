package fleet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/fixtures/cards"
	"github.com/simlab-dev/simlab/fixtures/fleets"
	"github.com/simlab-dev/simlab/simulator/person"
)

// TestDefaultPlan checks that the embedded fleet file is the numbering plan
// of numbers.go (docs/numbers.md): every magic outcome's numbers and the
// default fleet resolve to the same conditions, answer and card index as
// Classify and index give.
func TestDefaultPlan(t *testing.T) {
	t.Parallel()
	ix, err := DefaultPlan().resolve()
	if err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for _, m := range MagicOutcomes {
		for _, i := range []int{0, 1, 4321, MagicPerCode - 1} {
			n, err := MagicNumberFor(m.Name, i)
			if err != nil {
				t.Fatal(err)
			}
			numbers = append(numbers, n)
		}
	}
	numbers = append(numbers, FleetNumber(0), FleetNumber(123456), FleetNumber(FleetSize-1))
	for _, n := range numbers {
		kind, m := Classify(n)
		r, idx := ix.lookup(n)
		if r == nil {
			t.Errorf("%s: not in the default plan", n)
			continue
		}
		if want := index(n, kind); idx != want {
			t.Errorf("%s: card index %d, want %d", n, idx, want)
		}
		got := r.magic
		if got.Name != m.Name || got.NoNFC != m.NoNFC || got.NoPINSupport != m.NoPINSupport || got.PINBlocked != m.PINBlocked ||
			got.Absent != m.Absent || got.DeliveryError != m.DeliveryError || got.SIMError != m.SIMError {
			t.Errorf("%s: plan gives %+v, numbers.go %+v", n, got, m)
		}
		want := person.Default()
		if m.Answer.Answer != "" {
			want.Then = m.Answer
		}
		if r.behaviour.Then != want.Then || r.behaviour.OpenURLs != want.OpenURLs || len(r.behaviour.Steps) != 0 {
			t.Errorf("%s: behaviour %+v, want %+v", n, r.behaviour, want)
		}
		if r.pin != DefaultPIN || r.card != EmbeddedCard || r.promptTimeout != 0 {
			t.Errorf("%s: pin %q card %q prompt timeout %v", n, r.pin, r.card, r.promptTimeout)
		}
	}
	for _, n := range []string{"99900130000", "99902000000", "9990100000", "999010000000", "4479460000"} {
		if kind, _ := Classify(n); kind != KindUnknown {
			t.Fatalf("%s: numbers.go knows it", n)
		}
		if r, _ := ix.lookup(n); r != nil {
			t.Errorf("%s: in the default plan (%s-%s), not in numbers.go", n, r.from, r.to)
		}
	}
}

// TestParsePlanErrors checks that errors name the field at fault.
func TestParsePlanErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{"empty", "", "EOF"},
		{"no ranges", "defaults: {pin: \"12345\"}", "ranges: a fleet file needs at least one range"},
		{"unknown field", "ranges: [{prefix: \"4479\", colour: red}]", `unknown key "colour"`},
		{"both", "ranges: [{prefix: \"44\", from: \"4400\", to: \"4499\"}]", "ranges[0]: give either prefix or from/to"},
		{"from only", "ranges: [{from: \"4400\"}]", "ranges[0]: needs from and to"},
		{"bad from", "ranges: [{from: \"44x0\", to: \"4499\"}]", "ranges[0].from"},
		{"short to", "ranges: [{from: \"4400\", to: \"449\"}]", "ranges[0].to"},
		{"to before", "ranges: [{from: \"4400\", to: \"4300\"}]", "ranges[0].to: 4300 is before from 4400"},
		{"prefix letters", "ranges: [{prefix: \"4a\"}]", "ranges[0].prefix"},
		{"digits", "ranges: [{prefix: \"44\", digits: 16}]", "ranges[0].digits"},
		{"digits with from", "ranges: [{from: \"4400\", to: \"4499\", digits: 4}]", "ranges[0].digits"},
		{"pin", "ranges: [{prefix: \"44\", pin: \"1234\"}]", "ranges[0].pin: the applet PIN must be 5 digits"},
		{"default pin", "defaults: {pin: \"12a45\"}\nranges: [{prefix: \"44\"}]", "defaults.pin"},
		{"behaviour", "ranges: [{prefix: \"44\", behaviour: {then: {answer: dance}}}]", "ranges[0].behaviour"},
		{"prompt timeout", "ranges: [{prefix: \"44\", prompt_timeout: -1s}]", "ranges[0].prompt_timeout"},
		{"prompt timeout syntax", "ranges: [{prefix: \"44\", prompt_timeout: soon}]", "soon"},
		{"embedded", "ranges: [{prefix: \"44\", card: \"embedded:other\"}]", "ranges[0].card: unknown embedded profile"},
		{"overlap", "ranges: [{prefix: \"4479\", digits: 8}, {from: \"44790500\", to: \"44800000\"}]", "ranges[1]: numbers 44790500-44800000 overlap ranges[0]"},
		{"bool", "ranges: [{prefix: \"44\", absent: maybe}]", "maybe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePlan([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !errors.Is(err, ErrPlan) {
				t.Errorf("%v does not wrap ErrPlan", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestPlanFile runs a fleet from a file: a prefix range with its own PIN,
// behaviour and a card profile path, a from/to range inheriting defaults.
func TestPlanFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "card.yaml"), cards.Default, 0o600); err != nil {
		t.Fatal(err)
	}
	plan := `
defaults:
  pin: "11111"
  behaviour: {then: {answer: cancel}}
  prompt_timeout: 5s
ranges:
  - name: lab
    prefix: "+4479460"
    digits: 12
    card: card.yaml
    card_index: 20
    pin: "24680"
    behaviour: {steps: [{answer: wrong-pin}], then: {answer: approve}}
  - name: off
    from: "33600000000"
    to: "33600000099"
    absent: true
    no_pin_support: true
`
	path := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(Config{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ph, err := f.Phone(ctx, "+447946000005")
	if err != nil {
		t.Fatal(err)
	}
	in := ph.Info()
	tmpl := f.plan[0].tmpl
	want, err := tmpl.Subscriber(25)
	if err != nil {
		t.Fatal(err)
	}
	if in.ICCID != want.ICCID || in.Magic != "lab" || !in.PIN.Supported || in.PIN.TriesLeft != 3 {
		t.Errorf("info %+v, want ICCID %s of card 25", in, want.ICCID)
	}
	if len(in.Behaviour.Steps) != 1 || in.Behaviour.Steps[0].Answer != person.AnswerWrongPIN {
		t.Errorf("behaviour %+v", in.Behaviour)
	}
	if ph.pin != "24680" || ph.rng.promptTimeout.Seconds() != 5 {
		t.Errorf("pin %q prompt timeout %v", ph.pin, ph.rng.promptTimeout)
	}
	off, err := f.Phone(ctx, "33600000042")
	if err != nil {
		t.Fatal(err)
	}
	oi := off.Info()
	if !oi.Settings.Absent || !oi.Settings.NoPINSupport || oi.Behaviour.Then.Answer != person.AnswerCancel || off.pin != "11111" {
		t.Errorf("inherited defaults: %+v pin %q", oi, off.pin)
	}
	for _, n := range []string{"99901000000", "33600000100", "4479460000001"} {
		if _, err := f.Phone(ctx, n); !errors.Is(err, ErrNotInPlan) {
			t.Errorf("%s: %v, want ErrNotInPlan", n, err)
		}
	}
	// A missing card profile fails New, naming the range.
	bad, err := ParsePlan([]byte("ranges: [{prefix: \"44\", card: missing.yaml}]"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Plan: bad}); err == nil || !strings.Contains(err.Error(), "ranges[0].card") {
		t.Errorf("missing profile: %v", err)
	}
}

// FuzzParsePlan checks that the parser never panics and that what it
// accepts resolves and finds its own bounds.
func FuzzParsePlan(f *testing.F) {
	f.Add(fleets.Default)
	f.Add([]byte("ranges: [{prefix: \"4479\", digits: 8, pin: \"12345\"}]"))
	f.Add([]byte("defaults: {absent: true, prompt_timeout: 2s}\nranges: [{from: \"+100\", to: \"+199\", card_index: 18446744073709551615}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePlan(b)
		if err != nil {
			if !errors.Is(err, ErrPlan) {
				t.Fatalf("error %v does not wrap ErrPlan", err)
			}
			return
		}
		ix, err := p.resolve()
		if err != nil {
			t.Fatalf("accepted plan does not resolve: %v", err)
		}
		for _, r := range ix {
			for _, n := range []string{r.from, r.to} {
				got, _ := ix.lookup(n)
				if got != r {
					t.Fatalf("lookup(%s) = %v, want its range %s-%s", n, got, r.from, r.to)
				}
			}
		}
	})
}

// TestPlanBehaviourInherits: a range's behaviour inherits each field it
// leaves out from the defaults' behaviour, then from person.Default(), as
// docs/fleet.md says.
func TestPlanBehaviourInherits(t *testing.T) {
	p, err := ParsePlan([]byte(`
defaults:
  behaviour: {steps: [{answer: busy}], then: {answer: cancel}, open_urls: false}
ranges:
  - {name: a, from: "44000000000", to: "44000000009", behaviour: {then: {answer: approve}}}
  - {name: b, from: "44000000010", to: "44000000019", behaviour: {steps: [], open_urls: true}}
  - {name: c, from: "44000000020", to: "44000000029"}
  - {name: d, from: "44000000030", to: "44000000039", behaviour: {steps: [{answer: wrong-pin}]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := p.resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]person.Behaviour{
		"a": {Steps: []person.Step{{Answer: "busy"}}, Then: person.Step{Answer: "approve"}},
		"b": {Steps: []person.Step{}, Then: person.Step{Answer: "cancel"}, OpenURLs: true},
		"c": {Steps: []person.Step{{Answer: "busy"}}, Then: person.Step{Answer: "cancel"}},
		"d": {Steps: []person.Step{{Answer: "wrong-pin"}}, Then: person.Step{Answer: "cancel"}},
	}
	for _, s := range ix {
		w := want[s.name]
		if !reflect.DeepEqual(s.behaviour, w) && !(len(s.behaviour.Steps) == 0 && len(w.Steps) == 0 && s.behaviour.Then == w.Then && s.behaviour.OpenURLs == w.OpenURLs) {
			t.Errorf("range %s: behaviour %+v, want %+v", s.name, s.behaviour, w)
		}
	}
	// The merged behaviour is checked: no answer anywhere is an error only
	// where it stays empty.
	if _, err := ParsePlan([]byte(`ranges: [{from: "44000000000", to: "44000000009", behaviour: {then: {answer: dance}}}]`)); err == nil || !strings.Contains(err.Error(), "ranges[0].behaviour") {
		t.Errorf("unknown answer: %v", err)
	}
}
