package person

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultInteractiveTimeout is how long an Interactive person waits for the
// human when the prompt's context has no deadline: the handsets' default
// toolkit timeout (handset.DefaultPromptTimeout).
const DefaultInteractiveTimeout = 60 * time.Second

// Interactive is a person played by a human at a terminal: it implements
// handset.Answerer by showing each prompt on Out and reading the answer, a
// line at a time, from In. It is the "interactive mode" of the Person seam
// (DESIGN.md), for a lab engineer who wants to press OK or type the PIN
// themselves.
//
// Answers, case-insensitive (a line each):
//
//	DISPLAY TEXT   Enter or "ok" confirms; "c" cancels; "b" goes back; "busy"
//	GET INPUT      the text or PIN, then Enter; "c" alone cancels
//	GET INKEY      one character; "y"/"n" for a yes/no question
//	SELECT ITEM    the item's number
//	link in an SMS "y" opens it; anything else does not
//
// The terminal echoes what is typed: hidden input (a PIN) is not masked,
// since In is any io.Reader, not necessarily a TTY, unless Echo switches
// the terminal's echo off while it is typed.
//
// The prompt's timeout is the deadline of the context the handset passes
// to Answer, or Timeout when it has none; when it passes without an
// answer, the person "does not answer" (Ignore) and the handset reports no
// response from the user (TS 102 223 §8.12, result 12). Prompts from
// several phones queue for the one terminal, each within its own timeout.
// Keywords in binding messages do not apply: a human decides.
type Interactive struct {
	// Out shows the prompts; In gives the answers.
	Out io.Writer
	In  io.Reader
	// Label names the phone in each prompt (say its MSISDN); may be empty.
	Label string
	// Timeout applies when the context has no deadline (default
	// DefaultInteractiveTimeout).
	Timeout time.Duration
	// Echo, when set, is called with false before hidden input (a PIN) is
	// read and with true after, so a terminal can stop echoing it.
	Echo func(on bool)

	once  sync.Once
	lines chan string
	term  chan struct{} // holds the terminal during a prompt
}

// NewInteractive returns an interactive person reading answers from in and
// showing prompts on out.
func NewInteractive(in io.Reader, out io.Writer) *Interactive {
	return &Interactive{In: in, Out: out}
}

func (p *Interactive) start() {
	p.once.Do(func() {
		p.lines = make(chan string, 16)
		p.term = make(chan struct{}, 1)
		go func() {
			defer close(p.lines)
			sc := bufio.NewScanner(p.In)
			for sc.Scan() {
				p.lines <- strings.TrimRight(sc.Text(), "\r")
			}
		}()
	})
}

// promptDeadline gives ctx the deadline d (DefaultInteractiveTimeout when
// 0) unless it has one: how long a person may take over a prompt.
func promptDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	if d <= 0 {
		d = DefaultInteractiveTimeout
	}
	return context.WithTimeout(ctx, d)
}

// readLine waits for the next line; ok is false at end of input.
func (p *Interactive) readLine(ctx context.Context) (line string, ok bool, err error) {
	select {
	case l, ok := <-p.lines:
		return l, ok, nil
	case <-ctx.Done():
		return "", true, ctx.Err()
	}
}

// Answer shows pr and returns what the human answered. override is
// ignored: a human does not follow keywords.
func (p *Interactive) Answer(ctx context.Context, pr Prompt, _ *Step) Answer {
	return p.answer(ctx, pr, p.Label)
}

// Labelled returns an answerer for one of several phones sharing p's
// terminal: its prompts are shown under label (say the phone's MSISDN).
// Only one reader may consume a terminal's input, so phones that share
// stdin share one Interactive through Labelled.
func (p *Interactive) Labelled(label string) *Labelled { return &Labelled{p: p, label: label} }

// Labelled is one phone's view of a shared Interactive terminal; it
// implements handset.Answerer.
type Labelled struct {
	p     *Interactive
	label string
}

// Answer shows pr under the phone's label and returns the human's answer.
func (l *Labelled) Answer(ctx context.Context, pr Prompt, _ *Step) Answer {
	return l.p.answer(ctx, pr, l.label)
}

func (p *Interactive) answer(ctx context.Context, pr Prompt, label string) Answer {
	p.start()
	ctx, cancel := promptDeadline(ctx, p.Timeout)
	defer cancel()
	select {
	case p.term <- struct{}{}:
		defer func() { <-p.term }()
	case <-ctx.Done():
		return Answer{Action: Ignore}
	}
	// Lines typed before this prompt was shown are not answers to it.
	for drained := false; !drained; {
		select {
		case _, ok := <-p.lines:
			if !ok {
				drained = true
			}
		default:
			drained = true
		}
	}
	p.show(ctx, pr, label)
	if pr.Kind == Input && pr.Hidden && p.Echo != nil {
		p.Echo(false)
		// The Enter that ends the input is not echoed either.
		defer func() { p.Echo(true); fmt.Fprintln(p.Out) }()
	}
	for {
		line, ok, err := p.readLine(ctx)
		if err != nil {
			fmt.Fprintln(p.Out, "  (no answer in time: the phone reports no response)")
			return Answer{Action: Ignore}
		}
		if !ok {
			fmt.Fprintln(p.Out, "  (input closed: no answer)")
			return Answer{Action: Ignore}
		}
		if a, done := p.parse(pr, line); done {
			return a
		}
	}
}

