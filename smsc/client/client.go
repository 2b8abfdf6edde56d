// Package client is an SMPP v3.4 ESME: it binds to an SMSC (simlab's own or a
// real one) as transmitter, receiver or transceiver, submits short messages
// through a window of outstanding requests with flow control, receives
// deliver_sm (mobile-originated messages and delivery receipts), keeps the
// link alive with enquire_link and reconnects with backoff.
//
// Every connection has its own sequence numbers, and a response is matched
// to its request by sequence number and command id together, so a deliver_sm
// that happens to share a sequence number with an outstanding submit_sm
// cannot complete it. Writes are pipelined: PDUs are appended to a buffer
// that one writer goroutine per connection sends in batches; no goroutine
// is started per PDU, so the client doubles as simlab's load generator.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// BindMode selects the bind operation (SMPP v3.4 §4.1).
type BindMode int

const (
	// Transceiver binds with bind_transceiver: submit and receive (§4.1.5).
	Transceiver BindMode = iota
	// Transmitter binds with bind_transmitter: submit only (§4.1.1).
	Transmitter
	// Receiver binds with bind_receiver: receive only (§4.1.3).
	Receiver
)

func (m BindMode) command() pdu.CommandID {
	switch m {
	case Transmitter:
		return pdu.CmdBindTransmitter
	case Receiver:
		return pdu.CmdBindReceiver
	}
	return pdu.CmdBindTransceiver
}

// String returns the SMPP name of the bind mode.
func (m BindMode) String() string {
	switch m {
	case Transmitter:
		return "transmitter"
	case Receiver:
		return "receiver"
	}
	return "transceiver"
}

// Address is an SMPP address: type of number, numbering plan indicator
// (SMPP v3.4 §5.2.5, §5.2.6) and the address itself.
type Address struct {
	TON  byte   `json:"ton"`
	NPI  byte   `json:"npi"`
	Addr string `json:"addr"`
}

// TLV is an optional parameter (SMPP v3.4 §3.2.4).
type TLV struct {
	Tag   uint16
	Value []byte
}

// Message is the body of a submit_sm (SMPP v3.4 §4.4.1) or deliver_sm
// (§4.6.1). ShortMessage includes the user data header when ESMClass has
// UDHI (0x40) set; bodies over 254 octets are sent in message_payload.
type Message struct {
	ServiceType          string
	Source, Dest         Address
	ESMClass             byte
	ProtocolID           byte
	Priority             byte
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   byte
	DataCoding           byte
	ShortMessage         []byte
	TLVs                 []TLV
}

// TLV returns the value of the first optional parameter with tag, or nil.
func (m *Message) TLV(tag uint16) []byte {
	for _, t := range m.TLVs {
		if t.Tag == tag {
			if t.Value == nil {
				return []byte{}
			}
			return t.Value
		}
	}
	return nil
}

// Deliver is a deliver_sm or data_sm received from the SMSC: a
// mobile-originated message, or a delivery receipt when Receipt is set.
type Deliver struct {
	Message
	// Receipt is set when esm_class marks an SMSC delivery receipt or an
	// intermediate notification (SMPP v3.4 §5.2.12).
	Receipt *Receipt
}

// StatusError is a non-zero command_status returned by the SMSC.
type StatusError struct {
	Command uint32 // command_id of the response
	Status  uint32 // command_status (SMPP v3.4 §5.1.3)
}

// Error names the command and the status by their SMPP names, the
// status's number after: "smpp client: submit_sm refused with
// ESME_RTHROTTLED (command_status 0x00000058)".
func (e *StatusError) Error() string {
	cmd := strings.TrimSuffix(pdu.CommandID(e.Command).String(), "_resp")
	return fmt.Sprintf("smpp client: %s refused with %s (command_status 0x%08X)", cmd, StatusName(e.Status), e.Status)
}

