package modem

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/warthog618/modem/at"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

// Kind says how a received message reached the terminal.
type Kind string

// Kinds of Event.
const (
	// KindDeliver is an SMS-DELIVER routed directly to the TE (+CMT).
	KindDeliver Kind = "deliver"
	// KindStored is an SMS-DELIVER stored by the modem and announced
	// with +CMTI; Listen reads it with +CMGR and deletes it with +CMGD.
	KindStored Kind = "stored"
	// KindStatusReport is an SMS-STATUS-REPORT (+CDS, or +CDSI then read).
	KindStatusReport Kind = "status-report"
	// KindError is a notification the modem sent that could not be
	// decoded or read; Err says why.
	KindError Kind = "error"
)

// Event is a message or a receipt the modem received.
type Event struct {
	Kind Kind `json:"kind"`
	// Time is when the event was read from the modem.
	Time time.Time `json:"time"`
	// SMSC is the service centre address from the PDU, if any.
	SMSC string `json:"smsc,omitempty"`
	// From is TP-OA (SMS-DELIVER).
	From string `json:"from,omitempty"`
	// Text is the decoded text of a 7-bit or UCS2 message, reassembled
	// from all segments of a concatenated one.
	Text string `json:"text,omitempty"`
	// Data is the user data of an 8-bit message (all segments), without
	// the user data header; hex in JSON.
	Data HexBytes `json:"data,omitempty"`
	// PID and DCS are TP-PID and TP-DCS of the (first) segment.
	PID byte `json:"pid"`
	DCS byte `json:"dcs"`
	// SCTS is the service centre time stamp.
	SCTS time.Time `json:"scts,omitempty"`
	// Segments is the number of TPDUs the message came in.
	Segments int `json:"segments,omitempty"`
	// Memory and Index locate a stored message (KindStored) before it was
	// deleted.
	Memory string `json:"memory,omitempty"`
	Index  int    `json:"index,omitempty"`
	// MR, Recipient and Status describe a status report: the reference of
	// the message it reports on, TP-RA and TP-ST (TS 23.040 §9.2.3.15;
	// 0 = delivered).
	MR        int    `json:"mr,omitempty"`
	Recipient string `json:"recipient,omitempty"`
	Status    *byte  `json:"status,omitempty"`
	// TPDUs holds every TPDU of the message, hex encoded.
	TPDUs []string `json:"tpdus,omitempty"`
	// Err is the reason of a KindError event.
	Err string `json:"error,omitempty"`
}

// HexBytes is a byte slice shown as hex in JSON.
type HexBytes []byte

// MarshalJSON encodes b as a hex string.
func (b HexBytes) MarshalJSON() ([]byte, error) {
	return []byte(`"` + hex.EncodeToString(b) + `"`), nil
}

// UnmarshalJSON decodes a hex string.
func (b *HexBytes) UnmarshalJSON(data []byte) error {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return fmt.Errorf("modem: hex bytes: want a JSON string, got %s", data)
	}
	v, err := hex.DecodeString(string(data[1 : len(data)-1]))
	if err != nil {
		return fmt.Errorf("modem: hex bytes: %w", err)
	}
	*b = v
	return nil
}

// Delivered reports a status report saying the message reached the
// recipient (TP-ST 0x00..0x1F, TS 23.040 §9.2.3.15).
func (e Event) Delivered() bool { return e.Status != nil && *e.Status < 0x20 }

// ListenOptions tune Listen.
type ListenOptions struct {
	// Store routes new messages into the modem's memory with +CMTI
	// (AT+CNMI=2,1,…) instead of directly with +CMT (AT+CNMI=2,2,…).
	Store bool
	// Now stamps events; time.Now when nil.
	Now func() time.Time
	// Ready, when set, is called once the modem has accepted AT+CNMI and
	// notifications flow.
	Ready func()
}

// notification is one indication with its trailing line.
type notification struct{ lines []string }

// Listen asks the modem to pass new messages and status reports to the
// terminal (AT+CNMI, TS 27.005 §3.4.1) and calls fn, from Listen's own
// goroutine, for every message, reassembled concatenated message and
// status report, until ctx is done. It handles +CMT and +CDS (PDU on the
// next line, acknowledged with +CNMA), +CMTI and +CDSI (read with +CMGR,
// then deleted with +CMGD). On return the indications are switched off
// again.
func (m *Modem) Listen(ctx context.Context, opts ListenOptions, fn func(Event)) error {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	notes := make(chan notification, 64)
	handler := func(lines []string) {
		select {
		case notes <- notification{lines: append([]string(nil), lines...)}:
		case <-ctx.Done():
		}
	}
	type ind struct {
		prefix   string
		trailing bool
	}
	inds := []ind{{"+CMT:", true}, {"+CDS:", true}, {"+CMTI:", false}, {"+CDSI:", false}}
	m.indMu.Lock()
	var added []string
	var err error
	for _, i := range inds {
		var opt []at.IndicationOption
		if i.trailing {
			opt = append(opt, at.WithTrailingLine)
		}
		if err = m.g.AddIndication(i.prefix, handler, opt...); err != nil {
			break
		}
		added = append(added, i.prefix)
	}
	m.indMu.Unlock()
	defer func() {
		m.indMu.Lock()
		for _, p := range added {
			m.g.CancelIndication(p)
		}
		m.indMu.Unlock()
	}()
	if err != nil {
		return fmt.Errorf("modem: listen: %w", err)
	}
	mt := 2
	if opts.Store {
		mt = 1
	}
	if _, err := m.Command(ctx, fmt.Sprintf("+CNMI=2,%d,0,1,0", mt)); err != nil {
		// Some modems refuse <ds>=1; ask for stored status reports instead.
		if _, err2 := m.Command(ctx, fmt.Sprintf("+CNMI=2,%d,0,2,0", mt)); err2 != nil {
			return fmt.Errorf("modem: listen: %w", err)
		}
	}
	defer func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.timeout)
		defer cancel()
		_, _ = m.Command(c, "+CNMI=0,0,0,0,0")
	}()
	col := sms.NewCollector()
	defer col.Close()
	if opts.Ready != nil {
		opts.Ready()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.Closed():
			return fmt.Errorf("modem: listen: %w", at.ErrClosed)
		case n := <-notes:
			for _, e := range m.handle(ctx, n.lines, col) {
				e.Time = now()
				fn(e)
			}
		}
	}
}

