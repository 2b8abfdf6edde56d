// Package push is simlab's system under test in a box: it does what an
// operator's push server does for a Mobile Connect SIM authenticator. It
// builds a challenge (docs/applet-protocol.md), seals it in a TS 102 225
// command packet with the card's OTA keys from the key store, submits it
// over SMPP as a class-2 SIM data download, waits for the phone's answer
// (the response packet the applet sends back by SEND SHORT MESSAGE) and for
// the delivery receipt, opens and verifies the answer, and reports the
// outcome. `simlab push` and `simlab load` use it, against simlab's own
// SMSC or a real one.
package push

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Outcome names as `simlab push --json` prints them: the applet's outcomes
// (authn.Outcome) plus what the network says.
const (
	NotDelivered = "not_delivered" // the receipt says UNDELIV/EXPIRED/REJECTD
	SIMError     = "sim_error"
	TimedOut     = "timeout"
)

// Card says which keys and key to verify with for a number.
type Card struct {
	// Keys are the OTA key references in the key store and their keyset
	// number (key index in KIc/KID).
	Keys   ota.Keys
	KIc    ota.KIc
	KID    ota.KID
	Public *ecdsa.PublicKey // the card's signing key; nil skips verification
}

// DefaultCardCache is how many cards' keys a Pusher's default key store
// keeps (Config.Keystore nil).
const DefaultCardCache = fleet.DefaultKeyCache

// Config configures a Pusher.
type Config struct {
	// SMPP is the SMSC to bind to, as transceiver: the answers and
	// receipts come back on the bind that submitted (docs/smsc.md,
	// "Routing"), so the account needs no mo_ranges nor default_mo.
	SMPP client.Config
	// Binds is how many SMPP sessions to open (default 1); load tests use
	// several. Each challenge goes out on one of them; its answer may come
	// on any (all feed the same waiters).
	Binds int
	// Keystore holds the cards' keys; nil means the fleet's key store
	// (fleet.NewKeyStore): simlab's demo masters, and the default fleet's
	// card keys derived on first use, DefaultCardCache cards kept.
	Keystore hsm.Keystore
	// CardFor returns the keys of the card behind a number; nil derives
	// the fleet's keys (fixtures/keys) from the number's ICCID in Fleet
	// into Keystore (PlanCard).
	CardFor func(ctx context.Context, msisdn string) (Card, error)
	// Fleet is the plan of the fleet the SMSC serves, for the cards'
	// ICCIDs: from a fleet file (fleet.Plan.Directory) or read from the
	// server (FetchFleet, OpenFleet). Nil means the embedded default plan.
	Fleet *fleet.Directory
	// Source is the address challenges come from and answers go to
	// (default "99955500", international).
	Source string
	// SPI of the command packets (default 16 39: CC, ciphered, counter must
	// be higher; PoR required with CC, ciphered, by SMS-SUBMIT).
	SPI *ota.SPI
	// TAR of the applet (default authn.DefaultTAR).
	TAR ota.TAR
	// TDES selects the 3DES keyset (key index 2) instead of AES (1).
	TDES bool
}

// Pusher sends challenges and collects their answers.
type Pusher struct {
	cfg     Config
	ks      hsm.Keystore
	clients []*client.Client
	next    int

	// receipts takes the delivery receipts of every bind, so a challenge
	// sees its receipt whichever bind the SMSC hands it to.
	receipts *Receipts

	// watch sees a bind's connection lost (binds without reconnection).
	watch *ConnWatch

	mu      sync.Mutex
	waiting map[string][]*waiter      // by phone number
	parts   *tpdu.Reassembler[[]byte] // concatenated answers (newAnswerParts)
}

// Request is one challenge to push.
type Request struct {
	MSISDN         string
	LoA            authn.LoA
	ClientName     string
	BindingMessage string
	Context        string
	// Timeout is the prompt timeout sent to the card and, with a margin,
	// how long to wait for the answer (default 60 s).
	Timeout time.Duration
	WantUPK bool
	// NoVerify accepts the answer without checking its ECDSA signature
	// (SignatureValid stays false); it is still opened, its CC checked and
	// its transaction id matched. Load generators use it to sample.
	NoVerify bool
}

// ErrRequest reports a request that cannot be pushed as given: a malformed
// number, texts over the protocol's limits. Nothing was sent.
var ErrRequest = errors.New("push: invalid request")