// Errors returned by the client.
var (
	ErrClosed   = errors.New("smpp client: closed")
	ErrConnLost = errors.New("smpp client: connection lost before the response arrived")
	ErrTimeout  = errors.New("smpp client: no response within the response timeout")
	ErrNotBound = errors.New("smpp client: not bound for this operation")
)

// Config configures a Client. Only Addr is required.
type Config struct {
	Addr         string   // host:port of the SMSC
	SystemID     string   // bind system_id (§5.2.1)
	Password     string   // bind password; never logged
	SystemType   string   // bind system_type
	Mode         BindMode // bind operation; Transceiver by default
	AddrTON      byte     // bind addr_ton
	AddrNPI      byte     // bind addr_npi
	AddressRange string   // bind address_range (§5.2.7)

	// TLS, when set, wraps the connection in TLS with this configuration.
	TLS *tls.Config
	// Dial opens the connection; net.Dialer by default. Tests pass one
	// returning net.Pipe ends.
	Dial func(ctx context.Context, addr string) (net.Conn, error)

	// Window is the number of requests outstanding at once; 10 by default.
	Window int
	// ResponseTimeout fails a request whose response has not come; 10 s
	// by default.
	ResponseTimeout time.Duration
	// EnquireLink is the idle interval between enquire_link requests;
	// 30 s by default, negative to disable.
	EnquireLink time.Duration

	// NoReconnect disables reconnecting after the connection is lost.
	NoReconnect bool
	// ReconnectMin and ReconnectMax bound the jittered exponential backoff
	// between connection attempts; 100 ms and 30 s by default.
	ReconnectMin, ReconnectMax time.Duration

	// ThrottleRetries is how many times Submit retries a submit_sm answered
	// ESME_RTHROTTLED or ESME_RMSGQFUL; 5 by default, negative for none.
	ThrottleRetries int
	// ThrottleMin and ThrottleMax bound the backoff between such retries;
	// 20 ms and 2 s by default.
	ThrottleMin, ThrottleMax time.Duration

	// OnDeliver is called, on the connection's reader goroutine, for every
	// deliver_sm and data_sm; its result is the response's command_status.
	// It must not block. Nil answers ESME_ROK.
	OnDeliver func(*Deliver) uint32
	// OnDeliverLater, when set, replaces OnDeliver for an ESME whose
	// answer depends on work done elsewhere (a modem handing an SMS-PP
	// download to its SIM): it is called on the reader goroutine, must
	// not block, and the response is written when respond is called
	// (once; later calls are ignored; any goroutine). A respond never
	// called leaves the message to the SMSC's response timeout.
	OnDeliverLater func(d *Deliver, respond func(status uint32))
	// KeepReceipts is how many unclaimed receipts are kept for
	// AwaitReceipt; 4096 by default, negative for none.
	KeepReceipts int
	// ObserveRTT, if set, is called on the reader goroutine with the time
	// from writing each request to reading its response (for latency
	// histograms in load tests). It must not block.
	ObserveRTT func(time.Duration)
	// OnState is told about connection state changes (bound, lost).
	OnState func(bound bool, err error)
	// Tracer, when set, is handed every PDU of every connection, e.g. a
	// simulator/trace.Recorder writing a pcap file; bind passwords are
	// the recorder's to mask.
	Tracer pdu.Tracer
	// Logger receives diagnostics; slog.Default() when nil.
	Logger *slog.Logger
	// Seed seeds the backoff jitter, so runs are reproducible; 1 when 0.
	Seed uint64
}

// String describes the configuration without the password.
func (c Config) String() string {
	return fmt.Sprintf("smpp client %s@%s (%s, window %d, tls %v)", c.SystemID, c.Addr, c.Mode, c.Window, c.TLS != nil)
}

// Format keeps the password out of every fmt verb (%v, %+v, %#v).
func (c Config) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