// handle turns one notification into events.
func (m *Modem) handle(ctx context.Context, lines []string, col *sms.Collector) []Event {
	head := lines[0]
	errEvent := func(err error) []Event { return []Event{{Kind: KindError, Err: err.Error()}} }
	switch {
	case len(lines) == 2 && (hasPrefix(head, "+CMT:") || hasPrefix(head, "+CDS:")):
		prefix := head[:4]
		_, _ = m.Command(ctx, "+CNMA")
		smsc, tp, err := ParseCMT(prefix, head, lines[1])
		if err != nil {
			return errEvent(err)
		}
		return m.decode(smsc, tp, KindDeliver, col, "", 0)
	case hasPrefix(head, "+CMTI:") || hasPrefix(head, "+CDSI:"):
		prefix := head[:5]
		mem, idx, err := ParseCMTI(head, prefix)
		if err != nil {
			return errEvent(err)
		}
		smsc, tp, err := m.readStored(ctx, mem, idx)
		if err != nil {
			return errEvent(err)
		}
		return m.decode(smsc, tp, KindStored, col, mem, idx)
	}
	return errEvent(fmt.Errorf("%w: unexpected notification %q", ErrMalformed, lines))
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// readStored reads message idx from memory mem (AT+CPMS, AT+CMGR) and
// deletes it (AT+CMGD).
func (m *Modem) readStored(ctx context.Context, mem string, idx int) (string, []byte, error) {
	if mem != "" {
		if _, err := m.Command(ctx, fmt.Sprintf(`+CPMS="%s"`, mem)); err != nil {
			return "", nil, err
		}
	}
	lines, err := m.Command(ctx, fmt.Sprintf("+CMGR=%d", idx))
	if err != nil {
		return "", nil, err
	}
	for i, l := range lines {
		if hasPrefix(l, "+CMGR:") && i+1 < len(lines) {
			smsc, tp, err := ParseCMT("+CMGR", l, lines[i+1])
			if err != nil {
				return "", nil, err
			}
			if _, err := m.Command(ctx, fmt.Sprintf("+CMGD=%d", idx)); err != nil {
				return "", nil, err
			}
			return smsc, tp, nil
		}
	}
	return "", nil, fmt.Errorf("%w: +CMGR=%d answered %q", ErrMalformed, idx, lines)
}

// decode turns a received TPDU into an event, reassembling concatenated
// messages with col (it returns nothing until the last segment arrives).
func (m *Modem) decode(smsc string, tp []byte, kind Kind, col *sms.Collector, mem string, idx int) []Event {
	var t tpdu.TPDU
	t.Direction = tpdu.MT
	if err := t.UnmarshalBinary(tp); err != nil {
		return []Event{{Kind: KindError, Err: fmt.Sprintf("modem: TPDU %X: %v", tp, err)}}
	}
	switch t.SmsType() {
	case tpdu.SmsStatusReport:
		st := t.ST
		return []Event{{Kind: KindStatusReport, SMSC: smsc, MR: int(t.MR), Recipient: t.RA.Number(),
			Status: &st, SCTS: t.SCTS.Time, Memory: mem, Index: idx, TPDUs: []string{fmt.Sprintf("%X", tp)}}}
	case tpdu.SmsDeliver:
	default:
		return []Event{{Kind: KindError, Err: fmt.Sprintf("modem: unexpected %s TPDU %X", t.SmsType(), tp)}}
	}
	segs, err := col.Collect(t)
	if err != nil {
		return []Event{{Kind: KindError, Err: fmt.Sprintf("modem: reassembly: %v", err)}}
	}
	if segs == nil {
		return nil
	}
	e := Event{Kind: kind, SMSC: smsc, From: segs[0].OA.Number(), PID: segs[0].PID, DCS: byte(segs[0].DCS),
		SCTS: segs[0].SCTS.Time, Segments: len(segs), Memory: mem, Index: idx}
	for _, s := range segs {
		b, err := s.MarshalBinary()
		if err == nil {
			e.TPDUs = append(e.TPDUs, hex.EncodeToString(b))
		}
	}
	if a, err := segs[0].DCS.Alphabet(); err == nil && a == tpdu.Alpha8Bit {
		for _, s := range segs {
			e.Data = append(e.Data, s.UD...)
		}
		return []Event{e}
	}
	text, err := sms.Decode(segs)
	if err != nil {
		e.Kind, e.Err = KindError, fmt.Sprintf("modem: decode text: %v", err)
		return []Event{e}
	}
	e.Text = string(text)
	return []Event{e}
}
