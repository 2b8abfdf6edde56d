package load

import (
	"context"
	"errors"
	"fmt"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

// Kinds of load, as `simlab load --loa` names them.
const (
	KindLoA2          = "2"
	KindLoA3          = "3"
	KindLoA3Fallback2 = "3,2"
	KindOTP           = "otp"
	KindText          = "text"
)

// TargetConfig says what load to send and where.
type TargetConfig struct {
	// SMPP is the SMSC to bind to; Mode is forced to transceiver for
	// challenges and receipts.
	SMPP client.Config
	// Binds is the number of SMPP sessions (default 1).
	Binds int
	// Kind is one of KindLoA2, KindLoA3, KindLoA3Fallback2, KindOTP,
	// KindText ("3 2" is accepted for "3,2").
	Kind    string
	Numbers Numbers
	// PromptTimeout is sent to the cards (challenges; default 30 s).
	PromptTimeout time.Duration
	// ClientName and BindingMessage are shown on the phones (challenges).
	ClientName, BindingMessage string
	// Source is the sender of text and OTP messages.
	Source string
	// CaptureURL, with KindOTP, reads every code back from simlab's
	// capture API; CaptureToken is the API's bearer token, when it needs one.
	CaptureURL, CaptureToken string
	// NoVerify skips the ECDSA check of challenge answers (Challenges.NoVerify).
	NoVerify bool
	// VerifyEvery checks one answer's signature in N (Challenges.VerifyEvery).
	VerifyEvery int
	// Fleet is the plan of the fleet the SMSC serves, for the cards' keys
	// (push.Config.Fleet; push.OpenFleet reads one); nil means the
	// embedded default plan.
	Fleet *fleet.Directory
}

// ErrKind is returned for an unknown kind of load.
var ErrKind = errors.New("load: unknown kind of load")

// Dialed is a Target bound to its SMSC; Close unbinds.
type Dialed struct {
	Target
	close func(context.Context) error
	// lost and lostErr are the binds' push.ConnWatch, the Pusher's or
	// the texts' own.
	lost    <-chan struct{}
	lostErr func() error
}

// Lost is closed when a bind without reconnection
// (TargetConfig.SMPP.NoReconnect) loses its connection: the run cannot
// go on, and LostErr says why (push.ErrSMSCClosed).
func (d *Dialed) Lost() <-chan struct{} { return d.lost }

// LostErr is push.ErrSMSCClosed with its cause once Lost is closed, else
// nil.
func (d *Dialed) LostErr() error {
	if d.lostErr == nil {
		return nil
	}
	return d.lostErr()
}

// Unit is what the target sends, for the report: "challenges",
// "messages" or "OTPs".
func (d *Dialed) Unit() string {
	if u, ok := d.Target.(interface{ Unit() string }); ok {
		return u.Unit()
	}
	return "challenges"
}

// Close unbinds every session.
func (d *Dialed) Close(ctx context.Context) error { return d.close(ctx) }

// NewTarget binds to the SMSC and returns the Target for cfg.Kind.
func NewTarget(ctx context.Context, cfg TargetConfig) (*Dialed, error) {
	if cfg.Numbers.Len() == 0 {
		return nil, fmt.Errorf("%w: no destination numbers", ErrConfig)
	}
	binds := max(cfg.Binds, 1)
	kind := strings.ReplaceAll(strings.TrimSpace(cfg.Kind), " ", ",")
	switch kind {
	case KindLoA2, KindLoA3, KindLoA3Fallback2:
		loa, err := authn.ParseLoA(kind)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKind, err)
		}
		pt := cfg.PromptTimeout
		if pt <= 0 {
			pt = 30 * time.Second
		}
		ks, err := fleet.NewKeyStore(ctx, MaxWarm)
		if err != nil {
			return nil, err
		}
		p, err := push.New(ctx, push.Config{SMPP: cfg.SMPP, Binds: binds, Keystore: ks, Fleet: cfg.Fleet})
		if err != nil {
			return nil, ownError(err)
		}
		t := &Challenges{Pusher: p, Numbers: cfg.Numbers, LoA: loa, PromptTimeout: pt,
			ClientName: cfg.ClientName, BindingMessage: cfg.BindingMessage, NoVerify: cfg.NoVerify, VerifyEvery: cfg.VerifyEvery, keys: ks, plan: cfg.Fleet}
		return &Dialed{Target: t, close: p.Close, lost: p.Lost(), lostErr: p.LostErr}, nil
	case KindOTP, KindText:
		rs := push.NewReceipts()
		watch := push.NewConnWatch()
		t := &Texts{Receipts: rs, Numbers: cfg.Numbers, Source: cfg.Source, OTP: kind == KindOTP}
		if t.OTP {
			t.CaptureURL, t.CaptureToken = cfg.CaptureURL, cfg.CaptureToken
		}
		closeAll := func(ctx context.Context) error {
			var errs []error
			for _, c := range t.Clients {
				errs = append(errs, c.Close(ctx))
			}
			return errors.Join(errs...)
		}
		for i := 0; i < binds; i++ {
			cc := cfg.SMPP
			cc.Mode = client.Transceiver
			cc.OnDeliver = rs.OnDeliver
			if cc.NoReconnect {
				cc.OnState = watch.Hook(cc.OnState)
			}
			c, err := client.Dial(ctx, cc)
			if err != nil {
				closeAll(context.Background())
				return nil, fmt.Errorf("load: bind %d: %w", i+1, push.BindError(err, cc.SystemID))
			}
			t.Clients = append(t.Clients, c)
		}
		return &Dialed{Target: t, close: closeAll, lost: watch.Lost(), lostErr: watch.Err}, nil
	}
	return nil, fmt.Errorf("%w %q: want 2, 3, 3,2, otp or text", ErrKind, cfg.Kind)
}

