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
	"time"

	"github.com/simlab-dev/simlab/simulator/modem"
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

// Upstream is the bearer to a real SMSC: an smsc.Sink that submits the
// messages routed to it over SMPP, and a deliver_sm handler that injects
// the upstream's MO messages into this SMSC (SubmitMO) in the order they
// came. Receipts complete the deliveries waiting for them.
type Upstream struct {
	core *Core
	cl   *client.Client
	opts BearerOptions
	mo   chan *smsc.Message
	done chan struct{}
	once sync.Once
}

func (c *Core) addUpstream(ctx context.Context, cfg client.Config, opts BearerOptions) (*Upstream, error) {
	if opts.ReceiptTimeout == 0 {
		opts.ReceiptTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	u := &Upstream{core: c, opts: opts, mo: make(chan *smsc.Message, 1024), done: make(chan struct{})}
	cfg.OnDeliver = u.onDeliver
	cfg.Logger = opts.Logger
	cl, err := client.Dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("simulator: upstream SMSC %s: %w", cfg.Addr, err)
	}
	u.cl = cl
	go u.injectMO()
	c.routes.addBearer(u)
	return u, nil
}

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
	wait := m.RegisteredDelivery&3 != 0 && u.opts.ReceiptTimeout > 0
	if wait {
		msg.RegisteredDelivery = 1
	}
	id, err := u.cl.Submit(ctx, msg)
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
	rc, err := u.cl.AwaitReceipt(rctx, id)
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

// onDeliver runs on the client's reader goroutine: receipts stay with the
// client (AwaitReceipt); MO messages are queued for injectMO.
func (u *Upstream) onDeliver(d *client.Deliver) uint32 {
	if d.Receipt != nil {
		return client.StatusOK
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
		u.core.routes.removeBearer(u)
		close(u.done)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = u.cl.Close(ctx)
	})
	return err
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
