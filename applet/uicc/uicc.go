// Package uicc is simlab's emulated UICC: a card that implements
// applet.Card with an ATR indicating T=0 and T=1, four logical channels
// (MANAGE CHANNEL), the file system of ETSI TS 102 221 and 3GPP TS 31.102
// (the MF and ADF_USIM with every EF those specifications make mandatory,
// EF_MSISDN, EF_SMSP, EF_SPN, EF_SMS; and DF_TELECOM / DF_GSM with the EFs
// of 3GPP TS 51.011 §10.3 for 2G clients using class A0), PIN1/PUK1/ADM1
// with retry counters, access conditions, and the CAT plumbing of ETSI TS
// 102 221 §7.4 and TS 102 223: TERMINAL PROFILE, ENVELOPE, FETCH, TERMINAL
// RESPONSE with 91xx announcing proactive commands, driven by applets (see
// Applet).
//
// OTA secured packets (TS 102 225 / TS 31.115) arriving in ENVELOPE
// (SMS-PP download) are opened with applet/ota and dispatched by TAR; the
// response is sealed into a PoR returned in the ENVELOPE response or sent
// with a SEND SHORT MESSAGE proactive command.
//
// Both transmission styles are served per APDU: a case-4 command sent
// without Le (T=0 style) is answered 61xx (9Fxx in class A0) and its data
// comes with GET RESPONSE, in the class of the command it follows; a wrong
// Le gets 6Cxx; a command with Le (T=1 style) gets its data and 9000
// directly; a case 1 command in T=0 form (P3 = 00) is taken as case 1.
//
// A Card is deterministic: its clock is injected, it starts no goroutine and
// has no timer. It is safe for concurrent use (calls are serialised).
package uicc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet"
	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/hsm"
)

var _ applet.Card = (*Card)(nil)

// DefaultATR is the Answer To Reset of the emulated card (ISO/IEC 7816-3
// §8.2): direct convention; TA1 96 (Fi 512, Di 32); T=0 (TD1), then T=1
// (TD2) with IFSC 254 and BWI 4 / CWI 5; T=15 (TD3) with TA4 C7 (clock stop
// either level, classes A, B and C); historical bytes: category 80, card
// service data 31 E0, card capabilities 73 FE 21 1B, pre-issuing data
// "SIMLAB"; TCK.
var DefaultATR = withTCK([]byte{
	0x3B, 0x9E, 0x96, 0x80, 0xB1, 0xFE, 0x45, 0x1F, 0xC7,
	0x80, 0x31, 0xE0, 0x73, 0xFE, 0x21, 0x1B, 0x66, 'S', 'I', 'M', 'L', 'A', 'B',
})

func withTCK(atr []byte) []byte {
	var x byte
	for _, b := range atr[1:] {
		x ^= b
	}
	return append(atr, x)
}

// Options configure a Card.
type Options struct {
	// Clock gives the time to applets and to OTA reassembly; time.Now when nil.
	Clock func() time.Time
	// Keystore holds the OTA keys named by the profile's keysets. Without
	// it, ENVELOPE(SMS-PP download) with secured packets cannot be served.
	Keystore hsm.Keystore
}

// Card is an emulated UICC made from a Profile.
type Card struct {
	mu    sync.Mutex
	prof  *Profile
	clock func() time.Time
	ks    hsm.Keystore
	atr   []byte

	// Persistent state: survives Reset.
	fs                *fsTemplate         // the file tree, shared with other cards
	mf, usim          *file               // fs.mf, fs.usim
	own               [maxContents][]byte // by file slot: per-card and written contents
	pin1, puk1, adm1  pinState
	termProfile       []byte
	applets           []*installed
	keysets           []keysetState
	reasm             *ota.Reassembler
	out, scratch, tmp []byte
	tlvs              []tlv.BER
	depth             int // > 0 while the RFM applet runs commands

	vol volatile
}

// volatile is the state a Reset clears (TS 102 221 §6.2.1, §8.4).
type volatile struct {
	// selection is the current one of the logical channel the command
	// being executed addresses; exec swaps a channel's in and out.
	selection
	// chans are logical channels 1 to 3 (TS 102 221 §11.1.17).
	chans   [maxChannels - 1]channel
	pend    []byte // response data waiting for GET RESPONSE
	pendOff int
	pendSW  apdu.SW
	pendCh  int // the channel whose command left pend
	cur     int // the channel of the command being executed
	sess    session
	admOK   bool
}