// Check reports, without sending anything, what Push would refuse in r: a
// number that is not one, a LoA, client_name, binding_message or context
// beyond docs/applet-protocol.md's limits (client_name 1..40 bytes, the
// other two 93 bytes together). The errors wrap ErrRequest.
func (r Request) Check() error {
	if _, err := fleet.Normalize(r.MSISDN); err != nil {
		return fmt.Errorf("%w: %w", ErrRequest, err)
	}
	return CheckTexts(r.LoA, r.ClientName, r.BindingMessage, r.Context)
}

// CheckTexts is Request.Check without the number: the LoA and the texts of
// a challenge (an empty client_name stands for the default "simlab").
func CheckTexts(loa authn.LoA, clientName, bindingMessage, context string) error {
	if clientName == "" {
		clientName = "simlab"
	}
	ch := authn.Challenge{TransactionID: make([]byte, 8), LoA: loa, ClientName: clientName,
		BindingMessage: bindingMessage, Context: context, Nonce: make([]byte, 16)}
	if err := ch.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrRequest, err)
	}
	return nil
}

// Result is what became of a challenge, as `simlab push --json` prints it.
type Result struct {
	MSISDN         string  `json:"msisdn"`
	Outcome        string  `json:"outcome"`
	ACR            *string `json:"acr"`
	TransactionID  string  `json:"transaction_id"`
	SignatureValid bool    `json:"signature_valid"`
	LatencyMS      float64 `json:"latency_ms"`
	// MessageID is the SMSC's id for the challenge SMS (first part).
	MessageID string `json:"message_id,omitempty"`
	// TriesLeft is the PIN tries left when the card said.
	TriesLeft *int `json:"pin_tries_left,omitempty"`
	// Receipt is the delivery receipt's stat and err, when one came.
	Receipt string `json:"receipt,omitempty"`
	// UPK is the card's public key when asked, hex.
	UPK string `json:"upk,omitempty"`
	// Detail explains outcomes that are not the applet's.
	Detail string `json:"detail,omitempty"`
	// SubmitLatencyMS is submit_sm → submit_sm_resp.
	SubmitLatencyMS float64 `json:"submit_latency_ms,omitempty"`
	// Answer is the card's signed answer when one was opened (answer.go).
	Answer *Answer `json:"-"`
}

// Errors.
var (
	ErrClosed = errors.New("push: closed")
)

// New binds to the SMSC and returns a Pusher.
func New(ctx context.Context, cfg Config) (*Pusher, error) {
	p := &Pusher{cfg: cfg, ks: cfg.Keystore, receipts: NewReceipts(), watch: NewConnWatch(), waiting: map[string][]*waiter{}, parts: newAnswerParts()}
	if p.cfg.Source == "" {
		p.cfg.Source = "99955500"
	}
	if p.cfg.TAR == (ota.TAR{}) {
		p.cfg.TAR = ota.TAR(authn.DefaultTAR)
	}
	if p.cfg.SPI == nil {
		spi := ota.ParseSPI(0x16, 0x39)
		p.cfg.SPI = &spi
	}
	if p.ks == nil {
		// The fleet's own key store: the demo masters, and the derived
		// keys of the most recently used DefaultCardCache cards.
		ks, err := fleet.NewKeyStore(ctx, DefaultCardCache)
		if err != nil {
			return nil, err
		}
		p.ks = ks
	}
	if p.cfg.CardFor == nil {
		p.cfg.CardFor = func(ctx context.Context, msisdn string) (Card, error) {
			return PlanCard(ctx, p.ks, p.cfg.Fleet, msisdn, p.cfg.TDES)
		}
	}
	n := max(cfg.Binds, 1)
	for i := 0; i < n; i++ {
		cc := cfg.SMPP
		cc.Mode = client.Transceiver
		cc.OnDeliver = p.onDeliver
		if cc.NoReconnect {
			cc.OnState = p.watch.Hook(cc.OnState)
		}
		if cc.KeepReceipts == 0 {
			cc.KeepReceipts = -1 // p.receipts keeps them, for every bind
		}
		cl, err := client.Dial(ctx, cc)
		if err != nil {
			p.Close(context.Background())
			return nil, &OpError{Op: fmt.Sprintf("bind %d", i+1), Err: BindError(err, cc.SystemID)}
		}
		p.clients = append(p.clients, cl)
	}
	return p, nil
}

