package pcsc

import (
	"errors"
	"fmt"
	"strings"
)

// ErrATR is wrapped by every error ParseATR returns.
var ErrATR = errors.New("pcsc: malformed ATR")

// ATRError says where an Answer To Reset failed to decode (ISO/IEC 7816-3 §8.2).
type ATRError struct {
	Offset   int    // byte offset in the ATR where decoding stopped
	Expected string // what the decoder expected there
}

// Error says where and what.
func (e *ATRError) Error() string {
	return fmt.Sprintf("pcsc: malformed ATR at offset %d: expected %s", e.Offset, e.Expected)
}

// Unwrap makes errors.Is(err, ErrATR) true.
func (e *ATRError) Unwrap() error { return ErrATR }

// Convention is the bit convention announced by TS (ISO/IEC 7816-3 §8.1).
type Convention string

// The two conventions of TS (ISO/IEC 7816-3 §8.1): 0x3B direct, 0x3F inverse.
const (
	ConventionDirect  Convention = "direct"
	ConventionInverse Convention = "inverse"
)

// InterfaceGroup is one group of interface bytes TAi, TBi, TCi, TDi
// (ISO/IEC 7816-3 §8.2.3). A nil field is absent. Protocol is the T value
// that TD(i-1) announced for this group (0 for group 1, which is global).
type InterfaceGroup struct {
	Index    int   `json:"index"`
	Protocol int   `json:"protocol"`
	TA       *byte `json:"ta,omitempty"`
	TB       *byte `json:"tb,omitempty"`
	TC       *byte `json:"tc,omitempty"`
	TD       *byte `json:"td,omitempty"`
}

// ATR is a decoded Answer To Reset (ISO/IEC 7816-3 §8.2): the initial
// character TS, the format byte T0, the interface bytes, the historical bytes
// and the check byte TCK.
type ATR struct {
	Raw        []byte           `json:"-"`
	Convention Convention       `json:"convention"`
	T0         byte             `json:"t0"`
	Groups     []InterfaceGroup `json:"groups,omitempty"`
	Historical []byte           `json:"-"`
	// TCK is the check byte; HasTCK says whether the ATR carries one (it must
	// when any protocol other than T=0 is indicated, ISO/IEC 7816-3 §8.2.5).
	TCK    byte `json:"tck,omitempty"`
	HasTCK bool `json:"has_tck"`
	// TCKValid is true when the exclusive-or of T0..TCK is zero.
	TCKValid bool `json:"tck_valid"`
	// Protocols lists the transmission protocols offered (T=0, T=1, …),
	// excluding T=15 which only qualifies global bytes. T=0 is implicit
	// when TD1 is absent (ISO/IEC 7816-3 §8.2.3).
	Protocols []int `json:"protocols"`
}

