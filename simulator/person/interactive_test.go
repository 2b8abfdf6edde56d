package person

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// terminal is the human's side of an Interactive person: it sees what the
// phone shows and types lines.
type terminal struct {
	mu      sync.Mutex
	out     strings.Builder
	prompts chan string // each write ending in "> " (a prompt waiting)
	w       *io.PipeWriter
}

func (t *terminal) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.out.Write(b)
	s := t.out.String()
	t.mu.Unlock()
	if strings.HasSuffix(string(b), "> ") {
		t.prompts <- s
	}
	return len(b), nil
}

func (t *terminal) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.out.String()
}

func newTerminal() (*Interactive, *terminal) {
	r, w := io.Pipe()
	term := &terminal{prompts: make(chan string, 16), w: w}
	p := NewInteractive(r, term)
	p.Label = "+99901000042"
	return p, term
}

// typeAfterPrompt waits for the next prompt and types line.
func (t *terminal) typeAfterPrompt(tb testing.TB, line string) string {
	tb.Helper()
	shown := <-t.prompts
	if _, err := io.WriteString(t.w, line+"\n"); err != nil {
		tb.Fatal(err)
	}
	return shown
}

func TestInteractiveAnswers(t *testing.T) {
	t.Parallel()
	pin := Prompt{Kind: Input, Text: "Example Bank\nEnter PIN", Hidden: true, DigitsOnly: true, MinLen: 5, MaxLen: 5}
	cases := []struct {
		name  string
		pr    Prompt
		lines []string // typed in turn, one per prompt shown
		want  Answer
		shows string
	}{
		{"enter confirms", Prompt{Kind: Display, Text: "Example Bank\nLogin 4F2A"}, []string{""}, Answer{Action: Confirm}, "Login 4F2A"},
		{"ok confirms", Prompt{Kind: Display, Text: "x"}, []string{"OK"}, Answer{Action: Confirm}, "[Enter/ok] confirm"},
		{"cancel", Prompt{Kind: Display, Text: "x"}, []string{"c"}, Answer{Action: Cancel}, "phone +99901000042: display"},
		{"back", Prompt{Kind: Display, Text: "x"}, []string{"back"}, Answer{Action: Back}, ""},
		{"busy", Prompt{Kind: Display, Text: "x"}, []string{"busy"}, Answer{Action: Busy}, ""},
		{"display asks again", Prompt{Kind: Display, Text: "x"}, []string{"what", "ok"}, Answer{Action: Confirm}, "to confirm"},
		{"pin", pin, []string{"24680"}, Answer{Action: Enter, Input: "24680"}, "type 5 digits, hidden"},
		{"pin too short then right", pin, []string{"12", "13579"}, Answer{Action: Enter, Input: "13579"}, "want 5 characters"},
		{"pin not digits", pin, []string{"12a45", "11111"}, Answer{Action: Enter, Input: "11111"}, "digits only"},
		{"pin cancelled", pin, []string{"c"}, Answer{Action: Cancel}, ""},
		{"inkey", Prompt{Kind: Inkey, Text: "Continue?"}, []string{"y"}, Answer{Action: Enter, Input: "Y"}, "one key"},
		{"select", Prompt{Kind: SelectItem, Text: "Pick", Items: []string{"one", "two"}}, []string{"3", "2"}, Answer{Action: Choose, Item: 2}, "2. two"},
		{"url opened", Prompt{Kind: URL, Text: "Bank: http://127.0.0.1:1/l/x", URL: "http://127.0.0.1:1/l/x"}, []string{"y"}, Answer{Action: Open}, "open http://127.0.0.1:1/l/x ? [y/N]"},
		{"url not opened", Prompt{Kind: URL, URL: "http://127.0.0.1:1/l/x"}, []string{""}, Answer{Action: Skip}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, term := newTerminal()
			got := make(chan Answer, 1)
			go func() { got <- p.Answer(context.Background(), c.pr, &Step{Answer: AnswerCancel}) }()
			for _, l := range c.lines {
				term.typeAfterPrompt(t, l)
			}
			a := <-got
			if a != c.want {
				t.Errorf("answer %+v, want %+v", a, c.want)
			}
			if !strings.Contains(term.String(), c.shows) {
				t.Errorf("terminal lacks %q:\n%s", c.shows, term.String())
			}
		})
	}
}

