package apdu

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/simlab-dev/simlab/applet/tlv"
)

// Node is one line of a readable decode tree: a field name, its raw value in
// hex and what it means. Describe* build trees for `simlab decode apdu` and
// traces; the JSON form is stable.
type Node struct {
	Name     string `json:"name"`
	Value    string `json:"value,omitempty"`
	Meaning  string `json:"meaning,omitempty"`
	Children []Node `json:"children,omitempty"`
}

func hx(b ...byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// DescribeCommand explains a command APDU: class, instruction, P1/P2 as the
// instruction defines them (ETSI TS 102 221 §11), Lc, data and Le. PIN
// values in VERIFY/CHANGE/DISABLE/ENABLE/UNBLOCK PIN are never shown.
func DescribeCommand(c Command) Node {
	cl := ClassOf(c.CLA)
	clm := cl.Kind.String()
	if cl.Kind == ClassInterindustry || cl.Kind == ClassProprietary {
		clm += fmt.Sprintf(", logical channel %d", cl.Channel)
		if cl.SecureMessaging != 0 {
			clm += fmt.Sprintf(", secure messaging %d", cl.SecureMessaging)
		}
		if cl.Chaining {
			clm += ", command chaining"
		}
	}
	name := c.Name()
	root := Node{Name: "C-APDU", Meaning: fmt.Sprintf("%s, case %d%s", name, c.Case(), map[bool]string{true: "E", false: "S"}[c.Extended])}
	root.Children = append(root.Children,
		Node{Name: "CLA", Value: hx(c.CLA), Meaning: clm},
		Node{Name: "INS", Value: hx(c.INS), Meaning: name},
		Node{Name: "P1", Value: hx(c.P1), Meaning: p1Meaning(c)},
		Node{Name: "P2", Value: hx(c.P2), Meaning: p2Meaning(c)},
	)
	if len(c.Data) > 0 {
		root.Children = append(root.Children, Node{Name: "Lc", Value: lenHex(len(c.Data), c.Extended), Meaning: fmt.Sprintf("%d bytes of data", len(c.Data))})
		root.Children = append(root.Children, describeCommandData(c))
	}
	if c.Ne > 0 {
		le := c.Ne
		if le == 256 && !c.Extended || le == 65536 {
			le = 0
		}
		root.Children = append(root.Children, Node{Name: "Le", Value: lenHex(le, c.Extended), Meaning: fmt.Sprintf("up to %d bytes expected", c.Ne)})
	}
	return root
}

// lenHex renders an Lc or Le field value in hex, 2 digits short, 4 extended.
func lenHex(n int, ext bool) string {
	if ext {
		return fmt.Sprintf("%04X", n)
	}
	return fmt.Sprintf("%02X", n)
}

func isPINIns(c Command) bool {
	switch c.INS {
	case INSVerifyPIN, INSChangePIN, INSDisablePIN, INSEnablePIN, INSUnblockPIN:
		return ClassOf(c.CLA).Kind == ClassInterindustry || ClassOf(c.CLA).Kind == ClassGSM
	}
	return false
}

// KeyRefName names a PIN key reference (ETSI TS 102 221 §9.5.1 table 9.3).
func KeyRefName(ref byte) string {
	switch {
	case ref == 0x01:
		return "PIN1 (PIN Appl 1)"
	case ref >= 0x02 && ref <= 0x08:
		return fmt.Sprintf("PIN Appl %d", ref)
	case ref >= 0x0A && ref <= 0x0E:
		return fmt.Sprintf("ADM%d", ref-0x09)
	case ref == 0x11:
		return "universal PIN"
	case ref >= 0x81 && ref <= 0x88:
		return fmt.Sprintf("second PIN Appl %d (PIN2)", ref-0x80)
	case ref >= 0x8A && ref <= 0x8E:
		return fmt.Sprintf("ADM%d", ref-0x84)
	}
	return "unknown key reference"
}

func p1Meaning(c Command) string {
	gsm := ClassOf(c.CLA).Kind == ClassGSM
	switch c.INS {
	case INSSelect:
		if gsm {
			return "GSM: select by file identifier"
		}
		switch c.P1 {
		case 0x00:
			return "select by file identifier (MF, DF or EF)"
		case 0x01:
			return "select child DF"
		case 0x03:
			return "select parent DF of the current DF"
		case 0x04:
			return "select by DF name (AID)"
		case 0x08:
			return "select by path from MF"
		case 0x09:
			return "select by path from current DF"
		}
		return "invalid for SELECT"
	case INSReadBinary, INSUpdateBinary:
		if c.P1&0x80 != 0 && !gsm {
			return fmt.Sprintf("short file identifier %d, offset in P2", c.P1&0x1F)
		}
		return fmt.Sprintf("offset high byte (offset %d)", int(c.P1&0x7F)<<8|int(c.P2))
	case INSReadRecord, INSUpdateRecord:
		return fmt.Sprintf("record number %d", c.P1)
	case INSStatus:
		switch c.P1 {
		case 0x00:
			return "no indication"
		case 0x01:
			return "current application is initialised in the terminal"
		case 0x02:
			return "terminal will initiate the termination of the current application"
		}
	case INSUnblockPIN, INSVerifyPIN, INSChangePIN, INSDisablePIN, INSEnablePIN:
		if c.INS == INSDisablePIN && c.P1 == 0x80 {
			return "replace by the universal PIN"
		}
	case INSManageChannel:
		switch c.P1 {
		case 0x00:
			return "open logical channel"
		case 0x80:
			return "close logical channel"
		}
	}
	return ""
}

func p2Meaning(c Command) string {
	gsm := ClassOf(c.CLA).Kind == ClassGSM
	switch c.INS {
	case INSSelect:
		if gsm {
			return ""
		}
		var parts []string
		switch c.P2 & 0x0C {
		case 0x04:
			parts = append(parts, "return FCP template")
		case 0x0C:
			parts = append(parts, "no data returned")
		case 0x00:
			parts = append(parts, "return FCI template")
		case 0x08:
			parts = append(parts, "return FMD template")
		}
		switch c.P2 & 0x03 {
		case 0x00:
			parts = append(parts, "first or only occurrence")
		case 0x01:
			parts = append(parts, "last occurrence")
		case 0x02:
			parts = append(parts, "next occurrence")
		case 0x03:
			parts = append(parts, "previous occurrence")
		}
		if c.P1 == 0x04 {
			switch c.P2 & 0x60 {
			case 0x00:
				parts = append(parts, "application session activation")
			case 0x40:
				parts = append(parts, "application session termination")
			}
		}
		return strings.Join(parts, ", ")
	case INSReadBinary, INSUpdateBinary:
		if c.P1&0x80 != 0 && !gsm {
			return fmt.Sprintf("offset %d", c.P2)
		}
		return "offset low byte"
	case INSReadRecord, INSUpdateRecord:
		mode := map[byte]string{2: "next record", 3: "previous record", 4: "absolute/current mode"}[c.P2&0x07]
		if mode == "" {
			mode = "invalid mode"
		}
		if sfi := c.P2 >> 3; sfi != 0 && !gsm {
			return fmt.Sprintf("%s, short file identifier %d", mode, sfi)
		}
		return mode + ", current EF"
	case INSStatus:
		switch c.P2 {
		case 0x00:
			return "response parameters and data as for SELECT (FCP)"
		case 0x01:
			return "return the DF name TLV (AID)"
		case 0x0C:
			return "no data returned"
		}
	case INSVerifyPIN, INSChangePIN, INSDisablePIN, INSEnablePIN, INSUnblockPIN:
		if gsm {
			return fmt.Sprintf("CHV%d", c.P2)
		}
		return KeyRefName(c.P2)
	case INSManageChannel:
		return fmt.Sprintf("channel %d", c.P2)
	}
	return ""
}

func describeCommandData(c Command) Node {
	n := Node{Name: "data", Value: hx(c.Data...)}
	if isPINIns(c) {
		n.Value = ""
		n.Meaning = fmt.Sprintf("%d bytes of PIN data (not shown)", len(c.Data))
		return n
	}
	switch c.INS {
	case INSSelect:
		switch {
		case c.P1 == 0x04 && ClassOf(c.CLA).Kind != ClassGSM:
			n.Meaning = "AID " + describeAID(c.Data)
		case (c.P1 == 0x08 || c.P1 == 0x09) && len(c.Data)%2 == 0:
			var p []string
			for i := 0; i+1 < len(c.Data); i += 2 {
				p = append(p, hx(c.Data[i], c.Data[i+1]))
			}
			n.Meaning = "path " + strings.Join(p, "/")
		case len(c.Data) == 2:
			n.Meaning = "file identifier " + FileName(uint16(c.Data[0])<<8|uint16(c.Data[1]))
		}
	case INSEnvelope:
		if o, _, err := tlv.ParseBER(c.Data); err == nil {
			n.Meaning = EnvelopeName(o.Tag)
		}
	case INSTerminalProfile:
		n.Meaning = fmt.Sprintf("terminal profile, %d bytes", len(c.Data))
	case INSTerminalResponse:
		n.Meaning = "terminal response (COMPREHENSION-TLV, ETSI TS 102 223 §6.8)"
	}
	return n
}

// EnvelopeName names an ENVELOPE or proactive template tag (ETSI TS 102 223 §9.1).
func EnvelopeName(t tlv.BERTag) string {
	switch t {
	case tlv.TagProactive:
		return "proactive command (D0)"
	case tlv.TagSMSPPDownload:
		return "SMS-PP download (D1)"
	case tlv.TagCBDownload:
		return "cell broadcast download (D2)"
	case tlv.TagMenuSelection:
		return "menu selection (D3)"
	case tlv.TagCallControl:
		return "call control (D4)"
	case tlv.TagMOSMControl:
		return "MO short message control (D5)"
	case tlv.TagEventDownload:
		return "event download (D6)"
	case tlv.TagTimerExpiration:
		return "timer expiration (D7)"
	}
	return "BER-TLV " + t.String()
}

func describeAID(aid []byte) string {
	s := hx(aid...)
	if len(aid) >= 5 {
		switch hx(aid[:5]...) {
		case "A000000087":
			s += " (RID A000000087: 3GPP"
			if len(aid) >= 7 {
				switch hx(aid[5:7]...) {
				case "1002":
					s += ", USIM"
				case "1004":
					s += ", ISIM"
				}
			}
			s += ")"
		case "A000000009":
			s += " (RID A000000009: ETSI)"
		case "A000000151", "A000000003":
			s += " (GlobalPlatform)"
		}
	}
	return s
}

// FileName returns a file identifier in hex with the name ETSI TS 102 221
// §13 or 3GPP TS 31.102 §4 gives it, e.g. "3F00 (MF)", "6F07 (EF_IMSI)".
func FileName(fid uint16) string {
	s := fmt.Sprintf("%04X", fid)
	if n, ok := fileNames[fid]; ok {
		return s + " (" + n + ")"
	}
	return s
}

var fileNames = map[uint16]string{
	0x3F00: "MF", 0x2FE2: "EF_ICCID", 0x2F00: "EF_DIR", 0x2F05: "EF_PL", 0x2F06: "EF_ARR",
	0x7FFF: "current ADF", 0x7F10: "DF_TELECOM", 0x7F20: "DF_GSM",
	0x6F07: "EF_IMSI", 0x6F40: "EF_MSISDN", 0x6F42: "EF_SMSP", 0x6F38: "EF_UST", 0x6FAD: "EF_AD",
	0x6F05: "EF_LI", 0x6F46: "EF_SPN", 0x6F3C: "EF_SMS", 0x6F43: "EF_SMSS", 0x6F06: "EF_ARR",
	0x6F78: "EF_ACC", 0x6F7E: "EF_LOCI", 0x6F08: "EF_Keys", 0x6F56: "EF_EST",
}

// DescribeResponse explains a response APDU: the data (an FCP template is
// broken down per ETSI TS 102 221 §11.1.1.3, a proactive command named) and
// the status word.
func DescribeResponse(r Response) Node {
	root := Node{Name: "R-APDU", Meaning: r.SW.Name()}
	if len(r.Data) > 0 {
		d := Node{Name: "data", Value: hx(r.Data...)}
		if o, rest, err := tlv.ParseBER(r.Data); err == nil && len(rest) == 0 {
			switch o.Tag {
			case tlv.TagFCP:
				d.Meaning = "FCP template"
				d.Children = describeFCP(o.Value)
			case tlv.TagProactive:
				d.Meaning = "proactive command (D0)"
			case tlv.TagFCI:
				d.Meaning = "FCI template"
				d.Children = describeFCP(o.Value)
			}
		}
		root.Children = append(root.Children, d)
	}
	root.Children = append(root.Children, Node{Name: "SW", Value: fmt.Sprintf("%04X", uint16(r.SW)), Meaning: r.SW.Name()})
	return root
}

var fcpNames = map[tlv.BERTag]string{
	0x80: "file size", 0x81: "total file size", 0x82: "file descriptor", 0x83: "file identifier",
	0x84: "DF name (AID)", 0x85: "proprietary information (primitive)", 0x88: "short file identifier",
	0x8A: "life cycle status", 0x8B: "security attributes (referenced to EF_ARR)",
	0x8C: "security attributes (compact)", 0xAB: "security attributes (expanded)",
	0xA5: "proprietary information", 0xC6: "PIN status template",
}

func describeFCP(b []byte) []Node {
	objs, err := tlv.ParseAllBER(nil, b)
	if err != nil {
		return []Node{{Name: "error", Meaning: err.Error()}}
	}
	var out []Node
	for _, o := range objs {
		n := Node{Name: o.Tag.String(), Value: hx(o.Value...), Meaning: fcpNames[o.Tag]}
		switch o.Tag {
		case 0x82:
			n.Meaning += ": " + describeFileDescriptor(o.Value)
		case 0x83:
			if len(o.Value) == 2 {
				n.Meaning += " " + FileName(uint16(o.Value[0])<<8|uint16(o.Value[1]))
			}
		case 0x84:
			n.Meaning += " " + describeAID(o.Value)
		case 0x8A:
			if len(o.Value) == 1 {
				n.Meaning += ": " + lcsName(o.Value[0])
			}
		case 0x80, 0x81:
			v := 0
			for _, c := range o.Value {
				v = v<<8 | int(c)
			}
			n.Meaning += fmt.Sprintf(": %d bytes", v)
		}
		out = append(out, n)
	}
	return out
}

func describeFileDescriptor(v []byte) string {
	if len(v) == 0 {
		return "empty"
	}
	var s string
	switch v[0] & 0xBF {
	case 0x38:
		s = "DF or ADF"
	case 0x01:
		s = "working EF, transparent"
	case 0x02:
		s = "working EF, linear fixed"
	case 0x06:
		s = "working EF, cyclic"
	case 0x39:
		s = "BER-TLV EF"
	default:
		s = "file type " + hx(v[0])
	}
	if v[0]&0x40 != 0 {
		s += ", shareable"
	}
	if len(v) >= 5 {
		s += fmt.Sprintf(", record length %d, %d records", int(v[2])<<8|int(v[3]), v[4])
	}
	return s
}

func lcsName(b byte) string {
	switch {
	case b == 0x00:
		return "no information given"
	case b == 0x01:
		return "creation state"
	case b == 0x03:
		return "initialisation state"
	case b&0xFD == 0x05:
		return "operational state, activated"
	case b&0xFD == 0x04:
		return "operational state, deactivated"
	case b&0xFC == 0x0C:
		return "termination state"
	}
	return "proprietary"
}

// String renders the tree as indented text, one node per line:
// name, value, and meaning after a colon.
func (n Node) String() string {
	var b strings.Builder
	n.write(&b, "")
	return b.String()
}

func (n Node) write(b *strings.Builder, indent string) {
	b.WriteString(indent)
	b.WriteString(n.Name)
	if n.Value != "" {
		b.WriteString(" ")
		b.WriteString(n.Value)
	}
	if n.Meaning != "" {
		b.WriteString(": ")
		b.WriteString(n.Meaning)
	}
	b.WriteString("\n")
	for _, c := range n.Children {
		c.write(b, indent+"  ")
	}
}