// selection is what one logical channel has selected (TS 102 221 §8.4).
type selection struct {
	df, ef, adf *file
	rec         int        // record pointer in the current EF, 0 = none
	selected    *installed // applet selected by AID
}

// channel is a logical channel other than the basic one.
type channel struct {
	open bool
	sel  selection
}

// maxChannels is how many logical channels the card offers, the basic
// channel 0 and 1 to 3, as DefaultATR announces (card capabilities, third
// byte 1B: assignment by the card or the terminal, 4 channels).
const maxChannels = 4

// installed is an applet placed on the card.
type installed struct {
	prof   AppletProfile
	applet Applet
}

// New makes a card from a validated profile (see ParseProfile).
func New(p *Profile, opts Options) (*Card, error) {
	if p == nil {
		return nil, errors.New("uicc: nil profile")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := &Card{prof: p, clock: opts.Clock, ks: opts.Keystore, atr: DefaultATR}
	if c.clock == nil {
		c.clock = time.Now
	}
	if p.ATR != nil {
		c.atr = append([]byte(nil), p.ATR...)
	}
	c.fs = p.template()
	c.mf, c.usim = c.fs.mf, c.fs.usim
	c.personalize(p)
	c.pin1 = newPIN(p.PIN1, p.PIN1.Enabled == nil || *p.PIN1.Enabled)
	c.puk1 = newPIN(p.PUK1, true)
	c.adm1 = newPIN(p.ADM1, true)
	c.keysets = make([]keysetState, 0, len(p.Keysets))
	c.applets = make([]*installed, 0, len(p.Applets))
	for _, k := range p.Keysets {
		c.keysets = append(c.keysets, keysetState{Keyset: k, counter: ota.CounterFromUint64(k.Counter), keys: p.keysOf(k)})
	}
	for _, a := range p.Applets {
		inst := &installed{prof: a}
		if a.Name == RFMName {
			inst.applet = &rfm{}
		}
		c.applets = append(c.applets, inst)
	}
	r, err := ota.NewReassembler(ota.ReassemblyLimits{MaxParts: 16, MaxBytes: 16 * 140, MaxAge: 10 * time.Minute, MaxPending: 4})
	if err != nil {
		return nil, fmt.Errorf("uicc: %w", err)
	}
	c.reasm = r
	c.resetVolatile()
	return c, nil
}

// Install gives the applet named name in the profile its implementation.
// It fails when the profile has no applet of that name.
func (c *Card) Install(name string, a Applet) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, inst := range c.applets {
		if inst.prof.Name == name {
			inst.applet = a
			return nil
		}
	}
	return fmt.Errorf("uicc: profile %q has no applet %q", c.prof.Name, name)
}

// Profile returns the profile the card was made from. It must not be modified.
func (c *Card) Profile() *Profile { return c.prof }

// ATR returns the card's Answer To Reset.
func (c *Card) ATR() []byte { return append([]byte(nil), c.atr...) }

func (c *Card) now() time.Time { return c.clock() }

// Reset clears the volatile state (current files, verified PINs, pending
// responses and any proactive session) and returns the ATR. Cold and warm
// resets are the same for the emulated card.
func (c *Card) Reset(ctx context.Context, cold bool) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetVolatile()
	for _, inst := range c.applets {
		if w, ok := inst.applet.(ResetWatcher); ok {
			w.CardReset()
		}
	}
	return append([]byte(nil), c.atr...), nil
}

func (c *Card) resetVolatile() {
	c.vol = volatile{selection: selection{df: c.mf}, pend: c.vol.pend[:0]}
	c.pin1.verified, c.adm1.verified = false, false
}

// Transmit executes one command APDU and returns the response APDU (data
// and status word). Malformed APDUs get a status word, never an error; an
// error is returned only when ctx is done. The returned slice is the
// caller's.
func (c *Card) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.exec(ctx, capdu, c.out[:0])
	c.out = out[:0]
	return append(make([]byte, 0, len(out)), out...), nil
}

