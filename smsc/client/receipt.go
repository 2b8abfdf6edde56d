package client

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// ErrNotReceipt is returned by ParseReceiptText for text that is not a
// delivery receipt.
var ErrNotReceipt = errors.New("smpp client: not a delivery receipt")

// Receipt is an SMSC delivery receipt: the de-facto text format of SMPP v3.4
// Appendix B ("id:… sub:… dlvrd:… submit date:… done date:… stat:… err:…
// text:…") together with the TLVs of §5.3.2.12 (receipted_message_id),
// §5.3.2.35 (message_state) and §5.3.2.31 (network_error_code) when the
// SMSC sends them.
type Receipt struct {
	// ID is the message id the receipt is for: receipted_message_id when
	// present, otherwise the "id:" field of the text.
	ID string `json:"id"`
	// TextID is the "id:" field of the text, as sent.
	TextID     string    `json:"text_id,omitempty"`
	Sub        int       `json:"sub"`
	Dlvrd      int       `json:"dlvrd"`
	SubmitDate time.Time `json:"submit_date,omitzero"`
	DoneDate   time.Time `json:"done_date,omitzero"`
	// Stat is the final state word: DELIVRD, EXPIRED, DELETED, UNDELIV,
	// ACCEPTD, UNKNOWN, REJECTD (Appendix B).
	Stat string `json:"stat"`
	// Err is the network-specific error code of the text, as sent.
	Err string `json:"err"`
	// Text is the first characters of the original message.
	Text string `json:"text,omitempty"`
	// State is the message_state TLV (§5.2.28); 0 when absent.
	State byte `json:"message_state,omitempty"`
	// NetworkError is the network_error_code TLV (type + 2-octet code);
	// nil when absent.
	NetworkError []byte `json:"network_error_code,omitempty"`
	// Source and Dest are the addresses of the deliver_sm carrying the
	// receipt: the receipt's source is the original recipient.
	Source string `json:"source,omitempty"`
	Dest   string `json:"dest,omitempty"`
}

// Delivered reports whether the receipt says the message reached the phone.
func (r *Receipt) Delivered() bool {
	return r.Stat == "DELIVRD" || r.State == 2
}

// receiptKeys are the fields of the Appendix B text in their usual order.
var receiptKeys = []string{"id:", "sub:", "dlvrd:", "submit date:", "done date:", "stat:", "err:", "text:"}

