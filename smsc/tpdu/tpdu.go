// Package tpdu encodes and decodes SMS transfer-layer PDUs (3GPP TS 23.040
// §9.2): SMS-DELIVER, SMS-SUBMIT, SMS-STATUS-REPORT, SMS-DELIVER-REPORT,
// SMS-SUBMIT-REPORT and SMS-COMMAND, with their addresses, time stamps,
// validity periods, data coding schemes (TS 23.038), user data headers
// (concatenation, ports, the (U)SIM toolkit security headers 70/71 of
// TS 31.115) and user data in the GSM 7-bit (with fill bits after a header),
// 8-bit and UCS2 alphabets.
//
// It is a pure codec: []byte in, typed values out and back, no I/O, no
// clock. Decoded byte slices (user data, IE data) alias the input. The
// alphabets come from github.com/warthog618/sms/encoding/gsm7 and ucs2; the
// TPDU layout is this package's own, so that every malformed input is
// rejected with an error naming the field and offset.
//
// The SMSC, the handset and `simlab push --sms` build their messages with
// it: a (U)SIM data download is a Deliver with PID 7F, DCS F6 and a UDH
// holding IE 70; a long text is split with SplitText.
package tpdu

import (
	"fmt"
	"time"
)

// Direction says which way a TPDU travels, which decides how its message
// type indicator reads (3GPP TS 23.040 §9.2.3.1).
type Direction int

// Directions.
const (
	MT Direction = iota // mobile terminated: SC to MS (DELIVER, SUBMIT-REPORT, STATUS-REPORT)
	MO                  // mobile originated: MS to SC (SUBMIT, DELIVER-REPORT, COMMAND)
)

// String returns "MT" or "MO".
func (d Direction) String() string {
	if d == MO {
		return "MO"
	}
	return "MT"
}

// PIDSIMDataDownload is TP-PID 7F, (U)SIM data download (TS 23.040
// §9.2.3.9, TS 31.111 §7.1.1).
const PIDSIMDataDownload byte = 0x7F

// Message is any TPDU.
type Message interface {
	// Type returns the TS 23.040 name, e.g. "SMS-DELIVER".
	Type() string
	// AppendBinary appends the encoded TPDU.
	AppendBinary(dst []byte) ([]byte, error)
}

// Marshal returns the encoding of m.
func Marshal(m Message) ([]byte, error) { return m.AppendBinary(make([]byte, 0, 64)) }

// UserData is TP-UD: an optional user data header and the data
// (3GPP TS 23.040 §9.2.3.24). Data holds septets, one per byte, when the DCS
// selects uncompressed GSM 7-bit; octets otherwise.
type UserData struct {
	// HasHeader sets TP-UDHI: the user data starts with a header. It is set
	// when Header is not empty; a decoded header of zero elements keeps it.
	HasHeader bool
	Header    []IE
	Data      []byte
}

func (u UserData) header() bool { return u.HasHeader || len(u.Header) > 0 }

// Text decodes the data as text in the alphabet dcs selects; ok is false for
// 8-bit data.
func (u UserData) Text(dcs DCS) (text string, ok bool, err error) {
	if dcs.Compressed() {
		return "", false, nil
	}
	return DecodeText(dcs.Alphabet(), u.Data)
}

// IE returns the first header element with the given identifier.
func (u UserData) IE(id byte) (IE, bool) {
	for _, ie := range u.Header {
		if ie.ID == id {
			return ie, true
		}
	}
	return IE{}, false
}

