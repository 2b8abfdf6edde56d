package atmodem

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// Message status values, TS 27.005 §3.1 <stat>.
const (
	statRecUnread = 0
	statRecRead   = 1
	statStoUnsent = 2
	statStoSent   = 3
	statAll       = 4
)

var statText = []string{"REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL"}

// stored is one message in a memory.
type stored struct {
	stat int
	sca  string
	tpdu []byte
	// dir is the direction the TPDU is read in (MT for received, MO for
	// written with +CMGW).
	dir tpdu.Direction
}

// storage is one message memory ("SM" or "ME"), slots 1..size.
type storage struct {
	size int
	msgs map[int]*stored
}

func newStorage(size int) *storage { return &storage{size: size, msgs: map[int]*stored{}} }

// put stores m in the lowest free slot and returns its index, or 0 when
// the memory is full.
func (st *storage) put(m *stored) int {
	for i := 1; i <= st.size; i++ {
		if _, used := st.msgs[i]; !used {
			st.msgs[i] = m
			return i
		}
	}
	return 0
}

func (st *storage) indexes() []int {
	idx := make([]int, 0, len(st.msgs))
	for i := range st.msgs {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	return idx
}

// bodyEntry is an AT+CMGS/+CMGW waiting for its PDU or text.
type bodyEntry struct {
	write   bool   // +CMGW: store instead of sending
	length  int    // PDU mode: TPDU length in octets
	da      string // text mode: destination address, in the TE character set
	toda    int
	todaSet bool // <toda> given
	stat    int  // +CMGW <stat>
	buf     []byte
}

// cmdCMGF: message format, TS 27.005 §3.2.3.
func cmdCMGF(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpExec {
		s.m.set.cmgf = 0
		return nil, nil
	}
	return intSetting(s, c, "+CMGF", &s.m.set.cmgf, 0, 1, 0)
}

// cmdCSMS: select message service, TS 27.005 §3.2.1.
func cmdCSMS(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("+CSMS: %d,1,1,1", s.m.set.csms)}, nil
	case OpTest:
		return []string{"+CSMS: (0,1)"}, nil
	case OpSet:
		a, err := SplitArgs(c.Args)
		if err != nil {
			return nil, CMSOperationNotSupported
		}
		v, err := intArg(a[0], 0, 0, 1)
		if err != nil {
			return nil, CMSOperationNotSupported
		}
		s.m.set.csms = v
		return []string{"+CSMS: 1,1,1"}, nil
	}
	return nil, CMSOperationNotSupported
}

// cmdCNMI: new message indications to TE, TS 27.005 §3.4.1.
func cmdCNMI(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		n := s.m.set.cnmi
		return []string{fmt.Sprintf("+CNMI: %d,%d,%d,%d,%d", n[0], n[1], n[2], n[3], n[4])}, nil
	case OpTest:
		return []string{"+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"}, nil
	case OpSet:
		a, err := SplitArgs(c.Args)
		if err != nil || len(a) > 5 {
			return nil, CMSOperationNotSupported
		}
		max := [5]int{3, 3, 3, 2, 1}
		n := s.m.set.cnmi
		for i, v := range a {
			if v == "" {
				continue
			}
			x, err := intArg(v, 0, 0, max[i])
			if err != nil {
				return nil, CMSOperationNotSupported
			}
			n[i] = x
		}
		s.m.set.cnmi = n
		return nil, nil
	}
	return nil, CMSOperationNotSupported
}

// cmdCSDH: show text mode parameters, TS 27.005 §3.3.3.
func cmdCSDH(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpExec {
		s.m.set.csdh = 0
		return nil, nil
	}
	return intSetting(s, c, "+CSDH", &s.m.set.csdh, 0, 1, 0)
}

