package client

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// SMPP v3.4 §5.1.2.1 command_id values the client sends or answers.
const (
	cmdGenericNack     uint32 = 0x80000000
	cmdBindReceiver    uint32 = 0x00000001
	cmdBindTransmitter uint32 = 0x00000002
	cmdSubmitSM        uint32 = 0x00000004
	cmdDeliverSM       uint32 = 0x00000005
	cmdUnbind          uint32 = 0x00000006
	cmdBindTransceiver uint32 = 0x00000009
	cmdEnquireLink     uint32 = 0x00000015
	cmdDataSM          uint32 = 0x00000103
	respBit            uint32 = 0x80000000
)

// Command status values (SMPP v3.4 §5.1.3) the client acts on.
const (
	StatusOK          uint32 = 0x00000000 // ESME_ROK
	StatusInvCmdLen   uint32 = 0x00000002 // ESME_RINVCMDLEN
	StatusInvCmdID    uint32 = 0x00000003 // ESME_RINVCMDID
	StatusSysErr      uint32 = 0x00000008 // ESME_RSYSERR
	StatusMsgQFull    uint32 = 0x00000014 // ESME_RMSGQFUL
	StatusThrottled   uint32 = 0x00000058 // ESME_RTHROTTLED
	StatusDeliverFail uint32 = 0x000000FE // ESME_RDELIVERYFAILURE
)

// TLV tags (SMPP v3.4 §5.3.2) the client decodes in deliver_sm.
const (
	TagReceiptedMessageID uint16 = 0x001E // §5.3.2.12
	TagNetworkErrorCode   uint16 = 0x0423 // §5.3.2.31
	TagMessagePayload     uint16 = 0x0424 // §5.3.2.32
	TagMessageState       uint16 = 0x0427 // §5.3.2.35
	TagSarMsgRefNum       uint16 = 0x020C // §5.3.2.22
	TagSarTotalSegments   uint16 = 0x020E // §5.3.2.23
	TagSarSegmentSeqnum   uint16 = 0x020F // §5.3.2.24
)

const (
	headerLen = 16
	// maxPDULen bounds command_length of a PDU read from the SMSC. SMPP
	// v3.4 sets no limit; 64 KiB covers a message_payload of any real SMS.
	maxPDULen = 64 * 1024
)

// ErrMalformed is wrapped by errors decoding a PDU from the SMSC.
var ErrMalformed = errors.New("smpp client: malformed PDU")

// header is the 16-octet SMPP PDU header (SMPP v3.4 §3.2).
type header struct {
	length, id, status, seq uint32
}

func parseHeader(b []byte) header {
	return header{
		length: binary.BigEndian.Uint32(b[0:]),
		id:     binary.BigEndian.Uint32(b[4:]),
		status: binary.BigEndian.Uint32(b[8:]),
		seq:    binary.BigEndian.Uint32(b[12:]),
	}
}

// beginPDU appends a header with a zero length to dst and returns the new
// slice and the offset where the PDU starts; endPDU patches the length.
func beginPDU(dst []byte, id, status, seq uint32) ([]byte, int) {
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, id)
	dst = binary.BigEndian.AppendUint32(dst, status)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	return dst, start
}

func endPDU(dst []byte, start int) []byte {
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst
}

func appendCString(dst []byte, s string) []byte {
	dst = append(dst, s...)
	return append(dst, 0)
}

func appendTLV(dst []byte, tag uint16, v []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, tag)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(v)))
	return append(dst, v...)
}

// appendBind encodes bind_transmitter/receiver/transceiver (SMPP v3.4 §4.1.1).
func appendBind(dst []byte, id, seq uint32, c *Config) []byte {
	dst, start := beginPDU(dst, id, 0, seq)
	dst = appendCString(dst, c.SystemID)
	dst = appendCString(dst, c.Password)
	dst = appendCString(dst, c.SystemType)
	dst = append(dst, 0x34, c.AddrTON, c.AddrNPI)
	dst = appendCString(dst, c.AddressRange)
	return endPDU(dst, start)
}