// appendUserData appends TP-UDL and TP-UD.
func appendUserData(dst []byte, dcs DCS, u UserData) ([]byte, error) {
	h := 0
	if u.header() {
		h = HeaderLen(u.Header)
	}
	if dcs.Septets() {
		hs := (h*8 + 6) / 7
		fill := hs*7 - h*8
		udl := hs + len(u.Data)
		if udl > maxUserDataSeptets {
			return dst, fmt.Errorf("tpdu: %w: user data of %d septets, at most %d fit", ErrLength, udl, maxUserDataSeptets)
		}
		dst = append(dst, byte(udl))
		if h > 0 {
			var err error
			if dst, err = AppendHeader(dst, u.Header); err != nil {
				return dst, err
			}
		}
		return append(dst, Pack7(u.Data, fill)...), nil
	}
	udl := h + len(u.Data)
	if udl > maxUserDataOctets {
		return dst, fmt.Errorf("tpdu: %w: user data of %d octets, at most %d fit", ErrLength, udl, maxUserDataOctets)
	}
	dst = append(dst, byte(udl))
	if h > 0 {
		var err error
		if dst, err = AppendHeader(dst, u.Header); err != nil {
			return dst, err
		}
	}
	return append(dst, u.Data...), nil
}

// parseUserData parses TP-UDL and TP-UD at b[off:], which must end the TPDU.
func parseUserData(b []byte, off int, dcs DCS, udhi bool) (UserData, error) {
	if off >= len(b) {
		return UserData{}, errAt(off, "TP-UDL", ErrTruncated, "a user data length")
	}
	udl := int(b[off])
	ud := b[off+1:]
	base := off + 1
	u := UserData{HasHeader: udhi}
	if dcs.Septets() {
		if udl > maxUserDataSeptets {
			return UserData{}, errAt(off, "TP-UDL", ErrLength, "at most %d septets, got %d", maxUserDataSeptets, udl)
		}
		need := (udl*7 + 7) / 8
		if len(ud) != need {
			return UserData{}, errAt(off, "TP-UDL", ErrLength, "%d septets in %d octets, got %d octets", udl, need, len(ud))
		}
		h, hs, fill := 0, 0, 0
		if udhi {
			ies, n, err := parseHeader(make([]IE, 0, 2), ud, base)
			if err != nil {
				return UserData{}, err
			}
			u.Header, h = ies, n
			hs = (h*8 + 6) / 7
			fill = hs*7 - h*8
			if hs > udl {
				return UserData{}, errAt(off, "TP-UDL", ErrLength, "at least the %d septets of the header, got %d", hs, udl)
			}
		}
		data, err := Unpack7(ud[h:], fill, udl-hs)
		if err != nil {
			return UserData{}, errAt(base+h, "TP-UD", ErrTruncated, "%v", err)
		}
		u.Data = data
		return u, nil
	}
	if udl > maxUserDataOctets {
		return UserData{}, errAt(off, "TP-UDL", ErrLength, "at most %d octets, got %d", maxUserDataOctets, udl)
	}
	if len(ud) != udl {
		return UserData{}, errAt(off, "TP-UDL", ErrLength, "%d octets of user data, got %d", udl, len(ud))
	}
	h := 0
	if udhi {
		ies, n, err := parseHeader(make([]IE, 0, 2), ud, base)
		if err != nil {
			return UserData{}, err
		}
		u.Header, h = ies, n
	}
	u.Data = ud[h:udl:udl]
	return u, nil
}

// Parse decodes one TPDU travelling in direction dir (3GPP TS 23.040 §9.2.2)
// into a *Deliver, *Submit, *StatusReport, *DeliverReport, *SubmitReport or
// *Command. The whole input must be the TPDU.
func Parse(b []byte, dir Direction) (Message, error) {
	if len(b) == 0 {
		return nil, errAt(0, "first octet", ErrTruncated, "a TPDU")
	}
	mti := b[0] & 3
	var m Message
	var err error
	switch {
	case mti == 0 && dir == MT:
		m, err = nilIfErr(parseDeliver(b))
	case mti == 1 && dir == MO:
		m, err = nilIfErr(parseSubmit(b))
	case mti == 2 && dir == MT:
		m, err = nilIfErr(parseStatusReport(b))
	case mti == 0 && dir == MO:
		m, err = nilIfErr(parseDeliverReport(b))
	case mti == 1 && dir == MT:
		m, err = nilIfErr(parseSubmitReport(b))
	case mti == 2 && dir == MO:
		m, err = nilIfErr(parseCommand(b))
	default:
		return nil, errAt(0, "TP-MTI", ErrField, "a message type 0, 1 or 2, got reserved 3")
	}
	return m, err
}

