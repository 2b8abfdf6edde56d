package modem

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/warthog618/sms/encoding/pdumode"
)

// ErrMalformed reports an information line from the modem that does not
// have the form TS 27.007 / TS 27.005 give it.
var ErrMalformed = errors.New("modem: malformed response")

func malformed(what string, off int, expected string) error {
	return fmt.Errorf("%w: %s: offset %d: expected %s", ErrMalformed, what, off, expected)
}

// fields splits the text after "<prefix>:" on commas outside double quotes
// and removes the quotes (TS 27.007 §4.1 information responses).
func fields(line, prefix string) ([]string, error) {
	if !strings.HasPrefix(line, prefix+":") {
		return nil, malformed(prefix, 0, fmt.Sprintf("%q", prefix+":"))
	}
	rest := line[len(prefix)+1:]
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		case (c == ' ' || c == '\t') && !quoted:
		default:
			cur.WriteByte(c)
		}
	}
	if quoted {
		return nil, malformed(prefix, len(line), "closing '\"'")
	}
	return append(out, cur.String()), nil
}

func atoiField(f []string, i int, what string) (int, error) {
	if i >= len(f) {
		return 0, malformed(what, i, fmt.Sprintf("field %d", i+1))
	}
	v, err := strconv.Atoi(f[i])
	if err != nil {
		return 0, malformed(what, i, fmt.Sprintf("an integer in field %d, got %q", i+1, f[i]))
	}
	return v, nil
}

// Signal is the +CSQ answer, TS 27.007 §8.5.
type Signal struct {
	// RSSI is <rssi>: 0 (-113 dBm or less) .. 31 (-51 dBm or more), 99 not
	// known.
	RSSI int `json:"rssi"`
	// BER is <ber>: 0..7 (RXQUAL), 99 not known.
	BER int `json:"ber"`
	// DBM is the received signal strength in dBm, 0 when not known.
	DBM int `json:"dbm,omitempty"`
}

// ParseCSQ parses "+CSQ: <rssi>,<ber>" (TS 27.007 §8.5) and decodes <rssi>
// to dBm: -113 + 2·rssi.
func ParseCSQ(line string) (Signal, error) {
	f, err := fields(line, "+CSQ")
	if err != nil {
		return Signal{}, err
	}
	rssi, err := atoiField(f, 0, "+CSQ")
	if err != nil {
		return Signal{}, err
	}
	ber, err := atoiField(f, 1, "+CSQ")
	if err != nil {
		return Signal{}, err
	}
	if (rssi < 0 || rssi > 31) && rssi != 99 {
		return Signal{}, malformed("+CSQ", 0, fmt.Sprintf("rssi 0..31 or 99, got %d", rssi))
	}
	s := Signal{RSSI: rssi, BER: ber}
	if rssi != 99 {
		s.DBM = -113 + 2*rssi
	}
	return s, nil
}

// Registration is a network registration state from +CREG (TS 27.007
// §7.2), +CGREG (§10.1.20) or +CEREG (§10.1.22).
type Registration struct {
	// Command is "+CREG", "+CGREG" or "+CEREG".
	Command string `json:"command"`
	// Stat is <stat>: 0 not registered, 1 home, 2 searching, 3 denied,
	// 4 unknown, 5 roaming, …
	Stat int `json:"stat"`
	// State is <stat> in words.
	State string `json:"state"`
	// LAC and CI are the location area (or tracking area) code and cell id
	// in hex, when the modem reports them (<n>=2).
	LAC string `json:"lac,omitempty"`
	CI  string `json:"ci,omitempty"`
	// AcT is the access technology (<AcT>: 0 GSM, 2 UTRAN, 7 E-UTRAN),
	// -1 when not reported.
	AcT int `json:"act"`
}

// Registered reports home or roaming registration (<stat> 1 or 5).
func (r Registration) Registered() bool { return r.Stat == 1 || r.Stat == 5 }

var regStates = []string{"not registered", "registered, home network", "searching",
	"registration denied", "unknown", "registered, roaming", "registered for SMS only, home network",
	"registered for SMS only, roaming", "attached for emergency bearer services only",
	"registered for CSFB not preferred, home network", "registered for CSFB not preferred, roaming"}

