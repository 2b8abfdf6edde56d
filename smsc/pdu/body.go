package pdu

import (
	"bytes"
	"fmt"
)

// Maximum C-octet string sizes including the NUL (SMPP 3.4 §5.2).
const (
	maxSystemID     = 16
	maxPassword     = 9
	maxSystemType   = 13
	maxAddressRange = 41
	maxServiceType  = 6
	maxAddr         = 21
	maxTime         = 17
	maxMessageID    = 65
	maxDLName       = 21
)

// cursor walks a body during decoding. A lenient cursor enforces neither
// the maximum sizes of C-octet strings nor the fixed TLV lengths.
type cursor struct {
	b       []byte
	off     int
	lenient bool
}

// u8 reads one octet.
func (c *cursor) u8(field string) (uint8, error) {
	if c.off >= len(c.b) {
		return 0, short(c.off, field)
	}
	v := c.b[c.off]
	c.off++
	return v, nil
}

// cstr reads a C-octet string of at most max octets including its NUL;
// an over-long string is reported with status st.
func (c *cursor) cstr(field string, max int, st Status) ([]byte, error) {
	rest := c.b[c.off:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		if len(rest) >= max && !c.lenient {
			return nil, malformed(c.off, field, st, "no NUL within %d octets", max)
		}
		return nil, short(c.off+len(rest), field)
	}
	if i+1 > max && !c.lenient {
		return nil, malformed(c.off, field, st, "%d octets, at most %d allowed", i+1, max)
	}
	v := rest[:i:i]
	c.off += i + 1
	return v, nil
}

// octets reads n octets.
func (c *cursor) octets(field string, n int) ([]byte, error) {
	if c.off+n > len(c.b) {
		return nil, short(c.off, field)
	}
	v := c.b[c.off : c.off+n : c.off+n]
	c.off += n
	return v, nil
}

// addr reads an address triple; name is the address field's SMPP name.
func (c *cursor) addr(a *Addr, name string, st Status) (err error) {
	// The field names are built only on error: concatenating eagerly
	// would allocate on every decode.
	if c.off+2 > len(c.b) {
		if c.off == len(c.b) {
			return short(c.off, name+" TON")
		}
		return short(c.off+1, name+" NPI")
	}
	a.TON, a.NPI = c.b[c.off], c.b[c.off+1]
	c.off += 2
	a.Addr, err = c.cstr(name, maxAddr, st)
	return err
}

func (c *cursor) done(field string) error {
	if c.off != len(c.b) {
		return malformed(c.off, field, StatusInvCmdLen, "%d unexpected octets after the body", len(c.b)-c.off)
	}
	return nil
}

// AppendCString appends s and a NUL.
func AppendCString(b []byte, s string) []byte { return append(append(b, s...), 0) }

func appendCBytes(b, s []byte) []byte { return append(append(b, s...), 0) }

// Addr is an address triple: TON, NPI and the address (SMPP 3.4 §5.2.5-8).
type Addr struct {
	TON, NPI uint8
	Addr     []byte
}

func (a *Addr) append(b []byte) []byte {
	return appendCBytes(append(b, a.TON, a.NPI), a.Addr)
}

// Bind is the body of bind_transmitter, bind_receiver and bind_transceiver
// (SMPP 3.4 §4.1.1, §4.1.3, §4.1.5) and, with only SystemID and Password,
// of outbind (§4.1.7).
type Bind struct {
	SystemID         []byte
	Password         []byte
	SystemType       []byte
	InterfaceVersion uint8
	AddrTON, AddrNPI uint8
	AddressRange     []byte
}

// Unmarshal decodes a bind body.
func (p *Bind) Unmarshal(b []byte) (err error) {
	c := cursor{b: b}
	if p.SystemID, err = c.cstr("system_id", maxSystemID, StatusInvSysID); err != nil {
		return err
	}
	if p.Password, err = c.cstr("password", maxPassword, StatusInvPaswd); err != nil {
		return err
	}
	if p.SystemType, err = c.cstr("system_type", maxSystemType, StatusInvSysTyp); err != nil {
		return err
	}
	if p.InterfaceVersion, err = c.u8("interface_version"); err != nil {
		return err
	}
	if p.AddrTON, err = c.u8("addr_ton"); err != nil {
		return err
	}
	if p.AddrNPI, err = c.u8("addr_npi"); err != nil {
		return err
	}
	if p.AddressRange, err = c.cstr("address_range", maxAddressRange, StatusInvCmdLen); err != nil {
		return err
	}
	return c.done("bind")
}

