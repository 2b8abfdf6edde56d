package person

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

var pinPrompt = Prompt{Kind: Input, Hidden: true, DigitsOnly: true, MinLen: 5, MaxLen: 5, PIN: "24680"}
var okPrompt = Prompt{Kind: Display, Text: "Example Bank: Login 4F2A"}

func TestDefaultApproves(t *testing.T) {
	t.Parallel()
	p := New(Default(), 1)
	ctx := context.Background()
	if a := p.Answer(ctx, okPrompt, nil); a.Action != Confirm || a.Delay != 0 {
		t.Errorf("OK prompt: %+v", a)
	}
	if a := p.Answer(ctx, pinPrompt, nil); a.Action != Enter || a.Input != "24680" {
		t.Errorf("PIN prompt: %+v", a)
	}
	if a := p.Answer(ctx, Prompt{Kind: URL, URL: "http://127.0.0.1/x"}, nil); a.Action != Open {
		t.Errorf("URL: %+v", a)
	}
}

func TestSequenceThenDefault(t *testing.T) {
	t.Parallel()
	b := Behaviour{Steps: []Step{{Answer: AnswerWrongPIN}, {Answer: AnswerCancel}, {Answer: AnswerPIN, PIN: "11111"}}, Then: Step{Answer: AnswerApprove}}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	p := New(b, 7)
	ctx := context.Background()
	a := p.Answer(ctx, pinPrompt, nil)
	if a.Action != Enter || a.Input == pinPrompt.PIN || len(a.Input) != 5 {
		t.Errorf("step 1 wrong PIN: %+v", a)
	}
	if a := p.Answer(ctx, pinPrompt, nil); a.Action != Cancel {
		t.Errorf("step 2: %+v", a)
	}
	if a := p.Answer(ctx, pinPrompt, nil); a.Action != Enter || a.Input != "11111" {
		t.Errorf("step 3: %+v", a)
	}
	for i := 0; i < 3; i++ {
		if a := p.Answer(ctx, pinPrompt, nil); a.Action != Enter || a.Input != "24680" {
			t.Errorf("then: %+v", a)
		}
	}
	// An override answers one prompt without consuming a step.
	p.Set(Behaviour{Steps: []Step{{Answer: AnswerIgnore}}, Then: Step{Answer: AnswerApprove}})
	if a := p.Answer(ctx, okPrompt, &Step{Answer: AnswerBusy}); a.Action != Busy {
		t.Errorf("override: %+v", a)
	}
	if a := p.Answer(ctx, okPrompt, nil); a.Action != Ignore {
		t.Errorf("after override, step 1 still due: %+v", a)
	}
}

func TestWrongPINOnOKPromptConfirms(t *testing.T) {
	t.Parallel()
	p := New(Behaviour{Then: Step{Answer: AnswerWrongPIN}}, 1)
	if a := p.Answer(context.Background(), okPrompt, nil); a.Action != Confirm {
		t.Errorf("wrong-pin on an OK prompt: %+v, want confirm", a)
	}
}

func TestWrongPINDiffersEveryDigit(t *testing.T) {
	t.Parallel()
	for _, pin := range []string{"00000", "12345", "99999", "24680"} {
		w := WrongPIN(pin, 5, 5)
		if len(w) != 5 {
			t.Fatalf("WrongPIN(%s) = %s", pin, w)
		}
		for i := range w {
			if w[i] == pin[i] {
				t.Errorf("WrongPIN(%s) = %s shares digit %d", pin, w, i)
			}
		}
	}
}