// ParseATR decodes an Answer To Reset. It is a pure function: it fails with
// an *ATRError (wrapping ErrATR) when the bytes announced by T0 and the TDi
// are missing or when trailing bytes follow. A wrong TCK is not an error: it
// is reported in TCKValid, since many cards in the field get it wrong.
func ParseATR(b []byte) (*ATR, error) {
	if len(b) == 0 {
		return nil, &ATRError{0, "TS (0x3B or 0x3F)"}
	}
	a := &ATR{Raw: append([]byte(nil), b...)}
	switch b[0] {
	case 0x3B:
		a.Convention = ConventionDirect
	case 0x3F:
		a.Convention = ConventionInverse
	default:
		return nil, &ATRError{0, fmt.Sprintf("TS 0x3B or 0x3F, got 0x%02X", b[0])}
	}
	if len(b) < 2 {
		return nil, &ATRError{1, "T0"}
	}
	a.T0 = b[1]
	y := b[1] >> 4
	k := int(b[1] & 0x0F)
	off := 2
	proto := 0
	needTCK := false
	for i := 1; ; i++ {
		g := InterfaceGroup{Index: i, Protocol: proto}
		names := [4]string{"TA", "TB", "TC", "TD"}
		ptrs := [4]**byte{&g.TA, &g.TB, &g.TC, &g.TD}
		for bit := 0; bit < 4; bit++ {
			if y&(1<<bit) == 0 {
				continue
			}
			if off >= len(b) {
				return nil, &ATRError{off, fmt.Sprintf("%s%d announced by %s", names[bit], i, announcer(i))}
			}
			v := b[off]
			*ptrs[bit] = &v
			off++
		}
		a.Groups = append(a.Groups, g)
		if g.TD == nil {
			break
		}
		proto = int(*g.TD & 0x0F)
		if proto != 0 {
			needTCK = true
		}
		if proto != 15 && !containsInt(a.Protocols, proto) {
			a.Protocols = append(a.Protocols, proto)
		}
		y = *g.TD >> 4
		if i > 32 {
			// Cannot happen within 33 bytes, but bounds the loop explicitly.
			return nil, &ATRError{off, "at most 32 interface groups"}
		}
	}
	if len(a.Protocols) == 0 {
		a.Protocols = []int{0}
	}
	if off+k > len(b) {
		return nil, &ATRError{len(b), fmt.Sprintf("%d historical bytes announced by T0, have %d", k, len(b)-off)}
	}
	a.Historical = append([]byte(nil), b[off:off+k]...)
	off += k
	if needTCK && off >= len(b) {
		return nil, &ATRError{off, "TCK (a protocol other than T=0 is indicated)"}
	}
	// With T=0 only a TCK is not expected, but some cards send one anyway.
	if needTCK || off == len(b)-1 {
		a.TCK = b[off]
		a.HasTCK = true
		off++
		var x byte
		for _, c := range b[1:off] {
			x ^= c
		}
		a.TCKValid = x == 0
	}
	if off != len(b) {
		return nil, &ATRError{off, fmt.Sprintf("end of ATR, got %d trailing bytes", len(b)-off)}
	}
	if len(b) > 33 {
		return nil, &ATRError{33, "at most 33 bytes (ISO/IEC 7816-3 §8.2.1)"}
	}
	return a, nil
}

