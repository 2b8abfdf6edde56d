package person

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// askAsync runs Ask in the background and hands back the prompt it
// showed (through OnChange) and its answer.
func askAsync(t *testing.T, h *Human, ctx context.Context, pr Prompt) (PromptState, <-chan Answer) {
	t.Helper()
	shown := make(chan PromptState, 2)
	h.OnChange = func(st PromptState) {
		if st.Open {
			shown <- st
		}
	}
	out := make(chan Answer, 1)
	go func() { out <- h.Ask(ctx, "99900000001", pr) }()
	select {
	case st := <-shown:
		return st, out
	case <-time.After(10 * time.Second):
		t.Fatal("prompt never shown")
	}
	return PromptState{}, nil
}

func TestHumanEntersPIN(t *testing.T) {
	t.Parallel()
	h := &Human{}
	st, out := askAsync(t, h, context.Background(), Prompt{Kind: Input, Text: "Enter PIN", Hidden: true, DigitsOnly: true, MinLen: 5, MaxLen: 5, PIN: "12345"})
	if st.Kind != "input" || !st.Hidden || st.MinLen != 5 || st.MSISDN != "99900000001" {
		t.Fatalf("shown %+v", st)
	}
	if p := h.Pending("99900000001"); len(p) != 1 || p[0].ID != st.ID {
		t.Fatalf("pending %+v", p)
	}
	// A keypad refuses what the prompt cannot take, and the prompt stays.
	for _, bad := range []Reply{{Action: "ok", Input: "1234"}, {Action: "ok", Input: "12a45"}, {Action: "dance"}} {
		if _, err := h.Reply(st.ID, bad); !errors.Is(err, ErrReply) {
			t.Errorf("reply %+v: %v", bad, err)
		}
	}
	replied, err := h.Reply(st.ID, Reply{Action: "ok", Input: "54321"})
	if err != nil {
		t.Fatal(err)
	}
	// The answer to the reply says the prompt is over, and how.
	if replied.ID != st.ID || replied.Open || replied.Result != "enter" {
		t.Errorf("replied %+v: want closed, result enter", replied)
	}
	if a := <-out; a.Action != Enter || a.Input != "54321" {
		t.Fatalf("answer %+v", a)
	}
	if _, err := h.Reply(st.ID, Reply{Action: "ok", Input: "54321"}); !errors.Is(err, ErrNoPrompt) {
		t.Fatalf("second reply: %v", err)
	}
	if p := h.Pending(""); len(p) != 0 {
		t.Fatalf("still pending %+v", p)
	}
}

func TestHumanCancelsAndTimesOut(t *testing.T) {
	t.Parallel()
	h := &Human{}
	st, out := askAsync(t, h, context.Background(), Prompt{Kind: Display, Text: "Log in to Bank?"})
	if _, err := h.Reply(st.ID, Reply{Action: "cancel"}); err != nil {
		t.Fatal(err)
	}
	if a := <-out; a.Action != Cancel {
		t.Fatalf("answer %+v", a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	_, out = askAsync(t, h, ctx, Prompt{Kind: SelectItem, Items: []string{"a", "b"}})
	go func() {
		a := <-out
		if a.Action != Ignore {
			t.Errorf("answer %+v", a)
		}
		close(done)
	}()
	cancel() // the prompt's timeout passes
	<-done
}

// TestPersonHumanStep: a behaviour step "human" asks the human, even when
// the binding message holds a keyword; without a human, nobody answers.
func TestPersonHumanStep(t *testing.T) {
	t.Parallel()
	p := New(Behaviour{Then: Step{Answer: AnswerHuman}}, 1)
	if a := p.Answer(context.Background(), Prompt{Kind: Display}, &Step{Answer: AnswerApprove}); a.Action != Ignore {
		t.Fatalf("no human: %+v", a)
	}
	var asked Prompt
	p.SetHuman(func(_ context.Context, pr Prompt) Answer { asked = pr; return Answer{Action: Cancel} })
	if a := p.Answer(context.Background(), Prompt{Kind: Display, Text: "x [approve]"}, &Step{Answer: AnswerApprove}); a.Action != Cancel || asked.Text != "x [approve]" {
		t.Fatalf("answer %+v asked %+v", a, asked)
	}
	if err := (Behaviour{Then: Step{Answer: AnswerHuman}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// FuzzHumanReply: whatever a client posts, a reply is refused or fits the
// prompt it answers (lengths and digits of a GET INPUT, the items of a
// SELECT ITEM), and never panics.
func FuzzHumanReply(f *testing.F) {
	f.Add(uint8(Input), "ok", "12345", 0)
	f.Add(uint8(Input), "ok", "12a45", 0)
	f.Add(uint8(Display), "cancel", "", 0)
	f.Add(uint8(SelectItem), "ok", "", 3)
	f.Add(uint8(Inkey), "ok", "y", 0)
	f.Add(uint8(URL), "open", "", 0)
	f.Add(uint8(Input), "OK", "１２３４５", 0)
	f.Fuzz(func(t *testing.T, kind uint8, action, input string, item int) {
		st := PromptState{answerKind: PromptKind(kind%5 + 1), DigitsOnly: true, MinLen: 5, MaxLen: 5, Items: []string{"a", "b"}}
		a, err := st.answer(Reply{Action: action, Input: input, Item: item})
		if err != nil {
			return
		}
		switch {
		case a.Action == Enter && st.answerKind == Input && (len(a.Input) != 5 || strings.Trim(a.Input, "0123456789") != ""):
			t.Fatalf("input %q accepted", a.Input)
		case a.Action == Choose && (a.Item < 1 || a.Item > 2):
			t.Fatalf("item %d accepted", a.Item)
		}
	})
}
