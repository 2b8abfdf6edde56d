package load

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

// Numbers is the list of destinations a load cycles through, round-robin:
// challenge i goes to At(i). It is a range of consecutive numbers or a list.
type Numbers struct {
	lo, n uint64 // range form: first number and count
	width int    // digits of the range form (leading zeros kept)
	list  []string
	// part of parts: a shard's part (Numbers.Shard), the positions
	// part, part+parts, … of the whole; parts <= 1 is the whole.
	part, parts int
}

// ErrNumbers is wrapped by errors parsing a range or a list of numbers.
var ErrNumbers = errors.New("load: bad numbers")

// ParseRange parses "FIRST-LAST" (both ends included; a leading "+" on
// either is ignored) or a single number. Both ends must have the same
// number of digits, so "9990001000-9990001999" is 1,000 numbers.
func ParseRange(s string) (Numbers, error) {
	first, last, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		last = first
	}
	a, err := fleet.Normalize(strings.TrimSpace(first))
	if err != nil {
		return Numbers{}, fmt.Errorf("%w: range %q: first number: %v", ErrNumbers, s, err)
	}
	b, err := fleet.Normalize(strings.TrimSpace(last))
	if err != nil {
		return Numbers{}, fmt.Errorf("%w: range %q: last number: %v", ErrNumbers, s, err)
	}
	if len(a) != len(b) {
		return Numbers{}, fmt.Errorf("%w: range %q: ends have %d and %d digits", ErrNumbers, s, len(a), len(b))
	}
	if len(a) > 18 {
		return Numbers{}, fmt.Errorf("%w: range %q: more than 18 digits", ErrNumbers, s)
	}
	lo, _ := strconv.ParseUint(a, 10, 64)
	hi, _ := strconv.ParseUint(b, 10, 64)
	if hi < lo {
		return Numbers{}, fmt.Errorf("%w: range %q: last number below the first", ErrNumbers, s)
	}
	return Numbers{lo: lo, n: hi - lo + 1, width: len(a)}, nil
}

// ReadNumbers reads one MSISDN per line; blank lines and lines starting
// with "#" are skipped.
func ReadNumbers(r io.Reader) (Numbers, error) {
	var list []string
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		n, err := fleet.Normalize(s)
		if err != nil {
			return Numbers{}, fmt.Errorf("%w: line %d: %v", ErrNumbers, line, err)
		}
		list = append(list, n)
	}
	if err := sc.Err(); err != nil {
		return Numbers{}, fmt.Errorf("%w: line %d: %v", ErrNumbers, line+1, err)
	}
	if len(list) == 0 {
		return Numbers{}, fmt.Errorf("%w: no numbers in the list", ErrNumbers)
	}
	return Numbers{list: list}, nil
}

// total is how many numbers the whole range or list holds.
func (ns Numbers) total() int {
	if ns.list != nil {
		return len(ns.list)
	}
	return int(ns.n)
}

// Len is how many distinct numbers there are (in a shard's part, that
// part's).
func (ns Numbers) Len() int {
	n := ns.total()
	if ns.parts > 1 {
		return (n - ns.part + ns.parts - 1) / ns.parts
	}
	return n
}

// At returns the number challenge i goes to: the numbers in order,
// starting again after the last. In a shard's part (Numbers.Shard), i is
// the index of the arrival in the whole schedule, one of the shard's.
func (ns Numbers) At(i int) string {
	n := ns.Len()
	if n == 0 {
		return ""
	}
	if ns.parts > 1 {
		i /= ns.parts
	}
	return ns.Distinct(i % n)
}

// Distinct returns the j-th of the Len distinct numbers (0 <= j < Len).
func (ns Numbers) Distinct(j int) string {
	if ns.parts > 1 {
		j = ns.part + ns.parts*j
	}
	if ns.list != nil {
		return ns.list[j]
	}
	v := ns.lo + uint64(j)
	s := strconv.FormatUint(v, 10)
	if len(s) < ns.width {
		s = strings.Repeat("0", ns.width-len(s)) + s
	}
	return s
}

