package handset

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// textParts returns the SMS-DELIVER TPDUs of text as tpdu.Split cuts it,
// with an 8- or 16-bit reference.
func textParts(t *testing.T, from, text string, ref uint16, wide bool) [][]byte {
	t.Helper()
	dcs, data := tpdu.EncodeText(text)
	uds, err := tpdu.Split(dcs, data, nil, ref, wide)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(uds))
	for i, ud := range uds {
		d := &tpdu.Deliver{OA: tpdu.InternationalAddress(from), DCS: dcs, SCTS: time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC), UD: ud}
		if out[i], err = d.AppendBinary(nil); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// inboxHandset is a handset whose person opens links, on a clock the test
// moves, recording its inbox, the links opened and the prompts offered.
type inboxHandset struct {
	*Handset
	now     time.Time
	inbox   []Message
	opened  []string
	reasm   *Reassembly
	prompts int
}

type countingPerson struct {
	h *inboxHandset
	p *person.Person
}

func (c countingPerson) Answer(ctx context.Context, pr person.Prompt, o *person.Step) person.Answer {
	c.h.prompts++
	return c.p.Answer(ctx, pr, o)
}

func newInboxHandset(t *testing.T, l tpdu.ReassemblyLimits) *inboxHandset {
	h := &inboxHandset{now: time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)}
	r, err := NewReassembly(l)
	if err != nil {
		t.Fatal(err)
	}
	h.reasm = r
	h.Handset = New(Config{Card: newCard(t, &scriptApplet{}), Person: countingPerson{h, person.New(person.Default(), 1)},
		Reassembly: r, Now: func() time.Time { return h.now },
		Inbox:   func(m Message) { h.inbox = append(h.inbox, m) },
		OpenURL: func(ctx context.Context, u string) error { h.opened = append(h.opened, u); return nil }})
	return h
}

func (h *inboxHandset) deliver(t *testing.T, tpdus ...[]byte) {
	t.Helper()
	if _, err := h.DeliverSMS(t.Context(), tpdus); err != nil {
		t.Fatal(err)
	}
}

// TestConcatenatedTextReassembled: the parts of a long text, delivered one
// by one in any order, with repeats, 8- or 16-bit references, or all in
// one delivery, reach the inbox once, whole, and the link that spans two
// parts is opened. (A part repeated after its message completed starts a
// new one: the reference alone cannot tell it from the next message.)
func TestConcatenatedTextReassembled(t *testing.T) {
	link := "http://127.0.0.1:8775/l/" + strings.Repeat("0123456789abcdef", 3)
	gsm := strings.Repeat("Example Bank: login from a new device in Berlin. ", 3) + link
	ucs2 := strings.Repeat("Вход в банк с нового устройства. ", 4) + link // Cyrillic: UCS2
	for _, tc := range []struct {
		name  string
		text  string
		wide  bool
		order []int // indexes of parts, one delivery each; nil: all in one
	}{
		{"in order, 8-bit", gsm, false, []int{0, 1}},
		{"reversed, 16-bit", gsm, true, []int{1, 0}},
		{"repeated part", gsm, false, []int{1, 1, 0}},
		{"one delivery", gsm, false, nil},
		{"UCS2, shuffled", ucs2, false, []int{2, 0, 3, 1}},
	} {
		h := newInboxHandset(t, DefaultReassemblyLimits)
		parts := textParts(t, "99955500", tc.text, 0x1234, tc.wide)
		if len(parts) < 2 {
			t.Fatalf("%s: %d part(s)", tc.name, len(parts))
		}
		if tc.order == nil {
			h.deliver(t, parts...)
		}
		for _, i := range tc.order {
			h.deliver(t, parts[i])
			h.now = h.now.Add(time.Second)
		}
		if len(h.inbox) != 1 {
			t.Fatalf("%s: inbox %+v", tc.name, h.inbox)
		}
		m := h.inbox[0]
		if m.Text != tc.text || m.URL != link || !m.Opened || m.Parts != len(parts) || m.Missing != nil || m.From != "+99955500" {
			t.Errorf("%s: %+v", tc.name, m)
		}
		if !slices.Equal(h.opened, []string{link}) || h.prompts != 1 {
			t.Errorf("%s: opened %v after %d prompts", tc.name, h.opened, h.prompts)
		}
		if n, b := h.reasm.Pending(); n != 0 || b != 0 {
			t.Errorf("%s: %d messages, %d bytes still pending", tc.name, n, b)
		}
	}
}

