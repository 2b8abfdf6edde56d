package atmodem

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/uicc"
)

// The modem's own access to its SIM: +CRSM, +CCID/+ICCID, +CIMI and
// +CPIN read the card (when Config.Card is set) the way a mobile
// equipment does, with UICC commands (CLA 00, TS 102 221) completed by
// apdu.Exchange.

// exchange sends one command APDU to the card and completes it.
func (s *session) exchange(ctx context.Context, capdu []byte) (apdu.Response, error) {
	r, err := apdu.Exchange(ctx, sessionCard{s}, capdu)
	if err != nil {
		var cme CMEError
		if errors.As(err, &cme) {
			return apdu.Response{}, cme
		}
		s.m.logf("card: %v", err)
		return apdu.Response{}, CMESIMFailure
	}
	return r, nil
}

// selectPath selects the file at path (file identifiers from the MF, the
// MF itself left out) and returns its FCP and the status word.
func (s *session) selectPath(ctx context.Context, path []byte) (apdu.Response, error) {
	if len(path) == 0 {
		return s.exchange(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	}
	return s.exchange(ctx, append([]byte{0x00, 0xA4, 0x08, 0x04, byte(len(path))}, path...))
}

// telecomFiles are the EFs of DF_TELECOM (TS 51.011 §10.5) a +CRSM
// without <pathid> means; other 6Fxx files are DF_GSM's (§10.3), as 2G
// clients such as ModemManager expect when they ask for 6F07 or 6F46.
var telecomFiles = map[uint16]bool{0x6F3A: true, 0x6F3B: true, 0x6F3C: true, 0x6F40: true, 0x6F42: true,
	0x6F43: true, 0x6F44: true, 0x6F47: true, 0x6F49: true, 0x6F4A: true, 0x6F4B: true, 0x6F4C: true}

// crsmPath is the path from the MF of file fid: <pathid> when given
// (a leading 3F00 dropped), else where TS 51.011 puts the file.
func crsmPath(fid uint16, pathid string) ([]byte, error) {
	var path []byte
	if pathid != "" {
		p, err := hex.DecodeString(pathid)
		if err != nil || len(p)%2 != 0 {
			return nil, CMEIncorrectParameters
		}
		if len(p) >= 2 && p[0] == 0x3F && p[1] == 0x00 {
			p = p[2:]
		}
		path = p
	} else {
		switch {
		case fid == 0x3F00 || fid>>8 == 0x2F || fid>>8 == 0x7F:
		case telecomFiles[fid]:
			path = []byte{0x7F, 0x10}
		case fid>>8 == 0x6F:
			path = []byte{0x7F, 0x20}
		}
	}
	if fid != 0x3F00 {
		path = append(path, byte(fid>>8), byte(fid))
	}
	return path, nil
}

// cmdCRSM: restricted SIM access, TS 27.007 §8.18:
// +CRSM=<command>[,<fileid>[,<P1>,<P2>,<P3>[,<data>[,<pathid>]]]], answered
// +CRSM: <sw1>,<sw2>[,"<response>"]. Commands: 176 READ BINARY, 178 READ
// RECORD, 192 GET RESPONSE (the file's FCP), 214 UPDATE BINARY, 220 UPDATE
// RECORD, 242 STATUS. The file is selected by path from the MF first; a
// failed selection is reported with its status word.
func cmdCRSM(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, CMEOperationNotSupported
	}
	a, err := SplitArgs(c.Args)
	if err != nil || len(a) > 7 {
		return nil, CMEIncorrectParameters
	}
	arg := func(i, def, hi int) (int, error) {
		if i >= len(a) {
			return intArg("", def, 0, hi)
		}
		return intArg(a[i], def, 0, hi)
	}
	command, err := arg(0, -1, 255)
	if err != nil || command < 0 {
		return nil, CMEIncorrectParameters
	}
	fid, err := arg(1, -1, 0xFFFF)
	if err != nil {
		return nil, err
	}
	p1, err1 := arg(2, 0, 255)
	p2, err2 := arg(3, 0, 255)
	p3, err3 := arg(4, -1, 255)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, CMEIncorrectParameters
	}
	var data []byte
	if len(a) > 5 && a[5] != "" {
		if data, err = hex.DecodeString(a[5]); err != nil {
			return nil, CMEIncorrectParameters
		}
	}
	pathid := ""
	if len(a) > 6 {
		pathid = a[6]
	}
	if s.m.cfg.Card == nil {
		return nil, CMESIMNotInserted
	}
	var capdu []byte
	switch command {
	case 176, 178: // READ BINARY, READ RECORD: P3 is Le
		if p3 < 0 {
			p3 = 0
		}
		capdu = []byte{0x00, byte(command), byte(p1), byte(p2), byte(p3)}
	case 214, 220: // UPDATE BINARY, UPDATE RECORD: P3 is Lc
		if len(data) == 0 || len(data) > 255 || p3 >= 0 && p3 != len(data) {
			return nil, CMEIncorrectParameters
		}
		capdu = append([]byte{0x00, byte(command), byte(p1), byte(p2), byte(len(data))}, data...)
	case 192: // GET RESPONSE: what SELECT answered
	case 242: // STATUS
		le := p3
		if le < 0 {
			le = 0
		}
		capdu = []byte{0x80, 0xF2, byte(p1), byte(p2), byte(le)}
	default:
		return nil, CMEIncorrectParameters
	}
	var r apdu.Response
	if command != 242 || fid >= 0 {
		if fid < 0 {
			return nil, CMEIncorrectParameters
		}
		path, err := crsmPath(uint16(fid), pathid)
		if err != nil {
			return nil, err
		}
		if r, err = s.selectPath(ctx, path); err != nil {
			return nil, err
		}
	}
	if capdu != nil && (r.SW == 0 || r.SW == apdu.SWOK) {
		if r, err = s.exchange(ctx, capdu); err != nil {
			return nil, err
		}
	}
	line := fmt.Sprintf("+CRSM: %d,%d", r.SW.SW1(), r.SW.SW2())
	if len(r.Data) > 0 {
		line += `,"` + strings.ToUpper(hex.EncodeToString(r.Data)) + `"`
	}
	return []string{line}, nil
}