// exec runs one APDU and appends the R-APDU to dst.
func (c *Card) exec(ctx context.Context, raw []byte, dst []byte) []byte {
	var cmd apdu.Command
	if err := cmd.Unmarshal(raw); err != nil {
		c.vol.pend = c.vol.pend[:0]
		return apdu.SWWrongLength.Append(dst)
	}
	cls := apdu.ClassOf(cmd.CLA)
	gsm := cls.Kind == apdu.ClassGSM
	switch {
	case cls.Kind == apdu.ClassInvalid || cls.Kind == apdu.ClassReserved:
		return apdu.SWCLANotSupported.Append(dst)
	case cls.Channel >= maxChannels || cls.Channel > 0 && !c.vol.chans[cls.Channel-1].open:
		return apdu.SWChannelNotSupported.Append(dst)
	case cls.SecureMessaging != 0:
		return apdu.SWSMNotSupported.Append(dst)
	case cls.Chaining:
		return apdu.SWChainingNotSupported.Append(dst)
	}
	if len(raw) == 5 && cmd.Ne == 256 && !gsm && !returnsData(&cmd) {
		// A case 1 command in T=0 form: P3 = 00 is no Le (ISO/IEC 7816-3
		// §12.2.2, TS 102 221 §7.3.1.1.1), e.g. 00 20 00 01 00.
		cmd.Ne = 0
	}
	if cls.Channel == 0 {
		return c.execOn(ctx, &cmd, cls, 0, dst)
	}
	ch := &c.vol.chans[cls.Channel-1]
	basic := c.vol.selection
	c.vol.selection = ch.sel
	dst = c.execOn(ctx, &cmd, cls, cls.Channel, dst)
	ch.sel = c.vol.selection
	c.vol.selection = basic
	return dst
}

// execOn runs cmd with the selection of logical channel n current.
func (c *Card) execOn(ctx context.Context, cmd *apdu.Command, cls apdu.Class, n int, dst []byte) []byte {
	gsm := cls.Kind == apdu.ClassGSM
	c.vol.cur = n
	if cmd.INS == apdu.INSGetResponse && cls.Kind != apdu.ClassReserved {
		// In the class of the command it follows (TS 102 221 table 10.5):
		// 0X or 8X after a UICC command, A0 after a GSM one.
		return c.getResponse(cmd, gsm, n, dst)
	}
	c.vol.pend, c.vol.pendOff, c.vol.pendCh = c.vol.pend[:0], 0, n
	data, sw := c.dispatch(ctx, cmd, cls.Kind)
	if cap(data) > cap(c.scratch) {
		c.scratch = data[:0] // keep the grown buffer (handlers build their data in c.scratch)
	}
	if gsm {
		sw = gsmSW(sw)
	}
	return c.respond(dst, cmd, data, sw, gsm)
}

// returnsData reports whether a UICC command with this instruction can
// return data (a case 2 or 4 command), so that P3 = 00 in a 5-byte command
// is its Le (256 bytes) and not the empty Lc of a case 1 command in T=0
// form. Class A0 (TS 51.011) is T=0 throughout and keeps its own P3 rules.
func returnsData(cmd *apdu.Command) bool {
	switch cmd.INS {
	case apdu.INSVerifyPIN, apdu.INSChangePIN, apdu.INSDisablePIN, apdu.INSEnablePIN, apdu.INSUnblockPIN,
		apdu.INSTerminalProfile, apdu.INSTerminalResponse, apdu.INSUpdateBinary, apdu.INSUpdateRecord,
		apdu.INSDeactivateFile, apdu.INSActivateFile, apdu.INSSleep:
		return false
	case apdu.INSManageChannel:
		return cmd.P1 == 0x00 && cmd.P2 == 0x00 // open with the number chosen by the card
	case apdu.INSSelect:
		return cmd.P2&0x0C != 0x0C
	case apdu.INSStatus:
		return cmd.P2 != 0x0C
	}
	return true
}

