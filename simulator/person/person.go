// Package person models the human holding an emulated phone: what they do
// with a SIM Toolkit prompt (confirm, type a PIN, cancel, ignore, be busy)
// and with an SMS that carries a URL (open it or not), after how long.
//
// A Behaviour is plain data (JSON over the control API, YAML in fleet
// files); a Person plays one, step by step, with its own seeded random
// source, so the same script gives the same answers in every run.
package person

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// PromptKind says what the terminal shows.
type PromptKind int

// Prompt kinds, after the proactive commands that raise them (TS 102 223
// §6.4) and the SMS+URL path.
const (
	Display    PromptKind = iota + 1 // DISPLAY TEXT waiting for the user: OK or cancel
	Input                            // GET INPUT: type text or digits (a PIN)
	Inkey                            // GET INKEY: one key, or yes/no
	SelectItem                       // SELECT ITEM: choose from a list
	URL                              // an SMS with a link: open it or not
)

func (k PromptKind) String() string {
	return [...]string{"", "display", "input", "inkey", "select", "url"}[k]
}

// Prompt is what the phone shows the person.
type Prompt struct {
	Kind PromptKind
	Text string
	// Hidden input (a PIN), digits only, and the lengths allowed.
	Hidden     bool
	DigitsOnly bool
	MinLen     int
	MaxLen     int
	Items      []string
	URL        string
	// PIN is the PIN the card holds, as the phone's owner would know it.
	// It never leaves the simulator (not logged, not in events).
	PIN string
}

// Action is what the person does.
type Action int

// Actions. Each maps onto a TERMINAL RESPONSE general result (TS 102 223
// §8.12): Confirm/Enter/Choose → 00, Cancel → 10 (session terminated by the
// user), Back → 11, Ignore → 12 (no response from user, after the terminal's
// timeout), Busy → 20 with cause 01 (screen busy).
const (
	Confirm Action = iota + 1
	Enter
	Choose
	Cancel
	Back
	Ignore
	Busy
	Open // open the URL
	Skip // do not open the URL
)

