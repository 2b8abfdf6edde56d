package atmodem

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/simlab-dev/simlab/applet/apdu"
)

// usatState is the USAT (SIM toolkit) side of the modem, TS 27.007 §12.
type usatState struct {
	download, reporting int    // +CUSATD
	teProfile           []byte // +CUSATW profile storage 0 (TE)
	active              bool   // TE profile activated with +CUSATA=1: proactive commands go to the TE
}

// defaultTEProfile is the TERMINAL PROFILE sent on +CUSATA=1 when the TE
// wrote none with +CUSATW: DISPLAY TEXT, GET INPUT, SEND SHORT MESSAGE,
// SMS-PP data download and the basic proactive UICC facilities
// (TS 31.111 §5.2, TS 102 223 §5.2).
var defaultTEProfile = []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0x00, 0x00, 0x00, 0x00}

// cardTimeout bounds one APDU exchange with the backing card.
const cardTimeout = 10 * time.Second

// transmit sends one APDU to the card; without a card it fails with
// CME 10 (SIM not inserted).
func (s *session) transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if s.m.cfg.Card == nil {
		return nil, CMESIMNotInserted
	}
	ctx, cancel := context.WithTimeout(ctx, cardTimeout)
	defer cancel()
	r, err := s.m.cfg.Card.Transmit(ctx, apdu)
	if err != nil {
		s.m.logf("card: %v", err)
		return nil, CMEUnknown
	}
	if len(r) < 2 {
		return nil, CMEUnknown
	}
	return r, nil
}

// cmdCSIM: generic SIM access, TS 27.007 §8.17: +CSIM=<length>,"<command>"
// with <length> counting hex characters; the answer is
// +CSIM: <length>,"<response>".
func cmdCSIM(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, CMEOperationNotSupported
	}
	a, err := SplitArgs(c.Args)
	if err != nil || len(a) != 2 {
		return nil, CMEIncorrectParameters
	}
	n, err := strconv.Atoi(a[0])
	if err != nil || n != len(a[1]) {
		return nil, CMEIncorrectParameters
	}
	apdu, err := hex.DecodeString(a[1])
	if err != nil || len(apdu) < 4 {
		return nil, CMEIncorrectParameters
	}
	r, err := s.transmit(ctx, apdu)
	if err != nil {
		return nil, err
	}
	h := strings.ToUpper(hex.EncodeToString(r))
	return []string{fmt.Sprintf(`+CSIM: %d,"%s"`, len(h), h)}, nil
}

// cmdCUSATD: profile download upon start-up, TS 27.007 §12.2.3.
func cmdCUSATD(s *session, ctx context.Context, c Command) ([]string, error) {
	u := &s.m.usat
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("+CUSATD: %d,%d", u.download, u.reporting)}, nil
	case OpTest:
		return []string{"+CUSATD: (0-2),(0,1)"}, nil
	case OpSet, OpExec:
		a, err := SplitArgs(c.Args)
		if err != nil || len(a) > 2 {
			return nil, CMEIncorrectParameters
		}
		d, err := intArg(a[0], 0, 0, 2)
		if err != nil {
			return nil, err
		}
		r := 0
		if len(a) > 1 {
			if r, err = intArg(a[1], 0, 0, 1); err != nil {
				return nil, err
			}
		}
		u.download, u.reporting = d, r
		if r == 1 {
			s.urc("+CUSATS: 4")
		}
		return nil, nil
	}
	return nil, CMEOperationNotSupported
}

// cmdCUSATR: read USAT profile, TS 27.007 §12.2.1.
func cmdCUSATR(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"+CUSATR: (0-3)"}, nil
	case OpSet, OpExec:
		p := s.m.usat.teProfile
		if p == nil {
			p = defaultTEProfile
		}
		return []string{fmt.Sprintf(`+CUSATR: 1,"%s"`, strings.ToUpper(hex.EncodeToString(p)))}, nil
	}
	return nil, CMEOperationNotSupported
}

