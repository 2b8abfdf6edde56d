package cat

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Field is a node of a decoded tree (shared with package tpdu).
type Field = tpdu.Field

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// Kind says what a byte string given to Explain turned out to be.
type Kind string

// Kinds Explain recognises.
const (
	KindCommand          Kind = "proactive command"
	KindFetchResponse    Kind = "FETCH response"
	KindEnvelope         Kind = "ENVELOPE data"
	KindTerminalResponse Kind = "TERMINAL RESPONSE data"
	KindAPDU             Kind = "command APDU"
)

// Explain decodes b into a tree with the specification's names. It
// recognises a proactive command (D0…), a FETCH response (D0… plus status
// word), ENVELOPE data (D1…DF), a TERMINAL RESPONSE body (81 03 …), and
// whole command APDUs TERMINAL RESPONSE (80 14), ENVELOPE (80 C2), TERMINAL
// PROFILE (80 10) and FETCH (80 12), class A0 too. The input is first
// decoded with the typed parsers, so malformed input gives their error.
func Explain(b []byte) (Field, Kind, error) {
	if len(b) == 0 {
		return Field{}, "", errAt(0, ErrTemplate, "expected a proactive command, envelope, terminal response or APDU, got no data")
	}
	switch {
	case len(b) >= 4 && (b[0] == 0x80 || b[0] == 0xA0) && (b[1] == 0x14 || b[1] == 0xC2 || b[1] == 0x10 || b[1] == 0x12):
		f, err := explainAPDU(b)
		return f, KindAPDU, err
	case b[0] == 0xD0:
		if obj, rest, err := tlv.ParseBER(b); err == nil && obj.Tag == tlv.TagProactive && len(rest) == 2 {
			body := b[:len(b)-2]
			f, err := explainCommand(body)
			if err != nil {
				return Field{}, KindFetchResponse, err
			}
			root := Field{Name: "FETCH response", Children: []Field{f, swField(rest)}}
			return root, KindFetchResponse, nil
		}
		f, err := explainCommand(b)
		return f, KindCommand, err
	case b[0] >= 0xD1 && b[0] <= 0xDF:
		f, err := explainEnvelope(b)
		return f, KindEnvelope, err
	case b[0]&0x7F == 0x01:
		f, err := explainResponse(b)
		return f, KindTerminalResponse, err
	}
	return Field{}, "", errAt(0, ErrTemplate, "expected D0 (proactive command), D1..DF (envelope), 81 (terminal response) or an 80/A0 APDU, got %02X", b[0])
}

func swField(sw []byte) Field {
	v := "normal ending"
	switch {
	case sw[0] == 0x91:
		v = fmt.Sprintf("normal ending, a proactive command of %d bytes is pending", sw[1])
	case sw[0] == 0x90 && sw[1] == 0x00:
	case sw[0] == 0x93 && sw[1] == 0x00:
		v = "SIM Application Toolkit is busy"
	default:
		v = "status word"
	}
	return Field{Name: "SW1 SW2", Value: v, Hex: hexUpper(sw)}
}

func explainAPDU(b []byte) (Field, error) {
	root := Field{Name: "command APDU"}
	names := map[byte]string{0x14: "TERMINAL RESPONSE", 0xC2: "ENVELOPE", 0x10: "TERMINAL PROFILE", 0x12: "FETCH"}
	root.Value = names[b[1]]
	root.Children = append(root.Children, Field{Name: "CLA INS P1 P2", Hex: hexUpper(b[:4])})
	if b[1] == 0x12 {
		if len(b) != 5 {
			return Field{}, errAt(len(b), ErrTemplate, "FETCH: expected Le after the header (5 bytes), got %d bytes", len(b))
		}
		root.Children = append(root.Children, Field{Name: "Le", Value: fmt.Sprintf("%d bytes expected", b[4])})
		return root, nil
	}
	if len(b) < 5 {
		return Field{}, errAt(len(b), ErrTemplate, "%s: expected Lc after the header", root.Value)
	}
	lc := int(b[4])
	data := b[5:]
	if len(data) != lc && len(data) != lc+1 {
		return Field{}, errAt(4, ErrTemplate, "%s: Lc %d does not match the %d data bytes", root.Value, lc, len(data))
	}
	root.Children = append(root.Children, Field{Name: "Lc", Value: fmt.Sprint(lc)})
	if len(data) == lc+1 {
		root.Children = append(root.Children, Field{Name: "Le", Hex: fmt.Sprintf("%02X", data[lc])})
	}
	data = data[:lc]
	var f Field
	var err error
	switch b[1] {
	case 0x14:
		f, err = explainResponse(data)
	case 0xC2:
		f, err = explainEnvelope(data)
	case 0x10:
		f = explainProfile(TerminalProfile(data))
	}
	if err != nil {
		if de, ok := err.(*DecodeError); ok {
			de.Offset += 5 // offsets count from the start of the APDU
		}
		return Field{}, err
	}
	root.Children = append(root.Children, f)
	return root, nil
}