// dispatch runs the command and returns its response data (possibly
// aliasing c.scratch) and status word.
func (c *Card) dispatch(ctx context.Context, cmd *apdu.Command, k apdu.ClassKind) ([]byte, apdu.SW) {
	gsm := k == apdu.ClassGSM
	inter := k == apdu.ClassInterindustry || gsm
	prop := k == apdu.ClassProprietary || gsm
	if sel := c.vol.selected; sel != nil && k != apdu.ClassGSM {
		switch cmd.INS {
		case apdu.INSSelect, apdu.INSStatus, apdu.INSTerminalProfile, apdu.INSEnvelope, apdu.INSFetch, apdu.INSTerminalResponse, apdu.INSManageChannel:
		default:
			return c.appletAPDU(ctx, sel, cmd)
		}
	}
	switch cmd.INS {
	case apdu.INSSelect:
		if inter {
			return c.selectFile(ctx, cmd, gsm)
		}
	case apdu.INSStatus:
		if prop {
			return c.status(cmd, gsm)
		}
	case apdu.INSReadBinary:
		if inter {
			return c.readBinary(cmd, gsm)
		}
	case apdu.INSUpdateBinary:
		if inter {
			return c.updateBinary(cmd, gsm)
		}
	case apdu.INSReadRecord:
		if inter {
			return c.readRecord(cmd, gsm)
		}
	case apdu.INSUpdateRecord:
		if inter {
			return c.updateRecord(cmd, gsm)
		}
	case apdu.INSVerifyPIN, apdu.INSChangePIN, apdu.INSDisablePIN, apdu.INSEnablePIN, apdu.INSUnblockPIN:
		if inter {
			return nil, c.pinCommand(cmd, gsm)
		}
	case apdu.INSManageChannel:
		if inter && !gsm {
			return c.manageChannel(cmd)
		}
	case apdu.INSTerminalProfile:
		if prop {
			return c.terminalProfile(ctx, cmd)
		}
	case apdu.INSEnvelope:
		if prop {
			return c.envelope(ctx, cmd)
		}
	case apdu.INSFetch:
		if prop {
			return c.fetch(cmd)
		}
	case apdu.INSTerminalResponse:
		if prop {
			return c.terminalResponse(ctx, cmd)
		}
	case apdu.INSSleep:
		if gsm {
			return nil, apdu.SWOK
		}
	case apdu.INSGetResponse: // handled in exec for its classes; here only in a wrong one
	default:
		// SEARCH RECORD, INCREASE, AUTHENTICATE, GlobalPlatform … are not
		// implemented by the emulated card.
		return nil, apdu.SWINSNotSupported
	}
	// A known instruction in a class it is not defined for (TS 102 221
	// table 10.5), e.g. TERMINAL PROFILE with CLA 00.
	return nil, apdu.SWCLANotSupported
}

// respond appends the R-APDU for data and sw, T=0 or T=1 style (see the
// package doc), and replaces 9000 by 91xx when a proactive command waits.
func (c *Card) respond(dst []byte, cmd *apdu.Command, data []byte, sw apdu.SW, gsm bool) []byte {
	if len(data) > 0 {
		if cmd.Ne == 0 {
			c.vol.pend = append(c.vol.pend[:0], data...)
			c.vol.pendOff = 0
			c.vol.pendSW = apdu.SWOK
			switch {
			case sw == apdu.SWOK && gsm:
				sw = apdu.GSMResponseAvailable(len(data))
			case sw == apdu.SWOK:
				sw = apdu.ResponseAvailable(len(data))
			case gsm: // data download error with data (TS 51.011 §9.4.1)
				sw = apdu.SWDataDownloadError | apdu.SW(clampLen(len(data)))
			default: // a warning with data: 62F3, GET RESPONSE gives the data and the warning (TS 102 221 §10.2.1.1)
				c.vol.pendSW = sw
				sw = apdu.SWResponseDataAvailable
			}
			return sw.Append(dst)
		}
		n := min(len(data), cmd.Ne)
		dst = append(dst, data[:n]...)
		if n < len(data) && sw == apdu.SWOK {
			c.vol.pend = append(c.vol.pend[:0], data[n:]...)
			c.vol.pendOff = 0
			c.vol.pendSW = apdu.SWOK
			return apdu.ResponseAvailable(len(data) - n).Append(dst)
		}
	}
	return c.finalSW(sw).Append(dst)
}

func clampLen(n int) byte {
	if n > 255 {
		return 0
	}
	return byte(n)
}

// finalSW turns 9000 into 91xx while a proactive command waits to be
// fetched (TS 102 221 §7.4.2.2).
func (c *Card) finalSW(sw apdu.SW) apdu.SW {
	if sw == apdu.SWOK && c.vol.sess.cmd != nil && !c.vol.sess.fetched {
		return apdu.ProactivePending(len(c.vol.sess.cmd))
	}
	return sw
}

// getResponse serves GET RESPONSE (TS 102 221 §11.1.15) on logical
// channel n: the data of the last command sent on that channel.
func (c *Card) getResponse(cmd *apdu.Command, gsm bool, n int, dst []byte) []byte {
	avail := len(c.vol.pend) - c.vol.pendOff
	if c.vol.pendCh != n {
		avail = 0
	}
	var sw apdu.SW
	switch {
	case cmd.P1 != 0 || cmd.P2 != 0:
		sw = apdu.SWIncorrectP1P2
	case len(cmd.Data) != 0:
		sw = apdu.SWWrongLength
	case avail <= 0 && gsm:
		return apdu.SWTechnicalProblem.Append(dst)
	case avail <= 0:
		sw = apdu.SWConditionsOfUse
	case cmd.Ne == 0:
		sw = apdu.SWWrongLength
	case cmd.Ne > avail && cmd.Ne != 256 && cmd.Ne != 65536:
		sw = apdu.WrongLe(avail)
	default:
		k := min(avail, cmd.Ne)
		dst = append(dst, c.vol.pend[c.vol.pendOff:c.vol.pendOff+k]...)
		c.vol.pendOff += k
		if rest := avail - k; rest > 0 {
			if gsm {
				return apdu.GSMResponseAvailable(rest).Append(dst)
			}
			return apdu.ResponseAvailable(rest).Append(dst)
		}
		sw = c.finalSW(c.vol.pendSW)
		c.vol.pend, c.vol.pendOff = c.vol.pend[:0], 0
		return sw.Append(dst)
	}
	if gsm {
		sw = gsmSW(sw)
	}
	return sw.Append(dst)
}