// cmdCUSATW: write USAT profile, TS 27.007 §12.2.2; storage 1 is the TE
// profile sent on activation.
func cmdCUSATW(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"+CUSATW: (0-1)"}, nil
	case OpSet:
		a, err := SplitArgs(c.Args)
		if err != nil || len(a) != 2 {
			return nil, CMEIncorrectParameters
		}
		p, err := hex.DecodeString(a[1])
		if err != nil || len(p) == 0 {
			return nil, CMEIncorrectParameters
		}
		s.m.usat.teProfile = p
		return []string{"+CUSATW: 0"}, nil
	}
	return nil, CMEOperationNotSupported
}

// cmdCUSATA: activate USAT profile, TS 27.007 §12.2.4. Activation 1 sends
// the TE profile in TERMINAL PROFILE and from then on proactive commands
// reach the TE as +CUSATP; 0 only reports the state.
func cmdCUSATA(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("+CUSATA: %d,0", s.uiccState())}, nil
	case OpTest:
		return []string{"+CUSATA: (0-3)"}, nil
	case OpSet, OpExec:
		act, err := intArg(c.Args, 0, 0, 3)
		if err != nil {
			return nil, err
		}
		switch act {
		case 1:
			p := s.m.usat.teProfile
			if p == nil {
				p = defaultTEProfile
			}
			r, err := s.transmit(ctx, append([]byte{0x80, 0x10, 0x00, 0x00, byte(len(p))}, p...))
			if err != nil {
				return nil, err
			}
			s.m.usat.active = true
			s.afterToolkit(ctx, r)
		case 2, 3:
			s.m.usat.active = false
		}
		return []string{fmt.Sprintf("+CUSATA: %d,0", s.uiccState())}, nil
	}
	return nil, CMEOperationNotSupported
}

// uiccState is <UICC_state> of +CUSATA: 0 unknown (no card), 4 ready.
func (s *session) uiccState() int {
	if s.m.cfg.Card == nil {
		return 0
	}
	return 4
}

// cmdCUSATT: send USAT terminal response, TS 27.007 §12.2.5.
func cmdCUSATT(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, CMEOperationNotSupported
	}
	a, err := SplitArgs(c.Args)
	if err != nil {
		return nil, CMEIncorrectParameters
	}
	tr, err := hex.DecodeString(a[0])
	if err != nil || len(tr) == 0 || len(tr) > 255 {
		return nil, CMEIncorrectParameters
	}
	r, err := s.transmit(ctx, append([]byte{0x80, 0x14, 0x00, 0x00, byte(len(tr))}, tr...))
	if err != nil {
		return nil, err
	}
	sw1, sw2 := r[len(r)-2], r[len(r)-1]
	if sw1 != 0x90 && sw1 != 0x91 {
		s.m.logf("TERMINAL RESPONSE refused: SW %02X%02X", sw1, sw2)
		return nil, CMEOperationNotAllowed
	}
	s.afterToolkit(ctx, r)
	if sw1 == 0x90 {
		s.urc("+CUSATEND")
	}
	return nil, nil
}

// cmdCUSATE: send USAT envelope command, TS 27.007 §12.2.6; the answer is
// +CUSATE: "<envelope_response>",<busy> and +CUSATE2: <sw1>,<sw2>.
func cmdCUSATE(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, CMEOperationNotSupported
	}
	a, err := SplitArgs(c.Args)
	if err != nil {
		return nil, CMEIncorrectParameters
	}
	env, err := hex.DecodeString(a[0])
	if err != nil || len(env) == 0 || len(env) > 255 {
		return nil, CMEIncorrectParameters
	}
	data, r, err := s.envelope(ctx, env)
	if err != nil {
		return nil, err
	}
	sw1, sw2 := r[len(r)-2], r[len(r)-1]
	busy := 0
	if sw1 == 0x93 {
		busy = 1
	}
	s.afterToolkit(ctx, r)
	return []string{
		fmt.Sprintf(`+CUSATE: "%s",%d`, strings.ToUpper(hex.EncodeToString(data)), busy),
		fmt.Sprintf("+CUSATE2: %d,%d", sw1, sw2),
	}, nil
}