func explainProfile(p TerminalProfile) Field {
	f := Field{Name: "TERMINAL PROFILE", Value: fmt.Sprintf("%d bytes", len(p)), Hex: hexUpper(p)}
	for _, line := range p.Describe() {
		f.Children = append(f.Children, Field{Name: line})
	}
	return f
}

func explainCommand(b []byte) (Field, error) {
	c, err := ParseCommand(b)
	if err != nil {
		return Field{}, err
	}
	d := c.Details()
	root := Field{Name: "proactive command (D0)", Value: d.Type.String()}
	v, _, _ := parseTemplate(b, tlv.TagProactive, "proactive command")
	root.Children = explainObjects(v, tpdu.MO)
	return root, nil
}

func explainEnvelope(b []byte) (Field, error) {
	e, err := ParseEnvelope(b)
	if err != nil {
		return Field{}, err
	}
	root := Field{Name: fmt.Sprintf("ENVELOPE (%02X)", uint32(e.Tag())), Value: EnvelopeName(e.Tag())}
	v, _, _ := parseTemplate(b, e.Tag(), "envelope")
	root.Children = explainObjects(v, tpdu.MT)
	return root, nil
}

func explainResponse(b []byte) (Field, error) {
	r, err := ParseTerminalResponse(b)
	if err != nil {
		return Field{}, err
	}
	root := Field{Name: "TERMINAL RESPONSE", Value: fmt.Sprintf("%s: %s", r.Details.Type, r.Result)}
	root.Children = explainObjects(b, tpdu.MO)
	return root, nil
}

// explainObjects renders each simple object of v; dir is the direction of
// an SMS TPDU among them.
func explainObjects(v []byte, dir tpdu.Direction) []Field {
	var out []Field
	for off := 0; off < len(v); {
		o, rest, err := tlv.ParseCTLV(v[off:])
		if err != nil {
			out = append(out, Field{Name: "undecodable", Value: err.Error(), Hex: hexUpper(v[off:])})
			break
		}
		out = append(out, explainObject(o, dir))
		off = len(v) - len(rest)
	}
	return out
}

func explainObject(o tlv.CTLV, dir tpdu.Direction) Field {
	name := TagName(o.Tag)
	tagHex := fmt.Sprintf("%02X", o.Append(nil)[0])
	if o.ThreeByte || o.Tag > 0x7E {
		tagHex = hexUpper(o.Append(nil)[:3])
	}
	f := Field{Name: fmt.Sprintf("%s (%s)", name, tagHex), Hex: hexUpper(o.Value)}
	if !o.CR {
		f.Name += ", comprehension not required"
	}
	v := o.Value
	switch o.Tag {
	case TagCommandDetails:
		if len(v) == 3 {
			ct := CommandType(v[1])
			f.Value = fmt.Sprintf("number %d, %s, qualifier %02X", v[0], ct, v[2])
			for _, s := range QualifierStrings(ct, v[2]) {
				f.Children = append(f.Children, Field{Name: "qualifier", Value: s})
			}
		}
	case TagDeviceIdentities:
		if len(v) == 2 {
			f.Value = fmt.Sprintf("%s → %s", Device(v[0]), Device(v[1]))
		}
	case TagResult:
		if len(v) > 0 {
			f.Value = Result{General: GeneralResult(v[0]), Additional: v[1:]}.String()
		}
	case TagDuration, TagTimerValue:
		if o.Tag == TagDuration && len(v) == 2 {
			f.Value = Duration{Unit: TimeUnit(v[0]), Interval: v[1]}.Duration().String()
		} else if tv, ok := parseTimerValue(v); ok {
			f.Value = tv.Duration().String()
		}
	case TagAlphaIdentifier:
		f.Value = quoteAlpha(AlphaID(v))
	case TagTextString, TagDefaultText:
		t := parseTextString(v)
		if t.Null {
			f.Value = "null text string"
		} else if s, err := t.String(); err == nil {
			f.Value = fmt.Sprintf("%q (DCS %02X: %s)", s, byte(t.DCS), textDCSName(t.DCS))
		} else {
			f.Value = "undecodable: " + err.Error()
		}
	case TagItem:
		if len(v) == 0 {
			f.Value = "null item (remove menu)"
		} else {
			f.Value = fmt.Sprintf("item %d: %s", v[0], quoteAlpha(AlphaID(v[1:])))
		}
	case TagItemIdentifier, TagTimerIdentifier:
		if len(v) == 1 {
			f.Value = fmt.Sprint(v[0])
		}
	case TagResponseLength:
		if len(v) == 2 {
			f.Value = fmt.Sprintf("%d..%d characters", v[0], v[1])
		}
	case TagAddress:
		if a, err := parseAddressValue(v); err == nil {
			f.Value = fmt.Sprintf("%s (%s, %s)", a, a.TON, a.NPI)
		}
	case TagSMSTPDU:
		if m, err := tpdu.Parse(v, dir); err == nil {
			f.Children = append(f.Children, tpdu.ExplainMessage(m))
		} else if m, err2 := tpdu.Parse(v, 1-dir); err2 == nil {
			f.Children = append(f.Children, tpdu.ExplainMessage(m))
		} else {
			f.Value = "undecodable TPDU: " + err.Error()
		}
	case TagTone:
		if len(v) == 1 {
			f.Value = Tone(v[0]).String()
		}
	case TagIconIdentifier:
		if len(v) == 2 {
			f.Value = fmt.Sprintf("record %d, %s", v[1], map[bool]string{false: "self-explanatory", true: "not self-explanatory"}[v[0]&1 != 0])
		}
	case TagEventList:
		var names []string
		for _, e := range v {
			names = append(names, Event(e).String())
		}
		f.Value = strings.Join(names, ", ")
		if len(v) == 0 {
			f.Value = "empty (remove the event list)"
		}
	case TagLocationStatus:
		if len(v) == 1 {
			f.Value = LocationStatus(v[0]).String()
		}
	case TagImmediateResponse:
		f.Value = "present"
	case TagHelpRequest:
		f.Value = "help requested"
	case TagIMEI:
		f.Value = imeiString(v)
	case TagLocationInfo:
		if l, err := ParseLocationInfo(v); err == nil {
			f.Value = fmt.Sprintf("MCC %s, MNC %s, LAC %04X, cell ID %X", l.MCC, l.MNC, l.LAC, l.CellID)
		}
	case TagDateTimeZone:
		if t, err := tpdu.ParseTimestamp(v); err == nil {
			f.Value = t.Format("2006-01-02 15:04:05 -07:00")
		}
	case TagLanguage:
		f.Value = string(v)
	}
	return f
}