func announcer(i int) string {
	if i == 1 {
		return "T0"
	}
	return fmt.Sprintf("TD%d", i-1)
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Bytes encodes a back into an ATR: TS, T0 recomputed from the groups and
// the historical bytes, the interface bytes, the historical bytes and, when
// HasTCK is set, a TCK recomputed so that the check holds.
func (a *ATR) Bytes() []byte {
	ts := byte(0x3B)
	if a.Convention == ConventionInverse {
		ts = 0x3F
	}
	out := []byte{ts, 0}
	var y0 byte
	for gi, g := range a.Groups {
		var y byte
		for bit, p := range [4]*byte{g.TA, g.TB, g.TC, g.TD} {
			if p != nil {
				y |= 1 << bit
				out = append(out, *p)
			}
		}
		if gi == 0 {
			y0 = y
		}
	}
	out[1] = y0<<4 | byte(len(a.Historical)&0x0F)
	out = append(out, a.Historical...)
	if a.HasTCK {
		var x byte
		for _, c := range out[1:] {
			x ^= c
		}
		out = append(out, x)
	}
	return out
}

// Fi/Di/fmax tables of ISO/IEC 7816-3 §8.3, Tables 7 and 8 (0 = RFU).
var (
	fiTable   = [16]int{372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0}
	fmaxTable = [16]string{"4", "5", "6", "8", "12", "16", "20", "", "", "5", "7.5", "10", "15", "20", "", ""}
	diTable   = [16]int{0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0}
)

// FiDi returns the clock rate conversion factor Fi, the baud rate adjustment
// factor Di and fmax in MHz from TA1 (ISO/IEC 7816-3 §8.3), or the defaults
// 372, 1, "5" when TA1 is absent. A reserved value gives 0.
func (a *ATR) FiDi() (fi, di int, fmaxMHz string) {
	if len(a.Groups) == 0 || a.Groups[0].TA == nil {
		return 372, 1, "5"
	}
	ta := *a.Groups[0].TA
	return fiTable[ta>>4], diTable[ta&0x0F], fmaxTable[ta>>4]
}

// Describe returns one line per decoded field, in the order of the ATR, for
// humans (simlab card list).
func (a *ATR) Describe() []string {
	var l []string
	l = append(l, fmt.Sprintf("TS  %02X  %s convention", a.Raw[0], a.Convention))
	l = append(l, fmt.Sprintf("T0  %02X  Y1=%X, K=%d historical bytes", a.T0, a.T0>>4, a.T0&0x0F))
	for _, g := range a.Groups {
		if g.TA != nil {
			l = append(l, fmt.Sprintf("TA%d %02X  %s", g.Index, *g.TA, describeTA(a, g)))
		}
		if g.TB != nil {
			l = append(l, fmt.Sprintf("TB%d %02X  %s", g.Index, *g.TB, describeTB(g)))
		}
		if g.TC != nil {
			l = append(l, fmt.Sprintf("TC%d %02X  %s", g.Index, *g.TC, describeTC(g)))
		}
		if g.TD != nil {
			l = append(l, fmt.Sprintf("TD%d %02X  Y%d=%X, protocol T=%d", g.Index, *g.TD, g.Index+1, *g.TD>>4, *g.TD&0x0F))
		}
	}
	if len(a.Historical) > 0 {
		l = append(l, fmt.Sprintf("historical bytes %X %s", a.Historical, printable(a.Historical)))
	}
	if a.HasTCK {
		ok := "correct"
		if !a.TCKValid {
			ok = "WRONG"
		}
		l = append(l, fmt.Sprintf("TCK %02X  checksum %s", a.TCK, ok))
	}
	ps := make([]string, len(a.Protocols))
	for i, p := range a.Protocols {
		ps[i] = fmt.Sprintf("T=%d", p)
	}
	l = append(l, "protocols "+strings.Join(ps, ", "))
	return l
}

func describeTA(a *ATR, g InterfaceGroup) string {
	v := *g.TA
	switch {
	case g.Index == 1:
		fi, di, f := a.FiDi()
		return fmt.Sprintf("Fi=%d, Di=%d, fmax=%s MHz", fi, di, f)
	case g.Index == 2:
		mode := "capable to change"
		if v&0x80 != 0 {
			mode = "unable to change"
		}
		return fmt.Sprintf("specific mode, T=%d, %s", v&0x0F, mode)
	case g.Protocol == 1:
		return fmt.Sprintf("IFSC=%d", v)
	case g.Protocol == 15:
		classes := []string{}
		for i, c := range []string{"A (5 V)", "B (3 V)", "C (1.8 V)"} {
			if v&(1<<i) != 0 {
				classes = append(classes, c)
			}
		}
		return fmt.Sprintf("clock stop %s, class %s", [4]string{"not supported", "state L", "state H", "no preference"}[v>>6], strings.Join(classes, " "))
	}
	return "protocol specific"
}

func describeTB(g InterfaceGroup) string {
	v := *g.TB
	switch {
	case g.Index == 1 || g.Index == 2:
		return "deprecated (VPP)"
	case g.Protocol == 1:
		return fmt.Sprintf("BWI=%d, CWI=%d", v>>4, v&0x0F)
	case g.Protocol == 15:
		return "SPU (standard or proprietary use of C6)"
	}
	return "protocol specific"
}

func describeTC(g InterfaceGroup) string {
	v := *g.TC
	switch {
	case g.Index == 1:
		return fmt.Sprintf("extra guard time N=%d", v)
	case g.Index == 2:
		return fmt.Sprintf("WI=%d (T=0 waiting time integer)", v)
	case g.Protocol == 1:
		if v&1 == 1 {
			return "error detection CRC"
		}
		return "error detection LRC"
	}
	return "protocol specific"
}

func printable(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		if c >= 0x20 && c < 0x7F {
			sb.WriteByte(c)
		} else {
			sb.WriteByte('.')
		}
	}
	sb.WriteByte('"')
	return sb.String()
}
