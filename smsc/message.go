// Package smsc is simlab's SMS centre: an SMPP 3.4 server (sessions, binds,
// windowing), store-and-forward routing of short messages to sinks (emulated
// phones, ESME binds, bearers), delivery receipts and MO routing.
//
// The wire codec lives in smsc/pdu; the durable store in smsc/store; the
// SMPP client in smsc/client; the HTTP capture API in smsc/capture. This
// package defines the seams they share: Message, Store, Sink and Router.
package smsc

import (
	"fmt"
	"time"
)

// Direction tells whether a message travels to a handset (mobile terminated)
// or from one (mobile originated), 3GPP TS 23.040 §2.
type Direction uint8

// Directions.
const (
	MT Direction = iota // from an ESME towards a subscriber
	MO                  // from a subscriber towards an ESME
)

// String returns "MT" or "MO".
func (d Direction) String() string {
	if d == MO {
		return "MO"
	}
	return "MT"
}

// MarshalText implements encoding.TextMarshaler.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Direction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "MT", "mt":
		*d = MT
	case "MO", "mo":
		*d = MO
	default:
		return fmt.Errorf("smsc: unknown direction %q", b)
	}
	return nil
}

// State is a message's delivery state. Enroute to Rejected have the SMPP
// 3.4 §5.2.28 message_state values; Scheduled is simlab's own 9, which
// SMPP 5.0 uses for SKIPPED: what goes on the wire is MessageState's.
type State uint8

// Message states (SMPP 3.4 §5.2.28, SMPP 5.0 §4.7.15 Table 4-50).
const (
	Enroute       State = 1
	Delivered     State = 2
	Expired       State = 3
	Deleted       State = 4
	Undeliverable State = 5
	Accepted      State = 6
	Unknown       State = 7
	Rejected      State = 8
	Scheduled     State = 9
)