// Lost is closed when one of the Pusher's binds loses its connection (the
// SMSC closed it, or the network broke) and the Pusher does not reconnect
// (client.Config.NoReconnect): pushes waiting then fail with
// ErrSMSCClosed, and LostErr says why.
func (p *Pusher) Lost() <-chan struct{} { return p.watch.Lost() }

// LostErr is ErrSMSCClosed with its cause once Lost is closed, else nil.
func (p *Pusher) LostErr() error { return p.watch.Err() }

// Close unbinds.
func (p *Pusher) Close(ctx context.Context) error {
	var errs []error
	for _, c := range p.clients {
		errs = append(errs, c.Close(ctx))
	}
	return errors.Join(errs...)
}

// FleetCard returns the keys of the default fleet's card behind msisdn,
// derived in ks from simlab's demo masters (fixtures/keys): the AES keyset
// (key index 1), or the 3DES one (index 2) with tdes. The derived keys stay
// in ks: use the fleet's key store (fleet.NewKeyStore, a Pusher's default)
// to keep a bounded number of cards.
func FleetCard(ctx context.Context, ks hsm.Keystore, msisdn string, tdes bool) (Card, error) {
	return PlanCard(ctx, ks, nil, msisdn, tdes)
}

// PlanCard is FleetCard for the fleet whose plan d describes (nil: the
// embedded default plan): the card's ICCID comes from d.
func PlanCard(ctx context.Context, ks hsm.Keystore, d *fleet.Directory, msisdn string, tdes bool) (Card, error) {
	var iccid string
	var err error
	if d == nil {
		iccid, _, err = fleet.Identity(nil, msisdn)
	} else {
		iccid, _, err = d.Identity(msisdn)
	}
	if err != nil {
		return Card{}, err
	}
	return CardByICCID(ctx, ks, iccid, tdes)
}

// Card returns the keys of the card behind msisdn as the Pusher seals for
// it (Config.CardFor), deriving them first if needed: a load warms its
// cards with it before the clock starts.
func (p *Pusher) Card(ctx context.Context, msisdn string) (Card, error) {
	n, err := fleet.Normalize(msisdn)
	if err != nil {
		return Card{}, err
	}
	return p.cfg.CardFor(ctx, n)
}

// CardByICCID returns the default fleet's keys for the card iccid.
func CardByICCID(ctx context.Context, ks hsm.Keystore, iccid string, tdes bool) (Card, error) {
	if err := keys.LoadMasters(ctx, ks); err != nil {
		return Card{}, err
	}
	// Only the keys this sender uses: the keyset it seals with and the
	// signing key, whose public half verifies the answers.
	names := []string{"aes-kic", "aes-kid", "sign"}
	if tdes {
		names = []string{"3des-kic", "3des-kid", "sign"}
	}
	for _, name := range names {
		if err := keys.CardKey(ctx, ks, iccid, name); err != nil {
			return Card{}, err
		}
	}
	ck := keys.Refs(iccid)
	s, err := ks.Signer(ctx, ck.Sign)
	if err != nil {
		return Card{}, err
	}
	c := Card{Keys: ota.Keys{KIc: ck.AESKIc, KID: ck.AESKID}}
	c.Public, _ = s.Public().(*ecdsa.PublicKey)
	alg, idx := ota.AlgAES, 1
	if tdes {
		c.Keys = ota.Keys{KIc: ck.TDESKIc, KID: ck.TDESKID}
		alg, idx = ota.AlgTDES2, 2
	}
	if c.KIc, err = ota.NewKIc(idx, alg); err != nil {
		return Card{}, err
	}
	if c.KID, err = ota.NewKID(idx, alg); err != nil {
		return Card{}, err
	}
	return c, nil
}

// waiter is a challenge waiting for its answer.
type waiter struct {
	sealed *Sealed
	done   chan answer
}

type answer struct {
	resp authn.Response
	err  error
}

// AwaitReceipt waits for the delivery receipt of a message the Pusher sent
// (SendText's ids), whichever of its binds the receipt arrives on.
func (p *Pusher) AwaitReceipt(ctx context.Context, id string) (*client.Receipt, error) {
	rc, _, err := p.receipts.Await(ctx, id)
	return rc, err
}

func (p *Pusher) client() *client.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.clients[p.next%len(p.clients)]
	p.next++
	return c
}

// Sealed is a challenge sealed for one card, ready to send as SMS.
type Sealed struct {
	MSISDN    string
	Challenge authn.Challenge
	// Raw is the challenge template (what the card signs over).
	Raw    []byte
	Card   Card
	Header ota.CommandHeader
	// Packet is the command packet from CPL; Parts the TP-User-Data of
	// the SMS that carry it (UDH included).
	Packet []byte
	Parts  [][]byte
}