// AppendBody implements Body.
func (p *Bind) AppendBody(b []byte) []byte {
	b = appendCBytes(b, p.SystemID)
	b = appendCBytes(b, p.Password)
	b = appendCBytes(b, p.SystemType)
	b = append(b, p.InterfaceVersion, p.AddrTON, p.AddrNPI)
	return appendCBytes(b, p.AddressRange)
}

// BindResp is the body of the bind responses (SMPP 3.4 §4.1.2): system_id
// and optionally sc_interface_version.
type BindResp struct {
	SystemID []byte
	TLVs     TLVs
}

// Unmarshal decodes a bind response body. An empty body (sent with an
// error status) is accepted.
func (p *BindResp) Unmarshal(b []byte) (err error) {
	p.TLVs = p.TLVs[:0]
	if len(b) == 0 {
		p.SystemID = nil
		return nil
	}
	c := cursor{b: b}
	if p.SystemID, err = c.cstr("system_id", maxSystemID, StatusInvSysID); err != nil {
		return err
	}
	p.TLVs, err = c.tlvs(p.TLVs)
	return err
}

// AppendBody implements Body.
func (p *BindResp) AppendBody(b []byte) []byte {
	return appendTLVs(appendCBytes(b, p.SystemID), p.TLVs)
}

// SubmitSM is the body of submit_sm (SMPP 3.4 §4.4.1) and, field for
// field, of deliver_sm (§4.6.1).
type SubmitSM struct {
	ServiceType          []byte
	Source, Dest         Addr
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime []byte
	ValidityPeriod       []byte
	RegisteredDelivery   uint8
	ReplaceIfPresent     uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte
	TLVs                 TLVs
}

// DeliverSM is the body of deliver_sm (SMPP 3.4 §4.6.1), identical to
// submit_sm's.
type DeliverSM = SubmitSM

// Unmarshal decodes a submit_sm or deliver_sm body.
func (p *SubmitSM) Unmarshal(b []byte) error { return p.decode(b, false) }

// UnmarshalLenient decodes a submit_sm or deliver_sm body like Unmarshal but
// accepts C-octet strings longer than SMPP 3.4 §4.4.1 allows and TLVs whose
// length differs from the fixed one of §5.3.2: what an ESME accepts from an
// SMSC it does not control (RFC 1122 §1.2.2, "be liberal in what you
// accept"). Structural errors (a missing NUL, a truncated field or TLV)
// still fail.
func (p *SubmitSM) UnmarshalLenient(b []byte) error { return p.decode(b, true) }

func (p *SubmitSM) decode(b []byte, lenient bool) (err error) {
	c := cursor{b: b, lenient: lenient}
	p.TLVs = p.TLVs[:0]
	if p.ServiceType, err = c.cstr("service_type", maxServiceType, StatusInvSerTyp); err != nil {
		return err
	}
	if err = c.addr(&p.Source, "source_addr", StatusInvSrcAdr); err != nil {
		return err
	}
	if err = c.addr(&p.Dest, "destination_addr", StatusInvDstAdr); err != nil {
		return err
	}
	if p.ESMClass, err = c.u8("esm_class"); err != nil {
		return err
	}
	if p.ProtocolID, err = c.u8("protocol_id"); err != nil {
		return err
	}
	if p.PriorityFlag, err = c.u8("priority_flag"); err != nil {
		return err
	}
	if p.ScheduleDeliveryTime, err = c.cstr("schedule_delivery_time", maxTime, StatusInvSched); err != nil {
		return err
	}
	if p.ValidityPeriod, err = c.cstr("validity_period", maxTime, StatusInvExpiry); err != nil {
		return err
	}
	if p.RegisteredDelivery, err = c.u8("registered_delivery"); err != nil {
		return err
	}
	if p.ReplaceIfPresent, err = c.u8("replace_if_present_flag"); err != nil {
		return err
	}
	if p.DataCoding, err = c.u8("data_coding"); err != nil {
		return err
	}
	if p.SMDefaultMsgID, err = c.u8("sm_default_msg_id"); err != nil {
		return err
	}
	n, err := c.u8("sm_length")
	if err != nil {
		return err
	}
	if p.ShortMessage, err = c.octets("short_message", int(n)); err != nil {
		return err
	}
	p.TLVs, err = c.tlvs(p.TLVs)
	return err
}