// cmdCSMP: set text mode parameters, TS 27.005 §3.3.2.
func cmdCSMP(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		p := s.m.set.csmp
		return []string{fmt.Sprintf("+CSMP: %d,%d,%d,%d", p[0], p[1], p[2], p[3])}, nil
	case OpTest:
		return nil, nil
	case OpSet:
		a, err := SplitArgs(c.Args)
		if err != nil || len(a) > 4 {
			return nil, CMSOperationNotSupported
		}
		p := s.m.set.csmp
		for i, v := range a {
			if v == "" {
				continue
			}
			x, err := intArg(v, 0, 0, 255)
			if err != nil {
				return nil, CMSInvalidTextParameter
			}
			p[i] = x
		}
		s.m.set.csmp = p
		return nil, nil
	}
	return nil, CMSOperationNotSupported
}

func (s *session) mem(i int) *storage { return s.m.store[s.m.set.mem[i]] }

// cmdCPMS: preferred message storage, TS 27.005 §3.2.2.
func cmdCPMS(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		var parts []string
		for i := 0; i < 3; i++ {
			st := s.mem(i)
			parts = append(parts, fmt.Sprintf(`"%s",%d,%d`, s.m.set.mem[i], len(st.msgs), st.size))
		}
		return []string{"+CPMS: " + strings.Join(parts, ",")}, nil
	case OpTest:
		return []string{`+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")`}, nil
	case OpSet:
		a, err := SplitArgs(c.Args)
		if err != nil || len(a) > 3 {
			return nil, CMSOperationNotSupported
		}
		mem := s.m.set.mem
		for i, v := range a {
			v = strings.ToUpper(v)
			if v == "" {
				continue
			}
			if v == "MT" {
				v = "SM"
			}
			if _, ok := s.m.store[v]; !ok {
				return nil, CMSOperationNotSupported
			}
			mem[i] = v
		}
		s.m.set.mem = mem
		var parts []string
		for i := 0; i < 3; i++ {
			st := s.mem(i)
			parts = append(parts, fmt.Sprintf("%d,%d", len(st.msgs), st.size))
		}
		return []string{"+CPMS: " + strings.Join(parts, ",")}, nil
	}
	return nil, CMSOperationNotSupported
}

// cmdCMGS: send message, TS 27.005 §3.5.1 (text) and §4.3 (PDU). The
// prompt "\r\n> " is written; the message body follows up to Ctrl-Z, and
// ESC cancels it.
func cmdCMGS(s *session, ctx context.Context, c Command) ([]string, error) {
	return startBody(s, c, false)
}

// cmdCMGW: write message to memory, TS 27.005 §3.5.3 and §4.4.
func cmdCMGW(s *session, ctx context.Context, c Command) ([]string, error) {
	return startBody(s, c, true)
}

func startBody(s *session, c Command, write bool) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpSet && !(write && c.Op == OpExec && s.m.set.cmgf == 1) {
		return nil, CMSOperationNotSupported
	}
	a, err := SplitArgs(c.Args)
	if err != nil {
		return nil, CMSOperationNotSupported
	}
	e := &bodyEntry{write: write, stat: statStoUnsent}
	if s.m.set.cmgf == 0 {
		n, err := strconv.Atoi(a[0])
		if err != nil || n < 1 || n > 164 {
			return nil, CMSInvalidPDUParameter
		}
		e.length = n
		if write && len(a) > 1 && a[1] != "" {
			if e.stat, err = intArg(a[1], statStoUnsent, 0, 3); err != nil {
				return nil, CMSInvalidPDUParameter
			}
		}
	} else {
		e.da = a[0]
		e.toda = 129
		if len(a) > 1 && a[1] != "" {
			if e.toda, err = intArg(a[1], 129, 0, 255); err != nil {
				return nil, CMSInvalidTextParameter
			}
			e.todaSet = true
		}
		if e.da == "" && !write {
			return nil, CMSInvalidTextParameter
		}
	}
	s.m.pending = e
	s.write("\r\n> ")
	return nil, nil
}

