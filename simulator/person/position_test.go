package person

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestPositionRestore: a person made again with the same behaviour and
// given the first one's Position answers the same from there on, jitter
// included; a Position that does not fit is refused and changes nothing.
func TestPositionRestore(t *testing.T) {
	t.Parallel()
	b := Behaviour{
		Steps: []Step{{Answer: AnswerCancel}, {Answer: AnswerWrongPIN, Jitter: Duration(time.Second)}, {Answer: AnswerBusy, Jitter: Duration(time.Second)}},
		Then:  Step{Answer: AnswerApprove, Jitter: Duration(time.Second)},
	}
	ctx := context.Background()
	pr := Prompt{Kind: Input, PIN: "12345", MinLen: 5, MaxLen: 5}
	a := New(b, 42)
	a.Answer(ctx, pr, nil)
	a.Answer(ctx, pr, nil)
	pos := a.Position()
	if pos.Next != 2 || len(pos.Rand) == 0 {
		t.Fatalf("position %+v, want step 2 with a random state", pos)
	}
	c := New(b, 7) // another seed: the state comes from pos
	if err := c.Restore(pos); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		want, got := a.Answer(ctx, pr, nil), c.Answer(ctx, pr, nil)
		if want != got {
			t.Errorf("answer %d after restore: %+v, want %+v", i, got, want)
		}
	}
	if _, next := c.Behaviour(); next != 3 {
		t.Errorf("next step %d, want 3", next)
	}
	// Without jitter there is no random state to keep.
	if pos := New(Default(), 1).Position(); pos.Rand != nil || pos.Next != 0 {
		t.Errorf("default behaviour position %+v", pos)
	}
	for _, bad := range []Position{{Next: 4}, {Next: -1}, {Next: 1, Rand: []byte("pcg:short")}} {
		d := New(b, 42)
		if err := d.Restore(bad); !errors.Is(err, ErrPosition) {
			t.Errorf("Restore(%+v): %v, want ErrPosition", bad, err)
		}
		if pos := d.Position(); pos.Next != 0 || string(pos.Rand) != string(New(b, 42).Position().Rand) {
			t.Errorf("a refused position changed the person: %+v", pos)
		}
	}
}