// cardICCID reads EF_ICCID (TS 102 221 §13.2) once and keeps it: the card
// in a modem does not change.
func (s *session) cardICCID(ctx context.Context) (string, error) {
	if s.m.iccid != "" {
		return s.m.iccid, nil
	}
	if r, err := s.selectPath(ctx, []byte{0x2F, 0xE2}); err != nil || r.SW != apdu.SWOK {
		return "", CMESIMFailure
	}
	r, err := s.exchange(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x0A})
	if err != nil || r.SW != apdu.SWOK {
		return "", CMESIMFailure
	}
	iccid := uicc.DecodeICCID(r.Data)
	if iccid == "" {
		return "", CMESIMFailure
	}
	s.m.iccid = iccid
	return iccid, nil
}

// cmdCCID: the ICCID, +CCID and +ICCID (vendor commands, answered
// "+CCID: <iccid>"): the card's when the modem holds one, else
// Config.ICCID.
func cmdCCID(name string) handler {
	return func(s *session, ctx context.Context, c Command) ([]string, error) {
		switch c.Op {
		case OpExec, OpRead:
		case OpTest:
			return nil, nil
		default:
			return nil, CMEOperationNotSupported
		}
		iccid := s.m.cfg.ICCID
		if s.m.cfg.Card != nil {
			var err error
			if iccid, err = s.cardICCID(ctx); err != nil {
				return nil, err
			}
		}
		return []string{name + ": " + iccid}, nil
	}
}

// cmdCIMI: the IMSI, TS 27.007 §7.10: the card's EF_IMSI when the modem
// holds one (which needs PIN1, as on a real phone: +CME ERROR: 11 until
// +CPIN), else Config.IMSI.
func cmdCIMI(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpExec:
	case OpTest:
		return nil, nil
	default:
		return nil, CMEOperationNotSupported
	}
	if s.m.cfg.Card == nil {
		return []string{s.m.cfg.IMSI}, nil
	}
	if st, err := s.pinState(ctx); err != nil {
		return nil, err
	} else if st != pinReady {
		return nil, CMESIMPINRequired
	}
	if r, err := s.selectPath(ctx, []byte{0x7F, 0x20, 0x6F, 0x07}); err != nil || r.SW != apdu.SWOK {
		return nil, CMESIMFailure
	}
	r, err := s.exchange(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x09})
	if err != nil || r.SW != apdu.SWOK {
		return nil, CMESIMFailure
	}
	imsi := uicc.DecodeIMSI(r.Data)
	if imsi == "" {
		return nil, CMESIMFailure
	}
	return []string{imsi}, nil
}