var actionNames = [...]string{"", "confirm", "enter", "choose", "cancel", "back", "ignore", "busy", "open", "skip"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// Answer is what the person did and after how long.
type Answer struct {
	Action Action
	// Input is the text typed (Enter); Item the 1-based choice (Choose).
	Input string
	Item  int
	// Delay is how long the person took. The handset waits this long (on
	// its clock) before answering; a delay beyond the prompt's timeout
	// becomes "no response".
	Delay time.Duration
}

// Answer kinds in behaviours, as the API and the CLI spell them.
const (
	AnswerApprove  = "approve"   // confirm; type the right PIN
	AnswerCancel   = "cancel"    // cancel the prompt
	AnswerIgnore   = "ignore"    // never answer
	AnswerWrongPIN = "wrong-pin" // type a wrong PIN (confirm a plain OK prompt)
	AnswerPIN      = "pin"       // type Step.PIN
	AnswerBusy     = "busy"      // the phone cannot show the prompt
	AnswerBack     = "back"      // press back
	// AnswerHuman ("human", human.go): a person answers on the web page.
)

// Step is one answer in a behaviour.
type Step struct {
	// Answer is one of approve, cancel, ignore, wrong-pin, pin, busy, back,
	// human.
	Answer string `json:"answer" yaml:"answer"`
	// PIN is typed with "pin" (and with "approve" when set, overriding the
	// card's PIN, to test a PIN the card does not hold).
	PIN string `json:"pin,omitempty" yaml:"pin,omitempty"`
	// Delay is a fixed answer time; Jitter adds a uniform random part in
	// [0, Jitter) drawn from the person's seeded source.
	Delay  Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
	Jitter Duration `json:"jitter,omitempty" yaml:"jitter,omitempty"`
}

// Behaviour is a script of answers. Steps are used one per prompt in
// order; when they run out, Then applies to every later prompt.
type Behaviour struct {
	Steps []Step `json:"steps,omitempty" yaml:"steps,omitempty"`
	Then  Step   `json:"then" yaml:"then"`
	// OpenURLs says whether the person opens links received by SMS.
	OpenURLs bool `json:"open_urls" yaml:"open_urls"`
}

// Default is the behaviour of a phone nobody scripted: approve at once,
// open links.
func Default() Behaviour { return Behaviour{Then: Step{Answer: AnswerApprove}, OpenURLs: true} }

// Always is the behaviour that gives answer to every prompt and opens
// links: "always answer" in docs/api.md's words.
func Always(answer string) Behaviour { return Behaviour{Then: Step{Answer: answer}, OpenURLs: true} }

// ValidateSteps checks steps to be queued (Person.Queue): "the next
// prompts, once each".
func ValidateSteps(steps []Step) error {
	for i, s := range steps {
		if err := s.validate(); err != nil {
			return fmt.Errorf("%w: next[%d]: %w", ErrBehaviour, i, err)
		}
	}
	return nil
}

// ErrBehaviour reports an invalid behaviour.
var ErrBehaviour = errors.New("person: invalid behaviour")

// Validate checks every step.
func (b Behaviour) Validate() error {
	for i, s := range append(append([]Step(nil), b.Steps...), b.Then) {
		if err := s.validate(); err != nil {
			if i == len(b.Steps) {
				return fmt.Errorf("%w: then: %w", ErrBehaviour, err)
			}
			return fmt.Errorf("%w: step %d: %w", ErrBehaviour, i+1, err)
		}
	}
	return nil
}

func (s Step) validate() error {
	switch s.Answer {
	case AnswerApprove, AnswerCancel, AnswerIgnore, AnswerWrongPIN, AnswerBusy, AnswerBack, AnswerHuman:
	case AnswerPIN:
		if s.PIN == "" {
			return errors.New(`answer "pin" needs a pin`)
		}
	case "":
		return errors.New("answer is empty")
	default:
		return fmt.Errorf("unknown answer %q (want approve, cancel, ignore, wrong-pin, pin, busy, back or human)", s.Answer)
	}
	if s.PIN != "" && strings.Trim(s.PIN, "0123456789") != "" {
		return errors.New("pin must be digits")
	}
	if s.Delay < 0 || s.Jitter < 0 {
		return errors.New("delay and jitter must not be negative")
	}
	return nil
}

// Person plays a behaviour. It is safe for concurrent use; prompts are
// answered in the order they are asked.
type Person struct {
	mu    sync.Mutex
	b     Behaviour
	next  int
	src   *rand.PCG // rnd's source, for Position
	rnd   *rand.Rand
	human func(context.Context, Prompt) Answer
}

// SetHuman sets who answers the prompts of "human" steps (a Human's Ask
// for this phone). Without one, such a prompt goes unanswered (Ignore).
func (p *Person) SetHuman(ask func(context.Context, Prompt) Answer) {
	p.mu.Lock()
	p.human = ask
	p.mu.Unlock()
}

// New returns a person playing b with the random source seeded by seed
// (use something stable, such as the MSISDN, for reproducible runs).
func New(b Behaviour, seed uint64) *Person {
	src := rand.NewPCG(seed, 0x5117ab)
	return &Person{b: b, src: src, rnd: rand.New(src)}
}

// Behaviour returns the behaviour being played and the index of the next
// step.
func (p *Person) Behaviour() (Behaviour, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b, p.next
}

// Set replaces the behaviour and starts again at its first step.
func (p *Person) Set(b Behaviour) {
	p.mu.Lock()
	p.b, p.next = b, 0
	p.mu.Unlock()
}

// Queue puts steps before the rest of the script: the next prompts take
// them, once each and in order, then the behaviour goes on where it was
// ("next time wrong-pin, then as before"). Check them with ValidateSteps.
func (p *Person) Queue(steps ...Step) {
	p.mu.Lock()
	rest := p.b.Steps[min(p.next, len(p.b.Steps)):]
	p.b.Steps = append(append([]Step(nil), steps...), rest...)
	p.next = 0
	p.mu.Unlock()
}

// takeStep returns the step for the next prompt.
func (p *Person) takeStep() (Step, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.b.Then
	if p.next < len(p.b.Steps) {
		s = p.b.Steps[p.next]
		p.next++
	}
	d := time.Duration(s.Delay)
	if s.Jitter > 0 {
		d += time.Duration(p.rnd.Int64N(int64(s.Jitter)))
	}
	return s, d
}

// Answer decides what the person does with prompt pr. An override (from
// a keyword in the binding message, say) replaces the scripted step for
// this prompt without consuming it.
func (p *Person) Answer(ctx context.Context, pr Prompt, override *Step) Answer {
	if pr.Kind == URL {
		p.mu.Lock()
		open := p.b.OpenURLs
		p.mu.Unlock()
		if open {
			return Answer{Action: Open}
		}
		return Answer{Action: Skip}
	}
	var s Step
	var d time.Duration
	if override != nil && !p.humanNext() {
		s, d = *override, time.Duration(override.Delay)
	} else {
		s, d = p.takeStep()
	}
	if s.Answer == AnswerHuman { // a person decides, keywords or not
		p.mu.Lock()
		ask := p.human
		p.mu.Unlock()
		if ask == nil {
			return Answer{Action: Ignore}
		}
		return ask(ctx, pr)
	}
	a := Answer{Delay: d}
	switch s.Answer {
	case AnswerCancel:
		a.Action = Cancel
	case AnswerIgnore:
		a.Action = Ignore
	case AnswerBusy:
		a.Action = Busy
	case AnswerBack:
		a.Action = Back
	case AnswerWrongPIN:
		if pr.Kind == Input {
			a.Action, a.Input = Enter, WrongPIN(pr.PIN, pr.MinLen, pr.MaxLen)
		} else {
			a.Action = Confirm
		}
	case AnswerPIN:
		a.Action, a.Input = confirmOrEnter(pr, s.PIN)
	default: // approve
		pin := pr.PIN
		if s.PIN != "" {
			pin = s.PIN
		}
		a.Action, a.Input = confirmOrEnter(pr, pin)
	}
	if a.Action == Choose || (a.Action == Confirm && pr.Kind == SelectItem) {
		a.Action, a.Item = Choose, 1
	}
	return a
}

// humanNext reports whether the next prompt goes to a human.
func (p *Person) humanNext() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.b.Then
	if p.next < len(p.b.Steps) {
		s = p.b.Steps[p.next]
	}
	return s.Answer == AnswerHuman
}

func confirmOrEnter(pr Prompt, pin string) (Action, string) {
	switch pr.Kind {
	case Input:
		return Enter, pin
	case Inkey:
		return Enter, "Y"
	case SelectItem:
		return Choose, ""
	}
	return Confirm, ""
}

// WrongPIN returns a PIN of a valid length that differs from pin in every
// digit, so it is wrong whatever the card holds... as long as the card holds
// pin.
func WrongPIN(pin string, minLen, maxLen int) string {
	n := len(pin)
	if n == 0 {
		n = max(minLen, 5)
	}
	if maxLen > 0 && n > maxLen {
		n = maxLen
	}
	b := make([]byte, n)
	for i := range b {
		d := byte('0')
		if i < len(pin) {
			d = pin[i]
		}
		b[i] = '0' + (d-'0'+1)%10
	}
	return string(b)
}

// Duration is a time.Duration that reads and writes as "1.5s" in JSON and
// YAML.
type Duration time.Duration

// MarshalText writes d as time.Duration's string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "250ms", "2s", "1m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("person: duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}