// bodyByte takes one byte of a message body: Ctrl-Z sends, ESC cancels
// (TS 27.005 §3.5.1). In text mode a CR starts a new line of the text and a
// new prompt.
func (s *session) bodyByte(ctx context.Context, c byte) {
	e := s.m.pending
	switch c {
	case 0x1a:
		if s.m.set.echo {
			s.write(string(e.buf) + "\x1a")
		}
		s.m.pending = nil
		lines, err := s.finishBody(ctx, e)
		if len(lines) > 0 {
			s.info(strings.Join(lines, "\r\n"))
		}
		s.result(err)
	case 0x1b:
		s.m.pending = nil
		s.result(nil)
	case '\r':
		if s.m.set.cmgf == 1 {
			e.buf = append(e.buf, '\n')
			s.write("\r\n> ")
		}
	case '\n':
	default:
		if len(e.buf) < 2*maxLine {
			e.buf = append(e.buf, c)
		}
	}
}

// finishBody sends or stores a completed message body.
func (s *session) finishBody(ctx context.Context, e *bodyEntry) ([]string, error) {
	var tp []byte
	sca := s.m.cfg.SMSC
	if s.m.set.cmgf == 0 {
		raw, err := hex.DecodeString(strings.TrimSpace(string(e.buf)))
		if err != nil {
			return nil, CMSInvalidPDUParameter
		}
		p, err := pdumode.UnmarshalBinary(raw)
		if err != nil || len(p.TPDU) != e.length {
			return nil, CMSInvalidPDUParameter
		}
		var t tpdu.TPDU
		t.Direction = tpdu.MO
		if err := t.UnmarshalBinary(p.TPDU); err != nil || t.SmsType() != tpdu.SmsSubmit {
			return nil, CMSInvalidPDUParameter
		}
		tp = p.TPDU
		if p.SMSC.Addr != "" {
			sca = p.SMSC.Number()
		}
	} else {
		var err error
		tp, err = s.textSubmit(e)
		if err != nil {
			return nil, err
		}
	}
	if e.write {
		idx := s.mem(1).put(&stored{stat: e.stat, sca: sca, tpdu: tp, dir: tpdu.MO})
		if idx == 0 {
			return nil, CMSMemoryFull
		}
		return []string{fmt.Sprintf("+CMGW: %d", idx)}, nil
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	mr, err := s.m.cfg.Backend.Submit(sctx, tp)
	if err != nil {
		var cms CMSError
		if errors.As(err, &cms) {
			return nil, cms
		}
		s.m.logf("submit failed: %v", err)
		return nil, CMSUnknownError
	}
	return []string{fmt.Sprintf("+CMGS: %d", mr)}, nil
}

// textSubmit builds the SMS-SUBMIT for a text mode AT+CMGS from the +CSMP
// parameters (TS 27.005 §3.3.2) and the character set chosen with +CSCS.
// <da> is in the TE character set (§3.1: "002B0034…" with +CSCS="UCS2").
// The body is text in the TE character set when <dcs> is the GSM 7-bit
// default alphabet, and the user data as hex octets when <dcs> is 8-bit or
// UCS2 (§3.5.1: "ME/TA converts each 8-bit octet into two IRA character
// long hexadecimal numbers"), whatever +CSCS says.
func (s *session) textSubmit(e *bodyEntry) ([]byte, error) {
	p := s.m.set.csmp
	t := tpdu.TPDU{Direction: tpdu.MO, FirstOctet: tpdu.FirstOctet(p[0] &^ 0x40).WithMTI(tpdu.MtSubmit),
		PID: byte(p[2]), DCS: tpdu.DCS(p[3])}
	da, err := decodeTE(e.da, s.m.set.cscs)
	if err != nil || !dialString(da) {
		return nil, CMSInvalidTextParameter
	}
	toda := e.toda
	if strings.HasPrefix(da, "+") && !e.todaSet {
		toda = 145
	}
	t.DA.TOA = byte(toda) | 0x80
	t.DA.Addr = strings.TrimPrefix(da, "+")
	if t.FirstOctet.VPF() == tpdu.VpfRelative {
		t.VP.Format = tpdu.VpfRelative
		t.VP.Duration = relativeVP(byte(p[1]))
	} else {
		t.FirstOctet = t.FirstOctet.WithVPF(tpdu.VpfNotPresent)
	}
	alpha, err := t.DCS.Alphabet()
	if err != nil {
		return nil, CMSInvalidTextParameter
	}
	switch alpha {
	case tpdu.Alpha7Bit:
		text, err := decodeTE(string(e.buf), s.m.set.cscs)
		if err != nil {
			return nil, CMSInvalidTextParameter
		}
		ud, err := gsm7.Encode([]byte(text))
		if err != nil || len(ud) > 160 {
			return nil, CMSInvalidTextParameter
		}
		t.UD = ud
	default: // 8-bit data or UCS2: hex octets
		ud, err := hex.DecodeString(strings.TrimSpace(strings.ReplaceAll(string(e.buf), "\n", "")))
		if err != nil || len(ud) > 140 || alpha == tpdu.AlphaUCS2 && len(ud)%2 != 0 {
			return nil, CMSInvalidTextParameter
		}
		t.UD = ud
	}
	b, err := t.MarshalBinary()
	if err != nil {
		return nil, CMSInvalidTextParameter
	}
	return b, nil
}

// dialString reports whether s is a TP-DA the modem can code: an optional
// "+" then 1 to 20 digits or *, #, a, b, c (TS 24.008 §10.5.4.7).
func dialString(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789*#abcABC", rune(s[i])) {
			return false
		}
	}
	return true
}

