package smsc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/pdu"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Receipt is a delivery receipt (SMSC delivery receipt, SMPP 3.4 §5.2.12
// esm_class 0x04, or an intermediate notification, 0x20) in the de-facto
// text format of SMPP 3.4 Appendix B:
//
//	id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
//
// It travels as a deliver_sm from the original destination to the original
// source, with the receipted_message_id, message_state and (after a failure)
// network_error_code TLVs.
type Receipt struct {
	ID         string
	Sub        int
	Dlvrd      int
	SubmitDate time.Time
	DoneDate   time.Time
	State      State
	Err        uint16
	Text       string
	// Intermediate marks an intermediate notification (esm_class 0x20).
	Intermediate bool
}

// receiptTime is the YYMMDDhhmm layout of the receipt's dates.
const receiptTime = "0601021504"

// String formats the receipt text. Text is cut to 20 characters.
func (r *Receipt) String() string {
	return string(r.Append(nil))
}

// Append appends the receipt text to b.
func (r *Receipt) Append(b []byte) []byte {
	return append(r.appendHead(b), firstRunes(r.Text, 20)...)
}

// AppendGSM7 appends the receipt text as a receipt's short_message
// carries it under data_coding 0 (SMPP 3.4 §5.2.19: the SMSC default
// alphabet, GSM 7-bit for simlab, one septet per octet): the fixed fields
// are characters whose GSM codes are their ASCII codes, and the text:
// field's characters are encoded, those that neither GSM table holds
// replaced by '?'.
func (r *Receipt) AppendGSM7(b []byte) []byte {
	return tpdu.AppendGSM7Lossy(r.appendHead(b), firstRunes(r.Text, 20), '?')
}

// appendHead appends the receipt text up to "text:".
func (r *Receipt) appendHead(b []byte) []byte {
	b = append(b, "id:"...)
	b = append(b, r.ID...)
	b = append(b, " sub:"...)
	b = append3(b, r.Sub)
	b = append(b, " dlvrd:"...)
	b = append3(b, r.Dlvrd)
	b = append(b, " submit date:"...)
	b = r.SubmitDate.UTC().AppendFormat(b, receiptTime)
	b = append(b, " done date:"...)
	b = r.DoneDate.UTC().AppendFormat(b, receiptTime)
	b = append(b, " stat:"...)
	b = append(b, r.State.ReceiptStat()...)
	b = append(b, " err:"...)
	b = append3(b, r.Err)
	return append(b, " text:"...)
}

// append3 appends v in decimal, zero-padded to at least three digits (the
// receipt's %03d fields).
func append3[T ~int | ~uint16](b []byte, v T) []byte {
	switch {
	case v < 0:
		return strconv.AppendInt(b, int64(v), 10)
	case v < 10:
		b = append(b, '0', '0')
	case v < 100:
		b = append(b, '0')
	}
	return strconv.AppendUint(b, uint64(v), 10)
}

// firstRunes returns s cut after n characters.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// ErrNotReceipt is returned by ParseReceipt for text that is not a receipt.
var ErrNotReceipt = errors.New("smsc: not a delivery receipt")

// ParseReceipt parses the de-facto receipt text with the tolerant parser of
// the SMPP client, client.ParseReceiptText: keys in any order and any case,
// each at the start or after a space, every field but "id:" optional,
// "text:" last, dates in YYMMDDhhmm or YYMMDDhhmmss read as UTC. A number,
// date, stat: word or err: code that does not parse is left zero.
func ParseReceipt(s string) (*Receipt, error) {
	t, err := client.ParseReceiptText(s)
	if err != nil {
		return nil, fmt.Errorf("%w: no id: field", ErrNotReceipt)
	}
	r := &Receipt{ID: t.TextID, Sub: t.Sub, Dlvrd: t.Dlvrd, SubmitDate: t.SubmitDate, DoneDate: t.DoneDate, Text: t.Text}
	if st, err := ParseState(t.Stat); err == nil {
		r.State = st
	}
	if n, err := strconv.ParseUint(t.Err, 10, 16); err == nil {
		r.Err = uint16(n)
	}
	return r, nil
}

// outItem is one deliver_sm waiting in an outbox: an MO message (or an MT
// routed to a bind) or a receipt.
type outItem struct {
	box   *outbox
	m     *Message // nil for a receipt
	rcpt  *receiptOut
	tries int
	// sentAt is the last send time (session omu).
	sentAt time.Time
	// version is the interface version of the session it is sent on.
	version uint8
}

