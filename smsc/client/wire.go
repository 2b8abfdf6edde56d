package client

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// The client encodes and decodes PDUs with simlab's SMPP codec, smsc/pdu;
// this file converts between its typed bodies and the client's Message.

// Command status values (SMPP v3.4 §5.1.3) the client acts on.
const (
	StatusOK          = uint32(pdu.StatusOK)              // ESME_ROK
	StatusInvCmdLen   = uint32(pdu.StatusInvCmdLen)       // ESME_RINVCMDLEN
	StatusInvCmdID    = uint32(pdu.StatusInvCmdID)        // ESME_RINVCMDID
	StatusSysErr      = uint32(pdu.StatusSysErr)          // ESME_RSYSERR
	StatusMsgQFull    = uint32(pdu.StatusMsgQFul)         // ESME_RMSGQFUL
	StatusThrottled   = uint32(pdu.StatusThrottled)       // ESME_RTHROTTLED
	StatusDeliverFail = uint32(pdu.StatusDeliveryFailure) // ESME_RDELIVERYFAILURE
	StatusXTAppn      = uint32(pdu.StatusXTAppn)          // ESME_RX_T_APPN: temporary failure in the ESME, retry later
	StatusXPAppn      = uint32(pdu.StatusXPAppn)          // ESME_RX_P_APPN: permanent failure in the ESME
)

// TLV tags (SMPP v3.4 §5.3.2) the client decodes in deliver_sm.
const (
	TagReceiptedMessageID = uint16(pdu.TagReceiptedMessageID) // §5.3.2.12
	TagNetworkErrorCode   = uint16(pdu.TagNetworkErrorCode)   // §5.3.2.31
	TagMessagePayload     = uint16(pdu.TagMessagePayload)     // §5.3.2.32
	TagMessageState       = uint16(pdu.TagMessageState)       // §5.3.2.35
	TagSarMsgRefNum       = uint16(pdu.TagSarMsgRefNum)       // §5.3.2.22
	TagSarTotalSegments   = uint16(pdu.TagSarTotalSegments)   // §5.3.2.23
	TagSarSegmentSeqnum   = uint16(pdu.TagSarSegmentSeqnum)   // §5.3.2.24
)

// maxPDULen bounds command_length of a PDU read from the SMSC. SMPP v3.4
// sets no limit; 64 KiB covers a message_payload of any real SMS.
const maxPDULen = 64 * 1024

// ErrMalformed is wrapped by errors decoding a PDU from the SMSC.
var ErrMalformed = errors.New("smpp client: malformed PDU")

// appendBind encodes bind_transmitter/receiver/transceiver (SMPP v3.4 §4.1.1)
// for interface_version 3.4.
func appendBind(dst []byte, id pdu.CommandID, seq uint32, c *Config) []byte {
	return pdu.Append(dst, id, pdu.StatusOK, seq, &pdu.Bind{
		SystemID: []byte(c.SystemID), Password: []byte(c.Password), SystemType: []byte(c.SystemType),
		InterfaceVersion: 0x34, AddrTON: c.AddrTON, AddrNPI: c.AddrNPI, AddressRange: []byte(c.AddressRange),
	})
}

// appendSM encodes m as submit_sm (§4.4.1) or deliver_sm (§4.6.1). A short
// message longer than 254 octets travels in message_payload (§5.3.2.32),
// ahead of m's TLVs, with sm_length 0. The string conversions do not
// escape, so short fields are converted on the stack: no allocation.
func appendSM(dst []byte, id pdu.CommandID, seq uint32, m *Message) []byte {
	start := len(dst)
	dst = pdu.AppendHeader(dst, pdu.Header{ID: id, Seq: seq})
	sm := pdu.SubmitSM{
		ServiceType:          []byte(m.ServiceType),
		Source:               pdu.Addr{TON: m.Source.TON, NPI: m.Source.NPI, Addr: []byte(m.Source.Addr)},
		Dest:                 pdu.Addr{TON: m.Dest.TON, NPI: m.Dest.NPI, Addr: []byte(m.Dest.Addr)},
		ESMClass:             m.ESMClass,
		ProtocolID:           m.ProtocolID,
		PriorityFlag:         m.Priority,
		ScheduleDeliveryTime: []byte(m.ScheduleDeliveryTime),
		ValidityPeriod:       []byte(m.ValidityPeriod),
		RegisteredDelivery:   m.RegisteredDelivery,
		DataCoding:           m.DataCoding,
	}
	payload := len(m.ShortMessage) > 254
	if !payload {
		sm.ShortMessage = m.ShortMessage
	}
	dst = sm.AppendBody(dst)
	if payload {
		dst = pdu.AppendTLV(dst, pdu.TagMessagePayload, m.ShortMessage)
	}
	for _, t := range m.TLVs {
		dst = pdu.AppendTLV(dst, pdu.Tag(t.Tag), t.Value)
	}
	pdu.SetLength(dst, start)
	return dst
}