// Seal builds the challenge for r and seals it for card with counter cntr
// (see TimeCounter). spi and tar say how (push.Config's defaults when
// zero).
func Seal(ctx context.Context, ks hsm.Keystore, card Card, spi *ota.SPI, tar ota.TAR, cntr ota.Counter, r Request) (*Sealed, error) {
	if spi == nil {
		d := ota.ParseSPI(0x16, 0x39)
		spi = &d
	}
	if tar == (ota.TAR{}) {
		tar = ota.TAR(authn.DefaultTAR)
	}
	if r.Timeout <= 0 {
		r.Timeout = 60 * time.Second
	}
	if r.ClientName == "" {
		r.ClientName = "simlab"
	}
	txid := make([]byte, 8)
	nonce := make([]byte, 16)
	if _, err := rand.Read(txid); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	ch := authn.Challenge{TransactionID: txid, LoA: r.LoA, ClientName: r.ClientName, BindingMessage: r.BindingMessage,
		Context: r.Context, Nonce: nonce, TimeoutSeconds: uint16(min(r.Timeout/time.Second, 65535)), WantUPK: r.WantUPK}
	if err := ch.Validate(); err != nil {
		return nil, err
	}
	raw := authn.AppendChallenge(nil, &ch)
	h := ota.CommandHeader{SPI: *spi, KIc: card.KIc, KID: card.KID, TAR: tar}
	pkt, err := ota.SealCommand(ctx, ks, card.Keys, h, cntr, raw)
	if err != nil {
		return nil, fmt.Errorf("push: seal: %w", err)
	}
	parts, err := ota.SplitSMS(pkt, txid[0])
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	return &Sealed{MSISDN: r.MSISDN, Challenge: ch, Raw: raw, Card: card, Header: h, Packet: pkt, Parts: parts}, nil
}

// Open opens a response packet (from its UDH 02 71 00, parts already
// joined) answering s: it checks the CC, deciphers, parses the response and
// checks the transaction id. It does not verify the signature (Result does).
func (s *Sealed) Open(ctx context.Context, ks hsm.Keystore, pkt []byte) (authn.Response, error) {
	por, err := ota.OpenResponse(ctx, ks, s.Card.Keys, s.Header, pkt)
	if err != nil {
		return authn.Response{}, err
	}
	if por.Status != ota.StatusOK {
		return authn.Response{}, &PoRError{Status: por.Status}
	}
	resp, err := authn.ParseResponse(por.Data)
	if err != nil {
		return authn.Response{}, err
	}
	if !bytes.Equal(resp.TransactionID, s.Challenge.TransactionID) {
		return authn.Response{}, fmt.Errorf("push: response for transaction %x, want %x", resp.TransactionID, s.Challenge.TransactionID)
	}
	resp.UPK = bytes.Clone(resp.UPK)
	resp.Signature = bytes.Clone(resp.Signature)
	resp.TransactionID = bytes.Clone(resp.TransactionID)
	return resp, nil
}

// PoRError is a response packet whose status is not OK (the card refused
// the command packet, e.g. 09 TAR unknown).
type PoRError struct{ Status ota.Status }

func (e *PoRError) Error() string { return fmt.Sprintf("push: response packet status %v", e.Status) }

// Result fills the outcome fields of a Result from an opened response,
// verifying the signature when the card's public key is known.
func (s *Sealed) Result(resp authn.Response, latency time.Duration) Result {
	res := Result{MSISDN: s.MSISDN, TransactionID: fmt.Sprintf("%x", s.Challenge.TransactionID), LatencyMS: ms(latency)}
	return fillResult(res, s, answer{resp: resp})
}

// counterEpoch and counterTick define TimeCounter's clock: ticks of 2^20 ns
// (about 1.05 ms) since 2024-01-01 UTC, which fill the 40-bit CNTR until
// the year 2060. A tick this short keeps separate processes (one simlab
// push after another) apart without shared state.
var counterEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const counterTickShift = 20

// CounterTick is the duration of one TimeCounter step.
const CounterTick = time.Duration(1 << counterTickShift)

// TimeCounter returns a replay counter from the clock (ticks of
// CounterTick since 2024-01-01 UTC), at least last+1.
func TimeCounter(last uint64) (ota.Counter, uint64) {
	now := counterNow()
	if now <= last {
		now = last + 1
	}
	var c ota.Counter
	for i := 0; i < 5; i++ {
		c[4-i] = byte(now >> (8 * i))
	}
	return c, now
}