// AppendBody implements Body. A short_message over 254 octets cannot be
// encoded (sm_length is one octet): put it in message_payload instead.
func (p *SubmitSM) AppendBody(b []byte) []byte {
	b = appendCBytes(b, p.ServiceType)
	b = p.Source.append(b)
	b = p.Dest.append(b)
	b = append(b, p.ESMClass, p.ProtocolID, p.PriorityFlag)
	b = appendCBytes(b, p.ScheduleDeliveryTime)
	b = appendCBytes(b, p.ValidityPeriod)
	b = append(b, p.RegisteredDelivery, p.ReplaceIfPresent, p.DataCoding, p.SMDefaultMsgID, byte(len(p.ShortMessage)))
	b = append(b, p.ShortMessage...)
	return appendTLVs(b, p.TLVs)
}

// Validate checks what AppendBody cannot encode.
func (p *SubmitSM) Validate() error {
	if len(p.ShortMessage) > 254 {
		return fmt.Errorf("smpp: short_message of %d octets exceeds 254: use message_payload", len(p.ShortMessage))
	}
	return nil
}

// MessageIDResp is the body of submit_sm_resp, deliver_sm_resp (§4.4.2,
// §4.6.2; message_id unused and NUL there) and data_sm_resp (§4.7.2, which
// may carry TLVs).
type MessageIDResp struct {
	MessageID []byte
	TLVs      TLVs
}

// Unmarshal decodes the body; an empty body (error responses, SMPP 3.4
// §4.4.2) gives an empty MessageID.
func (p *MessageIDResp) Unmarshal(b []byte) (err error) {
	p.TLVs = p.TLVs[:0]
	p.MessageID = nil
	if len(b) == 0 {
		return nil
	}
	c := cursor{b: b}
	if p.MessageID, err = c.cstr("message_id", maxMessageID, StatusInvMsgID); err != nil {
		return err
	}
	p.TLVs, err = c.tlvs(p.TLVs)
	return err
}

// AppendBody implements Body.
func (p *MessageIDResp) AppendBody(b []byte) []byte {
	return appendTLVs(appendCBytes(b, p.MessageID), p.TLVs)
}

// DestFlag values of a submit_multi destination (SMPP 3.4 §5.2.25).
const (
	DestSMEAddress = 1
	DestDLName     = 2
)

// MultiDest is one destination of submit_multi (SMPP 3.4 §4.5.1.1): an
// SME address or a distribution list name.
type MultiDest struct {
	Flag   uint8
	Addr   Addr   // Flag == DestSMEAddress
	DLName []byte // Flag == DestDLName
}

// SubmitMulti is the body of submit_multi (SMPP 3.4 §4.5.1).
type SubmitMulti struct {
	ServiceType          []byte
	Source               Addr
	Dests                []MultiDest
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime []byte
	ValidityPeriod       []byte
	RegisteredDelivery   uint8
	ReplaceIfPresent     uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte
	TLVs                 TLVs
}