func TestInteractiveTimeoutAndEOF(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p, term := newTerminal()
		defer term.w.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		a := p.Answer(ctx, Prompt{Kind: Display, Text: "x"}, nil)
		if a.Action != Ignore || time.Since(start) != 30*time.Second {
			t.Errorf("answer %+v after %v, want ignore after 30s", a, time.Since(start))
		}
		if !strings.Contains(term.String(), "(30s to answer)") || !strings.Contains(term.String(), "no answer in time") {
			t.Errorf("terminal:\n%s", term.String())
		}
		// Without a deadline, Timeout applies.
		p.Timeout = 5 * time.Second
		start = time.Now()
		if a := p.Answer(context.Background(), Prompt{Kind: Input, MinLen: 5, MaxLen: 5}, nil); a.Action != Ignore || time.Since(start) != 5*time.Second {
			t.Errorf("answer %+v after %v, want ignore after 5s", a, time.Since(start))
		}
		<-term.prompts
		<-term.prompts
	})

	p, term := newTerminal()
	term.w.Close()
	if a := p.Answer(context.Background(), Prompt{Kind: Display}, nil); a.Action != Ignore {
		t.Errorf("at end of input: %+v", a)
	}
}

// TestInteractiveQueue checks that prompts of several phones take turns
// at the one terminal.
func TestInteractiveQueue(t *testing.T) {
	t.Parallel()
	p, term := newTerminal()
	first := make(chan Answer, 1)
	go func() { first <- p.Answer(context.Background(), Prompt{Kind: Display, Text: "first"}, nil) }()
	shown := term.typeAfterPrompt(t, "c")
	if !strings.Contains(shown, "first") {
		t.Fatalf("first prompt:\n%s", shown)
	}
	if a := <-first; a.Action != Cancel {
		t.Fatalf("first: %+v", a)
	}
	second := make(chan Answer, 1)
	third := make(chan Answer, 1)
	go func() {
		second <- p.Labelled("+99900000001").Answer(context.Background(), Prompt{Kind: Display, Text: "second"}, nil)
	}()
	if shown := term.typeAfterPrompt(t, "ok"); !strings.Contains(shown, "phone +99900000001: display") {
		t.Errorf("labelled prompt:\n%s", shown)
	}
	go func() { third <- p.Answer(context.Background(), Prompt{Kind: URL, URL: "http://127.0.0.1/x"}, nil) }()
	term.typeAfterPrompt(t, "y")
	if a := <-second; a.Action != Confirm {
		t.Errorf("second: %+v", a)
	}
	if a := <-third; a.Action != Open {
		t.Errorf("third: %+v", a)
	}
}

// FuzzInteractiveParse feeds typed lines to every prompt kind: parsing
// never panics, and an answer it accepts obeys the prompt (digits only,
// length bounds, an item in range).
func FuzzInteractiveParse(f *testing.F) {
	for _, s := range []string{"", "ok", "c", "b", "busy", "12345", "1234", "123456", "12a45", "y", "2", "0", "99", "é", "\x00", " 13579 "} {
		f.Add(s)
	}
	p := NewInteractive(strings.NewReader(""), io.Discard)
	prompts := []Prompt{
		{Kind: Display, Text: "x"},
		{Kind: Input, Hidden: true, DigitsOnly: true, MinLen: 5, MaxLen: 5},
		{Kind: Input, MinLen: 0, MaxLen: 10},
		{Kind: Inkey},
		{Kind: SelectItem, Items: []string{"a", "b", "c"}},
		{Kind: URL, URL: "http://127.0.0.1/"},
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, pr := range prompts {
			a, done := p.parse(pr, line)
			if !done {
				continue
			}
			switch a.Action {
			case Enter:
				n := len([]rune(a.Input))
				if pr.Kind == Input && (pr.DigitsOnly && strings.Trim(a.Input, "0123456789") != "" || n < pr.MinLen || (pr.MaxLen > 0 && n > pr.MaxLen)) {
					t.Fatalf("%v accepted %q", pr.Kind, a.Input)
				}
				if pr.Kind == Inkey && n != 1 {
					t.Fatalf("inkey accepted %q", a.Input)
				}
			case Choose:
				if a.Item < 1 || a.Item > len(pr.Items) {
					t.Fatalf("item %d accepted", a.Item)
				}
			case Open, Skip:
				if pr.Kind != URL {
					t.Fatalf("%v answered %v", pr.Kind, a.Action)
				}
			}
		}
	})
}