// counterNow is the clock in TimeCounter's ticks (monotonic within the
// process).
func counterNow() uint64 { return uint64(time.Since(counterEpoch)) >> counterTickShift }

// Push sends one challenge and waits for its outcome. An error means the
// challenge could not be sent or its answer could not be read; outcomes,
// including network failures, are in the Result.
func (p *Pusher) Push(ctx context.Context, r Request) (Result, error) {
	start := time.Now()
	msisdn, err := fleet.Normalize(r.MSISDN)
	if err != nil {
		return Result{}, err
	}
	r.MSISDN = msisdn
	if r.Timeout <= 0 {
		r.Timeout = 60 * time.Second
	}
	card, err := p.cfg.CardFor(ctx, msisdn)
	if err != nil {
		return Result{}, fmt.Errorf("push: keys for %s: %w", msisdn, err)
	}
	if r.NoVerify {
		card.Public = nil // fillResult verifies only with a public key
	}
	sealed, err := Seal(ctx, p.ks, card, p.cfg.SPI, p.cfg.TAR, NextCounter(card.Keys.KIc+"|"+card.Keys.KID), r)
	if err != nil {
		return Result{}, err
	}
	w := &waiter{sealed: sealed, done: make(chan answer, 1)}
	p.mu.Lock()
	p.waiting[msisdn] = append(p.waiting[msisdn], w)
	p.mu.Unlock()
	defer p.forget(msisdn, w)

	res := Result{MSISDN: msisdn, TransactionID: fmt.Sprintf("%x", sealed.Challenge.TransactionID)}
	cl := p.client()
	validity := relativeTime(r.Timeout)
	ids := make([]string, 0, len(sealed.Parts))
	for i, ud := range sealed.Parts {
		t0 := time.Now()
		id, err := cl.Submit(ctx, &client.Message{
			Source:   client.Address{TON: 1, NPI: 1, Addr: p.cfg.Source},
			Dest:     client.Address{TON: 1, NPI: 1, Addr: msisdn},
			ESMClass: 0x40, ProtocolID: 0x7F, DataCoding: 0xF6,
			// Receipts for failures only (SMPP 3.4 §5.2.17): success is the
			// phone's answer itself, so this halves the deliver_sm per challenge.
			RegisteredDelivery: 2, ValidityPeriod: validity, ShortMessage: ud,
		})
		if i == 0 {
			res.SubmitLatencyMS = ms(time.Since(t0))
		}
		if err != nil {
			var se *client.StatusError
			if errors.As(err, &se) {
				res.Outcome, res.Detail = NotDelivered, strings.TrimPrefix(err.Error(), "smpp client: ")
				res.LatencyMS = ms(time.Since(start))
				return res, nil
			}
			return res, p.submitErr(err)
		}
		ids = append(ids, id)
	}
	res.MessageID = ids[0]

	// The answer comes as an MO; a failed delivery only as a receipt, on
	// whichever bind the SMSC picks.
	wait := r.Timeout + 10*time.Second
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	receipts := p.receipts.awaitAll(wctx, ids)
	for {
		select {
		case a := <-w.done:
			res.LatencyMS = ms(time.Since(start))
			return fillResult(res, w.sealed, a), nil
		case rc := <-receipts:
			res.Receipt = rc.Stat + " err:" + rc.Err
			if rc.Delivered() {
				receipts = nil // keep waiting for the answer
				continue
			}
			res.LatencyMS = ms(time.Since(start))
			res.Outcome, res.Detail = NotDelivered, "delivery receipt "+rc.Stat+" err:"+rc.Err
			if code, err := strconv.ParseUint(rc.Err, 10, 16); err == nil && code == fleet.ErrCodeSIMDownload {
				res.Outcome, res.Detail = SIMError, "the SIM rejected the SMS-PP download (receipt err "+rc.Err+")"
			}
			return res, nil
		case <-p.watch.Lost():
			res.LatencyMS = ms(time.Since(start))
			return res, p.watch.Err()
		case <-wctx.Done():
			res.LatencyMS = ms(time.Since(start))
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Outcome, res.Detail = TimedOut, fmt.Sprintf("no answer within %v", wait)
			return res, nil
		}
	}
}