var stateNames = [...]string{"", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED", "UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED", "SCHEDULED"}

// receiptStat is the 7-character stat: field of the de-facto receipt text.
var receiptStat = [...]string{"", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD", "SCHEDLD"}

// String returns the state's SMPP name, e.g. "DELIVERED".
func (s State) String() string {
	if int(s) < len(stateNames) && s != 0 {
		return stateNames[s]
	}
	return fmt.Sprintf("STATE(%d)", uint8(s))
}

// ReceiptStat returns the 7-letter stat: value used in receipt texts
// (DELIVRD, UNDELIV, EXPIRED, REJECTD, ...).
func (s State) ReceiptStat() string {
	if int(s) < len(receiptStat) && s != 0 {
		return receiptStat[s]
	}
	return "UNKNOWN"
}

// SMPP interface versions (SMPP 3.4 §5.2.4, SMPP 5.0 §4.7.13): a bind's
// interface_version and the sc_interface_version of its response.
const (
	Version34 uint8 = 0x34
	Version50 uint8 = 0x50
)

// MessageState returns the message_state value (query_sm_resp, the
// message_state TLV of a receipt) of s for a session bound with interface
// version v. SMPP 3.4 §5.2.28 defines 1 to 8 and no scheduled state: a
// scheduled message is ENROUTE (1), as the SMPP 5.0 text says 3.4 SMSCs
// answer. SMPP 5.0 Table 4-50 adds SCHEDULED (0) and SKIPPED (9), so a
// 5.0 session gets 0. A state outside both tables is UNKNOWN (7).
func (s State) MessageState(v uint8) uint8 {
	switch {
	case s == Scheduled && v >= Version50:
		return 0
	case s == Scheduled:
		return uint8(Enroute)
	case s >= Enroute && s <= Rejected:
		return uint8(s)
	}
	return uint8(Unknown)
}

// Final reports whether no further delivery attempt will be made.
func (s State) Final() bool {
	switch s {
	case Delivered, Expired, Deleted, Undeliverable, Rejected, Unknown, Accepted:
		return true
	}
	return false
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts the names of
// String and of ReceiptStat.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseState parses a state name such as "DELIVERED" or "DELIVRD", or
// what String writes for a value without a name ("STATE(0)").
func ParseState(name string) (State, error) {
	for i := 1; i < len(stateNames); i++ {
		if name == stateNames[i] || name == receiptStat[i] {
			return State(i), nil
		}
	}
	var n uint8
	if _, err := fmt.Sscanf(name, "STATE(%d)", &n); err == nil && fmt.Sprintf("STATE(%d)", n) == name {
		return State(n), nil
	}
	return 0, fmt.Errorf("smsc: unknown message state %q", name)
}

// Address is an SMPP address: type of number, numbering plan indicator and
// digits (SMPP 3.4 §5.2.5, §5.2.6, §5.2.8).
type Address struct {
	TON  uint8  `json:"ton"`
	NPI  uint8  `json:"npi"`
	Addr string `json:"addr"`
}

// String returns the digits.
func (a Address) String() string { return a.Addr }

// Concat describes one part of a concatenated message, from a UDH IE 0x00 or
// 0x08 (TS 23.040 §9.2.3.24.1, §9.2.3.24.8) or from the SMPP sar_* TLVs
// (SMPP 3.4 §5.3.2.22-24).
type Concat struct {
	Ref   uint16 `json:"ref"`
	Total uint8  `json:"total"`
	Seq   uint8  `json:"seq"`
	// Wide is true for a 16-bit reference (IE 0x08 or SAR).
	Wide bool `json:"wide,omitempty"`
}

// Message is one short message as the SMSC keeps it: what an ESME submitted
// (MT) or a phone sent (MO), with its delivery state. One Message is one
// SMPP submit, i.e. one segment of a concatenated text; Concat links the
// segments.
type Message struct {
	// ID is the SMSC message id, as returned in submit_sm_resp, accepted by
	// query_sm/cancel_sm/replace_sm and named in receipts (decimal or hex,
	// see Server.IDFormat).
	ID string `json:"id"`
	// Namespace isolates the messages of parallel test runs in capture.
	// The server sets it from the account (Account.Namespace, else the
	// system_id).
	Namespace string `json:"namespace,omitempty"`
	// Account is the system_id of the ESME that submitted it (MT) or that
	// owns its destination (MO).
	Account   string    `json:"account,omitempty"`
	Direction Direction `json:"direction"`

	ServiceType string  `json:"service_type,omitempty"`
	Source      Address `json:"source"`
	Dest        Address `json:"dest"`

	// ESMClass, PID and DCS are esm_class, protocol_id and data_coding
	// (SMPP 3.4 §5.2.12, §5.2.13, §5.2.19), kept end to end.
	ESMClass uint8 `json:"esm_class"`
	PID      uint8 `json:"pid"`
	DCS      uint8 `json:"dcs"`
	Priority uint8 `json:"priority,omitempty"`
	// RegisteredDelivery is registered_delivery (SMPP 3.4 §5.2.17): the low
	// two bits ask for a receipt (1 final, 2 failure only), bit 4 for
	// intermediate notifications.
	RegisteredDelivery uint8 `json:"registered_delivery,omitempty"`
	ReplaceIfPresent   bool  `json:"replace_if_present,omitempty"`
	// UserMessageReference is the user_message_reference TLV, if given.
	UserMessageReference *uint16 `json:"user_message_reference,omitempty"`
	// SourcePort and DestPort are the source_port/destination_port TLVs.
	SourcePort *uint16 `json:"source_port,omitempty"`
	DestPort   *uint16 `json:"dest_port,omitempty"`

	// UDH is the user data header including its length octet (UDHL), when
	// esm_class has UDHI (0x40) set; nil otherwise.
	UDH []byte `json:"udh,omitempty"`
	// Body is the user data after the UDH: short_message or
	// message_payload, in the coding DCS names (septets unpacked, one per
	// octet, for GSM 7-bit DCS 0 as SMPP carries them).
	Body []byte `json:"body"`
	// Payload is true when the body came in a message_payload TLV.
	Payload bool `json:"payload,omitempty"`
	// Concat is set for one part of a concatenated message.
	Concat *Concat `json:"concat,omitempty"`
	// SIMDownload marks a class-2 SIM data download (PID 0x7F, DCS class 2
	// 8-bit, or UDH IEI 0x70): a phone sink passes it to the SIM as
	// ENVELOPE(SMS-PP download) rather than showing it (TS 31.111 §7.1.1).
	SIMDownload bool `json:"sim_download,omitempty"`

	SubmitTime time.Time `json:"submit_time"`
	// Schedule is schedule_delivery_time; zero means now.
	Schedule time.Time `json:"schedule,omitempty"`
	// ValidUntil is validity_period as an absolute time; zero means the
	// server's default validity.
	ValidUntil time.Time `json:"valid_until,omitempty"`
	// DoneTime is when the message reached a final state.
	DoneTime time.Time `json:"done_time,omitempty"`

	State State `json:"state"`
	// ErrorCode is the network error code of the last failed attempt (the
	// err: field of a receipt and the network_error_code TLV); 0 if none.
	ErrorCode uint16 `json:"error_code,omitempty"`
	// Attempts counts delivery attempts.
	Attempts int `json:"attempts,omitempty"`
	// Attempting is set (durably) while an attempt to a phone or bearer
	// is under way: after a crash such a message is reported UNKNOWN
	// instead of being delivered twice.
	Attempting bool `json:"attempting,omitempty"`
	// ReceiptDue is set (durably, with the final state) while a receipt
	// asked for has not been acknowledged by the ESME: a restart sends it
	// again.
	ReceiptDue bool `json:"receipt_due,omitempty"`
	// Multi is the submit_multi group: the id shared by all its
	// destinations' messages; empty otherwise.
	Multi string `json:"multi,omitempty"`

	// origin is the bind that submitted an MT, while the server runs: its
	// receipts prefer it (docs/smsc.md, "Routing"). Not stored.
	origin *bindRef
}

// Clone returns a deep copy of m.
func (m *Message) Clone() *Message {
	c := *m
	if m.UDH != nil {
		c.UDH = append([]byte(nil), m.UDH...)
	}
	if m.Body != nil {
		c.Body = append([]byte(nil), m.Body...)
	}
	if m.Concat != nil {
		cc := *m.Concat
		c.Concat = &cc
	}
	if m.UserMessageReference != nil {
		v := *m.UserMessageReference
		c.UserMessageReference = &v
	}
	if m.SourcePort != nil {
		v := *m.SourcePort
		c.SourcePort = &v
	}
	if m.DestPort != nil {
		v := *m.DestPort
		c.DestPort = &v
	}
	return &c
}

// NeedsWork reports whether the SMSC still owes something for m: a
// delivery (state not final) or a receipt (ReceiptDue). Store.Pending
// returns the messages for which it is true.
func (m *Message) NeedsWork() bool { return !m.State.Final() || m.ReceiptDue }

// Text decodes the body according to DCS (GSM 7-bit, Latin-1, UCS2; binary
// codings return "" and ok=false).
func (m *Message) Text() (text string, ok bool) { return DecodeText(m.DCS, m.Body) }

// UserData returns UDH followed by Body: the complete user data.
func (m *Message) UserData() []byte {
	if len(m.UDH) == 0 {
		return m.Body
	}
	ud := make([]byte, 0, len(m.UDH)+len(m.Body))
	return append(append(ud, m.UDH...), m.Body...)
}