// ParseReceiptText parses the delivery receipt text of SMPP v3.4 Appendix B.
// Keys are matched case-insensitively and in any order; every field but
// "id:" is optional (SMSCs differ); "text:" takes the rest of the string.
// Dates are YYMMDDhhmm or YYMMDDhhmmss in UTC.
func ParseReceiptText(s string) (*Receipt, error) {
	lower := asciiLower(s) // same length as s, unlike strings.ToLower
	// Find where each key starts: at the beginning or after a space.
	type span struct{ key, start, vstart int }
	var found []span
	for k, key := range receiptKeys {
		from := 0
		for {
			i := strings.Index(lower[from:], key)
			if i < 0 {
				break
			}
			i += from
			if i == 0 || lower[i-1] == ' ' {
				found = append(found, span{k, i, i + len(key)})
				break
			}
			from = i + 1
		}
	}
	var r Receipt
	haveID := false
	textStart := len(s)
	for _, f := range found {
		if f.key == 7 {
			textStart = f.start
		}
	}
	for _, f := range found {
		if f.key != 7 && f.start > textStart {
			continue // inside the text field
		}
		var v string
		if f.key == 7 {
			v = s[f.vstart:]
		} else {
			end := len(s)
			if j := strings.IndexByte(s[f.vstart:], ' '); j >= 0 {
				end = f.vstart + j
			}
			v = s[f.vstart:end]
		}
		switch f.key {
		case 0:
			r.TextID, haveID = v, true
		case 1:
			r.Sub = atoiLoose(v)
		case 2:
			r.Dlvrd = atoiLoose(v)
		case 3:
			r.SubmitDate = parseReceiptDate(v)
		case 4:
			r.DoneDate = parseReceiptDate(v)
		case 5:
			r.Stat = strings.ToUpper(v)
		case 6:
			r.Err = v
		case 7:
			r.Text = v
		}
	}
	if !haveID {
		return nil, ErrNotReceipt
	}
	r.ID = r.TextID
	return &r, nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func atoiLoose(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func parseReceiptDate(s string) time.Time {
	for _, layout := range []string{"0601021504", "060102150405"} {
		if len(s) == len(layout) {
			if t, err := time.Parse(layout, s); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// receiptFrom builds the Receipt of a deliver_sm or data_sm whose esm_class
// marks it as an SMSC delivery receipt (§5.2.12, bits 5-2 = 0001).
func receiptFrom(m *Message) *Receipt {
	r, err := ParseReceiptText(string(m.ShortMessage))
	if err != nil {
		r = &Receipt{}
	}
	if m.DataCoding == DCSDefault {
		r.Text = receiptTextGSM7(r.Text)
	}
	if v := m.TLV(TagReceiptedMessageID); v != nil {
		r.ID = strings.TrimRight(string(v), "\x00")
	}
	if v := m.TLV(TagMessageState); len(v) == 1 {
		r.State = v[0]
	}
	if v := m.TLV(TagNetworkErrorCode); len(v) == 3 {
		r.NetworkError = v
		if r.Err == "" {
			r.Err = strconv.Itoa(int(binary.BigEndian.Uint16(v[1:])))
		}
	}
	if r.Stat == "" {
		r.Stat = stateWord(r.State)
	}
	r.Source, r.Dest = m.Source.Addr, m.Dest.Addr
	if r.ID == "" {
		return nil
	}
	return r
}

// receiptTextGSM7 decodes the text: field of a receipt sent with
// data_coding 0 as the GSM 7-bit septets it should be (simlab's SMSC sends
// it so). SMSCs that put UTF-8 or Latin-1 there instead send octets with
// bit 8 set: such a text is kept as it came. The other fields are read
// from the octets as they are: their characters have the same codes in
// both.
func receiptTextGSM7(t string) string {
	if s, err := tpdu.DecodeGSM7([]byte(t)); err == nil {
		return s
	}
	return t
}

// stateWord maps message_state (SMPP v3.4 §5.2.28) to the receipt word.
func stateWord(s byte) string {
	switch s {
	case 1:
		return "ENROUTE"
	case 2:
		return "DELIVRD"
	case 3:
		return "EXPIRED"
	case 4:
		return "DELETED"
	case 5:
		return "UNDELIV"
	case 6:
		return "ACCEPTD"
	case 8:
		return "REJECTD"
	}
	return "UNKNOWN"
}

// receiptBook keeps recent receipts and the waiters for them.
type receiptBook struct {
	mu      sync.Mutex
	keep    int
	got     map[string]*Receipt
	order   []string // ring of ids in got, oldest first
	head    int
	waiters map[string][]chan *Receipt
}

func (b *receiptBook) init(keep int) {
	b.keep = max(keep, 0)
	b.got = make(map[string]*Receipt)
	b.waiters = make(map[string][]chan *Receipt)
}

func (b *receiptBook) put(r *Receipt) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ws := b.waiters[r.ID]; len(ws) > 0 {
		for _, ch := range ws {
			ch <- r
		}
		delete(b.waiters, r.ID)
		return
	}
	if b.keep == 0 {
		return
	}
	if _, dup := b.got[r.ID]; !dup {
		if len(b.order) < b.keep {
			b.order = append(b.order, r.ID)
		} else {
			delete(b.got, b.order[b.head])
			b.order[b.head] = r.ID
			b.head = (b.head + 1) % b.keep
		}
	}
	b.got[r.ID] = r
}

func (b *receiptBook) wait(id string) chan *Receipt {
	ch := make(chan *Receipt, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.got[id]; ok {
		delete(b.got, id)
		ch <- r
		return ch
	}
	b.waiters[id] = append(b.waiters[id], ch)
	return ch
}

func (b *receiptBook) cancel(id string, ch chan *Receipt) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ws := b.waiters[id]
	for i, w := range ws {
		if w == ch {
			b.waiters[id] = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(b.waiters[id]) == 0 {
		delete(b.waiters, id)
	}
}