func (c *Config) withDefaults() Config {
	cfg := *c
	if cfg.Window <= 0 {
		cfg.Window = 10
	}
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = 10 * time.Second
	}
	if cfg.EnquireLink == 0 {
		cfg.EnquireLink = 30 * time.Second
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = 100 * time.Millisecond
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = 30 * time.Second
	}
	if cfg.ThrottleRetries == 0 {
		cfg.ThrottleRetries = 5
	}
	if cfg.ThrottleMin <= 0 {
		cfg.ThrottleMin = 20 * time.Millisecond
	}
	if cfg.ThrottleMax <= 0 {
		cfg.ThrottleMax = 2 * time.Second
	}
	if cfg.KeepReceipts == 0 {
		cfg.KeepReceipts = 4096
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Dial == nil {
		d := &net.Dialer{}
		cfg.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		}
	}
	return cfg
}

// Client is a bound SMPP session that reconnects itself. Its methods are
// safe for concurrent use.
type Client struct {
	cfg Config

	mu     sync.Mutex
	cur    *conn         // bound connection, nil while reconnecting
	ready  chan struct{} // closed when cur is set; replaced when lost
	closed bool
	done   chan struct{} // closed by Close
	rng    *rand.Rand

	// throttled holds the unix-nano time before which no submit is sent
	// after the SMSC said ESME_RTHROTTLED or ESME_RMSGQFUL.
	throttled atomic.Int64

	receipts receiptBook
	wg       sync.WaitGroup

	stats struct {
		submitted, throttled, reconnects, delivers, receipts atomic.Int64
	}
}

// Stats are counters of a Client's life.
type Stats struct {
	Submitted  int64 // submit_sm answered ESME_ROK
	Throttled  int64 // submit_sm answered ESME_RTHROTTLED or ESME_RMSGQFUL
	Reconnects int64 // connections re-established after a loss
	Delivers   int64 // deliver_sm/data_sm received (receipts included)
	Receipts   int64 // of which delivery receipts
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Submitted: c.stats.submitted.Load(), Throttled: c.stats.throttled.Load(),
		Reconnects: c.stats.reconnects.Load(), Delivers: c.stats.delivers.Load(), Receipts: c.stats.receipts.Load(),
	}
}

// Dial connects to cfg.Addr and binds. It returns once bound or when the
// first attempt fails (a refused bind is not retried here). Afterwards the
// client reconnects by itself unless cfg.NoReconnect is set.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	c := &Client{
		cfg:   cfg.withDefaults(),
		ready: make(chan struct{}),
		done:  make(chan struct{}),
	}
	c.rng = rand.New(rand.NewPCG(c.cfg.Seed, 0x5eed))
	c.receipts.init(c.cfg.KeepReceipts)
	cn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.install(cn)
	return c, nil
}

// connect dials and binds one connection.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	nc, err := c.cfg.Dial(ctx, c.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smpp client: dial %s: %w", c.cfg.Addr, err)
	}
	if c.cfg.TLS != nil {
		tc := tls.Client(nc, c.cfg.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("smpp client: TLS handshake with %s: %w", c.cfg.Addr, err)
		}
		nc = tc
	}
	cn := newConn(c, nc)
	if t := c.cfg.Tracer; t != nil {
		cn.tr = t.TraceConn(addrPort(nc.LocalAddr()), addrPort(nc.RemoteAddr()))
	}
	go cn.readLoop()
	go cn.flushLoop()
	bindCtx, cancel := context.WithTimeout(ctx, c.cfg.ResponseTimeout)
	defer cancel()
	cmd := c.cfg.Mode.command()
	res, err := cn.roundTrip(bindCtx, cmd.Response(), func(b []byte, seq uint32) []byte {
		return appendBind(b, cmd, seq, &c.cfg)
	})
	if err == nil && res.status != StatusOK {
		err = &StatusError{Command: uint32(cmd.Response()), Status: res.status}
	}
	if err != nil {
		cn.close(err)
		return nil, fmt.Errorf("smpp client: bind %s as %q: %w", c.cfg.Mode, c.cfg.SystemID, err)
	}
	if c.cfg.EnquireLink > 0 || c.cfg.ResponseTimeout > 0 {
		go cn.keepAlive()
	}
	return cn, nil
}

