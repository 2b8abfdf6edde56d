// Package pdu is a pure SMPP 3.4 codec: the 16-octet header, the body of
// every PDU an SMSC serves, and optional parameters (TLVs). Decoding fills a
// caller-owned struct whose []byte fields alias the input (no copies, no
// allocations once the struct's TLV slice has grown); encoding appends to a
// caller-owned buffer. No I/O, clock or globals.
//
// Reference: SMPP Protocol Specification v3.4 (issue 1.2), cited as
// "SMPP 3.4 §x".
package pdu

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderLen is the length of the PDU header (SMPP 3.4 §3.2).
const HeaderLen = 16

// CommandID is command_id (SMPP 3.4 §5.1.2.1).
type CommandID uint32

// Command ids. A response is its request's id with bit 31 set.
const (
	CmdGenericNack         CommandID = 0x80000000
	CmdBindReceiver        CommandID = 0x00000001
	CmdBindReceiverResp    CommandID = 0x80000001
	CmdBindTransmitter     CommandID = 0x00000002
	CmdBindTransmitterResp CommandID = 0x80000002
	CmdQuerySM             CommandID = 0x00000003
	CmdQuerySMResp         CommandID = 0x80000003
	CmdSubmitSM            CommandID = 0x00000004
	CmdSubmitSMResp        CommandID = 0x80000004
	CmdDeliverSM           CommandID = 0x00000005
	CmdDeliverSMResp       CommandID = 0x80000005
	CmdUnbind              CommandID = 0x00000006
	CmdUnbindResp          CommandID = 0x80000006
	CmdReplaceSM           CommandID = 0x00000007
	CmdReplaceSMResp       CommandID = 0x80000007
	CmdCancelSM            CommandID = 0x00000008
	CmdCancelSMResp        CommandID = 0x80000008
	CmdBindTransceiver     CommandID = 0x00000009
	CmdBindTransceiverResp CommandID = 0x80000009
	CmdOutbind             CommandID = 0x0000000B
	CmdEnquireLink         CommandID = 0x00000015
	CmdEnquireLinkResp     CommandID = 0x80000015
	CmdSubmitMulti         CommandID = 0x00000021
	CmdSubmitMultiResp     CommandID = 0x80000021
	CmdAlertNotification   CommandID = 0x00000102
	CmdDataSM              CommandID = 0x00000103
	CmdDataSMResp          CommandID = 0x80000103
)

// IsResponse reports whether id is a response (bit 31 set).
func (id CommandID) IsResponse() bool { return id&0x80000000 != 0 }

// Response returns the response id of a request id.
func (id CommandID) Response() CommandID { return id | 0x80000000 }

// Known reports whether id is an SMPP 3.4 command.
func (id CommandID) Known() bool {
	_, ok := commandNames[id]
	return ok
}

var commandNames = map[CommandID]string{
	CmdGenericNack: "generic_nack", CmdBindReceiver: "bind_receiver", CmdBindReceiverResp: "bind_receiver_resp",
	CmdBindTransmitter: "bind_transmitter", CmdBindTransmitterResp: "bind_transmitter_resp",
	CmdQuerySM: "query_sm", CmdQuerySMResp: "query_sm_resp", CmdSubmitSM: "submit_sm", CmdSubmitSMResp: "submit_sm_resp",
	CmdDeliverSM: "deliver_sm", CmdDeliverSMResp: "deliver_sm_resp", CmdUnbind: "unbind", CmdUnbindResp: "unbind_resp",
	CmdReplaceSM: "replace_sm", CmdReplaceSMResp: "replace_sm_resp", CmdCancelSM: "cancel_sm", CmdCancelSMResp: "cancel_sm_resp",
	CmdBindTransceiver: "bind_transceiver", CmdBindTransceiverResp: "bind_transceiver_resp", CmdOutbind: "outbind",
	CmdEnquireLink: "enquire_link", CmdEnquireLinkResp: "enquire_link_resp", CmdSubmitMulti: "submit_multi",
	CmdSubmitMultiResp: "submit_multi_resp", CmdAlertNotification: "alert_notification", CmdDataSM: "data_sm", CmdDataSMResp: "data_sm_resp",
}

// String returns the SMPP name, e.g. "submit_sm".
func (id CommandID) String() string {
	if n, ok := commandNames[id]; ok {
		return n
	}
	return fmt.Sprintf("command_id(0x%08X)", uint32(id))
}