// relativeVP converts a TP-VP relative value (TS 23.040 §9.2.3.12.1).
func relativeVP(v byte) time.Duration {
	switch {
	case v <= 143:
		return time.Duration(v+1) * 5 * time.Minute
	case v <= 167:
		return 12*time.Hour + time.Duration(v-143)*30*time.Minute
	case v <= 196:
		return time.Duration(v-166) * 24 * time.Hour
	}
	return time.Duration(v-192) * 7 * 24 * time.Hour
}

// decodeTE converts text typed by the terminal in character set cs
// (TS 27.007 §5.5) to UTF-8.
func decodeTE(s, cs string) (string, error) {
	switch cs {
	case "UCS2":
		b, err := hex.DecodeString(s)
		if err != nil || len(b)%2 != 0 {
			return "", CMSInvalidTextParameter
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		return string(utf16.Decode(u)), nil
	case "HEX":
		b, err := hex.DecodeString(s)
		if err != nil {
			return "", CMSInvalidTextParameter
		}
		return string(b), nil
	}
	return s, nil
}

// encodeTE converts UTF-8 text to the terminal's character set.
func encodeTE(s, cs string) string {
	switch cs {
	case "UCS2":
		return strings.ToUpper(hex.EncodeToString(utf16be(s)))
	case "HEX":
		return strings.ToUpper(hex.EncodeToString([]byte(s)))
	}
	return s
}

func utf16be(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u))
	for _, x := range u {
		b = append(b, byte(x>>8), byte(x))
	}
	return b
}

// pduHex is the PDU mode representation of a stored or received TPDU: the
// SMSC address followed by the TPDU, upper-case hex (TS 27.005 §4).
func pduHex(sca string, tp []byte) string {
	var p pdumode.PDU
	if sca != "" {
		p.SMSC.SetNumber(sca)
		p.SMSC.TOA |= 0x80
	}
	p.TPDU = tp
	h, err := p.MarshalHexString()
	if err != nil {
		p.SMSC = pdumode.SMSCAddress{}
		h, _ = p.MarshalHexString()
	}
	return strings.ToUpper(h)
}

// cmdCMGR: read message, TS 27.005 §3.4.3 and §4.6.
func cmdCMGR(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, CMSOperationNotSupported
	}
	idx, err := strconv.Atoi(strings.TrimSpace(c.Args))
	if err != nil {
		return nil, CMSInvalidMemoryIndex
	}
	st := s.mem(0)
	m, ok := st.msgs[idx]
	if !ok {
		return nil, CMSInvalidMemoryIndex
	}
	lines := s.listEntry(m, "+CMGR: ", -1)
	if m.stat == statRecUnread {
		m.stat = statRecRead
	}
	return lines, nil
}