// manageChannel serves MANAGE CHANNEL (TS 102 221 §11.1.17, ISO/IEC 7816-4
// §11.1.2) on the current channel: P1 00 opens a channel, the card's
// choice (P2 00; its number is the response data) or P2's (1 to 3); P1 80
// closes channel P2. A channel opened from the basic channel starts at the
// MF; one opened from another channel starts where that one is (its DF,
// application and selected applet). Status words: 6881 for a channel the
// card does not have, 6A81 when all are open, 6985 for one open already.
func (c *Card) manageChannel(cmd *apdu.Command) ([]byte, apdu.SW) {
	if len(cmd.Data) != 0 {
		return nil, apdu.SWWrongLength
	}
	switch cmd.P1 {
	case 0x00:
		n := int(cmd.P2)
		if n == 0 {
			if cmd.Ne == 0 {
				return nil, apdu.SWWrongLength
			}
			for i := range c.vol.chans {
				if !c.vol.chans[i].open {
					n = i + 1
					break
				}
			}
			if n == 0 {
				return nil, apdu.SWFuncNotSupported
			}
		} else if cmd.Ne != 0 {
			return nil, apdu.SWWrongLength
		}
		switch {
		case n >= maxChannels:
			return nil, apdu.SWChannelNotSupported
		case c.vol.chans[n-1].open:
			return nil, apdu.SWConditionsOfUse
		}
		sel := selection{df: c.mf}
		if c.vol.cur != 0 {
			sel = selection{df: c.vol.df, adf: c.vol.adf, selected: c.vol.selected}
		}
		c.vol.chans[n-1] = channel{open: true, sel: sel}
		if cmd.P2 == 0 {
			return append(c.scratch[:0], byte(n)), apdu.SWOK
		}
		return nil, apdu.SWOK
	case 0x80:
		n := int(cmd.P2)
		switch {
		case cmd.Ne != 0:
			return nil, apdu.SWWrongLength
		case n == 0:
			return nil, apdu.SWIncorrectP1P2 // the basic channel stays open
		case n >= maxChannels || !c.vol.chans[n-1].open:
			return nil, apdu.SWChannelNotSupported
		}
		c.vol.chans[n-1] = channel{}
		return nil, apdu.SWOK
	}
	return nil, apdu.SWIncorrectP1P2
}

// gsmSW maps a TS 102 221 status word to its 3GPP TS 51.011 §9.4 equivalent
// for class A0 commands.
func gsmSW(sw apdu.SW) apdu.SW {
	switch {
	case sw == apdu.SWFileNotFound, sw == apdu.SWRefDataNotFound:
		return apdu.SWGSMFileNotFound
	case sw == apdu.SWSecurityStatus, sw&0xFFF0 == apdu.SWVerifyFailed:
		return apdu.SWAccessNotFulfilled
	case sw == apdu.SWAuthBlocked:
		return apdu.SWCHVBlocked
	case sw == apdu.SWWrongP1P2, sw == apdu.SWRecordNotFound:
		return apdu.SWOutOfRange
	case sw == apdu.SWIncompatibleFile:
		return apdu.SWFileInconsistent
	case sw == apdu.SWNoCurrentEF:
		return apdu.SWNoEFSelected
	case sw == apdu.SWConditionsOfUse, sw == apdu.SWRefDataInvalidated:
		return apdu.SWCHVContradiction
	case sw == apdu.SWIncorrectP1P2:
		return apdu.SWWrongP1P2
	case sw&0xFF00 == apdu.SWWrongLe:
		return 0x6700 | sw&0xFF
	case sw&0xFF00 == apdu.SWResponseAvailable:
		return apdu.SWGSMResponseAvailable | sw&0xFF
	}
	return sw
}