// appendEmpty encodes a header-only PDU (enquire_link, unbind, their
// responses, generic_nack).
func appendEmpty(dst []byte, id pdu.CommandID, status, seq uint32) []byte {
	return pdu.Append(dst, id, pdu.Status(status), seq, nil)
}

// appendRespID encodes a response whose body is one C-octet string
// (deliver_sm_resp's message_id, data_sm_resp).
func appendRespID(dst []byte, id pdu.CommandID, status, seq uint32, msgID string) []byte {
	start := len(dst)
	dst = pdu.AppendHeader(dst, pdu.Header{ID: id, Status: pdu.Status(status), Seq: seq})
	dst = pdu.AppendCString(dst, msgID)
	pdu.SetLength(dst, start)
	return dst
}

// decoder decodes the deliver_sm and data_sm of one connection into reused
// bodies (it is used by the reader goroutine only).
type decoder struct {
	sm pdu.DeliverSM
	ds pdu.DataSM
}

// decode decodes a deliver_sm (SMPP v3.4 §4.6.1) or data_sm (§4.7.1) body,
// leniently (pdu.SubmitSM.UnmarshalLenient): an SMSC's over-long fields are
// accepted. The result owns its memory. message_payload (§5.3.2.32) becomes
// the ShortMessage when the short_message field is empty.
func (d *decoder) decode(id pdu.CommandID, body []byte) (*Message, error) {
	m := &Message{}
	var tlvs pdu.TLVs
	if id == pdu.CmdDataSM {
		p := &d.ds
		if err := p.UnmarshalLenient(body); err != nil {
			return nil, fmt.Errorf("%w: data_sm: %w", ErrMalformed, err)
		}
		m.ServiceType = string(p.ServiceType)
		m.Source, m.Dest = address(p.Source), address(p.Dest)
		m.ESMClass, m.RegisteredDelivery, m.DataCoding = p.ESMClass, p.RegisteredDelivery, p.DataCoding
		tlvs = p.TLVs
	} else {
		p := &d.sm
		if err := p.UnmarshalLenient(body); err != nil {
			return nil, fmt.Errorf("%w: deliver_sm: %w", ErrMalformed, err)
		}
		m.ServiceType = string(p.ServiceType)
		m.Source, m.Dest = address(p.Source), address(p.Dest)
		m.ESMClass, m.ProtocolID, m.Priority = p.ESMClass, p.ProtocolID, p.PriorityFlag
		m.ScheduleDeliveryTime, m.ValidityPeriod = string(p.ScheduleDeliveryTime), string(p.ValidityPeriod)
		m.RegisteredDelivery, m.DataCoding = p.RegisteredDelivery, p.DataCoding
		m.ShortMessage = clone(p.ShortMessage)
		tlvs = p.TLVs
	}
	for _, t := range tlvs {
		if t.Tag == pdu.TagMessagePayload && len(m.ShortMessage) == 0 {
			m.ShortMessage = clone(t.Value)
			continue
		}
		m.TLVs = append(m.TLVs, TLV{Tag: uint16(t.Tag), Value: clone(t.Value)})
	}
	return m, nil
}

func address(a pdu.Addr) Address { return Address{TON: a.TON, NPI: a.NPI, Addr: string(a.Addr)} }

// clone copies b; an empty b gives nil (Message.TLV reports a present,
// empty TLV as []byte{}).
func clone(b []byte) []byte { return append([]byte(nil), b...) }

// firstCString returns the leading C-octet string of a response body
// (submit_sm_resp message_id §4.4.2, bind_*_resp system_id §4.1.2). A
// missing terminator is tolerated: error responses may have no body.
func firstCString(body []byte) string {
	if i := bytes.IndexByte(body, 0); i >= 0 {
		body = body[:i]
	}
	return string(body)
}

// StatusName returns the ESME_R* name of a command_status (SMPP v3.4
// §5.1.3), or "reserved/vendor" for values the table does not name.
func StatusName(s uint32) string {
	if st := pdu.Status(s); st.Known() {
		return st.String()
	}
	return "reserved/vendor"
}
