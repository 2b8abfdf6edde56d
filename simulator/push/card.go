package push

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/applet"
	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// CardConfig is one challenge run straight against a card, with simlab as
// the handset (`simlab card push`): no SMSC in between. The card is any
// applet.Card: a real NFC SIM in a PC/SC reader, the emulated UICC served
// through vpcd, or an emulated UICC in process.
type CardConfig struct {
	// Card is the SIM.
	Card applet.Card
	// Keystore holds the card's OTA keys and the demo masters; nil means
	// a new in-memory store with simlab's demo masters (fixtures/keys).
	Keystore hsm.Keystore
	// Keys are the card's keys; nil derives the default fleet's keys
	// (CardByICCID) for ICCID, or for the ICCID read from the card's
	// EF_ICCID when ICCID is empty.
	Keys  *Card
	ICCID string
	// TDES selects the derived 3DES keyset (key index 2) instead of AES (1).
	TDES bool
	// SPI and TAR of the command packet (Seal's defaults when zero).
	SPI *ota.SPI
	TAR ota.TAR
	// Person answers the prompts; PIN is the PIN the person knows (given
	// to it with PIN prompts, never logged).
	Person handset.Answerer
	PIN    string
	// MSISDN labels the Result (the card's number, if known).
	MSISDN string
	// Source is the originating address of the challenge SMS, where the
	// applet sends its answer (default "99955500").
	Source string
	// PromptTimeout is the terminal's toolkit timeout when a prompt has
	// none of its own (default: the request's timeout).
	PromptTimeout time.Duration
	// Trace receives every APDU; Event what the handset does.
	Trace func(capdu, rapdu []byte)
	Event func(handset.Event)
}

// ErrNoAnswer means the card's proactive session ended without sending
// the answer (no SEND SHORT MESSAGE).
var ErrNoAnswer = errors.New("push: the card sent no answer")

