package person

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// AnswerHuman in a behaviour step hands the prompt to a person at the web
// page (or any client of the control API): the phone shows it and waits,
// up to the prompt's timeout, for someone to answer it (Human).
const AnswerHuman = "human"

// Human is the person of phones whose behaviour says "human": people
// answering prompts from elsewhere, the web page's virtual handset or any
// API client. It is the remote twin of Interactive (the terminal): Ask
// shows a prompt (it becomes Pending) and waits until Reply answers it or
// its deadline passes, when the person "does not answer" (Ignore) and the
// handset reports no response from the user (TS 102 223 §8.12, result 12).
// The answer goes back to the card as a TERMINAL RESPONSE exactly like a
// scripted person's.
//
// The zero value is ready. It is safe for concurrent use.
type Human struct {
	// Timeout applies when Ask's context has no deadline (default
	// DefaultInteractiveTimeout).
	Timeout time.Duration
	// OnChange, when set, is told of every prompt shown (Open) and of its
	// end (answered or expired). It must not block.
	OnChange func(PromptState)

	mu      sync.Mutex
	seq     uint64
	pending map[string]*humanPrompt
}

// PromptState is a prompt shown to a human: what the screen shows and, once
// it is over, how it ended. It never holds the card's PIN or what was
// typed into a hidden field.
type PromptState struct {
	ID     string `json:"id"`
	MSISDN string `json:"msisdn"`
	// Kind is display, input, inkey, select or url.
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	Hidden     bool      `json:"hidden,omitempty"`
	DigitsOnly bool      `json:"digits_only,omitempty"`
	MinLen     int       `json:"min_len,omitempty"`
	MaxLen     int       `json:"max_len,omitempty"`
	Items      []string  `json:"items,omitempty"`
	URL        string    `json:"url,omitempty"`
	Shown      time.Time `json:"shown"`
	Deadline   time.Time `json:"deadline"`
	// Open is true while the prompt waits; then Result says how it ended:
	// the action taken ("confirm", "enter", "cancel", …) or "timeout".
	Open   bool   `json:"open"`
	Result string `json:"result,omitempty"`

	answerKind PromptKind
}

// Reply is a human's answer to a prompt (the body of POST
// /api/v1/prompts/{id}).
type Reply struct {
	// Action is ok (confirm, or enter Input, or choose Item, as the
	// prompt needs), cancel, back, busy (the phone cannot show it),
	// ignore (no answer: the phone reports no response once the prompt's
	// timeout passes), or for a link: open or skip.
	Action string `json:"action"`
	// Input is the text or PIN typed into a GET INPUT or GET INKEY.
	Input string `json:"input,omitempty"`
	// Item is the 1-based item chosen in a SELECT ITEM.
	Item int `json:"item,omitempty"`
}

// Errors of Reply.
var (
	// ErrNoPrompt: no prompt with this id is waiting (never shown,
	// answered already, or expired).
	ErrNoPrompt = errors.New("person: no such prompt is waiting")
	// ErrReply: the reply does not fit the prompt (wrong length, not
	// digits, no such item, unknown action).
	ErrReply = errors.New("person: reply does not fit the prompt")
)

type humanPrompt struct {
	state  PromptState
	answer chan Answer // buffered 1: Reply never blocks
}