// cmdCMGL: list messages, TS 27.005 §3.4.2 and §4.1.
func cmdCMGL(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		if s.m.set.cmgf == 1 {
			return []string{`+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")`}, nil
		}
		return []string{"+CMGL: (0-4)"}, nil
	case OpExec, OpSet:
	default:
		return nil, CMSOperationNotSupported
	}
	want := statRecUnread
	if c.Op == OpSet {
		a, err := SplitArgs(c.Args)
		if err != nil {
			return nil, CMSOperationNotSupported
		}
		want = -1
		for i, t := range statText {
			if strings.EqualFold(a[0], t) || a[0] == strconv.Itoa(i) {
				want = i
			}
		}
		if want < 0 {
			return nil, CMSOperationNotSupported
		}
	}
	st := s.mem(0)
	var lines []string
	for _, i := range st.indexes() {
		m := st.msgs[i]
		if want != statAll && m.stat != want {
			continue
		}
		lines = append(lines, s.listEntry(m, "+CMGL: ", i)...)
		if m.stat == statRecUnread {
			m.stat = statRecRead
		}
	}
	return lines, nil
}

// listEntry formats one stored message for +CMGR (index < 0) or +CMGL.
func (s *session) listEntry(m *stored, prefix string, index int) []string {
	head := prefix
	if index >= 0 {
		head += strconv.Itoa(index) + ","
	}
	if s.m.set.cmgf == 0 {
		return []string{fmt.Sprintf("%s%d,,%d", head, m.stat, len(m.tpdu)), pduHex(m.sca, m.tpdu)}
	}
	var t tpdu.TPDU
	t.Direction = m.dir
	if err := t.UnmarshalBinary(m.tpdu); err != nil {
		return []string{fmt.Sprintf("%s%q", head, statText[m.stat]), ""}
	}
	switch t.SmsType() {
	case tpdu.SmsDeliver:
		n, _ := numberTOA(t.OA.Number())
		return []string{fmt.Sprintf(`%s"%s","%s",,"%s"`, head, statText[m.stat], n, textTime(t.SCTS.Time)),
			s.teText(&t)}
	case tpdu.SmsStatusReport:
		n, toa := numberTOA(t.RA.Number())
		return []string{fmt.Sprintf(`%s"%s",%d,%d,"%s",%d,"%s","%s",%d`, head, statText[m.stat],
			t.FirstOctet, t.MR, n, toa, textTime(t.SCTS.Time), textTime(t.DT.Time), t.ST)}
	default:
		n, _ := numberTOA(t.DA.Number())
		return []string{fmt.Sprintf(`%s"%s","%s"`, head, statText[m.stat], n), s.teText(&t)}
	}
}

// teText is the user data of t as text mode shows it (TS 27.005 §3.1
// <data>): GSM 7-bit text in the TE character set; 8-bit and UCS2 data as
// hex octets.
func (s *session) teText(t *tpdu.TPDU) string {
	if a, err := t.DCS.Alphabet(); err == nil && (a == tpdu.Alpha8Bit || a == tpdu.AlphaUCS2) {
		return strings.ToUpper(hex.EncodeToString(t.UD))
	}
	b, err := sms.Decode([]*tpdu.TPDU{t})
	if err != nil {
		return strings.ToUpper(hex.EncodeToString(t.UD))
	}
	return encodeTE(string(b), s.m.set.cscs)
}

// textTime formats a time stamp as text mode shows it:
// "yy/MM/dd,hh:mm:ss±zz", zz in quarters of an hour (TS 27.005 §3.3.2).
func textTime(t time.Time) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return t.Format("06/01/02,15:04:05") + fmt.Sprintf("%s%02d", sign, off/900)
}