func quoteAlpha(a AlphaID) string {
	if len(a) == 0 {
		return "null alpha identifier"
	}
	s, err := a.String()
	if err != nil {
		return "undecodable: " + err.Error()
	}
	return fmt.Sprintf("%q", s)
}

func textDCSName(d tpdu.DCS) string {
	switch d.Alphabet() {
	case tpdu.AlphabetGSM7:
		return "GSM 7-bit default alphabet, packed"
	case tpdu.AlphabetUCS2:
		return "UCS2"
	}
	return "GSM default alphabet, 8-bit"
}

func imeiString(v []byte) string {
	if len(v) != 8 {
		return ""
	}
	var sb strings.Builder
	for i, c := range v {
		lo, hi := c&0x0F, c>>4
		if i > 0 {
			sb.WriteByte('0' + lo%10)
		}
		if hi != 0x0F {
			sb.WriteByte('0' + hi%10)
		}
	}
	return sb.String()
}

// QualifierStrings explains the command qualifier q of a command of type t
// (ETSI TS 102 223 §8.6), one meaning per line.
func QualifierStrings(t CommandType, q byte) []string {
	pick := func(v bool, yes, no string) string {
		if v {
			return yes
		}
		return no
	}
	switch t {
	case CmdDisplayText:
		return []string{pick(q&1 != 0, "high priority", "normal priority"), pick(q&0x80 != 0, "wait for user to clear message", "clear message after a delay")}
	case CmdGetInkey:
		if q&0x04 != 0 {
			return []string{"Yes/No response", pick(q&0x80 != 0, "help information available", "no help information available")}
		}
		return []string{pick(q&1 != 0, "alphabet set", "digits (0-9, *, #, +) only"), pick(q&2 != 0, "UCS2 alphabet", "SMS default alphabet"),
			pick(q&0x08 != 0, "immediate digit response", "no immediate digit response"), pick(q&0x80 != 0, "help information available", "no help information available")}
	case CmdGetInput:
		return []string{pick(q&1 != 0, "alphabet set", "digits (0-9, *, #, +) only"), pick(q&2 != 0, "UCS2 alphabet", "SMS default alphabet"),
			pick(q&4 != 0, "user input shall not be revealed", "terminal may echo user input"), pick(q&8 != 0, "user input in SMS packed format", "user input unpacked"),
			pick(q&0x80 != 0, "help information available", "no help information available")}
	case CmdSelectItem:
		out := []string{pick(q&1 != 0, pick(q&2 != 0, "presentation as a choice of navigation options", "presentation as a choice of data values"), "presentation type not specified"),
			pick(q&4 != 0, "selection using soft key preferred", "no selection preference"), pick(q&0x80 != 0, "help information available", "no help information available")}
		return out
	case CmdSetUpMenu:
		return []string{pick(q&1 != 0, "selection using soft key preferred", "no selection preference"), pick(q&0x80 != 0, "help information available", "no help information available")}
	case CmdSendShortMessage:
		return []string{pick(q&1 != 0, "SMS packing by the terminal required", "packing not required")}
	case CmdPlayTone:
		return []string{pick(q&1 != 0, "vibrate alert with the tone", "use of vibrate alert is up to the terminal")}
	case CmdProvideLocalInfo:
		return []string{LocalInfoKind(q).String()}
	case CmdRefresh:
		return []string{RefreshMode(q).String()}
	case CmdTimerManagement:
		return []string{TimerAction(q & 3).String()}
	}
	return nil
}