// ChallengeCard runs one challenge against cfg.Card as a handset would
// (TS 31.111 §7.1.1, TS 102 223 §6.4): it powers the card on, sends the
// TERMINAL PROFILE, delivers the sealed challenge as ENVELOPE(SMS-PP
// download), answers the prompts through cfg.Person, captures the SEND
// SHORT MESSAGE that carries the applet's response, opens and verifies it.
// Outcomes (including SIM errors and timeouts) are in the Result; an error
// means the challenge could not be built or sent.
func ChallengeCard(ctx context.Context, cfg CardConfig, r Request) (Result, error) {
	start := time.Now()
	if cfg.Card == nil {
		return Result{}, errors.New("push: no card")
	}
	if r.Timeout <= 0 {
		r.Timeout = 60 * time.Second
	}
	if cfg.Source == "" {
		cfg.Source = "99955500"
	}
	if cfg.PromptTimeout <= 0 {
		cfg.PromptTimeout = r.Timeout
	}
	ks := cfg.Keystore
	if ks == nil {
		mem := soft.NewMemory()
		defer mem.Close()
		if err := keys.LoadMasters(ctx, mem); err != nil {
			return Result{}, err
		}
		ks = mem
	}
	var card Card
	if cfg.Keys != nil {
		card = *cfg.Keys
	} else {
		iccid := cfg.ICCID
		if iccid == "" {
			if _, err := cfg.Card.Reset(ctx, false); err != nil {
				return Result{}, fmt.Errorf("push: reset the card: %w", err)
			}
			var err error
			if iccid, err = ReadICCID(ctx, cfg.Card); err != nil {
				return Result{}, err
			}
		}
		var err error
		if card, err = CardByICCID(ctx, ks, iccid, cfg.TDES); err != nil {
			return Result{}, fmt.Errorf("push: keys for ICCID %s: %w", iccid, err)
		}
	}
	r.MSISDN = cfg.MSISDN
	cntr := NextCounter(card.Keys.KIc + "|" + card.Keys.KID)
	sealed, err := Seal(ctx, ks, card, cfg.SPI, cfg.TAR, cntr, r)
	if err != nil {
		return Result{}, err
	}
	tpdus, err := downloadTPDUs(sealed, cfg.Source)
	if err != nil {
		return Result{}, err
	}

	answers := make(chan []byte, 1)
	asm := &Pusher{parts: newAnswerParts()}
	h := handset.New(handset.Config{
		Card: cfg.Card, Person: cfg.Person, PIN: cfg.PIN, PromptTimeout: cfg.PromptTimeout,
		Trace: cfg.Trace, Event: cfg.Event,
		SendSMS: func(ctx context.Context, s *tpdu.Submit) error {
			if s.PID != tpdu.PIDSIMDataDownload || !s.UD.HasHeader {
				return nil // not a response packet: a real network would carry it elsewhere
			}
			u, err := ota.UDHOf(s.UD.Header)
			if err != nil {
				return err
			}
			if pkt := asm.join(s.DA.Number, u, s.UD.Data); pkt != nil {
				select {
				case answers <- pkt:
				default:
				}
			}
			return nil
		},
	})
	if _, err := h.PowerOn(ctx); err != nil {
		return Result{}, fmt.Errorf("push: power on: %w", err)
	}
	res := Result{MSISDN: cfg.MSISDN, TransactionID: fmt.Sprintf("%x", sealed.Challenge.TransactionID)}
	report, err := h.DeliverSMS(ctx, tpdus)
	var de *handset.DeliveryError
	if errors.As(err, &de) {
		res.Outcome, res.Detail = SIMError, fmt.Sprintf("the card refused the SMS-PP download: %s (TP-FCS %02X)", de.Reason, de.FCS)
		res.LatencyMS = ms(time.Since(start))
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("push: SMS-PP download: %w", err)
	}
	// A PoR sent in the SMS-DELIVER-REPORT (SPI2 b6 = 0) comes back as the
	// ENVELOPE's response data.
	if len(report) > 0 {
		if resp, err := openReport(ctx, ks, sealed, report); err == nil {
			return sealed.finish(res, resp, start), nil
		} else if pe := (*PoRError)(nil); errors.As(err, &pe) && pe.Status != ota.StatusResponseInSubmit && pe.Status != ota.StatusMoreTime {
			res.Outcome, res.Detail = SIMError, err.Error()
			res.LatencyMS = ms(time.Since(start))
			return res, nil
		}
	}
	ended := make(chan error, 1)
	go func() { ended <- h.Wait() }()
	wctx, cancel := context.WithTimeout(ctx, r.Timeout+10*time.Second)
	defer cancel()
	for {
		select {
		case pkt := <-answers:
			resp, err := sealed.Open(ctx, ks, pkt)
			if err != nil {
				res.Outcome, res.Detail = SIMError, err.Error()
				res.LatencyMS = ms(time.Since(start))
			} else {
				res = sealed.finish(res, resp, start)
			}
			// Let the session end (TERMINAL RESPONSE to SEND SHORT
			// MESSAGE) so the card is idle when we return.
			if ended != nil {
				select {
				case <-ended:
				case <-time.After(5 * time.Second):
				}
			}
			return res, nil
		case err := <-ended:
			ended = nil
			// The answer may have been queued just before the session
			// ended: look once more before giving up.
			select {
			case pkt := <-answers:
				answers <- pkt
				continue
			default:
			}
			res.Outcome, res.Detail = SIMError, ErrNoAnswer.Error()
			if err != nil {
				res.Detail += ": " + err.Error()
			}
			res.LatencyMS = ms(time.Since(start))
			return res, nil
		case <-wctx.Done():
			res.LatencyMS = ms(time.Since(start))
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Outcome, res.Detail = TimedOut, fmt.Sprintf("no answer within %v", r.Timeout+10*time.Second)
			return res, nil
		}
	}
}

// lastCounters keeps the replay counters this process issues for one card
// keyset (Pushers and ChallengeCard alike) strictly increasing: TimeCounter
// alone repeats within the same tick (about a millisecond), and a card refuses a
// counter it has seen (TS 102 225 §5.1.1, counter must be higher). Counters
// are per keyset so that a load test does not push every card's counter far
// ahead of the clock, which later processes start from. A keyset's entry
// matters only while its last counter is not behind the clock: every
// counterSweepEvery counters, entries the clock has passed are dropped
// (sweepCounters), so the map holds the keysets used in about the last
// tick or pushed ahead of the clock, not every card ever challenged.
var lastCounters sync.Map // keyset key → *atomic.Uint64

// counterCalls counts NextCounter calls, to sweep lastCounters now and then.
var counterCalls atomic.Uint64

const (
	counterSweepEvery = 4096
	// counterDead marks an entry being dropped: NextCounter replaces it.
	counterDead = ^uint64(0)
)

// NextCounter returns the next replay counter of this process for the card
// keyset named by key (e.g. its KIc reference).
func NextCounter(key string) ota.Counter {
	if counterCalls.Add(1)%counterSweepEvery == 0 {
		sweepCounters(counterNow())
	}
	for {
		v, ok := lastCounters.Load(key)
		if !ok {
			v, _ = lastCounters.LoadOrStore(key, new(atomic.Uint64))
		}
		last := v.(*atomic.Uint64)
		for {
			l := last.Load()
			if l == counterDead {
				lastCounters.CompareAndDelete(key, v)
				break // start again from a fresh entry
			}
			c, now := TimeCounter(l)
			if last.CompareAndSwap(l, now) {
				return c
			}
		}
	}
}