// cmdCMGD: delete message, TS 27.005 §3.5.4.
func cmdCMGD(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpTest {
		return []string{fmt.Sprintf("+CMGD: (%s),(0-4)", strings.Trim(strings.Join(strings.Fields(fmt.Sprint(s.mem(0).indexes())), ","), "[]"))}, nil
	}
	if c.Op != OpSet {
		return nil, CMSOperationNotSupported
	}
	a, err := SplitArgs(c.Args)
	if err != nil {
		return nil, CMSOperationNotSupported
	}
	idx, err := strconv.Atoi(a[0])
	if err != nil {
		return nil, CMSInvalidMemoryIndex
	}
	flag := 0
	if len(a) > 1 && a[1] != "" {
		if flag, err = intArg(a[1], 0, 0, 4); err != nil {
			return nil, CMSOperationNotSupported
		}
	}
	st := s.mem(0)
	if flag == 0 {
		if _, ok := st.msgs[idx]; !ok {
			return nil, CMSInvalidMemoryIndex
		}
		delete(st.msgs, idx)
		return nil, nil
	}
	for i, m := range st.msgs {
		del := m.stat == statRecRead ||
			(flag >= 2 && m.stat == statStoSent) ||
			(flag >= 3 && m.stat == statStoUnsent) ||
			flag == 4
		if del {
			delete(st.msgs, i)
		}
	}
	return nil, nil
}

// incoming routes a TPDU from the backend as +CNMI says (TS 27.005 §3.4.1):
// SMS-DELIVER by <mt>, SMS-STATUS-REPORT by <ds>. Class 2 messages with
// PID 0x7F go to the card when there is one (SMS-PP data download,
// TS 31.111 §7.1.1). It returns what the mobile station answers the
// network: 0 (RP-ACK) or the TP-FCS of an RP-ERROR.
func (s *session) incoming(ctx context.Context, tp []byte) byte {
	if len(tp) == 0 {
		return FCSTPDUNotSupported
	}
	var t tpdu.TPDU
	t.Direction = tpdu.MT
	if err := t.UnmarshalBinary(tp); err != nil {
		s.m.logf("incoming TPDU dropped: %v", err)
		return FCSTPDUNotSupported
	}
	n := s.m.set.cnmi
	switch t.SmsType() {
	case tpdu.SmsStatusReport:
		switch n[3] {
		case 1:
			if s.m.set.cmgf == 0 {
				s.urc(fmt.Sprintf("+CDS: %d\r\n%s", len(tp), pduHex("", tp)))
			} else {
				num, toa := numberTOA(t.RA.Number())
				s.urc(fmt.Sprintf(`+CDS: %d,%d,"%s",%d,"%s","%s",%d`, t.FirstOctet, t.MR, num, toa,
					textTime(t.SCTS.Time), textTime(t.DT.Time), t.ST))
			}
		case 2:
			if idx := s.m.store[s.m.set.mem[2]].put(&stored{stat: statRecUnread, tpdu: tp, dir: tpdu.MT}); idx > 0 {
				s.urc(fmt.Sprintf(`+CDSI: "%s",%d`, s.m.set.mem[2], idx))
			}
		}
	case tpdu.SmsDeliver:
		class, _ := t.DCS.Class()
		if class == tpdu.MClass2 && t.PID == 0x7f && s.m.cfg.Card != nil {
			return s.dataDownload(ctx, tp)
		}
		direct := (n[1] == 2 && class != tpdu.MClass2) || (n[1] == 3 && class == tpdu.MClass3)
		if direct {
			if s.m.set.cmgf == 0 {
				s.urc(fmt.Sprintf("+CMT: ,%d\r\n%s", len(tp), pduHex(s.m.cfg.SMSC, tp)))
			} else {
				num, _ := numberTOA(t.OA.Number())
				s.urc(fmt.Sprintf(`+CMT: "%s",,"%s"`+"\r\n%s", num, textTime(t.SCTS.Time), s.teText(&t)))
			}
			return 0
		}
		mem := s.m.set.mem[2]
		idx := s.m.store[mem].put(&stored{stat: statRecUnread, sca: s.m.cfg.SMSC, tpdu: tp, dir: tpdu.MT})
		if idx == 0 {
			s.m.logf("memory %s full: message from %s refused", mem, t.OA.Number())
			if mem == "SM" {
				return FCSSIMStorageFull
			}
			return FCSMemoryExceeded
		}
		if n[1] != 0 {
			s.urc(fmt.Sprintf(`+CMTI: "%s",%d`, mem, idx))
		}
	}
	return 0
}