// envelope sends ENVELOPE (TS 102 221 §10.1.1, INS C2) and completes it
// with apdu.Exchange (GET RESPONSE in class 80 when the card answers 61xx).
// It returns the data and the final response (data + SW).
func (s *session) envelope(ctx context.Context, env []byte) ([]byte, []byte, error) {
	r, err := apdu.Exchange(ctx, sessionCard{s}, append([]byte{0x80, 0xC2, 0x00, 0x00, byte(len(env))}, env...))
	if err != nil {
		var cme CMEError
		if errors.As(err, &cme) {
			return nil, nil, cme
		}
		s.m.logf("card: %v", err)
		return nil, nil, CMEUnknown
	}
	return r.Data, r.Append(nil), nil
}

// sessionCard is the modem's card as the session reaches it (transmit).
type sessionCard struct{ s *session }

func (c sessionCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	return c.s.transmit(ctx, capdu)
}

// afterToolkit fetches the pending proactive command when the card
// answered 91xx (TS 102 221 §7.4.2.2) and the TE profile is active, and
// reports it as +CUSATP: "<hex>" (TS 27.007 §12.2.4).
func (s *session) afterToolkit(ctx context.Context, r []byte) {
	if len(r) < 2 || r[len(r)-2] != 0x91 || !s.m.usat.active {
		return
	}
	f, err := s.transmit(ctx, []byte{0x80, 0x12, 0x00, 0x00, r[len(r)-1]})
	if err != nil || len(f) < 2 || f[len(f)-2] != 0x90 && f[len(f)-2] != 0x91 {
		s.m.logf("FETCH failed: %v", err)
		return
	}
	s.urc(fmt.Sprintf(`+CUSATP: "%s"`, strings.ToUpper(hex.EncodeToString(f[:len(f)-2]))))
}

// dataDownload passes an SMS-DELIVER to the card in ENVELOPE(SMS-PP
// download), TS 31.111 §7.1.1.2: tag D1, device identities network → UICC,
// the SMS TPDU. A proactive command the card raises in answer reaches the
// TE as +CUSATP when the TE profile is active. It returns what the ME
// answers the network: 0 (RP-ACK) when the card took it (90xx, 91xx),
// FCSToolkitBusy for 9300, FCSDataDownloadError for anything else (a
// warning 62xx/63xx with its PoR, an error, no answer), as TS 31.111
// §7.1.1.2 asks and the fleet's handsets do.
func (s *session) dataDownload(ctx context.Context, tp []byte) byte {
	body := []byte{0x82, 0x02, 0x83, 0x81}
	body = append(body, 0x8B)
	body = appendBERLength(body, len(tp))
	body = append(body, tp...)
	env := append([]byte{0xD1}, appendBERLength(nil, len(body))...)
	env = append(env, body...)
	if len(env) > 255 {
		s.m.logf("SMS-PP download: envelope too long (%d bytes)", len(env))
		return FCSDataDownloadError
	}
	_, r, err := s.envelope(ctx, env)
	if err != nil {
		s.m.logf("SMS-PP download: %v", err)
		return FCSDataDownloadError
	}
	sw := uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
	switch {
	case sw == 0x9300:
		s.m.logf("SMS-PP download refused: SIM toolkit busy (9300): RP-ERROR, TP-FCS D4")
		return FCSToolkitBusy
	case sw>>8 != 0x90 && sw>>8 != 0x91:
		s.m.logf("SMS-PP download refused by the card (%04X): RP-ERROR, TP-FCS D5", sw)
		return FCSDataDownloadError
	}
	s.afterToolkit(ctx, r)
	return 0
}

// appendBERLength appends a BER-TLV length (TS 102 223 §8.1: one byte up to
// 127, 0x81 nn up to 255).
func appendBERLength(b []byte, n int) []byte {
	if n > 127 {
		return append(b, 0x81, byte(n))
	}
	return append(b, byte(n))
}