// receiptOut is a receipt ready to send.
type receiptOut struct {
	Receipt
	src, dst Address // receipt's source (original dest) and dest (original source)
	msgID    string  // receipted_message_id
	owedBy   string  // id of the message whose ReceiptDue this clears
}

// appendBody encodes the deliver_sm body (SMPP 3.4 §4.6.1).
func (it *outItem) appendBody(b []byte) []byte {
	if r := it.rcpt; r != nil {
		esm := byte(0x04)
		if r.Intermediate {
			esm = 0x20
		}
		b = append(b, 0) // service_type
		b = appendAddr(b, r.src)
		b = appendAddr(b, r.dst)
		b = append(b, esm, 0, 0, 0, 0, 0, 0, 0, 0) // esm, pid, priority, sched, validity, reg, replace, dcs, default id
		lenAt := len(b)
		b = append(b, 0)
		b = r.AppendGSM7(b)
		b[lenAt] = byte(len(b) - lenAt - 1)
		b = pdu.AppendTLVCString(b, pdu.TagReceiptedMessageID, r.msgID)
		b = pdu.AppendTLVUint8(b, pdu.TagMessageState, r.State.MessageState(it.version))
		if r.Err != 0 {
			b = pdu.AppendTLV(b, pdu.TagNetworkErrorCode, pdu.NetworkErrorCode(3, r.Err))
		}
		return b
	}
	m := it.m
	b = pdu.AppendCString(b, m.ServiceType)
	b = appendAddr(b, m.Source)
	b = appendAddr(b, m.Dest)
	esm := byte(0)
	if len(m.UDH) > 0 {
		esm |= 0x40
	}
	b = append(b, esm, m.PID, m.Priority, 0, 0, 0, 0, m.DCS, 0)
	ud := len(m.UDH) + len(m.Body)
	if ud <= 254 {
		b = append(b, byte(ud))
		b = append(b, m.UDH...)
		b = append(b, m.Body...)
	} else {
		b = append(b, 0)
		b = append(b, byte(pdu.TagMessagePayload>>8), byte(pdu.TagMessagePayload&0xFF), byte(ud>>8), byte(ud))
		b = append(b, m.UDH...)
		b = append(b, m.Body...)
	}
	if c := m.Concat; c != nil && len(m.UDH) == 0 {
		// Segments that came with sar_* TLVs leave with them.
		b = pdu.AppendTLVUint16(b, pdu.TagSarMsgRefNum, c.Ref)
		b = pdu.AppendTLVUint8(b, pdu.TagSarTotalSegments, c.Total)
		b = pdu.AppendTLVUint8(b, pdu.TagSarSegmentSeqnum, c.Seq)
	}
	if m.UserMessageReference != nil {
		b = pdu.AppendTLVUint16(b, pdu.TagUserMessageReference, *m.UserMessageReference)
	}
	if m.SourcePort != nil {
		b = pdu.AppendTLVUint16(b, pdu.TagSourcePort, *m.SourcePort)
	}
	if m.DestPort != nil {
		b = pdu.AppendTLVUint16(b, pdu.TagDestinationPort, *m.DestPort)
	}
	return b
}

func appendAddr(b []byte, a Address) []byte {
	return pdu.AppendCString(append(b, a.TON, a.NPI), a.Addr)
}

// wantReceipt applies registered_delivery (SMPP 3.4 §5.2.17) to a final
// state: 1 any final outcome, 2 failures only, 3 success only (SMPP 5.0).
func wantReceipt(rd uint8, st State) bool {
	switch rd & 0x03 {
	case 1:
		return true
	case 2:
		return st != Delivered
	case 3:
		return st == Delivered
	}
	return false
}

// receiptText returns the first characters of a message for text:.
func receiptText(m *Message) string {
	// 84 bytes hold more than 20 characters in every alphabet (2 septets
	// for an escaped character, 4 bytes for a UCS2 surrogate pair), so the
	// rest of a long body need not be decoded.
	t, ok := DecodeText(m.DCS, m.Body[:min(len(m.Body), 84)])
	if !ok {
		return ""
	}
	return strings.Map(func(c rune) rune {
		if c < 0x20 {
			return ' '
		}
		return c
	}, firstRunes(t, 20))
}