// Challenges is the Target of a push-challenge load: challenge i is a
// Mobile Connect SIM challenge (docs/applet-protocol.md) pushed to
// Numbers.At(i) through one shared push.Pusher, which seals it, submits it,
// and verifies the signed answer as `simlab push` does.
//
// Completed challenges are counted by outcome (approved, cancelled,
// wrong_pin, not_delivered, sim_error, …). A challenge whose answer never
// came within the run's timeout is timed out; one that could not be sent,
// or whose answer did not verify, failed.
type Challenges struct {
	// Pusher sends and verifies; one is shared by every challenge.
	Pusher *push.Pusher
	// Numbers are the destinations, used round-robin.
	Numbers Numbers
	// LoA is the level asked for: 2, 3, or 3 falling back to 2.
	LoA authn.LoA
	// ClientName and BindingMessage are the texts the phone shows
	// (default "simlab load" and none).
	ClientName     string
	BindingMessage string
	// PromptTimeout is the prompt timeout sent to the card (NewTarget's
	// default 30 s; zero here leaves push's default, 60 s).
	PromptTimeout time.Duration

	// NoVerify accepts answers without checking their ECDSA signature
	// (the answer is still opened: CC, deciphering, transaction id). The
	// signature check was 40–45 % of the generator's CPU per challenge
	// (docs/load.md); skip it only to measure the system under test beyond
	// what one generator can verify.
	NoVerify bool
	// VerifyEvery checks the signature of one answer in VerifyEvery (of
	// challenges 0, N, 2N, …); 0 or 1 checks every one. The others are
	// opened and matched like NoVerify's. A sender that verifies every
	// answer spends 96–97 µs of CPU on each (applet/authn BenchmarkVerify),
	// about what simlab spends on the whole challenge, so on one machine it
	// measures itself; sampling still catches a card that signs wrongly.
	VerifyEvery int

	keys hsm.Keystore     // the Pusher's key store, set by NewTarget, for Warm
	plan *fleet.Directory // the Pusher's plan (nil: the embedded one), for Warm
}

// ErrUnverified marks an answer whose signature did not verify.
var ErrUnverified = errors.New("load: answer signature did not verify")

// Do implements Target.
func (c *Challenges) Do(ctx context.Context, i int) Result {
	name := c.ClientName
	if name == "" {
		name = "simlab load"
	}
	verify := !c.NoVerify && (c.VerifyEvery <= 1 || i%c.VerifyEvery == 0)
	res, err := c.Pusher.Push(ctx, push.Request{
		MSISDN: c.Numbers.At(i), LoA: c.LoA, ClientName: name,
		BindingMessage: c.BindingMessage, Timeout: c.PromptTimeout, NoVerify: !verify,
	})
	out := challengeResult(res, err, ctx.Err(), verify)
	// An answer counts as verified when its signature was checked and held
	// (network outcomes such as not_delivered carry none).
	out.Verified = out.Err == nil && res.SignatureValid
	return out
}

// challengeResult maps what push said to the engine's accounting; verify
// says whether an answer must carry a valid signature.
func challengeResult(res push.Result, err, ctxErr error, verify bool) Result {
	out := Result{Submit: msDuration(res.SubmitLatencyMS)}
	switch {
	case err != nil:
		out.Err = err
	case res.Outcome == push.TimedOut && strings.HasPrefix(res.Detail, "no answer"):
		// push gave up waiting: no answer and no receipt came.
		out.Err = fmt.Errorf("load: %s: %w", res.Detail, context.DeadlineExceeded)
	case res.Outcome == push.NotDelivered || res.Outcome == push.SIMError:
		out.Outcome = res.Outcome // the network's or the SIM's answer
	case verify && !res.SignatureValid:
		out.Err = fmt.Errorf("%w (outcome %s)", ErrUnverified, res.Outcome)
	default:
		out.Outcome = res.Outcome
	}
	if out.Err == nil && out.Outcome == "" && ctxErr != nil {
		out.Err = ctxErr
	}
	return out
}