// Unmarshal decodes a submit_multi body.
func (p *SubmitMulti) Unmarshal(b []byte) (err error) {
	c := cursor{b: b}
	p.TLVs, p.Dests = p.TLVs[:0], p.Dests[:0]
	if p.ServiceType, err = c.cstr("service_type", maxServiceType, StatusInvSerTyp); err != nil {
		return err
	}
	if err = c.addr(&p.Source, "source_addr", StatusInvSrcAdr); err != nil {
		return err
	}
	nd, err := c.u8("number_of_dests")
	if err != nil {
		return err
	}
	if nd == 0 || nd > 254 {
		return malformed(c.off-1, "number_of_dests", StatusInvNumDests, "%d destinations, want 1..254", nd)
	}
	for i := 0; i < int(nd); i++ {
		var d MultiDest
		if d.Flag, err = c.u8("dest_flag"); err != nil {
			return err
		}
		switch d.Flag {
		case DestSMEAddress:
			if err = c.addr(&d.Addr, "destination_addr", StatusInvDstAdr); err != nil {
				return err
			}
		case DestDLName:
			if d.DLName, err = c.cstr("dl_name", maxDLName, StatusInvDLName); err != nil {
				return err
			}
		default:
			return malformed(c.off-1, "dest_flag", StatusInvDestFlag, "flag %d, want 1 or 2", d.Flag)
		}
		p.Dests = append(p.Dests, d)
	}
	if p.ESMClass, err = c.u8("esm_class"); err != nil {
		return err
	}
	if p.ProtocolID, err = c.u8("protocol_id"); err != nil {
		return err
	}
	if p.PriorityFlag, err = c.u8("priority_flag"); err != nil {
		return err
	}
	if p.ScheduleDeliveryTime, err = c.cstr("schedule_delivery_time", maxTime, StatusInvSched); err != nil {
		return err
	}
	if p.ValidityPeriod, err = c.cstr("validity_period", maxTime, StatusInvExpiry); err != nil {
		return err
	}
	if p.RegisteredDelivery, err = c.u8("registered_delivery"); err != nil {
		return err
	}
	if p.ReplaceIfPresent, err = c.u8("replace_if_present_flag"); err != nil {
		return err
	}
	if p.DataCoding, err = c.u8("data_coding"); err != nil {
		return err
	}
	if p.SMDefaultMsgID, err = c.u8("sm_default_msg_id"); err != nil {
		return err
	}
	n, err := c.u8("sm_length")
	if err != nil {
		return err
	}
	if p.ShortMessage, err = c.octets("short_message", int(n)); err != nil {
		return err
	}
	p.TLVs, err = c.tlvs(p.TLVs)
	return err
}

// AppendBody implements Body.
func (p *SubmitMulti) AppendBody(b []byte) []byte {
	b = appendCBytes(b, p.ServiceType)
	b = p.Source.append(b)
	b = append(b, byte(len(p.Dests)))
	for i := range p.Dests {
		d := &p.Dests[i]
		b = append(b, d.Flag)
		if d.Flag == DestDLName {
			b = appendCBytes(b, d.DLName)
		} else {
			b = d.Addr.append(b)
		}
	}
	b = append(b, p.ESMClass, p.ProtocolID, p.PriorityFlag)
	b = appendCBytes(b, p.ScheduleDeliveryTime)
	b = appendCBytes(b, p.ValidityPeriod)
	b = append(b, p.RegisteredDelivery, p.ReplaceIfPresent, p.DataCoding, p.SMDefaultMsgID, byte(len(p.ShortMessage)))
	b = append(b, p.ShortMessage...)
	return appendTLVs(b, p.TLVs)
}

// UnsuccessSME is one failed destination in submit_multi_resp (SMPP 3.4
// §4.5.2).
type UnsuccessSME struct {
	Addr   Addr
	Status Status
}

// SubmitMultiResp is the body of submit_multi_resp (SMPP 3.4 §4.5.2).
type SubmitMultiResp struct {
	MessageID []byte
	Unsuccess []UnsuccessSME
}

// Unmarshal decodes a submit_multi_resp body.
func (p *SubmitMultiResp) Unmarshal(b []byte) (err error) {
	c := cursor{b: b}
	p.Unsuccess = p.Unsuccess[:0]
	if p.MessageID, err = c.cstr("message_id", maxMessageID, StatusInvMsgID); err != nil {
		return err
	}
	n, err := c.u8("no_unsuccess")
	if err != nil {
		return err
	}
	for i := 0; i < int(n); i++ {
		var u UnsuccessSME
		if err = c.addr(&u.Addr, "destination_addr", StatusInvDstAdr); err != nil {
			return err
		}
		st, err := c.octets("error_status_code", 4)
		if err != nil {
			return err
		}
		u.Status = Status(uint32(st[0])<<24 | uint32(st[1])<<16 | uint32(st[2])<<8 | uint32(st[3]))
		p.Unsuccess = append(p.Unsuccess, u)
	}
	return c.done("submit_multi_resp")
}