// show writes the prompt.
func (p *Interactive) show(ctx context.Context, pr Prompt, label string) {
	var b strings.Builder
	head := "phone"
	if label != "" {
		head += " " + label
	}
	left := ""
	if d, ok := ctx.Deadline(); ok {
		left = fmt.Sprintf(" (%ds to answer)", int(time.Until(d).Round(time.Second)/time.Second))
	}
	fmt.Fprintf(&b, "\n── %s: %s%s\n", head, pr.Kind, left)
	if pr.Text != "" {
		for _, l := range strings.Split(pr.Text, "\n") {
			fmt.Fprintf(&b, "  │ %s\n", l)
		}
	}
	switch pr.Kind {
	case Display:
		b.WriteString("  [Enter/ok] confirm  [c] cancel  [b] back  [busy] screen busy\n")
	case Input:
		what := "text"
		if pr.DigitsOnly {
			what = "digits"
		}
		switch {
		case pr.Hidden && p.Echo != nil:
			what += ", hidden"
		case pr.Hidden:
			what += ", hidden (the terminal echoes it)"
		}
		fmt.Fprintf(&b, "  type %s%s, then Enter  [c] cancel\n", lengths(pr.MinLen, pr.MaxLen), what)
	case Inkey:
		b.WriteString("  one key (y/n for a yes/no question)  [c] cancel\n")
	case SelectItem:
		for i, it := range pr.Items {
			fmt.Fprintf(&b, "  %d. %s\n", i+1, it)
		}
		b.WriteString("  item number  [c] cancel\n")
	case URL:
		fmt.Fprintf(&b, "  open %s ? [y/N]\n", pr.URL)
	}
	b.WriteString("> ")
	io.WriteString(p.Out, b.String())
}

func lengths(lo, hi int) string {
	switch {
	case lo > 0 && lo == hi:
		return fmt.Sprintf("%d ", lo)
	case lo > 0 && hi > 0:
		return fmt.Sprintf("%d to %d ", lo, hi)
	case hi > 0:
		return fmt.Sprintf("up to %d ", hi)
	}
	return ""
}

// parse turns a typed line into an answer; done is false when the line
// does not answer the prompt (the person is asked again).
func (p *Interactive) parse(pr Prompt, line string) (Answer, bool) {
	word := strings.ToLower(strings.TrimSpace(line))
	retry := func(msg string) (Answer, bool) {
		fmt.Fprintf(p.Out, "  %s\n> ", msg)
		return Answer{}, false
	}
	if pr.Kind == URL {
		if word == "y" || word == "yes" || word == "open" {
			return Answer{Action: Open}, true
		}
		return Answer{Action: Skip}, true
	}
	switch word {
	case "c", "cancel":
		return Answer{Action: Cancel}, true
	case "b", "back":
		if pr.Kind != Input {
			return Answer{Action: Back}, true
		}
	case "busy":
		if pr.Kind == Display {
			return Answer{Action: Busy}, true
		}
	}
	switch pr.Kind {
	case Display:
		if word == "" || word == "ok" || word == "y" || word == "yes" {
			return Answer{Action: Confirm}, true
		}
		return retry(`press Enter (or type "ok") to confirm, "c" to cancel`)
	case Input:
		in := strings.TrimSpace(line)
		n := len([]rune(in))
		if pr.DigitsOnly && strings.Trim(in, "0123456789") != "" {
			return retry("digits only")
		}
		if (pr.MinLen > 0 && n < pr.MinLen) || (pr.MaxLen > 0 && n > pr.MaxLen) {
			return retry(fmt.Sprintf("want %scharacters", lengths(pr.MinLen, pr.MaxLen)))
		}
		return Answer{Action: Enter, Input: in}, true
	case Inkey:
		r := []rune(strings.TrimSpace(line))
		if len(r) != 1 {
			return retry("one key")
		}
		return Answer{Action: Enter, Input: strings.ToUpper(string(r))}, true
	case SelectItem:
		i, err := strconv.Atoi(word)
		if err != nil || i < 1 || i > len(pr.Items) {
			return retry(fmt.Sprintf("an item number from 1 to %d", len(pr.Items)))
		}
		return Answer{Action: Choose, Item: i}, true
	}
	return retry("not understood")
}