func msDuration(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// Texts is the Target of a plain SMS load: challenge i is a text message
// to Numbers.At(i) submitted with a final delivery receipt requested
// (registered_delivery 1). It completes when the receipt comes; its outcome
// is the receipt's state ("delivered" for DELIVRD, otherwise the state word
// in lower case: "undeliv", "expired", "rejectd", …), and its receipt
// latency is submit → receipt.
//
// With OTP set, each message carries a fresh 6-digit code; with CaptureURL
// also set the code is read back from simlab's capture API
// (GET /api/v1/otp, docs/capture-api.md) after a delivered receipt, and
// a code that differs fails the challenge.
type Texts struct {
	// Clients are the binds, used round-robin; each must have Receipts'
	// OnDeliver installed (the dispatcher push.Pusher uses too), since a
	// receipt may come on any bind of the account.
	Clients  []*client.Client
	Receipts *push.Receipts
	Numbers  Numbers
	// Source is the sender address (default "99955501"; letters make it
	// alphanumeric, TON 5).
	Source string
	// Text is the message body (default "simlab load test message");
	// with OTP, "Your simlab code is NNNNNN".
	Text string
	OTP  bool
	// CaptureURL is the base URL of simlab's HTTP API (http://host:port),
	// to read OTPs back; HTTP is the client for it (http.DefaultClient
	// when nil).
	CaptureURL string
	HTTP       *http.Client
	// CaptureToken is sent as the API's bearer token when not empty.
	CaptureToken string

	mu   sync.Mutex
	next int
}

// ErrOTPMismatch marks an OTP read back that differs from the one sent.
var ErrOTPMismatch = errors.New("load: OTP read back differs from the one sent")

func (t *Texts) client() *client.Client {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.Clients[t.next%len(t.Clients)]
	t.next++
	return c
}

// Do implements Target.
func (t *Texts) Do(ctx context.Context, i int) Result {
	dest := t.Numbers.At(i)
	text := t.Text
	code := ""
	if t.OTP {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Result{Err: err}
		}
		code = fmt.Sprintf("%06d", binary.BigEndian.Uint32(b[:])%1_000_000)
		text = "Your simlab code is " + code
	} else if text == "" {
		text = "simlab load test message"
	}
	src := t.Source
	if src == "" {
		src = "99955501"
	}
	srcAddr := client.Address{TON: 5, NPI: 0, Addr: src} // alphanumeric (§5.2.5)
	if _, err := strconv.ParseUint(src, 10, 64); err == nil {
		srcAddr = client.Address{TON: 1, NPI: 1, Addr: src}
	}
	parts, err := client.SplitText(text, byte(i))
	if err != nil {
		return Result{Err: err}
	}
	if len(parts) != 1 {
		return Result{Err: fmt.Errorf("load: text of %d parts: keep load messages to one SMS", len(parts))}
	}
	t0 := time.Now()
	id, err := t.client().Submit(ctx, &client.Message{
		Source: srcAddr, Dest: client.Address{TON: 1, NPI: 1, Addr: dest},
		ESMClass: parts[0].ESMClass, DataCoding: parts[0].DataCoding, ShortMessage: parts[0].ShortMessage,
		RegisteredDelivery: 1,
	})
	submitted := time.Now()
	res := Result{Submit: submitted.Sub(t0)}
	if err != nil {
		var se *client.StatusError
		if errors.As(err, &se) {
			res.Err = fmt.Errorf("load: submit_sm refused: %w", err)
		} else {
			res.Err = err
		}
		return res
	}
	rc, at, err := t.Receipts.Await(ctx, id)
	if err != nil {
		res.Err = err
		return res
	}
	res.Receipt = at.Sub(t0)
	if !rc.Delivered() {
		res.Outcome = strings.ToLower(rc.Stat)
		if res.Outcome == "" {
			res.Outcome = "unknown"
		}
		return res
	}
	res.Outcome = "delivered"
	if t.OTP && t.CaptureURL != "" {
		got, err := t.readOTP(ctx, dest, code, t0)
		if err != nil {
			res.Err = err
			res.Outcome = ""
			return res
		}
		if got != code {
			res.Err = ErrOTPMismatch
			res.Outcome = ""
		}
	}
	return res
}

// readOTP asks the capture API (through apiclient) for the code in the
// newest message to dest whose text holds code, submitted since the
// submit (a minute's leeway for clocks apart): GET
// /api/v1/otp?to=…&text=…&since=…&wait=…, waiting about 10 s. The API
// must have captured the message and extract the same code from it.
func (t *Texts) readOTP(ctx context.Context, dest, code string, submitted time.Time) (string, error) {
	c, err := apiclient.New(t.CaptureURL)
	if err != nil {
		return "", fmt.Errorf("load: capture API: %w", err)
	}
	c.Token, c.HTTPClient = t.CaptureToken, t.HTTP
	ctx, cancel := context.WithTimeout(ctx, otpWait)
	defer cancel()
	got, err := c.WaitOTP(ctx, apiclient.OTPRequest{Filter: apiclient.Filter{To: dest, Text: code, Since: submitted.Add(-time.Minute)}})
	if err != nil {
		return "", fmt.Errorf("load: capture API: %w", err)
	}
	return got.OTP, nil
}

// otpWait bounds one read of a code back (the server waits a little less,
// to answer 408 in time).
const otpWait = 13 * time.Second

// Unit is what a Texts run sends, for the report: "OTPs" or "messages".
func (t *Texts) Unit() string {
	if t.OTP {
		return "OTPs"
	}
	return "messages"
}

// Unit is what a Challenges run sends, for the report.
func (c *Challenges) Unit() string { return "challenges" }