func TestJitterIsSeeded(t *testing.T) {
	t.Parallel()
	b := Behaviour{Then: Step{Answer: AnswerApprove, Delay: Duration(time.Second), Jitter: Duration(time.Second)}}
	var first []time.Duration
	for run := 0; run < 2; run++ {
		p := New(b, 42)
		for i := 0; i < 5; i++ {
			d := p.Answer(context.Background(), okPrompt, nil).Delay
			if d < time.Second || d >= 2*time.Second {
				t.Fatalf("delay %v outside [1s,2s)", d)
			}
			if run == 0 {
				first = append(first, d)
			} else if first[i] != d {
				t.Fatalf("run 2 delay %d = %v, run 1 had %v: not reproducible", i, d, first[i])
			}
		}
	}
	if first[0] == first[1] && first[1] == first[2] {
		t.Error("jitter gives the same delay every time")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, b := range []Behaviour{
		{Then: Step{Answer: "maybe"}},
		{Then: Step{}},
		{Then: Step{Answer: AnswerPIN}},
		{Then: Step{Answer: AnswerPIN, PIN: "12a45"}},
		{Steps: []Step{{Answer: AnswerApprove, Delay: -1}}, Then: Step{Answer: AnswerApprove}},
	} {
		if err := b.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", b)
		}
	}
}

func TestBehaviourJSON(t *testing.T) {
	t.Parallel()
	in := `{"steps":[{"answer":"wrong-pin"},{"answer":"approve","delay":"1.5s"}],"then":{"answer":"ignore"},"open_urls":false}`
	var b Behaviour
	if err := json.Unmarshal([]byte(in), &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Steps) != 2 || time.Duration(b.Steps[1].Delay) != 1500*time.Millisecond || b.Then.Answer != AnswerIgnore {
		t.Fatalf("decoded %+v", b)
	}
	out, _ := json.Marshal(b)
	var again Behaviour
	if err := json.Unmarshal(out, &again); err != nil || again.Steps[1].Delay != b.Steps[1].Delay {
		t.Fatalf("round trip: %s %v", out, err)
	}
}

func TestKeyword(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]*Step{
		"Login 4F2A":                 nil,
		"Login [cancel]":             {Answer: AnswerCancel},
		"[WRONG-PIN] Login":          {Answer: AnswerWrongPIN},
		"pay [delay=2s]":             {Answer: AnswerApprove, Delay: Duration(2 * time.Second)},
		"[ignore][delay=1s]":         {Answer: AnswerIgnore, Delay: Duration(time.Second)},
		"[pin=13579]":                {Answer: AnswerPIN, PIN: "13579"},
		"[pin=abc] [unknown] [delay": nil,
	} {
		got := Keyword(text)
		if (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("Keyword(%q) = %+v, want %+v", text, got, want)
		}
	}
}

func FuzzKeyword(f *testing.F) {
	for _, s := range []string{"[cancel]", "[delay=2s][pin=1]", "[[[]]]", "[delay=-1s]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if st := Keyword(s); st != nil {
			if err := st.validate(); err != nil {
				t.Fatalf("Keyword(%q) = %+v, invalid: %v", s, st, err)
			}
		}
	})
}

// TestQueueBeforeTheRest: queued answers go first, once each, then the
// script goes on where it was ("next time X, then as before").
func TestQueueBeforeTheRest(t *testing.T) {
	t.Parallel()
	p := New(Behaviour{Steps: []Step{{Answer: AnswerBusy}, {Answer: AnswerBack}}, Then: Step{Answer: AnswerCancel}}, 1)
	ctx := context.Background()
	if a := p.Answer(ctx, okPrompt, nil); a.Action != Busy {
		t.Fatalf("first: %v", a.Action)
	}
	p.Queue(Step{Answer: AnswerWrongPIN}, Step{Answer: AnswerApprove})
	var got []Action
	for range 5 {
		got = append(got, p.Answer(ctx, pinPrompt, nil).Action)
	}
	// wrong PIN typed (Enter), right PIN (Enter), then back, cancel, cancel.
	want := []Action{Enter, Enter, Back, Cancel, Cancel}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("answers %v, want %v", got, want)
		}
	}
	if err := ValidateSteps([]Step{{Answer: "dance"}}); err == nil {
		t.Error("ValidateSteps took an unknown answer")
	}
	if b := Always(AnswerIgnore); b.Then.Answer != AnswerIgnore || len(b.Steps) != 0 || !b.OpenURLs {
		t.Errorf("Always: %+v", b)
	}
}