// Header is the PDU header (SMPP 3.4 §3.2): command_length (the whole PDU,
// header included), command_id, command_status, sequence_number.
type Header struct {
	Length uint32
	ID     CommandID
	Status Status
	Seq    uint32
}

// Errors wrapped by DecodeError.
var (
	// ErrShort: the input ends before the field being decoded.
	ErrShort = errors.New("smpp: truncated")
	// ErrMalformed: a field violates SMPP 3.4 (no NUL terminator, over
	// its maximum length, bad value).
	ErrMalformed = errors.New("smpp: malformed")
)

// DecodeError says where decoding failed. Status is the command_status a
// server should answer with (ESME_RINVCMDLEN for structural errors, a
// field-specific one such as ESME_RINVDSTADR otherwise).
type DecodeError struct {
	Offset int    // octet offset in the body (or PDU, for the header)
	Field  string // SMPP field name
	Msg    string
	Status Status
	Err    error // ErrShort or ErrMalformed
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("smpp: decode %s at offset %d: %s", e.Field, e.Offset, e.Msg)
}

// Unwrap returns ErrShort or ErrMalformed.
func (e *DecodeError) Unwrap() error { return e.Err }

func short(off int, field string) error {
	return &DecodeError{Offset: off, Field: field, Msg: "input ends", Status: StatusInvCmdLen, Err: ErrShort}
}

func malformed(off int, field string, st Status, format string, args ...any) error {
	return &DecodeError{Offset: off, Field: field, Msg: fmt.Sprintf(format, args...), Status: st, Err: ErrMalformed}
}

// DecodeHeader decodes the first 16 octets of b. It checks nothing but the
// length of b: the caller bounds command_length.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, short(len(b), "header")
	}
	return Header{
		Length: binary.BigEndian.Uint32(b),
		ID:     CommandID(binary.BigEndian.Uint32(b[4:])),
		Status: Status(binary.BigEndian.Uint32(b[8:])),
		Seq:    binary.BigEndian.Uint32(b[12:]),
	}, nil
}

// AppendHeader appends h with command_length as given; use SetLength after
// appending the body to fix it.
func AppendHeader(b []byte, h Header) []byte {
	b = binary.BigEndian.AppendUint32(b, h.Length)
	b = binary.BigEndian.AppendUint32(b, uint32(h.ID))
	b = binary.BigEndian.AppendUint32(b, uint32(h.Status))
	return binary.BigEndian.AppendUint32(b, h.Seq)
}

// SetLength writes command_length of the PDU that starts at b[start:] and
// ends at len(b).
func SetLength(b []byte, start int) {
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start))
}

// Body is a PDU body that can encode itself.
type Body interface {
	AppendBody(b []byte) []byte
}

// Append appends a complete PDU: header (id, status, seq) and body (nil for
// an empty body), with command_length set.
func Append(b []byte, id CommandID, status Status, seq uint32, body Body) []byte {
	start := len(b)
	b = AppendHeader(b, Header{ID: id, Status: status, Seq: seq})
	if body != nil {
		b = body.AppendBody(b)
	}
	SetLength(b, start)
	return b
}

// Codec is a body that can decode and encode itself.
type Codec interface {
	Body
	Unmarshal(b []byte) error
}

// BodyFor returns a new, empty body for command id, or nil for the
// commands whose body is empty (enquire_link, unbind, generic_nack, their
// responses, cancel_sm_resp, replace_sm_resp) and for unknown ids.
func BodyFor(id CommandID) Codec {
	switch id {
	case CmdBindTransmitter, CmdBindReceiver, CmdBindTransceiver, CmdOutbind:
		return &Bind{}
	case CmdBindTransmitterResp, CmdBindReceiverResp, CmdBindTransceiverResp:
		return &BindResp{}
	case CmdSubmitSM, CmdDeliverSM:
		return &SubmitSM{}
	case CmdSubmitSMResp, CmdDeliverSMResp, CmdDataSMResp:
		return &MessageIDResp{}
	case CmdSubmitMulti:
		return &SubmitMulti{}
	case CmdSubmitMultiResp:
		return &SubmitMultiResp{}
	case CmdDataSM:
		return &DataSM{}
	case CmdQuerySM:
		return &QuerySM{}
	case CmdQuerySMResp:
		return &QuerySMResp{}
	case CmdCancelSM:
		return &CancelSM{}
	case CmdReplaceSM:
		return &ReplaceSM{}
	case CmdAlertNotification:
		return &AlertNotification{}
	}
	return nil
}
