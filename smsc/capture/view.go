package capture

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// MessageView is the JSON form of a captured message (one SMPP submit, i.e.
// one segment of a concatenated text). FullText is the reassembled text of
// a concatenated message once every part is there.
type MessageView struct {
	ID          string       `json:"id"`
	Namespace   string       `json:"namespace"`
	Account     string       `json:"account,omitempty"`
	Direction   string       `json:"direction"`
	From        string       `json:"from"`
	To          string       `json:"to"`
	Source      smsc.Address `json:"source"`
	Dest        smsc.Address `json:"dest"`
	ESMClass    uint8        `json:"esm_class"`
	PID         uint8        `json:"pid"`
	DCS         uint8        `json:"dcs"`
	Alphabet    string       `json:"alphabet"`
	Text        *string      `json:"text"`
	FullText    *string      `json:"full_text,omitempty"`
	UDHHex      string       `json:"udh_hex,omitempty"`
	BodyHex     string       `json:"body_hex"`
	Concat      *smsc.Concat `json:"concat,omitempty"`
	SIMDownload bool         `json:"sim_download,omitempty"`
	State       string       `json:"state"`
	ErrorCode   uint16       `json:"error_code,omitempty"`
	Attempts    int          `json:"attempts,omitempty"`
	Registered  uint8        `json:"registered_delivery,omitempty"`
	SubmitTime  time.Time    `json:"submit_time"`
	DoneTime    *time.Time   `json:"done_time,omitempty"`
	UDH         []UDHElement `json:"udh,omitempty"`
	Parts       []PartView   `json:"parts,omitempty"`
	OTA         *OTAHeader   `json:"ota,omitempty"`
	// TPDU is the SMS-DELIVER TPDU of each part as the SMSC hands an MT
	// message to a phone (3GPP TS 23.040 §9.2.2.1), hex.
	TPDU []string      `json:"tpdu_hex,omitempty"`
	Raw  *smsc.Message `json:"-"`
}

// UDHElement is one information element of a user data header (TS 23.040
// §9.2.3.24).
type UDHElement struct {
	IEI  uint8  `json:"iei"`
	Name string `json:"name"`
	Data string `json:"data_hex"`
}

// PartView lists one part of a concatenated message.
type PartView struct {
	ID   string `json:"id"`
	Seq  uint8  `json:"seq"`
	Text string `json:"text,omitempty"`
}

// OTAHeader is the clear header of a TS 102 225 §5.1.1 command packet
// (UDH IEI 0x70) or §5.1.2 response packet (IEI 0x71), as far as it is not
// ciphered.
type OTAHeader struct {
	Kind string `json:"kind"` // "command" or "response"
	// Command packet: CPL, CHL, SPI, KIc, KID, TAR.
	CPL      int    `json:"cpl,omitempty"`
	CHL      int    `json:"chl,omitempty"`
	SPI      string `json:"spi,omitempty"`
	KIc      string `json:"kic,omitempty"`
	KID      string `json:"kid,omitempty"`
	Ciphered bool   `json:"ciphered,omitempty"`
	// Response packet: RPL, RHL.
	RPL int    `json:"rpl,omitempty"`
	RHL int    `json:"rhl,omitempty"`
	TAR string `json:"tar"`
	// Counter, PCNTR and (response) status are given when not ciphered.
	Counter string `json:"counter,omitempty"`
	PCNTR   *int   `json:"pcntr,omitempty"`
	Status  *int   `json:"status,omitempty"`
	Error   string `json:"error,omitempty"`
}

// view builds the JSON view of m.
func view(m *smsc.Message) *MessageView {
	v := &MessageView{
		ID: m.ID, Namespace: m.Namespace, Account: m.Account, Direction: m.Direction.String(),
		From: m.Source.Addr, To: m.Dest.Addr, Source: m.Source, Dest: m.Dest,
		ESMClass: m.ESMClass, PID: m.PID, DCS: m.DCS, Alphabet: smsc.AlphabetOf(m.DCS).String(),
		BodyHex: hex.EncodeToString(m.Body), Concat: m.Concat, SIMDownload: m.SIMDownload,
		State: m.State.String(), ErrorCode: m.ErrorCode, Attempts: m.Attempts,
		Registered: m.RegisteredDelivery, SubmitTime: m.SubmitTime, Raw: m,
	}
	if len(m.UDH) > 0 {
		v.UDHHex = hex.EncodeToString(m.UDH)
	}
	if t, ok := m.Text(); ok && !m.SIMDownload {
		v.Text = &t
	}
	if !m.DoneTime.IsZero() {
		dt := m.DoneTime
		v.DoneTime = &dt
	}
	return v
}