// TestConcatenatedTextTimeout: a text missing a part waits
// DefaultReassemblyLimits.MaxAge, then reaches the inbox as it is, its
// missing part named, its link not offered to the person; the part
// arriving later is a message of its own.
func TestConcatenatedTextTimeout(t *testing.T) {
	h := newInboxHandset(t, DefaultReassemblyLimits)
	text := strings.Repeat("abcdefghij", 40) + " http://127.0.0.1:8775/l/x"
	parts := textParts(t, "99955500", text, 7, false)
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	h.deliver(t, parts[0])
	h.deliver(t, parts[2])
	h.now = h.now.Add(DefaultReassemblyLimits.MaxAge - time.Second)
	if got := h.reasm.Expire(h.now); len(got) != 0 || len(h.inbox) != 0 {
		t.Fatalf("given up early: %+v %+v", got, h.inbox)
	}
	h.now = h.now.Add(time.Second)
	got := h.reasm.Expire(h.now)
	if len(got) != 1 {
		t.Fatalf("expired %+v", got)
	}
	m := got[0]
	if m.Parts != 3 || !slices.Equal(m.Missing, []int{2}) || m.URL != "" || m.Opened || !strings.HasPrefix(m.Text, "abcdefghij") || len(m.Text) >= len(text) {
		t.Errorf("incomplete %+v", m)
	}
	if h.prompts != 0 || len(h.opened) != 0 {
		t.Errorf("an incomplete text offered its link: %d prompts, %v", h.prompts, h.opened)
	}
	// An Add also gives up what expired: through the inbox.
	h.deliver(t, textParts(t, "99955501", text, 8, false)[0])
	h.now = h.now.Add(DefaultReassemblyLimits.MaxAge)
	h.deliver(t, parts[1])
	if len(h.inbox) != 1 || h.inbox[0].From != "+99955501" || !slices.Equal(h.inbox[0].Missing, []int{2, 3}) {
		t.Fatalf("inbox %+v", h.inbox)
	}
	if n, _ := h.reasm.Pending(); n != 1 {
		t.Errorf("the late part: %d pending, want 1", n)
	}
}

// TestConcatenatedTextLimits: more messages than MaxPending, or more bytes
// than MaxPendingBytes, waiting at once give the oldest up (to the inbox,
// incomplete); a message over MaxBytes is refused; memory stays bounded.
func TestConcatenatedTextLimits(t *testing.T) {
	l := tpdu.ReassemblyLimits{MaxParts: 8, MaxBytes: 400, MaxAge: time.Minute, MaxPending: 2, MaxPendingBytes: 500}
	h := newInboxHandset(t, l)
	text := strings.Repeat("x", 300)
	for i := range 3 {
		h.deliver(t, textParts(t, fmt.Sprint(9995550+i), text, 1, false)[0])
		h.now = h.now.Add(time.Second)
	}
	if len(h.inbox) != 1 || h.inbox[0].From != "+9995550" || !slices.Equal(h.inbox[0].Missing, []int{2}) {
		t.Fatalf("MaxPending: inbox %+v", h.inbox)
	}
	if n, b := h.reasm.Pending(); n != 2 || b > l.MaxPendingBytes {
		t.Errorf("pending %d messages, %d bytes", n, b)
	}
	// Bytes: a third part of 153 septets passes 500 held bytes.
	h.deliver(t, textParts(t, "9995551", text, 1, false)[1])
	if n, b := h.reasm.Pending(); n != 1 || b > l.MaxPendingBytes {
		t.Errorf("MaxPendingBytes: pending %d messages, %d bytes", n, b)
	}
	// Too long for MaxBytes: refused, said in the log, nothing kept.
	h = newInboxHandset(t, l)
	var events []string
	h.cfg.Event = func(e Event) { events = append(events, e.Detail) }
	long := textParts(t, "9995559", strings.Repeat("y", 600), 2, false)
	h.deliver(t, long[:3]...)
	if n, b := h.reasm.Pending(); n != 0 || b != 0 || len(h.inbox) != 0 || !strings.Contains(strings.Join(events, "\n"), "over the reassembly limit") {
		t.Errorf("over MaxBytes: pending %d/%d, inbox %+v, events %q", n, b, h.inbox, events)
	}
}