// appendSM encodes the body shared by submit_sm (§4.4.1) and deliver_sm
// (§4.6.1). A short message longer than 254 octets travels in
// message_payload (§5.3.2.32) with sm_length 0.
func appendSM(dst []byte, id, seq uint32, m *Message) []byte {
	dst, start := beginPDU(dst, id, 0, seq)
	dst = appendCString(dst, m.ServiceType)
	dst = append(dst, m.Source.TON, m.Source.NPI)
	dst = appendCString(dst, m.Source.Addr)
	dst = append(dst, m.Dest.TON, m.Dest.NPI)
	dst = appendCString(dst, m.Dest.Addr)
	dst = append(dst, m.ESMClass, m.ProtocolID, m.Priority)
	dst = appendCString(dst, m.ScheduleDeliveryTime)
	dst = appendCString(dst, m.ValidityPeriod)
	dst = append(dst, m.RegisteredDelivery, 0, m.DataCoding, 0)
	if len(m.ShortMessage) > 254 {
		dst = append(dst, 0)
		dst = appendTLV(dst, TagMessagePayload, m.ShortMessage)
	} else {
		dst = append(dst, byte(len(m.ShortMessage)))
		dst = append(dst, m.ShortMessage...)
	}
	for _, t := range m.TLVs {
		dst = appendTLV(dst, t.Tag, t.Value)
	}
	return endPDU(dst, start)
}

// appendEmpty encodes a header-only PDU (enquire_link, unbind, their
// responses, generic_nack).
func appendEmpty(dst []byte, id, status, seq uint32) []byte {
	dst, start := beginPDU(dst, id, status, seq)
	return endPDU(dst, start)
}

// appendRespID encodes a response whose body is one C-octet string
// (deliver_sm_resp's message_id, data_sm_resp).
func appendRespID(dst []byte, id, status, seq uint32, msgID string) []byte {
	dst, start := beginPDU(dst, id, status, seq)
	dst = appendCString(dst, msgID)
	return endPDU(dst, start)
}

// reader walks a PDU body; the first error sticks and names the offset.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at offset %d: expected %s", ErrMalformed, r.off+headerLen, what)
	}
}

func (r *reader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail(what)
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) cstring(what string, max int) string {
	if r.err != nil {
		return ""
	}
	for i := r.off; i < len(r.b) && i-r.off <= max; i++ {
		if r.b[i] == 0 {
			s := string(r.b[r.off:i])
			r.off = i + 1
			return s
		}
	}
	r.fail(what + " (NUL-terminated, at most " + fmt.Sprint(max) + " octets)")
	return ""
}

func (r *reader) bytes(what string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.off {
		r.fail(fmt.Sprintf("%s of %d octets", what, n))
		return nil
	}
	v := append([]byte(nil), r.b[r.off:r.off+n]...)
	r.off += n
	return v
}