// Ask shows pr on phone msisdn and waits for a Reply, until ctx's deadline
// (or Timeout without one). It implements the "human" step of a Behaviour.
func (h *Human) Ask(ctx context.Context, msisdn string, pr Prompt) Answer {
	ctx, cancel := promptDeadline(ctx, h.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	shown := time.Now()
	h.mu.Lock()
	if h.pending == nil {
		h.pending = map[string]*humanPrompt{}
	}
	h.seq++
	hp := &humanPrompt{answer: make(chan Answer, 1), state: PromptState{
		ID: strconv.FormatUint(h.seq, 10), MSISDN: msisdn, Kind: pr.Kind.String(), Text: pr.Text,
		Hidden: pr.Hidden, DigitsOnly: pr.DigitsOnly, MinLen: pr.MinLen, MaxLen: pr.MaxLen,
		Items: slices.Clone(pr.Items), URL: pr.URL, Shown: shown, Deadline: deadline, Open: true,
	}}
	hp.state.answerKind = pr.Kind
	h.pending[hp.state.ID] = hp
	st := hp.state
	h.mu.Unlock()
	h.changed(st)
	var a Answer
	select {
	case a = <-hp.answer:
	case <-ctx.Done():
		a = Answer{Action: Ignore}
	}
	h.mu.Lock()
	delete(h.pending, hp.state.ID)
	st = hp.state
	h.mu.Unlock()
	st.closed(a)
	h.changed(st)
	// The person took this long; the handset waits no longer.
	a.Delay = time.Since(shown)
	return a
}

func (h *Human) changed(st PromptState) {
	if h.OnChange != nil {
		h.OnChange(st)
	}
}

// Pending returns the prompts waiting for an answer, oldest first, of one
// phone (msisdn) or of every phone ("").
func (h *Human) Pending(msisdn string) []PromptState {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []PromptState{}
	for _, hp := range h.pending {
		if msisdn == "" || hp.state.MSISDN == msisdn {
			out = append(out, hp.state)
		}
	}
	slices.SortFunc(out, func(a, b PromptState) int { return a.Shown.Compare(b.Shown) })
	return out
}

// Reply answers the waiting prompt id. It checks the reply against the
// prompt (GET INPUT lengths and digits, SELECT ITEM range) so that a
// mistyped PIN is refused here, as a phone's keypad would, rather than
// counted against the card.
func (h *Human) Reply(id string, r Reply) (PromptState, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hp := h.pending[id]
	if hp == nil {
		return PromptState{}, fmt.Errorf("%w: %s", ErrNoPrompt, id)
	}
	a, err := hp.state.answer(r)
	if err != nil {
		return hp.state, err
	}
	select {
	case hp.answer <- a:
	default:
		return hp.state, fmt.Errorf("%w: %s (answered already)", ErrNoPrompt, id)
	}
	delete(h.pending, id) // answered: no second reply
	st := hp.state
	st.closed(a) // as Ask will record it: the reply's caller sees it over
	return st, nil
}

// closed marks st answered with a: no longer open, and how it ended
// (ignoring a prompt is "no response from the user": timeout).
func (st *PromptState) closed(a Answer) {
	st.Open = false
	st.Result = a.Action.String()
	if a.Action == Ignore {
		st.Result = "timeout"
	}
}

// answer turns a reply into the person's answer to st.
func (st *PromptState) answer(r Reply) (Answer, error) {
	act := strings.ToLower(strings.TrimSpace(r.Action))
	if st.answerKind == URL {
		switch act {
		case "open", "ok":
			return Answer{Action: Open}, nil
		case "skip", "cancel", "ignore":
			return Answer{Action: Skip}, nil
		}
		return Answer{}, fmt.Errorf("%w: a link is opened (open) or not (skip), not %q", ErrReply, r.Action)
	}
	switch act {
	case "cancel":
		return Answer{Action: Cancel}, nil
	case "back":
		return Answer{Action: Back}, nil
	case "busy":
		return Answer{Action: Busy}, nil
	case "ignore":
		return Answer{Action: Ignore}, nil
	case "ok", "confirm", "enter", "choose":
	default:
		return Answer{}, fmt.Errorf("%w: unknown action %q (want ok, cancel, back, busy or ignore)", ErrReply, r.Action)
	}
	switch st.answerKind {
	case Input:
		n := utf8.RuneCountInString(r.Input)
		if st.DigitsOnly && strings.Trim(r.Input, "0123456789") != "" {
			return Answer{}, fmt.Errorf("%w: digits only", ErrReply)
		}
		if (st.MinLen > 0 && n < st.MinLen) || (st.MaxLen > 0 && n > st.MaxLen) {
			return Answer{}, fmt.Errorf("%w: want %scharacters, got %d", ErrReply, lengths(st.MinLen, st.MaxLen), n)
		}
		return Answer{Action: Enter, Input: r.Input}, nil
	case Inkey:
		if utf8.RuneCountInString(r.Input) != 1 {
			return Answer{}, fmt.Errorf("%w: one key", ErrReply)
		}
		return Answer{Action: Enter, Input: strings.ToUpper(r.Input)}, nil
	case SelectItem:
		if r.Item < 1 || r.Item > len(st.Items) {
			return Answer{}, fmt.Errorf("%w: an item from 1 to %d", ErrReply, len(st.Items))
		}
		return Answer{Action: Choose, Item: r.Item}, nil
	}
	return Answer{Action: Confirm}, nil
}