// sweepCounters drops the entries of lastCounters whose last counter is
// below now (ticks): a fresh entry starts from the clock, which is past
// them already. It returns how many it dropped.
func sweepCounters(now uint64) int {
	n := 0
	lastCounters.Range(func(k, v any) bool {
		last := v.(*atomic.Uint64)
		// The CAS fails when NextCounter moved the entry on meanwhile;
		// once it succeeds, NextCounter no longer uses the entry.
		if l := last.Load(); l < now && last.CompareAndSwap(l, counterDead) {
			lastCounters.CompareAndDelete(k, v)
			n++
		}
		return true
	})
	return n
}

func (s *Sealed) finish(res Result, resp authn.Response, start time.Time) Result {
	out := s.Result(resp, time.Since(start))
	out.MSISDN = res.MSISDN
	return out
}

// openReport opens a PoR carried in the ENVELOPE response: the response
// packet, with or without its UDH 02 71 00 in front.
func openReport(ctx context.Context, ks hsm.Keystore, s *Sealed, report []byte) (authn.Response, error) {
	if !bytes.HasPrefix(report, []byte{0x02, 0x71, 0x00}) {
		report = append([]byte{0x02, 0x71, 0x00}, report...)
	}
	return s.Open(ctx, ks, report)
}

// downloadTPDUs turns the sealed challenge's SMS user data into the
// SMS-DELIVER TPDUs of a class-2 SIM data download (TS 23.040 §9.2.2.1,
// PID 7F, DCS F6), one per part, from source.
func downloadTPDUs(s *Sealed, source string) ([][]byte, error) {
	now := time.Now()
	var out [][]byte
	for i, ud := range s.Parts {
		_, n, err := tpdu.ParseHeader(ud)
		if err != nil {
			return nil, fmt.Errorf("push: part %d: %w", i+1, err)
		}
		m := &smsc.Message{
			Source:   smsc.Address{TON: 1, NPI: 1, Addr: source},
			Dest:     smsc.Address{TON: 1, NPI: 1, Addr: s.MSISDN},
			ESMClass: 0x40, PID: tpdu.PIDSIMDataDownload, DCS: 0xF6,
			UDH: ud[:n], Body: ud[n:], SIMDownload: true,
		}
		t, err := smsc.DeliverTPDU(m, now)
		if err != nil {
			return nil, fmt.Errorf("push: part %d: %w", i+1, err)
		}
		out = append(out, t...)
	}
	return out, nil
}

// ReadICCID reads the card's ICCID from EF_ICCID (2FE2 under the MF, ETSI
// TS 102 221 §13.2: 10 bytes of swapped BCD, F-padded). It speaks UICC
// (CLA 00) and falls back to GSM 11.11 (CLA A0) when the card refuses the
// class, and completes T=0 exchanges with apdu.Exchange.
func ReadICCID(ctx context.Context, card applet.Card) (string, error) {
	for _, cla := range []byte{0x00, 0xA0} {
		p2 := byte(0x04) // UICC: return the FCP
		if cla == 0xA0 {
			p2 = 0x00
		}
		r, err := apdu.Exchange(ctx, card, []byte{cla, 0xA4, 0x00, p2, 0x02, 0x2F, 0xE2})
		if err != nil {
			return "", fmt.Errorf("push: SELECT EF_ICCID: %w", err)
		}
		if r.SW == apdu.SWCLANotSupported || r.SW == apdu.SWINSNotSupported {
			continue // class or instruction not supported: try the other
		}
		if r.SW != apdu.SWOK && r.SW.SW1() != 0x91 {
			return "", fmt.Errorf("push: SELECT EF_ICCID: status %s", r.SW)
		}
		if r, err = apdu.Exchange(ctx, card, []byte{cla, 0xB0, 0x00, 0x00, 0x0A}); err != nil {
			return "", fmt.Errorf("push: READ BINARY EF_ICCID: %w", err)
		}
		if r.SW != apdu.SWOK && r.SW.SW1() != 0x91 {
			return "", fmt.Errorf("push: READ BINARY EF_ICCID: status %s", r.SW)
		}
		data := r.Data
		if len(data) > 10 {
			data = data[:10]
		}
		iccid := uicc.DecodeICCID(data)
		if len(iccid) < 18 {
			return "", fmt.Errorf("push: EF_ICCID holds %X, expected 18 to 20 BCD digits", data)
		}
		return iccid, nil
	}
	return "", errors.New("push: the card supports neither UICC (CLA 00) nor GSM (CLA A0) SELECT")
}