// decodeSM decodes a deliver_sm body (SMPP v3.4 §4.6.1). body excludes the
// header; the result owns its memory.
func decodeSM(body []byte) (*Message, error) {
	r := &reader{b: body}
	m := &Message{}
	m.ServiceType = r.cstring("service_type", 6)
	m.Source.TON = r.byte("source_addr_ton")
	m.Source.NPI = r.byte("source_addr_npi")
	m.Source.Addr = r.cstring("source_addr", 64)
	m.Dest.TON = r.byte("dest_addr_ton")
	m.Dest.NPI = r.byte("dest_addr_npi")
	m.Dest.Addr = r.cstring("destination_addr", 64)
	m.ESMClass = r.byte("esm_class")
	m.ProtocolID = r.byte("protocol_id")
	m.Priority = r.byte("priority_flag")
	m.ScheduleDeliveryTime = r.cstring("schedule_delivery_time", 16)
	m.ValidityPeriod = r.cstring("validity_period", 16)
	m.RegisteredDelivery = r.byte("registered_delivery")
	r.byte("replace_if_present_flag")
	m.DataCoding = r.byte("data_coding")
	r.byte("sm_default_msg_id")
	n := int(r.byte("sm_length"))
	m.ShortMessage = r.bytes("short_message", n)
	if err := decodeTLVs(r, m); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeDataSM decodes a data_sm body (SMPP v3.4 §4.7.1): no short message,
// the payload travels in message_payload.
func decodeDataSM(body []byte) (*Message, error) {
	r := &reader{b: body}
	m := &Message{}
	m.ServiceType = r.cstring("service_type", 6)
	m.Source.TON = r.byte("source_addr_ton")
	m.Source.NPI = r.byte("source_addr_npi")
	m.Source.Addr = r.cstring("source_addr", 65)
	m.Dest.TON = r.byte("dest_addr_ton")
	m.Dest.NPI = r.byte("dest_addr_npi")
	m.Dest.Addr = r.cstring("destination_addr", 65)
	m.ESMClass = r.byte("esm_class")
	m.RegisteredDelivery = r.byte("registered_delivery")
	m.DataCoding = r.byte("data_coding")
	if err := decodeTLVs(r, m); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeTLVs(r *reader, m *Message) error {
	for r.err == nil && r.off < len(r.b) {
		if len(r.b)-r.off < 4 {
			r.fail("TLV tag and length (4 octets)")
			break
		}
		tag := binary.BigEndian.Uint16(r.b[r.off:])
		n := int(binary.BigEndian.Uint16(r.b[r.off+2:]))
		r.off += 4
		v := r.bytes(fmt.Sprintf("TLV 0x%04X value", tag), n)
		if r.err != nil {
			break
		}
		if tag == TagMessagePayload && len(m.ShortMessage) == 0 {
			m.ShortMessage = v
			continue
		}
		m.TLVs = append(m.TLVs, TLV{Tag: tag, Value: v})
	}
	return r.err
}

// firstCString returns the leading C-octet string of a response body
// (submit_sm_resp message_id §4.4.2, bind_*_resp system_id §4.1.2). A
// missing terminator is tolerated: error responses may have no body.
func firstCString(body []byte) string {
	for i, c := range body {
		if c == 0 {
			return string(body[:i])
		}
	}
	return string(body)
}

// statusNames are the ESME_R* names of SMPP v3.4 §5.1.3 (Table 5-2).
var statusNames = map[uint32]string{
	0x00: "ESME_ROK", 0x01: "ESME_RINVMSGLEN", 0x02: "ESME_RINVCMDLEN", 0x03: "ESME_RINVCMDID",
	0x04: "ESME_RINVBNDSTS", 0x05: "ESME_RALYBND", 0x06: "ESME_RINVPRTFLG", 0x07: "ESME_RINVREGDLVFLG",
	0x08: "ESME_RSYSERR", 0x0A: "ESME_RINVSRCADR", 0x0B: "ESME_RINVDSTADR", 0x0C: "ESME_RINVMSGID",
	0x0D: "ESME_RBINDFAIL", 0x0E: "ESME_RINVPASWD", 0x0F: "ESME_RINVSYSID", 0x11: "ESME_RCANCELFAIL",
	0x13: "ESME_RREPLACEFAIL", 0x14: "ESME_RMSGQFUL", 0x15: "ESME_RINVSERTYP", 0x33: "ESME_RINVNUMDESTS",
	0x34: "ESME_RINVDLNAME", 0x40: "ESME_RINVDESTFLAG", 0x42: "ESME_RINVSUBREP", 0x43: "ESME_RINVESMCLASS",
	0x44: "ESME_RCNTSUBDL", 0x45: "ESME_RSUBMITFAIL", 0x48: "ESME_RINVSRCTON", 0x49: "ESME_RINVSRCNPI",
	0x50: "ESME_RINVDSTTON", 0x51: "ESME_RINVDSTNPI", 0x53: "ESME_RINVSYSTYP", 0x54: "ESME_RINVREPFLAG",
	0x55: "ESME_RINVNUMMSGS", 0x58: "ESME_RTHROTTLED", 0x61: "ESME_RINVSCHED", 0x62: "ESME_RINVEXPIRY",
	0x63: "ESME_RINVDFTMSGID", 0x64: "ESME_RX_T_APPN", 0x65: "ESME_RX_P_APPN", 0x66: "ESME_RX_R_APPN",
	0x67: "ESME_RQUERYFAIL", 0xC0: "ESME_RINVOPTPARSTREAM", 0xC1: "ESME_ROPTPARNOTALLWD",
	0xC2: "ESME_RINVPARLEN", 0xC3: "ESME_RMISSINGOPTPARAM", 0xC4: "ESME_RINVOPTPARAMVAL",
	0xFE: "ESME_RDELIVERYFAILURE", 0xFF: "ESME_RUNKNOWNERR",
}

// StatusName returns the ESME_R* name of a command_status (SMPP v3.4
// §5.1.3), or "reserved/vendor" for values the table does not name.
func StatusName(s uint32) string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return "reserved/vendor"
}