func fillResult(res Result, s *Sealed, a answer) Result {
	if a.err != nil {
		res.Outcome, res.Detail = SIMError, a.err.Error()
		return res
	}
	res.Outcome = a.resp.Outcome.String()
	res.Answer = &Answer{Challenge: s.Raw, Response: a.resp, Public: s.Card.Public}
	if s.Card.Public != nil {
		res.SignatureValid = authn.Verify(s.Card.Public, s.Raw, &a.resp) == nil
	}
	if a.resp.Outcome == authn.Approved {
		acr := a.resp.AchievedLoA.String()
		res.ACR = &acr
	}
	if a.resp.HasTriesLeft {
		n := int(a.resp.TriesLeft)
		res.TriesLeft = &n
	}
	if len(a.resp.UPK) > 0 {
		res.UPK = fmt.Sprintf("%x", a.resp.UPK)
	}
	return res
}

func (p *Pusher) forget(msisdn string, w *waiter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ws := p.waiting[msisdn]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(p.waiting, msisdn)
	} else {
		p.waiting[msisdn] = ws
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// relativeTime formats d as an SMPP relative time ("YYMMDDhhmmss000R",
// SMPP 3.4 §7.1.1.2).
func relativeTime(d time.Duration) string {
	s := int64(d / time.Second)
	days := s / 86400
	s %= 86400
	return fmt.Sprintf("0000%02d%02d%02d%02d000R", min(days, 99), s/3600, s%3600/60, s%60)
}

// answerLimits bound the concatenated answers being joined: a response
// packet takes a few parts; a minute covers their arrival; thousands of
// answers in flight (simlab load) fit, and no more than 1 MiB of parts.
var answerLimits = tpdu.ReassemblyLimits{MaxParts: 16, MaxBytes: 16 * ota.MaxUserData, MaxAge: time.Minute, MaxPending: 4096, MaxPendingBytes: 1 << 20}

// newAnswerParts returns the reassembler of concatenated answers, simlab's
// one (smsc/tpdu).
func newAnswerParts() *tpdu.Reassembler[[]byte] {
	r, err := tpdu.NewReassembler[[]byte](answerLimits)
	if err != nil {
		panic(err) // answerLimits are valid
	}
	return r
}

// onDeliver takes MO messages (answers) and delivery receipts from the
// SMSC, on every bind. It runs on the client's reader goroutine and must
// not block.
func (p *Pusher) onDeliver(d *client.Deliver) uint32 {
	if d.Receipt != nil {
		return p.receipts.OnDeliver(d)
	}
	if d.ProtocolID != 0x7F || d.ESMClass&0x40 == 0 {
		return client.StatusOK
	}
	from, err := fleet.Normalize(d.Source.Addr)
	if err != nil {
		return client.StatusOK
	}
	pkt := p.reassemble(from, d.ShortMessage)
	if pkt == nil {
		return client.StatusOK
	}
	p.mu.Lock()
	ws := append([]*waiter(nil), p.waiting[from]...)
	p.mu.Unlock()
	for _, w := range ws {
		resp, err := w.sealed.Open(context.Background(), p.ks, pkt)
		var pe *PoRError
		if errors.As(err, &pe) {
			select {
			case w.done <- answer{err: err}:
			default:
			}
			return client.StatusOK
		}
		if err != nil {
			continue
		}
		select {
		case w.done <- answer{resp: resp}:
		default:
		}
		return client.StatusOK
	}
	return client.StatusOK
}

// reassemble returns the response packet (from its UDH 02 71 00) once all
// parts of an answer are in, or nil while parts are missing.
func (p *Pusher) reassemble(from string, ud []byte) []byte {
	u, data, err := ota.ParseUDH(ud) // smsc/tpdu's UDH parser
	if err != nil {
		return nil
	}
	return p.join(from, u, data)
}

// join adds one part of an answer, its header u already read, and returns
// the response packet once all parts are in.
func (p *Pusher) join(from string, u ota.UDH, data []byte) []byte {
	if !u.Concatenated || u.Total <= 1 {
		return append([]byte{0x02, 0x71, 0x00}, data...)
	}
	a, err := p.parts.Add(time.Now(), from, tpdu.Concat{Ref: u.Ref, Wide: u.Ref16, Total: u.Total, Seq: u.Seq}, bytes.Clone(data), len(data))
	if err != nil || a.Complete == nil {
		return nil
	}
	out := []byte{0x02, 0x71, 0x00}
	for _, b := range a.Complete.Parts {
		out = append(out, b...)
	}
	return out
}
