package tpdu

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Field is one node of a decoded tree, as `simlab decode` prints it: the
// spec's name for a field, its meaning, the raw bytes in hex, and children.
type Field struct {
	Name     string  `json:"name"`
	Value    string  `json:"value,omitempty"`
	Hex      string  `json:"hex,omitempty"`
	Children []Field `json:"children,omitempty"`
}

// Print writes f as an indented tree, one field per line.
func (f Field) Print(sb *strings.Builder, indent string) {
	sb.WriteString(indent)
	sb.WriteString(f.Name)
	if f.Value != "" {
		sb.WriteString(": ")
		sb.WriteString(f.Value)
	}
	if f.Hex != "" && f.Hex != f.Value {
		sb.WriteString(" [")
		sb.WriteString(f.Hex)
		sb.WriteString("]")
	}
	sb.WriteByte('\n')
	for _, c := range f.Children {
		c.Print(sb, indent+"  ")
	}
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

func flag(name string, v bool, yes, no string) Field {
	if v {
		return Field{Name: name, Value: yes}
	}
	return Field{Name: name, Value: no}
}

// Explain decodes b (a TPDU travelling in direction dir) into a tree with
// the TS 23.040 field names.
func Explain(b []byte, dir Direction) (Field, error) {
	m, err := Parse(b, dir)
	if err != nil {
		return Field{}, err
	}
	return ExplainMessage(m), nil
}

// PIDString names a TP-PID value (3GPP TS 23.040 §9.2.3.9).
func PIDString(p byte) string {
	switch {
	case p == 0x00:
		return "default (SME-to-SME)"
	case p == 0x7F:
		return "(U)SIM data download"
	case p == 0x7E:
		return "ANSI-136 R-DATA"
	case p == 0x7D:
		return "ME data download"
	case p == 0x7C:
		return "ANSI-136 R-DATA"
	case p >= 0x41 && p <= 0x47:
		return fmt.Sprintf("replace short message type %d", p-0x40)
	case p == 0x40:
		return "short message type 0"
	case p == 0x5E:
		return "Return Call Message"
	case p == 0x5F:
		return "Return Call Message"
	case p&0xE0 == 0x20:
		return fmt.Sprintf("telematic interworking, device type %02X", p&0x1F)
	case p&0xC0 == 0x00:
		return "SME-to-SME protocol"
	case p&0xC0 == 0xC0:
		return "SC specific use"
	}
	return "reserved"
}

// STString names a TP-ST status value (3GPP TS 23.040 §9.2.3.15).
func STString(st byte) string {
	switch st {
	case 0x00:
		return "short message received by the SME"
	case 0x01:
		return "forwarded by the SC to the SME, delivery unconfirmed"
	case 0x02:
		return "replaced by the SC"
	case 0x20:
		return "temporary error: congestion, SC still trying"
	case 0x21:
		return "temporary error: SME busy, SC still trying"
	case 0x22:
		return "temporary error: no response from SME, SC still trying"
	case 0x23:
		return "temporary error: service rejected, SC still trying"
	case 0x40:
		return "permanent error: remote procedure error"
	case 0x41:
		return "permanent error: incompatible destination"
	case 0x42:
		return "permanent error: connection rejected by SME"
	case 0x43:
		return "permanent error: not obtainable"
	case 0x44:
		return "permanent error: quality of service not available"
	case 0x45:
		return "permanent error: no interworking available"
	case 0x46:
		return "permanent error: SM validity period expired"
	case 0x47:
		return "permanent error: SM deleted by originating SME"
	case 0x48:
		return "permanent error: SM deleted by SC administration"
	case 0x49:
		return "permanent error: SM does not exist"
	case 0x60:
		return "temporary error: congestion, SC stopped trying"
	case 0x61:
		return "temporary error: SME busy, SC stopped trying"
	case 0x62:
		return "temporary error: no response from SME, SC stopped trying"
	case 0x63:
		return "temporary error: service rejected, SC stopped trying"
	case 0x64:
		return "temporary error: quality of service not available, SC stopped trying"
	case 0x65:
		return "temporary error: error in SME, SC stopped trying"
	}
	switch st >> 5 {
	case 0:
		return "transaction completed (reserved value)"
	case 1:
		return "temporary error, SC still trying (reserved value)"
	case 2:
		return "permanent error (reserved value)"
	}
	return "temporary error, SC stopped trying (reserved value)"
}

func addressField(name string, a Address) Field {
	return Field{Name: name, Value: a.String(), Children: []Field{
		{Name: "type of number", Value: a.TON.String()},
		{Name: "numbering plan", Value: a.NPI.String()},
	}}
}

func timeField(name string, t time.Time) Field {
	return Field{Name: name, Value: t.Format("2006-01-02 15:04:05 -07:00")}
}

func mtiField(v byte, m Message) Field {
	return Field{Name: "TP-MTI", Value: fmt.Sprintf("%d (%s)", v, m.Type())}
}

// ExplainMessage renders m as a tree with the TS 23.040 field names.
func ExplainMessage(m Message) Field {
	root := Field{Name: m.Type()}
	var dcs DCS
	var ud *UserData
	add := func(f ...Field) { root.Children = append(root.Children, f...) }
	switch m := m.(type) {
	case *Deliver:
		add(Field{Name: "first octet", Children: []Field{
			mtiField(0, m),
			flag("TP-MMS", m.MoreMessages, "more messages are waiting", "no more messages are waiting"),
			flag("TP-LP", m.LoopPrevention, "loop prevention", "no loop prevention"),
			flag("TP-SRI", m.StatusReportIndication, "a status report will be returned", "no status report"),
			flag("TP-UDHI", m.UD.header(), "user data begins with a header", "no header"),
			flag("TP-RP", m.ReplyPath, "reply path set", "no reply path"),
		}}, addressField("TP-OA", m.OA),
			Field{Name: "TP-PID", Value: PIDString(m.PID), Hex: fmt.Sprintf("%02X", m.PID)},
			Field{Name: "TP-DCS", Value: m.DCS.String(), Hex: fmt.Sprintf("%02X", byte(m.DCS))},
			timeField("TP-SCTS", m.SCTS))
		dcs, ud = m.DCS, &m.UD
	case *Submit:
		add(Field{Name: "first octet", Children: []Field{
			mtiField(1, m),
			flag("TP-RD", m.RejectDuplicates, "reject duplicates", "accept duplicates"),
			{Name: "TP-VPF", Value: m.VP.Format.String()},
			flag("TP-SRR", m.StatusReportRequest, "status report requested", "no status report requested"),
			flag("TP-UDHI", m.UD.header(), "user data begins with a header", "no header"),
			flag("TP-RP", m.ReplyPath, "reply path set", "no reply path"),
		}}, Field{Name: "TP-MR", Value: fmt.Sprint(m.MR)}, addressField("TP-DA", m.DA),
			Field{Name: "TP-PID", Value: PIDString(m.PID), Hex: fmt.Sprintf("%02X", m.PID)},
			Field{Name: "TP-DCS", Value: m.DCS.String(), Hex: fmt.Sprintf("%02X", byte(m.DCS))})
		if m.VP.Format != VPFNone {
			add(Field{Name: "TP-VP", Value: m.VP.String()})
		}
		dcs, ud = m.DCS, &m.UD
	case *StatusReport:
		add(Field{Name: "first octet", Children: []Field{
			mtiField(2, m),
			flag("TP-MMS", m.MoreMessages, "more messages are waiting", "no more messages are waiting"),
			flag("TP-LP", m.LoopPrevention, "loop prevention", "no loop prevention"),
			flag("TP-SRQ", m.Qualifier, "result of an SMS-COMMAND", "result of an SMS-SUBMIT"),
			flag("TP-UDHI", m.UD.header(), "user data begins with a header", "no header"),
		}}, Field{Name: "TP-MR", Value: fmt.Sprint(m.MR)}, addressField("TP-RA", m.RA),
			timeField("TP-SCTS", m.SCTS), timeField("TP-DT", m.DT),
			Field{Name: "TP-ST", Value: STString(m.ST), Hex: fmt.Sprintf("%02X", m.ST)})
		if m.HasPI {
			add(piFields(m.PI, m.PID, m.DCS)...)
			if m.PI&0x04 != 0 {
				dcs, ud = m.DCS, &m.UD
			}
		}
	case *DeliverReport:
		add(Field{Name: "first octet", Children: []Field{mtiField(0, m), flag("TP-UDHI", m.UD.header(), "user data begins with a header", "no header")}})
		if m.FCS != 0 {
			add(Field{Name: "TP-FCS", Value: FCSString(m.FCS), Hex: fmt.Sprintf("%02X", m.FCS)})
		}
		add(piFields(m.PI, m.PID, m.DCS)...)
		if m.PI&0x04 != 0 {
			dcs, ud = m.DCS, &m.UD
		}
	case *SubmitReport:
		add(Field{Name: "first octet", Children: []Field{mtiField(1, m), flag("TP-UDHI", m.UD.header(), "user data begins with a header", "no header")}})
		if m.FCS != 0 {
			add(Field{Name: "TP-FCS", Value: FCSString(m.FCS), Hex: fmt.Sprintf("%02X", m.FCS)})
		}
		add(timeField("TP-SCTS", m.SCTS))
		add(piFields(m.PI, m.PID, m.DCS)...)
		if m.PI&0x04 != 0 {
			dcs, ud = m.DCS, &m.UD
		}
	case *Command:
		add(Field{Name: "first octet", Children: []Field{
			mtiField(2, m),
			flag("TP-SRR", m.StatusReportRequest, "status report requested", "no status report requested"),
			flag("TP-UDHI", m.UDHI, "command data begins with a header", "no header"),
		}}, Field{Name: "TP-MR", Value: fmt.Sprint(m.MR)},
			Field{Name: "TP-PID", Value: PIDString(m.PID), Hex: fmt.Sprintf("%02X", m.PID)},
			Field{Name: "TP-CT", Value: [4]string{"enquiry", "cancel status report request", "delete previously submitted SM", "enable status report request"}[min(int(m.CT), 3)], Hex: fmt.Sprintf("%02X", m.CT)},
			Field{Name: "TP-MN", Value: fmt.Sprint(m.MN)}, addressField("TP-DA", m.DA),
			Field{Name: "TP-CD", Hex: hexUpper(m.CD)})
	}
	if ud != nil {
		add(userDataFields(dcs, *ud)...)
	}
	return root
}

func piFields(pi, pid byte, dcs DCS) []Field {
	out := []Field{{Name: "TP-PI", Hex: fmt.Sprintf("%02X", pi), Value: fmt.Sprintf("PID %v, DCS %v, UDL %v", pi&1 != 0, pi&2 != 0, pi&4 != 0)}}
	if pi&1 != 0 {
		out = append(out, Field{Name: "TP-PID", Value: PIDString(pid), Hex: fmt.Sprintf("%02X", pid)})
	}
	if pi&2 != 0 {
		out = append(out, Field{Name: "TP-DCS", Value: dcs.String(), Hex: fmt.Sprintf("%02X", byte(dcs))})
	}
	return out
}

// FCSString names a TP-FCS failure cause (3GPP TS 23.040 §9.2.3.22).
func FCSString(c byte) string {
	switch c {
	case 0x80:
		return "telematic interworking not supported"
	case 0x81:
		return "short message type 0 not supported"
	case 0x82:
		return "cannot replace short message"
	case 0x8F:
		return "unspecified TP-PID error"
	case 0x90:
		return "data coding scheme (alphabet) not supported"
	case 0x91:
		return "message class not supported"
	case 0x9F:
		return "unspecified TP-DCS error"
	case 0xA0:
		return "command cannot be actioned"
	case 0xA1:
		return "command unsupported"
	case 0xAF:
		return "unspecified TP-Command error"
	case 0xB0:
		return "TPDU not supported"
	case 0xC0:
		return "SC busy"
	case 0xC1:
		return "no SC subscription"
	case 0xC2:
		return "SC system failure"
	case 0xC3:
		return "invalid SME address"
	case 0xC4:
		return "destination SME barred"
	case 0xC5:
		return "SM rejected, duplicate SM"
	case 0xC6:
		return "TP-VPF not supported"
	case 0xC7:
		return "TP-VP not supported"
	case 0xD0:
		return "(U)SIM SMS storage full"
	case 0xD1:
		return "no SMS storage capability in (U)SIM"
	case 0xD2:
		return "error in MS"
	case 0xD3:
		return "memory capacity exceeded"
	case 0xD4:
		return "(U)SIM application toolkit busy"
	case 0xD5:
		return "(U)SIM data download error"
	case 0xFF:
		return "unspecified error cause"
	}
	if c >= 0xE0 && c <= 0xFE {
		return "application specific"
	}
	return "reserved"
}

func userDataFields(dcs DCS, ud UserData) []Field {
	var out []Field
	if ud.header() {
		h := Field{Name: "TP-UDH", Value: fmt.Sprintf("%d element(s)", len(ud.Header))}
		for _, ie := range ud.Header {
			f := Field{Name: fmt.Sprintf("IE %02X %s", ie.ID, IEIName(ie.ID)), Value: ie.Describe(), Hex: hexUpper(ie.Data)}
			h.Children = append(h.Children, f)
		}
		out = append(out, h)
	}
	f := Field{Name: "TP-UD"}
	if dcs.Septets() {
		f.Value = fmt.Sprintf("%d septets", len(ud.Data))
	} else {
		f.Value = fmt.Sprintf("%d octets", len(ud.Data))
		f.Hex = hexUpper(ud.Data)
	}
	if text, ok, err := ud.Text(dcs); err != nil {
		f.Children = append(f.Children, Field{Name: "text", Value: "undecodable: " + err.Error()})
	} else if ok {
		f.Children = append(f.Children, Field{Name: "text", Value: fmt.Sprintf("%q", text)})
	}
	if !dcs.Septets() && dcs.Alphabet() == Alphabet8Bit && printable(ud.Data) {
		f.Children = append(f.Children, Field{Name: "as ASCII", Value: fmt.Sprintf("%q", ud.Data)})
	}
	if _, ok := ud.IE(IEICommandPacket); ok {
		f.Children = append(f.Children, Field{Name: "secured command packet", Value: "TS 31.115 §4.2 (decode with `simlab decode ota`)"})
	}
	if _, ok := ud.IE(IEIResponsePacket); ok {
		f.Children = append(f.Children, Field{Name: "secured response packet", Value: "TS 31.115 §4.4 (decode with `simlab decode ota`)"})
	}
	return append(out, f)
}

func printable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}