// detail adds the decoded UDH elements, OTA header and TPDUs to v.
func detail(v *MessageView) {
	m := v.Raw
	if m.Direction == smsc.MT {
		if tp, err := smsc.DeliverTPDU(m, m.SubmitTime); err == nil {
			for _, b := range tp {
				v.TPDU = append(v.TPDU, hex.EncodeToString(b))
			}
		}
	}
	v.UDH = parseUDH(m.UDH)
	var iei70, iei71 bool
	for _, e := range v.UDH {
		iei70 = iei70 || e.IEI == 0x70
		iei71 = iei71 || e.IEI == 0x71
	}
	switch {
	case iei71:
		v.OTA = parseOTAResponse(m.Body)
	case iei70 || m.SIMDownload || m.PID == 0x7F:
		v.OTA = parseOTACommand(m.Body)
	}
}

// parseUDH splits a UDH (with its UDHL octet) into elements. A malformed
// tail is reported as one element with IEI 0xFF naming the problem.
func parseUDH(udh []byte) []UDHElement {
	if len(udh) == 0 {
		return nil
	}
	var out []UDHElement
	end := min(1+int(udh[0]), len(udh))
	for i := 1; i < end; {
		if i+2 > end {
			out = append(out, UDHElement{IEI: 0xFF, Name: fmt.Sprintf("malformed: truncated element at offset %d", i), Data: hex.EncodeToString(udh[i:end])})
			break
		}
		iei, n := udh[i], int(udh[i+1])
		if i+2+n > end {
			out = append(out, UDHElement{IEI: 0xFF, Name: fmt.Sprintf("malformed: element %02X at offset %d claims %d octets", iei, i, n), Data: hex.EncodeToString(udh[i:end])})
			break
		}
		out = append(out, UDHElement{IEI: iei, Name: tpdu.IEIName(iei), Data: hex.EncodeToString(udh[i+2 : i+2+n])})
		i += 2 + n
	}
	return out
}

// parseOTACommand reads the header of a TS 102 225 §5.1.1 command packet:
// CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3), then CNTR(5) PCNTR(1) when
// SPI1 b3 says the rest is not ciphered.
func parseOTACommand(b []byte) *OTAHeader {
	h := &OTAHeader{Kind: "command"}
	if len(b) < 10 {
		h.Error = fmt.Sprintf("command packet header needs 10 octets (CPL..TAR), have %d", len(b))
		return h
	}
	h.CPL = int(binary.BigEndian.Uint16(b))
	h.CHL = int(b[2])
	h.SPI = hex.EncodeToString(b[3:5])
	h.KIc = hex.EncodeToString(b[5:6])
	h.KID = hex.EncodeToString(b[6:7])
	h.TAR = hex.EncodeToString(b[7:10])
	h.Ciphered = b[3]&0x04 != 0
	if h.CPL != len(b)-2 {
		h.Error = fmt.Sprintf("CPL %d does not match the %d octets that follow it", h.CPL, len(b)-2)
	}
	if !h.Ciphered && len(b) >= 16 {
		h.Counter = hex.EncodeToString(b[10:15])
		p := int(b[15])
		h.PCNTR = &p
	}
	return h
}

// parseOTAResponse reads the header of a TS 102 225 §5.1.2 response
// packet: RPL(2) RHL(1) TAR(3) CNTR(5) PCNTR(1) status(1). Counter and
// status are shown as found; they are meaningless if ciphered.
func parseOTAResponse(b []byte) *OTAHeader {
	h := &OTAHeader{Kind: "response"}
	if len(b) < 6 {
		h.Error = fmt.Sprintf("response packet header needs 6 octets (RPL..TAR), have %d", len(b))
		return h
	}
	h.RPL = int(binary.BigEndian.Uint16(b))
	h.RHL = int(b[2])
	h.TAR = hex.EncodeToString(b[3:6])
	if len(b) >= 13 {
		h.Counter = hex.EncodeToString(b[6:11])
		p, s := int(b[11]), int(b[12])
		h.PCNTR, h.Status = &p, &s
	}
	return h
}

// reassemble joins the parts of one concatenated message with
// smsc.Reassemble (bodies joined before decoding, so a UCS2 surrogate pair
// split across parts survives) and lists the parts present. It returns the
// text and whether every part was present.
func reassemble(parts []*smsc.Message) (string, []PartView, bool) {
	if len(parts) == 0 || parts[0].Concat == nil {
		return "", nil, false
	}
	r := smsc.Reassemble(parts)
	var views []PartView
	for i, p := range r.Parts {
		if p != nil {
			t, _ := p.Text()
			views = append(views, PartView{ID: p.ID, Seq: uint8(i + 1), Text: t})
		}
	}
	return r.Text, views, r.Complete && r.IsText
}
