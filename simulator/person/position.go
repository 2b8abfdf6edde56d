package person

import (
	"errors"
	"fmt"
)

// Position is where a person is in its behaviour: the step the next prompt
// takes and, when a step has jitter, the state of the seeded random source
// that draws it. A person made again with the same behaviour and given its
// Position answers from there as the first one would have (simlab keeps it
// for phones it frees or restarts with).
type Position struct {
	// Next is the index of the step the next prompt takes.
	Next int `json:"next,omitempty"`
	// Rand is the random source's state (math/rand/v2 PCG binary form);
	// empty when no step draws jitter.
	Rand []byte `json:"rand,omitempty"`
}

// Position returns where the person is in its behaviour.
func (p *Person) Position() Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	pos := Position{Next: p.next}
	if p.b.jitters() {
		pos.Rand, _ = p.src.MarshalBinary() // never fails
	}
	return pos
}

// jitters reports whether any step draws a random part.
func (b Behaviour) jitters() bool {
	if b.Then.Jitter > 0 {
		return true
	}
	for _, s := range b.Steps {
		if s.Jitter > 0 {
			return true
		}
	}
	return false
}

// ErrPosition reports a Position that does not fit the behaviour.
var ErrPosition = errors.New("person: invalid position")

// Restore continues the behaviour from pos, a Position of a person playing
// the same behaviour. A step beyond the behaviour's or a random state that
// does not decode is refused, and the person is left as it was.
func (p *Person) Restore(pos Position) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pos.Next < 0 || pos.Next > len(p.b.Steps) {
		return fmt.Errorf("%w: step %d of a behaviour with %d steps", ErrPosition, pos.Next, len(p.b.Steps))
	}
	if len(pos.Rand) > 0 {
		// Decode into a copy so that a bad state leaves the source as it
		// was.
		src := *p.src
		if err := src.UnmarshalBinary(pos.Rand); err != nil {
			return fmt.Errorf("%w: random state: %w", ErrPosition, err)
		}
		*p.src = src
	}
	p.next = pos.Next
	return nil
}