// nilIfErr turns a typed result into a Message that is a nil interface
// when err is set, never a typed nil.
func nilIfErr[T Message](m T, err error) (Message, error) {
	if err != nil {
		return nil, err
	}
	return m, nil
}

func needByte(b []byte, off int, field string) error {
	if off >= len(b) {
		return errAt(off, field, ErrTruncated, "one octet")
	}
	return nil
}

// Deliver is SMS-DELIVER, SC to MS (3GPP TS 23.040 §9.2.2.1).
type Deliver struct {
	MoreMessages           bool // TP-MMS clear: more messages are waiting in the SC
	LoopPrevention         bool // TP-LP
	StatusReportIndication bool // TP-SRI: a status report will be returned to the SME
	ReplyPath              bool // TP-RP
	OA                     Address
	PID                    byte
	DCS                    DCS
	SCTS                   time.Time // service centre time stamp
	UD                     UserData
}

// Type returns "SMS-DELIVER".
func (*Deliver) Type() string { return "SMS-DELIVER" }

// AppendBinary implements Message.
func (m *Deliver) AppendBinary(dst []byte) ([]byte, error) {
	fo := byte(0)
	fo |= bit(!m.MoreMessages, 0x04) | bit(m.LoopPrevention, 0x08) | bit(m.StatusReportIndication, 0x20) | bit(m.UD.header(), 0x40) | bit(m.ReplyPath, 0x80)
	dst = append(dst, fo)
	var err error
	if dst, err = AppendAddress(dst, m.OA); err != nil {
		return dst, err
	}
	dst = append(dst, m.PID, byte(m.DCS))
	if dst, err = AppendTimestamp(dst, m.SCTS); err != nil {
		return dst, err
	}
	return appendUserData(dst, m.DCS, m.UD)
}

func parseDeliver(b []byte) (*Deliver, error) {
	fo := b[0]
	m := &Deliver{MoreMessages: fo&0x04 == 0, LoopPrevention: fo&0x08 != 0, StatusReportIndication: fo&0x20 != 0, ReplyPath: fo&0x80 != 0}
	a, n, err := parseAddress(b, 1, "TP-OA")
	if err != nil {
		return nil, err
	}
	m.OA = a
	off := 1 + n
	if len(b)-off < 2 {
		return nil, errAt(len(b), "TP-PID", ErrTruncated, "TP-PID and TP-DCS")
	}
	m.PID, m.DCS = b[off], DCS(b[off+1])
	off += 2
	if m.SCTS, err = parseTimestamp(b, off, "TP-SCTS"); err != nil {
		return nil, err
	}
	off += 7
	if m.UD, err = parseUserData(b, off, m.DCS, fo&0x40 != 0); err != nil {
		return nil, err
	}
	return m, nil
}

// Submit is SMS-SUBMIT, MS to SC (3GPP TS 23.040 §9.2.2.2).
type Submit struct {
	RejectDuplicates    bool // TP-RD
	StatusReportRequest bool // TP-SRR
	ReplyPath           bool // TP-RP
	MR                  byte // TP-MR message reference
	DA                  Address
	PID                 byte
	DCS                 DCS
	VP                  ValidityPeriod // its Format sets TP-VPF
	UD                  UserData
}

// Type returns "SMS-SUBMIT".
func (*Submit) Type() string { return "SMS-SUBMIT" }

// AppendBinary implements Message.
func (m *Submit) AppendBinary(dst []byte) ([]byte, error) {
	fo := byte(0x01) | bit(m.RejectDuplicates, 0x04) | byte(m.VP.Format&3)<<3 | bit(m.StatusReportRequest, 0x20) | bit(m.UD.header(), 0x40) | bit(m.ReplyPath, 0x80)
	dst = append(dst, fo, m.MR)
	var err error
	if dst, err = AppendAddress(dst, m.DA); err != nil {
		return dst, err
	}
	dst = append(dst, m.PID, byte(m.DCS))
	if dst, err = m.VP.appendTo(dst); err != nil {
		return dst, err
	}
	return appendUserData(dst, m.DCS, m.UD)
}