// ParseRegistration parses the read answer of +CREG, +CGREG or +CEREG:
// "<cmd>: <n>,<stat>[,<lac>,<ci>[,<AcT>]]". The unsolicited form
// "<cmd>: <stat>[,…]" is recognised too (a single field, or a quoted second
// field).
func ParseRegistration(line, cmd string) (Registration, error) {
	f, err := fields(line, cmd)
	if err != nil {
		return Registration{}, err
	}
	// Read form: <n>,<stat>,...; unsolicited: <stat>,"lac",...
	i := 1
	if len(f) == 1 || (len(f) > 1 && strings.Contains(line[strings.Index(line, ",")+1:], `"`) && !isInt(f[1])) {
		i = 0
	}
	stat, err := atoiField(f, i, cmd)
	if err != nil {
		return Registration{}, err
	}
	if stat < 0 || stat >= len(regStates) {
		return Registration{}, malformed(cmd, i, fmt.Sprintf("stat 0..%d, got %d", len(regStates)-1, stat))
	}
	r := Registration{Command: cmd, Stat: stat, State: regStates[stat], AcT: -1}
	if len(f) > i+2 {
		r.LAC, r.CI = f[i+1], f[i+2]
	}
	if len(f) > i+3 && f[i+3] != "" {
		if act, err := strconv.Atoi(f[i+3]); err == nil {
			r.AcT = act
		}
	}
	return r, nil
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// Operator is the +COPS read answer, TS 27.007 §7.3.
type Operator struct {
	Mode   int    `json:"mode"`
	Format int    `json:"format"`
	Name   string `json:"name,omitempty"`
	AcT    int    `json:"act"`
}

// ParseCOPS parses "+COPS: <mode>[,<format>,<oper>[,<AcT>]]".
func ParseCOPS(line string) (Operator, error) {
	f, err := fields(line, "+COPS")
	if err != nil {
		return Operator{}, err
	}
	mode, err := atoiField(f, 0, "+COPS")
	if err != nil {
		return Operator{}, err
	}
	op := Operator{Mode: mode, AcT: -1}
	if len(f) >= 3 {
		if op.Format, err = atoiField(f, 1, "+COPS"); err != nil {
			return Operator{}, err
		}
		op.Name = f[2]
	}
	if len(f) >= 4 && f[3] != "" {
		if op.AcT, err = atoiField(f, 3, "+COPS"); err != nil {
			return Operator{}, err
		}
	}
	return op, nil
}

// ParseCSCA parses "+CSCA: <sca>,<tosca>" (TS 27.005 §3.3.1) and returns
// the address with a '+' for an international type of address (145).
func ParseCSCA(line string) (string, error) {
	f, err := fields(line, "+CSCA")
	if err != nil {
		return "", err
	}
	sca := f[0]
	if len(f) > 1 && f[1] == "145" && !strings.HasPrefix(sca, "+") && sca != "" {
		sca = "+" + sca
	}
	return sca, nil
}

// hexField decodes a hex string field with an optional length counting hex
// characters (+CSIM) or none (+CUSATP).
func hexField(what, s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		var ie hex.InvalidByteError
		off := len(s)
		if errors.As(err, &ie) {
			off = strings.IndexByte(s, byte(ie))
		}
		return nil, malformed(what, off, "hex digits")
	}
	return b, nil
}

// ParseCSIM parses "+CSIM: <length>,<response>" (TS 27.007 §8.17), where
// <length> counts the hex characters of <response>, and returns the
// response APDU (data and status word).
func ParseCSIM(line string) ([]byte, error) {
	f, err := fields(line, "+CSIM")
	if err != nil {
		return nil, err
	}
	n, err := atoiField(f, 0, "+CSIM")
	if err != nil {
		return nil, err
	}
	if len(f) != 2 {
		return nil, malformed("+CSIM", 0, "two fields")
	}
	if n != len(f[1]) {
		return nil, malformed("+CSIM", 0, fmt.Sprintf("length %d to match the %d hex characters", n, len(f[1])))
	}
	r, err := hexField("+CSIM", f[1])
	if err != nil {
		return nil, err
	}
	if len(r) < 2 {
		return nil, malformed("+CSIM", len(f[1]), "at least a status word")
	}
	return r, nil
}