// PIN1 states as +CPIN? reports them (TS 27.007 §8.3).
const (
	pinReady = "READY"
	pinSIM   = "SIM PIN"
	pinPUK   = "SIM PUK"
)

// pinState asks the card whether PIN1 is needed: VERIFY PIN without data
// (TS 102 221 §11.1.9, case 1) answers 9000 when PIN1 is verified or
// disabled, 63Cx while it must be entered, 6983 when blocked (then the
// PUK decides: UNBLOCK PIN without data).
func (s *session) pinState(ctx context.Context) (string, error) {
	if s.m.cfg.Card == nil {
		return pinReady, nil
	}
	r, err := s.exchange(ctx, []byte{0x00, 0x20, 0x00, 0x01})
	if err != nil {
		return "", err
	}
	switch {
	case r.SW == apdu.SWOK:
		return pinReady, nil
	case r.SW&0xFFF0 == apdu.SWVerifyFailed:
		return pinSIM, nil
	case r.SW != apdu.SWAuthBlocked:
		return "", CMESIMFailure
	}
	if r, err = s.exchange(ctx, []byte{0x00, 0x2C, 0x00, 0x01}); err != nil {
		return "", err
	}
	if r.SW&0xFFF0 == apdu.SWVerifyFailed {
		return pinPUK, nil
	}
	return "", CMESIMFailure // PIN and PUK blocked
}

// pinBlock codes a PIN or PUK for VERIFY / UNBLOCK PIN: 4 to 8 ASCII
// digits padded with FF to 8 bytes (TS 102 221 §9.5.2).
func pinBlock(pin string) ([]byte, bool) {
	if len(pin) < 4 || len(pin) > 8 {
		return nil, false
	}
	b := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return nil, false
		}
		b[i] = pin[i]
	}
	return b, true
}

// cmdCPIN: enter PIN, TS 27.007 §8.3. +CPIN? reports READY, SIM PIN or SIM
// PUK from the card (always READY without one); +CPIN=<pin> verifies PIN1,
// +CPIN=<puk>,<newpin> unblocks it. A wrong code is +CME ERROR: 16, a
// blocked PIN 12; with nothing pending the command is not allowed (3).
// The codes never reach the log (MaskLine).
func cmdCPIN(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		st, err := s.pinState(ctx)
		if err != nil {
			return nil, err
		}
		return []string{"+CPIN: " + st}, nil
	case OpTest:
		return nil, nil
	case OpSet:
	default:
		return nil, CMEOperationNotSupported
	}
	a, err := SplitArgs(c.Args)
	if err != nil || len(a) > 2 {
		return nil, CMEIncorrectParameters
	}
	st, err := s.pinState(ctx)
	if err != nil {
		return nil, err
	}
	var capdu []byte
	switch st {
	case pinReady:
		return nil, CMEOperationNotAllowed
	case pinSIM:
		pin, ok := pinBlock(a[0])
		if !ok || len(a) > 1 {
			return nil, CMEIncorrectPassword
		}
		capdu = append([]byte{0x00, 0x20, 0x00, 0x01, 0x08}, pin...)
	case pinPUK:
		if len(a) != 2 {
			return nil, CMESIMPUKRequired
		}
		puk, ok1 := pinBlock(a[0])
		pin, ok2 := pinBlock(a[1])
		if !ok1 || !ok2 {
			return nil, CMEIncorrectPassword
		}
		capdu = append(append([]byte{0x00, 0x2C, 0x00, 0x01, 0x10}, puk...), pin...)
	}
	r, err := s.exchange(ctx, capdu)
	if err != nil {
		return nil, err
	}
	switch {
	case r.SW == apdu.SWOK:
		return nil, nil
	case r.SW&0xFFF0 == apdu.SWVerifyFailed:
		return nil, CMEIncorrectPassword
	case r.SW == apdu.SWAuthBlocked && st == pinSIM:
		return nil, CMESIMPUKRequired
	}
	return nil, CMESIMFailure
}
