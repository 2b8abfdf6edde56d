package simulator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/simulator/modem"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// BearerOptions tune a bearer (Core.AddBearer).
type BearerOptions struct {
	// ReceiptTimeout is how long a delivery through an upstream SMSC waits
	// for the upstream's delivery receipt when the message asks for one,
	// so that the final state (DELIVRD, UNDELIV with its error code)
	// becomes this SMSC's receipt. 0 means 30 s; negative means do not
	// wait: the message counts as delivered once the upstream accepted it.
	ReceiptTimeout time.Duration
	// MODest is the destination given to MO messages a modem bearer
	// receives (the number the SMSC routes them by, e.g. the system under
	// test's short code); "" lets the SMSC pick any receiver bind.
	MODest string
	// Logger receives the bearer's diagnostics; nil discards them.
	Logger *slog.Logger
	// OnListening, when set, is called once a modem bearer listens (the
	// modem accepted AT+CNMI): from then on MO messages flow.
	OnListening func()
	// Binds is how many SMPP sessions an upstream bearer opens (default
	// 1); messages are spread over them, receipts and MO taken from all.
	Binds int
	// Window is the submit_sm outstanding per upstream session (default:
	// the client's, 10).
	Window int
	// AlwaysReceipt asks the upstream SMSC for a receipt of every message
	// and waits for it (ReceiptTimeout), so that each message's final
	// state here is the upstream's, whether or not the message asked for
	// a receipt. Routes to fleet processes set it.
	AlwaysReceipt bool
	// Background connects an upstream bearer in the background when the
	// first attempt cannot reach it (a fleet process not started yet):
	// until it binds, its messages fail temporarily and the SMSC retries
	// them. A refused bind is still an error at once.
	Background bool
}

// ErrBearerSpec is a bearer specification simlab cannot read.
var ErrBearerSpec = errors.New("simulator: bearer must be smpp://USER:PASS@HOST:PORT, smpps://… (TLS) or modem:PORT")

// AddBearer connects a real bearer for the numbers outside the fleet's
// plan and outside attached cards (`simlab serve --bearer SPEC`):
//
//	smpp://USER:PASS@HOST:PORT   an upstream SMSC over SMPP 3.4 (smpps:// for TLS)
//	modem:PORT                   an AT modem on a serial port (simulator/modem)
//
// Messages routed to it leave through the bearer; what the bearer receives
// (MO from real handsets, receipts) is injected into this SMSC. Closing
// the returned Closer removes the route and disconnects.
func (c *Core) AddBearer(ctx context.Context, spec string, opts BearerOptions) (io.Closer, error) {
	if c == nil || c.SMSC == nil || c.routes == nil {
		return nil, ErrNoSMSC
	}
	switch {
	case strings.HasPrefix(spec, "smpp://"), strings.HasPrefix(spec, "smpps://"):
		cfg, err := ParseUpstream(spec)
		if err != nil {
			return nil, err
		}
		return c.addUpstream(ctx, cfg, opts)
	case strings.HasPrefix(spec, "modem:"):
		port := strings.TrimPrefix(spec, "modem:")
		if port == "" {
			return nil, ErrBearerSpec
		}
		m, err := modem.Open(ctx, port, modem.Options{})
		if err != nil {
			return nil, fmt.Errorf("simulator: bearer %s: %w", spec, err)
		}
		return c.addModem(m, opts), nil
	}
	return nil, fmt.Errorf("%w, got %q", ErrBearerSpec, redactSpec(spec))
}

