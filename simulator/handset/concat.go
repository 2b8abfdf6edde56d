package handset

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// DefaultReassemblyLimits bound the parts of concatenated text messages a
// phone holds while it waits for the rest (TS 23.040 §9.2.3.24.1): up to 8
// messages and 32 KiB at once, 16 KiB (about 115 parts of 140 octets) per
// message; a message still incomplete 2 minutes after its first part goes
// to the inbox as it is, its missing parts named. A fleet file's
// `reassembly:` section changes them for its phones (docs/fleet.md).
var DefaultReassemblyLimits = tpdu.ReassemblyLimits{
	MaxParts: 255, MaxBytes: 16 << 10, MaxAge: 2 * time.Minute,
	MaxPending: 8, MaxPendingBytes: 32 << 10,
}

// Reassembly holds the parts of a phone's concatenated text messages until
// all are in, with smsc/tpdu's Reassembler. It belongs to the phone, not
// to one Handset: a fleet phone whose handset is rebuilt keeps the parts
// it had (Config.Reassembly). It is safe for concurrent use.
type Reassembly struct {
	r *tpdu.Reassembler[textPart]
}

// textPart is one part of a text message: its coding and its user data
// without header (septets unpacked, one a byte), so that the parts are
// joined before decoding and a character cut between parts survives.
type textPart struct {
	dcs  tpdu.DCS
	data []byte
}

// NewReassembly returns a Reassembly bounded by l
// (DefaultReassemblyLimits for a phone).
func NewReassembly(l tpdu.ReassemblyLimits) (*Reassembly, error) {
	r, err := tpdu.NewReassembler[textPart](l)
	if err != nil {
		return nil, fmt.Errorf("handset: %w", err)
	}
	return &Reassembly{r: r}, nil
}

// Expire gives up the messages still incomplete at now past the limits'
// MaxAge and returns them as the inbox shows them: the text of the parts
// that arrived, Parts the number there should have been, Missing which
// ones never came. Nothing is offered to the person.
func (r *Reassembly) Expire(now time.Time) []Message {
	var out []Message
	for _, g := range r.r.Expire(now) {
		out = append(out, incomplete(g, now))
	}
	return out
}

// Pending returns how many messages wait for parts and the bytes held.
func (r *Reassembly) Pending() (messages, bytes int) { return r.r.Pending() }

// joinText decodes the parts that arrived as one text.
func joinText(g *tpdu.Group[textPart]) string {
	var dcs tpdu.DCS
	found := false
	var data []byte
	for i, p := range g.Parts {
		if !g.Have[i] {
			continue
		}
		if !found {
			dcs, found = p.dcs, true
		}
		data = append(data, p.data...)
	}
	if dcs.Compressed() {
		return ""
	}
	t, _, _ := tpdu.DecodeText(dcs.Alphabet(), data)
	return t
}

// IncompleteNote is the event that tells of m, a message given up with
// parts missing (Reassembly.Expire), in a phone's log.
func (m Message) IncompleteNote() string {
	return fmt.Sprintf("text from %s incomplete: part(s) %v of %d never arrived", m.From, m.Missing, m.Parts)
}

func incomplete(g *tpdu.Group[textPart], now time.Time) Message {
	return Message{From: g.Sender, Text: joinText(g), Parts: len(g.Parts), Missing: g.Missing(), Received: now}
}

func (h *Handset) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now()
	}
	return time.Now()
}

// inbox takes the SMS-DELIVERs of one delivery. Parts of a concatenated
// message wait in the phone's Reassembly until all are in (from this
// delivery or later ones); the whole text then reaches the inbox once, and
// a link in it is offered to the person. Parts without a concatenation
// element delivered together are one message, as before concatenation.
func (h *Handset) inbox(ctx context.Context, parts []*tpdu.Deliver) {
	now := h.now()
	var plain []*tpdu.Deliver
	for _, d := range parts {
		c, ok, err := d.UD.Concat()
		if err != nil {
			h.event("error", "text from %s: %v: shown as it is", d.OA.String(), err)
		}
		if !ok {
			plain = append(plain, d)
			continue
		}
		from := d.OA.String()
		a, err := h.reasm.r.Add(now, from, c, textPart{dcs: d.DCS, data: d.UD.Data}, len(d.UD.Data))
		for _, g := range a.GivenUp {
			h.deliverIncomplete(g, now)
		}
		switch {
		case err != nil:
			h.event("error", "part %d of %d of a text from %s: %v", c.Seq, c.Total, from, err)
		case a.Duplicate:
			h.event("sms_in", "part %d of %d of a text from %s again (reference %d): ignored", c.Seq, c.Total, from, c.Ref)
		case a.Complete == nil:
			h.event("sms_in", "part %d of %d of a text from %s (reference %d)", c.Seq, c.Total, from, c.Ref)
		default:
			h.deliverText(ctx, Message{From: from, Text: joinText(a.Complete), Parts: int(c.Total), Received: now})
		}
	}
	if len(plain) > 0 {
		var text strings.Builder
		for _, p := range plain {
			t, _, _ := p.UD.Text(p.DCS)
			text.WriteString(t)
		}
		h.deliverText(ctx, Message{From: plain[0].OA.String(), Text: text.String(), Parts: len(plain), Received: now})
	}
}

// deliverIncomplete puts a message given up with parts missing in the
// inbox.
func (h *Handset) deliverIncomplete(g *tpdu.Group[textPart], now time.Time) {
	m := incomplete(g, now)
	h.event("sms_in", "%s", m.IncompleteNote())
	if h.cfg.Inbox != nil {
		h.cfg.Inbox(m)
	}
}

// deliverText puts a whole text message in the inbox, once the person has
// seen the link in it, if any.
func (h *Handset) deliverText(ctx context.Context, m Message) {
	if u := urlPattern.FindString(m.Text); u != "" {
		m.URL = u
		a := h.cfg.Person.Answer(ctx, person.Prompt{Kind: person.URL, Text: m.Text, URL: u}, nil)
		if a.Action == person.Open && h.cfg.OpenURL != nil {
			if err := h.cfg.OpenURL(ctx, u); err != nil {
				h.event("url", "open %s failed: %v", u, err)
			} else {
				m.Opened = true
				h.event("url", "opened %s", u)
			}
		} else {
			h.event("url", "did not open %s", u)
		}
	}
	if h.cfg.Event != nil {
		h.emit("sms_in", receivedText(m.From, utf8.RuneCountInString(m.Text), m.Parts))
	}
	if h.cfg.Inbox != nil {
		h.cfg.Inbox(m)
	}
}