func parseSubmit(b []byte) (*Submit, error) {
	fo := b[0]
	m := &Submit{RejectDuplicates: fo&0x04 != 0, StatusReportRequest: fo&0x20 != 0, ReplyPath: fo&0x80 != 0}
	if err := needByte(b, 1, "TP-MR"); err != nil {
		return nil, err
	}
	m.MR = b[1]
	a, n, err := parseAddress(b, 2, "TP-DA")
	if err != nil {
		return nil, err
	}
	m.DA = a
	off := 2 + n
	if len(b)-off < 2 {
		return nil, errAt(len(b), "TP-PID", ErrTruncated, "TP-PID and TP-DCS")
	}
	m.PID, m.DCS = b[off], DCS(b[off+1])
	off += 2
	vn, err := m.VP.parse(b, off, VPFormat(fo>>3&3))
	if err != nil {
		return nil, err
	}
	off += vn
	if m.UD, err = parseUserData(b, off, m.DCS, fo&0x40 != 0); err != nil {
		return nil, err
	}
	return m, nil
}

// StatusReport is SMS-STATUS-REPORT, SC to MS (3GPP TS 23.040 §9.2.2.3).
// PID, DCS and UD are present when PI says so.
type StatusReport struct {
	MoreMessages   bool // TP-MMS clear
	LoopPrevention bool // TP-LP
	Qualifier      bool // TP-SRQ: the report answers an SMS-COMMAND, not an SMS-SUBMIT
	MR             byte
	RA             Address   // recipient address
	SCTS           time.Time // when the SC received the SMS-SUBMIT
	DT             time.Time // discharge time
	ST             byte      // TP-ST status
	HasPI          bool      // TP-PI present
	PI             byte      // TP-PI: bit 1 PID, bit 2 DCS, bit 3 UDL present
	PID            byte
	DCS            DCS
	UD             UserData
}

// Type returns "SMS-STATUS-REPORT".
func (*StatusReport) Type() string { return "SMS-STATUS-REPORT" }

// AppendBinary implements Message.
func (m *StatusReport) AppendBinary(dst []byte) ([]byte, error) {
	fo := byte(0x02) | bit(!m.MoreMessages, 0x04) | bit(m.LoopPrevention, 0x08) | bit(m.Qualifier, 0x20) | bit(m.UD.header(), 0x40)
	dst = append(dst, fo, m.MR)
	var err error
	if dst, err = AppendAddress(dst, m.RA); err != nil {
		return dst, err
	}
	if dst, err = AppendTimestamp(dst, m.SCTS); err != nil {
		return dst, err
	}
	if dst, err = AppendTimestamp(dst, m.DT); err != nil {
		return dst, err
	}
	dst = append(dst, m.ST)
	if !m.HasPI {
		return dst, nil
	}
	return appendOptionals(dst, m.PI, m.PID, m.DCS, m.UD)
}

func appendOptionals(dst []byte, pi, pid byte, dcs DCS, ud UserData) ([]byte, error) {
	return appendOptionalFields(append(dst, pi), pi, pid, dcs, ud)
}

// appendOptionalFields appends the TP-PID, TP-DCS and TP-UDL/TP-UD that pi
// announces (TS 23.040 §9.2.3.27).
func appendOptionalFields(dst []byte, pi, pid byte, dcs DCS, ud UserData) ([]byte, error) {
	if pi&0x01 != 0 {
		dst = append(dst, pid)
	}
	if pi&0x02 != 0 {
		dst = append(dst, byte(dcs))
	}
	if pi&0x04 != 0 {
		return appendUserData(dst, dcs, ud)
	}
	return dst, nil
}