// ParseUpstream reads smpp://USER:PASS@HOST:PORT (or smpps:// for TLS) into
// an SMPP client configuration binding as transceiver. The password stays
// out of every error.
func ParseUpstream(spec string) (client.Config, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return client.Config{}, fmt.Errorf("%w: %s", ErrBearerSpec, redactSpec(spec))
	}
	if (u.Scheme != "smpp" && u.Scheme != "smpps") || u.Hostname() == "" || u.Port() == "" {
		return client.Config{}, fmt.Errorf("%w, got %s", ErrBearerSpec, redactSpec(spec))
	}
	if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
		return client.Config{}, fmt.Errorf("%w: port %q", ErrBearerSpec, u.Port())
	}
	cfg := client.Config{Addr: u.Host, Mode: client.Transceiver}
	if u.User != nil {
		cfg.SystemID = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	if st := u.Query().Get("system_type"); st != "" {
		cfg.SystemType = st
	}
	if u.Scheme == "smpps" {
		cfg.TLS = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// redactSpec drops the password from a bearer specification.
func redactSpec(spec string) string {
	u, err := url.Parse(spec)
	if err != nil || u.User == nil {
		if i := strings.LastIndex(spec, "@"); i >= 0 {
			return "…" + spec[i:]
		}
		return spec
	}
	return u.Redacted()
}

// Upstream is the bearer to another SMSC — a real operator's, or a simlab
// fleet process behind a route: an smsc.Sink that submits the messages
// routed to it over SMPP, and a deliver_sm handler that injects the
// upstream's MO messages into this SMSC (SubmitMO) in the order each
// session received them, so that they go to the ESME that asked by this
// SMSC's reply routing (docs/smsc.md, "Routing"). Receipts, whichever
// session they come on, complete the deliveries waiting for them.
type Upstream struct {
	core     *Core
	cfg      client.Config
	opts     BearerOptions
	receipts *push.Receipts
	mo       chan *smsc.Message
	done     chan struct{}
	once     sync.Once
	wg       sync.WaitGroup

	mu   sync.RWMutex
	cls  []*client.Client // bound sessions
	next atomic.Uint64
	// unroute takes the bearer out of the router when it closes.
	unroute func()
}

// firstDialTimeout bounds the first attempt to reach an upstream that may
// be connected in the background (BearerOptions.Background).
const firstDialTimeout = 5 * time.Second

// newUpstream connects an upstream bearer; the caller adds it to a route.
func (c *Core) newUpstream(ctx context.Context, cfg client.Config, opts BearerOptions) (*Upstream, error) {
	if opts.ReceiptTimeout == 0 {
		opts.ReceiptTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Binds <= 0 {
		opts.Binds = 1
	}
	u := &Upstream{core: c, opts: opts, receipts: push.NewReceipts(), mo: make(chan *smsc.Message, 1024), done: make(chan struct{})}
	cfg.OnDeliver = u.onDeliver
	cfg.Logger = opts.Logger
	cfg.KeepReceipts = -1 // receipts go to u.receipts
	if opts.Window > 0 {
		cfg.Window = opts.Window
	}
	u.cfg = cfg
	dctx := ctx
	if opts.Background {
		// The first attempt is short: what is not reachable now is
		// connected in the background.
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, firstDialTimeout)
		defer cancel()
	}
	for i := 0; i < opts.Binds; i++ {
		cl, err := client.Dial(dctx, cfg)
		var se *client.StatusError
		switch {
		case err == nil:
			u.cls = append(u.cls, cl)
			continue
		case opts.Background && !errors.As(err, &se) && ctx.Err() == nil:
			// Not reachable yet: keep trying in the background.
			opts.Logger.Warn("upstream SMSC not reachable yet, connecting in the background", "addr", cfg.Addr, "err", err)
			u.wg.Add(1)
			go u.connect(opts.Binds - len(u.cls))
		default:
			u.closeClients()
			return nil, fmt.Errorf("simulator: upstream SMSC %s: %w", cfg.Addr, err)
		}
		break
	}
	u.wg.Add(1)
	go u.injectMO()
	return u, nil
}

func (c *Core) addUpstream(ctx context.Context, cfg client.Config, opts BearerOptions) (*Upstream, error) {
	u, err := c.newUpstream(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	u.unroute = func() { c.routes.removeBearer(u) }
	c.routes.addBearer(u)
	return u, nil
}

// connect binds n more sessions, retrying with backoff (100 ms doubling to
// 5 s) until they are bound or the bearer closes.
func (u *Upstream) connect(n int) {
	defer u.wg.Done()
	wait := 100 * time.Millisecond
	for n > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		go func() {
			select {
			case <-u.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		cl, err := client.Dial(ctx, u.cfg)
		cancel()
		if err == nil {
			u.mu.Lock()
			closed := u.closedLocked()
			if !closed {
				u.cls = append(u.cls, cl)
			}
			u.mu.Unlock()
			if closed {
				cl.Close(context.Background())
				return
			}
			n--
			u.opts.Logger.Info("upstream SMSC bound", "addr", u.cfg.Addr)
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-u.done:
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func (u *Upstream) closedLocked() bool {
	select {
	case <-u.done:
		return true
	default:
		return false
	}
}

// client returns a bound session, round-robin, or nil while none is.
func (u *Upstream) client() *client.Client {
	u.mu.RLock()
	defer u.mu.RUnlock()
	if len(u.cls) == 0 {
		return nil
	}
	return u.cls[u.next.Add(1)%uint64(len(u.cls))]
}

// errNotBound fails a message temporarily (system failure, retried) while
// an upstream bearer has no bound session yet.
var errNotBound = &smsc.DeliveryError{Code: smsc.ErrCodeSystemFailure, Reason: "upstream SMSC not bound yet"}

// Deliver implements smsc.Sink: submit_sm to the upstream SMSC; with a
// receipt requested, wait (BearerOptions.ReceiptTimeout) for the upstream's
// receipt and report its outcome.
func (u *Upstream) Deliver(ctx context.Context, m *smsc.Message) error {
	msg := &client.Message{
		ServiceType: m.ServiceType,
		Source:      client.Address{TON: m.Source.TON, NPI: m.Source.NPI, Addr: m.Source.Addr},
		Dest:        client.Address{TON: m.Dest.TON, NPI: m.Dest.NPI, Addr: m.Dest.Addr},
		ESMClass:    m.ESMClass & 0x40, ProtocolID: m.PID, Priority: m.Priority, DataCoding: m.DCS,
		ShortMessage: m.UserData(),
	}
	wait := (u.opts.AlwaysReceipt || m.RegisteredDelivery&3 != 0) && u.opts.ReceiptTimeout > 0
	if wait {
		msg.RegisteredDelivery = 1
	}
	cl := u.client()
	if cl == nil {
		return errNotBound
	}
	id, err := cl.Submit(ctx, msg)
	var se *client.StatusError
	if errors.As(err, &se) {
		return &smsc.DeliveryError{Code: uint16(se.Status), Permanent: se.Status != client.StatusMsgQFull && se.Status != client.StatusThrottled,
			Reason: "upstream SMSC refused: " + client.StatusName(se.Status)}
	}
	if err != nil {
		return &smsc.DeliveryError{Reason: "upstream SMSC: " + err.Error()}
	}
	if !wait {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, u.opts.ReceiptTimeout)
	defer cancel()
	rc, _, err := u.receipts.Await(rctx, id)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// No receipt in time: the upstream accepted it, which is all we
		// know; count it delivered rather than send it twice.
		u.opts.Logger.Info("upstream bearer: no receipt in time", "id", id, "timeout", u.opts.ReceiptTimeout)
		return nil
	}
	if rc.Delivered() {
		return nil
	}
	code, _ := strconv.ParseUint(rc.Err, 10, 16)
	if len(rc.NetworkError) == 3 {
		code = uint64(rc.NetworkError[1])<<8 | uint64(rc.NetworkError[2])
	}
	return &smsc.DeliveryError{Code: uint16(code), Permanent: true, Reason: "upstream receipt " + rc.Stat + " err:" + rc.Err}
}

// onDeliver runs on a session's reader goroutine: receipts go to the
// deliveries awaiting them (u.receipts); MO messages are queued for
// injectMO.
func (u *Upstream) onDeliver(d *client.Deliver) uint32 {
	if d.Receipt != nil {
		return u.receipts.OnDeliver(d)
	}
	m := &smsc.Message{
		ServiceType: d.ServiceType,
		Source:      smsc.Address{TON: d.Source.TON, NPI: d.Source.NPI, Addr: d.Source.Addr},
		Dest:        smsc.Address{TON: d.Dest.TON, NPI: d.Dest.NPI, Addr: d.Dest.Addr},
		ESMClass:    d.ESMClass & 0x40, PID: d.ProtocolID, DCS: d.DataCoding, Priority: d.Priority,
		Body: append([]byte(nil), d.ShortMessage...),
	}
	if p := d.TLV(client.TagMessagePayload); len(m.Body) == 0 && p != nil {
		m.Body, m.Payload = append([]byte(nil), p...), true
	}
	if m.ESMClass&0x40 != 0 && len(m.Body) > 0 && int(m.Body[0])+1 <= len(m.Body) {
		n := int(m.Body[0]) + 1
		m.UDH, m.Body = m.Body[:n], m.Body[n:]
	}
	select {
	case u.mo <- m:
		return client.StatusOK
	default:
		return client.StatusMsgQFull // the upstream retries later
	}
}

// injectMO feeds the upstream's MO messages into this SMSC, in order.
func (u *Upstream) injectMO() {
	defer u.wg.Done()
	for {
		select {
		case m := <-u.mo:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if _, err := u.core.SMSC.SubmitMO(ctx, m); err != nil {
				u.opts.Logger.Warn("upstream bearer: MO not injected", "from", m.Source.Addr, "to", m.Dest.Addr, "err", err)
			}
			cancel()
		case <-u.done:
			return
		}
	}
}

// Close removes the bearer's route and unbinds from the upstream SMSC.
func (u *Upstream) Close() error {
	var err error
	u.once.Do(func() {
		if u.unroute != nil {
			u.unroute()
		}
		u.mu.Lock()
		close(u.done)
		u.mu.Unlock()
		err = u.closeClients()
		u.wg.Wait()
	})
	return err
}

func (u *Upstream) closeClients() error {
	u.mu.Lock()
	cls := u.cls
	u.cls = nil
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, cl := range cls {
		errs = append(errs, cl.Close(ctx))
	}
	return errors.Join(errs...)
}

// modemBearer is a modem carrying messages for numbers outside the plan
// over the air (modem.Sink) and injecting what it receives.
type modemBearer struct {
	core   *Core
	m      *modem.Modem
	sink   *modem.Sink
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func (c *Core) addModem(m *modem.Modem, opts BearerOptions) *modemBearer {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b := modem.NewBearer(m)
	b.Listen.Ready = opts.OnListening
	mb := &modemBearer{core: c, m: m, sink: &modem.Sink{Bearer: b}, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	mb.cancel = cancel
	go func() {
		defer close(mb.done)
		err := b.Run(ctx, func(e modem.Event) {
			mo := e.MO(opts.MODest)
			if mo == nil {
				return
			}
			if _, err := c.SMSC.SubmitMO(ctx, mo); err != nil {
				opts.Logger.Warn("modem bearer: MO not injected", "from", e.From, "err", err)
			}
		})
		if err != nil && ctx.Err() == nil {
			opts.Logger.Warn("modem bearer stopped listening", "err", err)
		}
	}()
	c.routes.addBearer(mb.sink)
	return mb
}

// Close removes the route, stops listening and closes the modem.
func (mb *modemBearer) Close() error {
	var err error
	mb.once.Do(func() {
		mb.core.routes.removeBearer(mb.sink)
		mb.cancel()
		err = mb.m.Close()
		<-mb.done
	})
	return err
}