// install makes cn the current connection and arranges for reconnection
// when it is lost.
func (c *Client) install(cn *conn) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cn.close(ErrClosed)
		return
	}
	c.cur = cn
	close(c.ready)
	c.mu.Unlock()
	if c.cfg.OnState != nil {
		c.cfg.OnState(true, nil)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		<-cn.dead
		c.lost(cn)
	}()
}

// lost runs when cn dies: it clears it and reconnects with backoff.
func (c *Client) lost(cn *conn) {
	c.mu.Lock()
	if c.cur == cn {
		c.cur = nil
		c.ready = make(chan struct{})
	}
	closed := c.closed
	c.mu.Unlock()
	if c.cfg.OnState != nil {
		c.cfg.OnState(false, cn.err)
	}
	if closed || c.cfg.NoReconnect {
		return
	}
	c.cfg.Logger.Warn("smpp client: connection lost; reconnecting", "addr", c.cfg.Addr, "err", cn.err)
	delay := c.cfg.ReconnectMin
	for attempt := 1; ; attempt++ {
		t := time.NewTimer(c.jitter(delay))
		select {
		case <-c.done:
			t.Stop()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ResponseTimeout)
		next, err := c.connect(ctx)
		cancel()
		if err == nil {
			c.cfg.Logger.Info("smpp client: reconnected", "addr", c.cfg.Addr, "attempts", attempt)
			c.stats.reconnects.Add(1)
			c.install(next)
			return
		}
		c.cfg.Logger.Warn("smpp client: reconnect failed", "addr", c.cfg.Addr, "attempt", attempt, "err", err)
		delay = min(delay*2, c.cfg.ReconnectMax)
	}
}

// jitter spreads d over [d/2, d) so clients reconnecting together do not
// stampede the SMSC.
func (c *Client) jitter(d time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 2 {
		return d
	}
	return d/2 + time.Duration(c.rng.Int64N(int64(d/2)))
}