// parseOptionals parses the fields pi announces, from b[off:] to the end.
func parseOptionals(b []byte, pi byte, off int, udhi bool) (pid byte, dcs DCS, ud UserData, err error) {
	if pi&0x80 != 0 {
		// Extension octets (TS 23.040 §9.2.3.27) carry no defined bits: skip.
		for off < len(b) && b[off-1]&0x80 != 0 {
			off++
		}
	}
	if pi&0x01 != 0 {
		if err = needByte(b, off, "TP-PID"); err != nil {
			return
		}
		pid = b[off]
		off++
	}
	if pi&0x02 != 0 {
		if err = needByte(b, off, "TP-DCS"); err != nil {
			return
		}
		dcs = DCS(b[off])
		off++
	}
	if pi&0x04 != 0 {
		ud, err = parseUserData(b, off, dcs, udhi)
		return
	}
	if off != len(b) {
		err = errAt(off, "TP-PI", ErrLength, "the end of the TPDU (PI announces no user data), got %d more octets", len(b)-off)
	}
	return
}

func parseStatusReport(b []byte) (*StatusReport, error) {
	fo := b[0]
	m := &StatusReport{MoreMessages: fo&0x04 == 0, LoopPrevention: fo&0x08 != 0, Qualifier: fo&0x20 != 0}
	if err := needByte(b, 1, "TP-MR"); err != nil {
		return nil, err
	}
	m.MR = b[1]
	a, n, err := parseAddress(b, 2, "TP-RA")
	if err != nil {
		return nil, err
	}
	m.RA = a
	off := 2 + n
	if m.SCTS, err = parseTimestamp(b, off, "TP-SCTS"); err != nil {
		return nil, err
	}
	if m.DT, err = parseTimestamp(b, off+7, "TP-DT"); err != nil {
		return nil, err
	}
	off += 14
	if err := needByte(b, off, "TP-ST"); err != nil {
		return nil, err
	}
	m.ST = b[off]
	off++
	if off == len(b) {
		return m, nil
	}
	m.HasPI = true
	m.PI = b[off] &^ 0x80 // extension octets are skipped: none defines a bit
	if m.PID, m.DCS, m.UD, err = parseOptionals(b, b[off], off+1, fo&0x40 != 0); err != nil {
		return nil, err
	}
	return m, nil
}

// DeliverReport is SMS-DELIVER-REPORT, MS to SC (3GPP TS 23.040
// §9.2.2.1a). FCS is non-zero in the RP-ERROR form; it is told apart from
// the RP-ACK form by its value (failure causes are 80..FF, PI has bit 8
// clear).
type DeliverReport struct {
	FCS byte // TP-FCS failure cause, 0 when absent (RP-ACK)
	PI  byte
	PID byte
	DCS DCS
	UD  UserData
}

// Type returns "SMS-DELIVER-REPORT".
func (*DeliverReport) Type() string { return "SMS-DELIVER-REPORT" }

// AppendBinary implements Message.
func (m *DeliverReport) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, bit(m.UD.header(), 0x40))
	if m.FCS != 0 {
		dst = append(dst, m.FCS)
	}
	return appendOptionals(dst, m.PI, m.PID, m.DCS, m.UD)
}

func parseDeliverReport(b []byte) (*DeliverReport, error) {
	m := &DeliverReport{}
	off, err := parseFCS(b, &m.FCS)
	if err != nil {
		return nil, err
	}
	m.PI = b[off] &^ 0x80 // extension octets are skipped: none defines a bit
	if m.PID, m.DCS, m.UD, err = parseOptionals(b, b[off], off+1, b[0]&0x40 != 0); err != nil {
		return nil, err
	}
	return m, nil
}

// parseFCS reads the start of SMS-DELIVER-REPORT and SMS-SUBMIT-REPORT after
// the first octet: TP-FCS when the octet has bit 8 set (failure causes are
// 0x80-0xFF, 3GPP TS 23.040 §9.2.3.22; RP-ACK reports carry none), then
// TP-PI, whose offset it returns once it is known to be present.
func parseFCS(b []byte, fcs *byte) (piOff int, err error) {
	off := 1
	if err := needByte(b, off, "TP-PI"); err != nil {
		return 0, err
	}
	if b[off] >= 0x80 {
		*fcs = b[off]
		off++
		if err := needByte(b, off, "TP-PI"); err != nil {
			return 0, err
		}
	}
	return off, nil
}