// ownError words a push setup error (push.OpError: "push: bind 1: …")
// as the load run's, "load: bind 1: …", its cause kept: the run's user
// asked for a load, not a push. Other errors are returned as they are.
func ownError(err error) error {
	var oe *push.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("load: %s: %w", oe.Op, oe.Err)
	}
	return err
}

// OpenFleet is push.OpenFleet with its errors worded as the load run's
// ("load: fleet: …").
func OpenFleet(ctx context.Context, ref, token string) (*fleet.Directory, error) {
	d, err := push.OpenFleet(ctx, ref, token)
	return d, ownError(err)
}

// FormatProgress renders a live progress line: elapsed time, send rate,
// challenges in flight, completed, errors (failed + timed out) and the
// end-to-end p50/p99 so far.
func FormatProgress(p Progress) string {
	lat := "-"
	if p.P99 > 0 {
		lat = fmt.Sprintf("%s / %s", fmtMs(ms(int64(p.P50))), fmtMs(ms(int64(p.P99))))
	}
	return fmt.Sprintf("%5.0fs  rate %7.0f/s  in flight %6d  ok %9d  errors %6d  timeouts %6d  p50/p99 %s",
		p.Elapsed.Seconds(), p.Rate, p.InFlight, p.Completed, p.Failed, p.TimedOut, lat)
}

// MaxWarm is how many cards' keys a challenge target made by NewTarget
// keeps (the fleet's key store, fleet.NewKeyStore), and so how many Warm
// derives at most. Beyond it the least recently used card's keys are
// dropped and derived again when next used.
const MaxWarm = 200_000

// Warm derives the keys of the cards behind the first n distinct numbers
// (Numbers.Distinct; of a shard's part, that part's) (all when
// n <= 0; never more than the target's key store keeps, MaxWarm) before a
// run, using every CPU, so that a benchmark measures the steady state of a
// push server that already knows its cards. A Challenges not made by
// NewTarget has no key store of its own: Warm does nothing. A number the
// plan does not know fails it at once, before any challenge is sent.
func (c *Challenges) Warm(ctx context.Context, n int) error {
	if c.keys == nil {
		return nil
	}
	if n <= 0 || n > c.Numbers.Len() {
		n = c.Numbers.Len()
	}
	n = min(n, MaxWarm)
	next := make(chan string)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range next {
				if _, err := push.PlanCard(ctx, c.keys, c.plan, m, false); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for j := 0; j < n; j++ {
		next <- c.Numbers.Distinct(j)
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