// AppendBody implements Body.
func (p *SubmitMultiResp) AppendBody(b []byte) []byte {
	b = appendCBytes(b, p.MessageID)
	b = append(b, byte(len(p.Unsuccess)))
	for i := range p.Unsuccess {
		u := &p.Unsuccess[i]
		b = u.Addr.append(b)
		s := uint32(u.Status)
		b = append(b, byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
	}
	return b
}

// DataSM is the body of data_sm (SMPP 3.4 §4.7.1).
type DataSM struct {
	ServiceType        []byte
	Source, Dest       Addr
	ESMClass           uint8
	RegisteredDelivery uint8
	DataCoding         uint8
	TLVs               TLVs
}

// Unmarshal decodes a data_sm body.
func (p *DataSM) Unmarshal(b []byte) error { return p.decode(b, false) }

// UnmarshalLenient decodes a data_sm body like Unmarshal, with the
// tolerance of SubmitSM.UnmarshalLenient (which also admits the 65-octet
// addresses of SMPP 3.4 §4.7.1).
func (p *DataSM) UnmarshalLenient(b []byte) error { return p.decode(b, true) }

func (p *DataSM) decode(b []byte, lenient bool) (err error) {
	c := cursor{b: b, lenient: lenient}
	p.TLVs = p.TLVs[:0]
	if p.ServiceType, err = c.cstr("service_type", maxServiceType, StatusInvSerTyp); err != nil {
		return err
	}
	if err = c.addr(&p.Source, "source_addr", StatusInvSrcAdr); err != nil {
		return err
	}
	// data_sm addresses are up to 65 octets (SMPP 3.4 §4.7.1); the
	// cursor's limit is the submit_sm one, which is what handsets use.
	if err = c.addr(&p.Dest, "destination_addr", StatusInvDstAdr); err != nil {
		return err
	}
	if p.ESMClass, err = c.u8("esm_class"); err != nil {
		return err
	}
	if p.RegisteredDelivery, err = c.u8("registered_delivery"); err != nil {
		return err
	}
	if p.DataCoding, err = c.u8("data_coding"); err != nil {
		return err
	}
	p.TLVs, err = c.tlvs(p.TLVs)
	return err
}

// AppendBody implements Body.
func (p *DataSM) AppendBody(b []byte) []byte {
	b = appendCBytes(b, p.ServiceType)
	b = p.Source.append(b)
	b = p.Dest.append(b)
	b = append(b, p.ESMClass, p.RegisteredDelivery, p.DataCoding)
	return appendTLVs(b, p.TLVs)
}

// QuerySM is the body of query_sm (SMPP 3.4 §4.8.1).
type QuerySM struct {
	MessageID []byte
	Source    Addr
}

// Unmarshal decodes a query_sm body.
func (p *QuerySM) Unmarshal(b []byte) (err error) {
	c := cursor{b: b}
	if p.MessageID, err = c.cstr("message_id", maxMessageID, StatusInvMsgID); err != nil {
		return err
	}
	if err = c.addr(&p.Source, "source_addr", StatusInvSrcAdr); err != nil {
		return err
	}
	return c.done("query_sm")
}

// AppendBody implements Body.
func (p *QuerySM) AppendBody(b []byte) []byte {
	return p.Source.append(appendCBytes(b, p.MessageID))
}

// QuerySMResp is the body of query_sm_resp (SMPP 3.4 §4.8.2).
type QuerySMResp struct {
	MessageID    []byte
	FinalDate    []byte
	MessageState uint8
	ErrorCode    uint8
}

// Unmarshal decodes a query_sm_resp body.
func (p *QuerySMResp) Unmarshal(b []byte) (err error) {
	c := cursor{b: b}
	if p.MessageID, err = c.cstr("message_id", maxMessageID, StatusInvMsgID); err != nil {
		return err
	}
	if p.FinalDate, err = c.cstr("final_date", maxTime, StatusInvCmdLen); err != nil {
		return err
	}
	if p.MessageState, err = c.u8("message_state"); err != nil {
		return err
	}
	if p.ErrorCode, err = c.u8("error_code"); err != nil {
		return err
	}
	return c.done("query_sm_resp")
}

// AppendBody implements Body.
func (p *QuerySMResp) AppendBody(b []byte) []byte {
	b = appendCBytes(b, p.MessageID)
	b = appendCBytes(b, p.FinalDate)
	return append(b, p.MessageState, p.ErrorCode)
}

// CancelSM is the body of cancel_sm (SMPP 3.4 §4.9.1).
type CancelSM struct {
	ServiceType  []byte
	MessageID    []byte
	Source, Dest Addr
}

// Unmarshal decodes a cancel_sm body.
func (p *CancelSM) Unmarshal(b []byte) (err error) {
	c := cursor{b: b}
	if p.ServiceType, err = c.cstr("service_type", maxServiceType, StatusInvSerTyp); err != nil {
		return err
	}
	if p.MessageID, err = c.cstr("message_id", maxMessageID, StatusInvMsgID); err != nil {
		return err
	}
	if err = c.addr(&p.Source, "source_addr", StatusInvSrcAdr); err != nil {
		return err
	}
	if err = c.addr(&p.Dest, "destination_addr", StatusInvDstAdr); err != nil {
		return err
	}
	return c.done("cancel_sm")
}

// AppendBody implements Body.
func (p *CancelSM) AppendBody(b []byte) []byte {
	b = appendCBytes(b, p.ServiceType)
	b = appendCBytes(b, p.MessageID)
	return p.Dest.append(p.Source.append(b))
}

// ReplaceSM is the body of replace_sm (SMPP 3.4 §4.10.1).
type ReplaceSM struct {
	MessageID            []byte
	Source               Addr
	ScheduleDeliveryTime []byte
	ValidityPeriod       []byte
	RegisteredDelivery   uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte
}

// Unmarshal decodes a replace_sm body.
func (p *ReplaceSM) Unmarshal(b []byte) (err error) {
	c := cursor{b: b}
	if p.MessageID, err = c.cstr("message_id", maxMessageID, StatusInvMsgID); err != nil {
		return err
	}
	if err = c.addr(&p.Source, "source_addr", StatusInvSrcAdr); err != nil {
		return err
	}
	if p.ScheduleDeliveryTime, err = c.cstr("schedule_delivery_time", maxTime, StatusInvSched); err != nil {
		return err
	}
	if p.ValidityPeriod, err = c.cstr("validity_period", maxTime, StatusInvExpiry); err != nil {
		return err
	}
	if p.RegisteredDelivery, err = c.u8("registered_delivery"); err != nil {
		return err
	}
	if p.SMDefaultMsgID, err = c.u8("sm_default_msg_id"); err != nil {
		return err
	}
	n, err := c.u8("sm_length")
	if err != nil {
		return err
	}
	if p.ShortMessage, err = c.octets("short_message", int(n)); err != nil {
		return err
	}
	return c.done("replace_sm")
}

// AppendBody implements Body.
func (p *ReplaceSM) AppendBody(b []byte) []byte {
	b = appendCBytes(b, p.MessageID)
	b = p.Source.append(b)
	b = appendCBytes(b, p.ScheduleDeliveryTime)
	b = appendCBytes(b, p.ValidityPeriod)
	b = append(b, p.RegisteredDelivery, p.SMDefaultMsgID, byte(len(p.ShortMessage)))
	return append(b, p.ShortMessage...)
}

// AlertNotification is the body of alert_notification (SMPP 3.4 §4.12.1).
type AlertNotification struct {
	Source   Addr
	ESMEAddr Addr
	TLVs     TLVs
}

// Unmarshal decodes an alert_notification body.
func (p *AlertNotification) Unmarshal(b []byte) (err error) {
	c := cursor{b: b}
	p.TLVs = p.TLVs[:0]
	if err = c.addr(&p.Source, "source_addr", StatusInvSrcAdr); err != nil {
		return err
	}
	if err = c.addr(&p.ESMEAddr, "esme_addr", StatusInvDstAdr); err != nil {
		return err
	}
	p.TLVs, err = c.tlvs(p.TLVs)
	return err
}

// AppendBody implements Body.
func (p *AlertNotification) AppendBody(b []byte) []byte {
	return appendTLVs(p.ESMEAddr.append(p.Source.append(b)), p.TLVs)
}