// SubmitReport is SMS-SUBMIT-REPORT, SC to MS (3GPP TS 23.040 §9.2.2.2a).
type SubmitReport struct {
	FCS  byte // TP-FCS failure cause, 0 when absent (RP-ACK)
	PI   byte
	SCTS time.Time
	PID  byte
	DCS  DCS
	UD   UserData
}

// Type returns "SMS-SUBMIT-REPORT".
func (*SubmitReport) Type() string { return "SMS-SUBMIT-REPORT" }

// AppendBinary implements Message.
func (m *SubmitReport) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, 0x01|bit(m.UD.header(), 0x40))
	if m.FCS != 0 {
		dst = append(dst, m.FCS)
	}
	dst = append(dst, m.PI)
	var err error
	if dst, err = AppendTimestamp(dst, m.SCTS); err != nil {
		return dst, err
	}
	return appendOptionalFields(dst, m.PI, m.PID, m.DCS, m.UD)
}

func parseSubmitReport(b []byte) (*SubmitReport, error) {
	m := &SubmitReport{}
	off, err := parseFCS(b, &m.FCS)
	if err != nil {
		return nil, err
	}
	m.PI = b[off] &^ 0x80 // extension octets are skipped: none defines a bit
	if m.SCTS, err = parseTimestamp(b, off+1, "TP-SCTS"); err != nil {
		return nil, err
	}
	if m.PID, m.DCS, m.UD, err = parseOptionals(b, b[off], off+8, b[0]&0x40 != 0); err != nil {
		return nil, err
	}
	return m, nil
}

// Command is SMS-COMMAND, MS to SC (3GPP TS 23.040 §9.2.2.4).
type Command struct {
	StatusReportRequest bool // TP-SRR
	UDHI                bool // TP-UDHI: CD starts with a header
	MR                  byte
	PID                 byte
	CT                  byte // TP-CT command type: 0 enquiry, 1 cancel SRR, 2 delete, 3 set SRR
	MN                  byte // TP-MN message number the command refers to
	DA                  Address
	CD                  []byte // TP-CD command data
}

// Type returns "SMS-COMMAND".
func (*Command) Type() string { return "SMS-COMMAND" }

// AppendBinary implements Message.
func (m *Command) AppendBinary(dst []byte) ([]byte, error) {
	if len(m.CD) > 146 {
		return dst, fmt.Errorf("tpdu: %w: command data of %d octets, at most 146 fit", ErrLength, len(m.CD))
	}
	dst = append(dst, 0x02|bit(m.StatusReportRequest, 0x20)|bit(m.UDHI, 0x40), m.MR, m.PID, m.CT, m.MN)
	var err error
	if dst, err = AppendAddress(dst, m.DA); err != nil {
		return dst, err
	}
	dst = append(dst, byte(len(m.CD)))
	return append(dst, m.CD...), nil
}

func parseCommand(b []byte) (*Command, error) {
	fo := b[0]
	m := &Command{StatusReportRequest: fo&0x20 != 0, UDHI: fo&0x40 != 0}
	if len(b) < 5 {
		return nil, errAt(len(b), "TP-MR", ErrTruncated, "TP-MR, TP-PID, TP-CT and TP-MN")
	}
	m.MR, m.PID, m.CT, m.MN = b[1], b[2], b[3], b[4]
	a, n, err := parseAddress(b, 5, "TP-DA")
	if err != nil {
		return nil, err
	}
	m.DA = a
	off := 5 + n
	if err := needByte(b, off, "TP-CDL"); err != nil {
		return nil, err
	}
	cdl := int(b[off])
	if len(b)-off-1 != cdl {
		return nil, errAt(off, "TP-CDL", ErrLength, "%d octets of command data, got %d", cdl, len(b)-off-1)
	}
	m.CD = b[off+1:]
	return m, nil
}

func bit(v bool, mask byte) byte {
	if v {
		return mask
	}
	return 0
}