// ParseCUSATP parses the unsolicited "+CUSATP: <proactive_command>"
// (TS 27.007 §12.2.4), hex with or without quotes, and returns the
// proactive command (a BER-TLV starting with tag D0, TS 102 223 §6.6).
func ParseCUSATP(line string) ([]byte, error) {
	f, err := fields(line, "+CUSATP")
	if err != nil {
		return nil, err
	}
	b, err := hexField("+CUSATP", f[0])
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[0] != 0xD0 {
		return nil, malformed("+CUSATP", 0, "a proactive command (tag D0)")
	}
	return b, nil
}

// EnvelopeResult is the answer to AT+CUSATE, TS 27.007 §12.2.6.
type EnvelopeResult struct {
	// Response is <envelope_response>, the card's response data.
	Response []byte
	// Busy is <busy>: the card answered 9300 (toolkit busy).
	Busy bool
	// SW is the status word from +CUSATE2, 0 when not reported.
	SW uint16
}

// ParseCUSATE parses the +CUSATE: and optional +CUSATE2: lines.
func ParseCUSATE(lines []string) (EnvelopeResult, error) {
	var r EnvelopeResult
	found := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "+CUSATE:"):
			f, err := fields(l, "+CUSATE")
			if err != nil {
				return r, err
			}
			if r.Response, err = hexField("+CUSATE", f[0]); err != nil {
				return r, err
			}
			r.Busy = len(f) > 1 && f[1] == "1"
			found = true
		case strings.HasPrefix(l, "+CUSATE2:"):
			f, err := fields(l, "+CUSATE2")
			if err != nil {
				return r, err
			}
			sw1, err := atoiField(f, 0, "+CUSATE2")
			if err != nil {
				return r, err
			}
			sw2, err := atoiField(f, 1, "+CUSATE2")
			if err != nil {
				return r, err
			}
			r.SW = uint16(sw1&0xff)<<8 | uint16(sw2&0xff)
		}
	}
	if !found {
		return r, malformed("+CUSATE", 0, "a +CUSATE: line")
	}
	return r, nil
}

// ParseCMT parses a new message delivered directly in PDU mode, TS 27.005
// §3.4.1: "+CMT: [<alpha>],<length>" followed by the PDU line (SMSC
// address and TPDU in hex). It returns the SMSC address and the TPDU. The
// same shape serves "+CMGR: <stat>,[<alpha>],<length>" and
// "+CDS: <length>" (pass the prefix).
func ParseCMT(prefix, head, pdu string) (smsc string, tp []byte, err error) {
	f, err := fields(head, prefix)
	if err != nil {
		return "", nil, err
	}
	n, err := atoiField(f, len(f)-1, prefix)
	if err != nil {
		return "", nil, err
	}
	raw, err := hexField(prefix+" PDU", strings.TrimSpace(pdu))
	if err != nil {
		return "", nil, err
	}
	if len(raw) == n {
		// Some modems leave the SMSC address out (always so for +CDS on a
		// few): the length says the whole line is the TPDU.
		return "", raw, nil
	}
	p, err := pdumode.UnmarshalBinary(raw)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s PDU: SMSC address: %v", ErrMalformed, prefix, err)
	}
	if n != len(p.TPDU) {
		return "", nil, malformed(prefix, len(head), fmt.Sprintf("a TPDU of %d octets, got %d", n, len(p.TPDU)))
	}
	if p.SMSC.Addr != "" {
		smsc = p.SMSC.Number()
	}
	return smsc, p.TPDU, nil
}

// ParseCMTI parses "+CMTI: <mem>,<index>" (TS 27.005 §3.4.1; also +CDSI).
func ParseCMTI(line, prefix string) (mem string, index int, err error) {
	f, err := fields(line, prefix)
	if err != nil {
		return "", 0, err
	}
	if len(f) != 2 {
		return "", 0, malformed(prefix, 0, "<mem>,<index>")
	}
	index, err = atoiField(f, 1, prefix)
	if err != nil {
		return "", 0, err
	}
	return f[0], index, nil
}