// current waits for a bound connection.
func (c *Client) current(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		cn, ready, closed := c.cur, c.ready, c.closed
		c.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		if cn != nil {
			return cn, nil
		}
		if c.cfg.NoReconnect {
			return nil, ErrConnLost
		}
		select {
		case <-ready:
		case <-c.done:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Bound reports whether the client has a bound connection now.
func (c *Client) Bound() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur != nil
}

// Submit sends m as submit_sm and returns the message id of submit_sm_resp.
// It waits for a free window slot, and retries after a backoff when the SMSC
// answers ESME_RTHROTTLED or ESME_RMSGQFUL (Config.ThrottleRetries). A
// rejection is returned as *StatusError.
func (c *Client) Submit(ctx context.Context, m *Message) (string, error) {
	if c.cfg.Mode == Receiver {
		return "", ErrNotBound
	}
	backoff := c.cfg.ThrottleMin
	for attempt := 0; ; attempt++ {
		if err := c.waitThrottle(ctx); err != nil {
			return "", err
		}
		cn, err := c.current(ctx)
		if err != nil {
			return "", err
		}
		res, err := cn.roundTrip(ctx, pdu.CmdSubmitSMResp, func(b []byte, seq uint32) []byte {
			return appendSM(b, pdu.CmdSubmitSM, seq, m)
		})
		if err != nil {
			return "", err
		}
		switch res.status {
		case StatusOK:
			c.stats.submitted.Add(1)
			return res.str, nil
		case StatusThrottled, StatusMsgQFull:
			c.stats.throttled.Add(1)
			if attempt < c.cfg.ThrottleRetries {
				c.throttle(backoff)
				backoff = min(backoff*2, c.cfg.ThrottleMax)
				continue
			}
		}
		return "", &StatusError{Command: uint32(pdu.CmdSubmitSMResp), Status: res.status}
	}
}

// SubmitAsync sends m as submit_sm and calls done on the connection's reader
// goroutine with the message id or error once the response arrives (done
// must not block, and must not submit: the reader would wait for a window
// slot only it can free). It blocks only until a window slot is free. Throttling
// answers are passed to done as *StatusError, and they pause every later
// submit for a backoff. This is the load generator's path: no goroutine or
// timer is created per message.
func (c *Client) SubmitAsync(ctx context.Context, m *Message, done func(id string, err error)) error {
	if c.cfg.Mode == Receiver {
		return ErrNotBound
	}
	if err := c.waitThrottle(ctx); err != nil {
		return err
	}
	cn, err := c.current(ctx)
	if err != nil {
		return err
	}
	return cn.start(ctx, pdu.CmdSubmitSMResp, func(b []byte, seq uint32) []byte {
		return appendSM(b, pdu.CmdSubmitSM, seq, m)
	}, func(r result, err error) {
		if err == nil && r.status == StatusOK {
			c.stats.submitted.Add(1)
		}
		if err == nil && r.status != StatusOK {
			if r.status == StatusThrottled || r.status == StatusMsgQFull {
				c.stats.throttled.Add(1)
				c.throttle(c.cfg.ThrottleMin)
			}
			err = &StatusError{Command: uint32(pdu.CmdSubmitSMResp), Status: r.status}
		}
		done(r.str, err)
	})
}

func (c *Client) throttle(d time.Duration) {
	until := time.Now().Add(c.jitter(d) + d/2).UnixNano()
	for {
		old := c.throttled.Load()
		if old >= until || c.throttled.CompareAndSwap(old, until) {
			return
		}
	}
}

func (c *Client) waitThrottle(ctx context.Context) error {
	until := c.throttled.Load()
	if until == 0 {
		return nil
	}
	d := time.Until(time.Unix(0, until))
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
}

// AwaitReceipt waits for the delivery receipt of the message with id (as
// returned by Submit). A receipt that arrived before the call is found too,
// within the last Config.KeepReceipts receipts.
func (c *Client) AwaitReceipt(ctx context.Context, id string) (*Receipt, error) {
	ch := c.receipts.wait(id)
	defer c.receipts.cancel(id, ch)
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("smpp client: waiting for the receipt of %q: %w", id, ctx.Err())
	case <-c.done:
		return nil, ErrClosed
	}
}

// closeHandlerWait bounds how long Close waits for an OnDeliver under way.
const closeHandlerWait = time.Second

// Close unbinds (SMPP v3.4 §4.2), waits for unbind_resp until ctx ends, and
// closes the connection. Outstanding requests fail with ErrClosed. An
// OnDeliver under way returns and its response is sent first (up to
// closeHandlerWait).
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cn := c.cur
	close(c.done)
	c.mu.Unlock()
	var err error
	if cn != nil {
		// A deliver handler under way (its message already handed on,
		// its response not yet queued) finishes first: its response goes
		// out before the unbind. Bounded, for a Close called from inside
		// OnDeliver itself.
		select {
		case <-cn.handlers.done():
		case <-ctx.Done():
		case <-time.After(closeHandlerWait):
		}
		_, err = cn.roundTrip(ctx, pdu.CmdUnbindResp, func(b []byte, seq uint32) []byte {
			return appendEmpty(b, pdu.CmdUnbind, 0, seq)
		})
		cn.flush() // any response still buffered leaves before the close
		cn.close(ErrClosed)
	}
	c.wg.Wait()
	if err != nil && !errors.Is(err, ErrConnLost) && !errors.Is(err, ErrClosed) {
		return fmt.Errorf("smpp client: unbind: %w", err)
	}
	return nil
}
