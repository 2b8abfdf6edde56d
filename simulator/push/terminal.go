package push

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/simulator/person"
)

// Terminal is a real person at a terminal answering a card's prompts
// (handset.Answerer), for `simlab card push` without --answer: it shows
// the prompt text on Out and reads the answer from In, one line per
// prompt. For DISPLAY TEXT an empty line or "ok" confirms and "c" or
// "cancel" cancels; for GET INPUT the line is what is typed (the PIN is
// not echoed back or logged). No answer within Timeout is "no response".
type Terminal struct {
	In      io.Reader
	Out     io.Writer
	Timeout time.Duration
	// Echo, when set, is called with false before a hidden input (a PIN)
	// is read and with true after, so a terminal can stop echoing it.
	Echo func(on bool)

	once  sync.Once
	lines chan string
}

func (t *Terminal) start() {
	t.once.Do(func() {
		t.lines = make(chan string)
		go func() {
			defer close(t.lines)
			sc := bufio.NewScanner(t.In)
			for sc.Scan() {
				t.lines <- sc.Text()
			}
		}()
	})
}

// Answer implements handset.Answerer.
func (t *Terminal) Answer(ctx context.Context, pr person.Prompt, _ *person.Step) person.Answer {
	t.start()
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	switch pr.Kind {
	case person.Display, person.Inkey:
		fmt.Fprintf(t.Out, "\n[SIM] %s\n[SIM] press Enter for OK, or type c + Enter to cancel (%v): ", pr.Text, timeout)
	case person.Input:
		what := "text"
		if pr.Hidden && pr.DigitsOnly {
			what = "PIN"
		}
		fmt.Fprintf(t.Out, "\n[SIM] %s\n[SIM] type the %s (%d to %d characters) + Enter, or c + Enter to cancel (%v): ", pr.Text, what, pr.MinLen, pr.MaxLen, timeout)
	case person.SelectItem:
		fmt.Fprintf(t.Out, "\n[SIM] %s\n", pr.Text)
		for i, it := range pr.Items {
			fmt.Fprintf(t.Out, "[SIM]   %d. %s\n", i+1, it)
		}
		fmt.Fprintf(t.Out, "[SIM] type a number + Enter, or c + Enter to cancel (%v): ", timeout)
	default:
		return person.Answer{Action: person.Skip}
	}
	if pr.Kind == person.Input && pr.Hidden && t.Echo != nil {
		t.Echo(false)
		defer func() { t.Echo(true); fmt.Fprintln(t.Out) }()
	}
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	var line string
	select {
	case l, ok := <-t.lines:
		if !ok {
			fmt.Fprintln(t.Out, "\n[SIM] end of input: no answer")
			return person.Answer{Action: person.Ignore}
		}
		line = strings.TrimSpace(l)
	case <-tm.C:
		fmt.Fprintln(t.Out, "\n[SIM] no answer in time")
		return person.Answer{Action: person.Ignore}
	case <-ctx.Done():
		return person.Answer{Action: person.Ignore}
	}
	if strings.EqualFold(line, "c") || strings.EqualFold(line, "cancel") {
		return person.Answer{Action: person.Cancel}
	}
	switch pr.Kind {
	case person.Input:
		return person.Answer{Action: person.Enter, Input: line}
	case person.SelectItem:
		var n int
		if _, err := fmt.Sscanf(line, "%d", &n); err != nil || n < 1 || n > len(pr.Items) {
			return person.Answer{Action: person.Cancel}
		}
		return person.Answer{Action: person.Choose, Item: n}
	}
	return person.Answer{Action: person.Confirm}
}
