package smsc

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/internal/connlimit"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// Defaults for the Server's zero-valued fields.
const (
	DefaultBindTimeout     = 30 * time.Second
	DefaultEnquireInterval = 30 * time.Second
	DefaultResponseTimeout = 30 * time.Second
	DefaultValidity        = 48 * time.Hour
	DefaultWindow          = 50     // deliver_sm outstanding per bind; ESMEs that take fewer set Account.Window
	DefaultMaxCommandLen   = 70_000 // a 64 KiB message_payload plus the rest
	DefaultQueueLimit      = 10_000
	DefaultRetryMin        = 5 * time.Second
	DefaultRetryMax        = 10 * time.Minute
	DefaultReceiptDelay    = 50 * time.Millisecond
	DefaultSystemID        = "simlab"
)

// ErrAccountsRequired is returned by Serve for a listener beyond loopback
// when no accounts are configured: only a loopback SMSC lets any
// credentials bind.
var ErrAccountsRequired = errors.New("smsc: accounts are required to listen beyond loopback")

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("smsc: server closed")

// BindType is a set of bind types an account may use.
type BindType uint8

// Bind types (SMPP 3.4 §2.2). An Account with BindTypes 0 may use all.
const (
	BindTransmitter BindType = 1 << iota
	BindReceiver
	BindTransceiver
)

var bindTypeNames = []struct {
	b    BindType
	name string
}{{BindTransmitter, "transmitter"}, {BindReceiver, "receiver"}, {BindTransceiver, "transceiver"}}

// String names the bind types, comma-separated ("transmitter,receiver");
// the empty set is "all".
func (b BindType) String() string {
	if b == 0 {
		return "all"
	}
	var parts []string
	for _, n := range bindTypeNames {
		if b&n.b != 0 {
			parts = append(parts, n.name)
		}
	}
	if rest := b &^ (BindTransmitter | BindReceiver | BindTransceiver); rest != 0 {
		parts = append(parts, "bind("+strconv.Itoa(int(rest))+")")
	}
	return strings.Join(parts, ",")
}

// MarshalText implements encoding.TextMarshaler (config files, JSON).
func (b BindType) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses "all", or names separated by commas or spaces:
// transmitter (tx), receiver (rx), transceiver (trx).
func (b *BindType) UnmarshalText(t []byte) error {
	var v BindType
	for _, f := range strings.FieldsFunc(string(t), func(r rune) bool { return r == ',' || r == ' ' }) {
		switch strings.ToLower(f) {
		case "all":
			v |= BindTransmitter | BindReceiver | BindTransceiver
		case "transmitter", "tx":
			v |= BindTransmitter
		case "receiver", "rx":
			v |= BindReceiver
		case "transceiver", "trx":
			v |= BindTransceiver
		default:
			return fmt.Errorf("smsc: unknown bind type %q (want transmitter, receiver, transceiver or all)", f)
		}
	}
	*b = v
	return nil
}

// Account is an ESME's credentials and limits.
type Account struct {
	SystemID string `json:"system_id" yaml:"system_id"`
	// Password is compared in constant time; never logged.
	Password string `json:"-" yaml:"password"`
	// BindTypes allowed; 0 means all three.
	BindTypes BindType `json:"bind_types,omitempty" yaml:"bind_types"`
	// Throughput limits submits per second (token bucket with one second
	// of burst); beyond it the server answers ESME_RTHROTTLED. 0: none.
	Throughput float64 `json:"throughput,omitempty" yaml:"throughput"`
	// Window is how many deliver_sm the server keeps outstanding towards
	// one bind of this account; 0 means DefaultWindow.
	Window int `json:"window,omitempty" yaml:"window"`
	// MORanges are the destination addresses whose MO this account
	// receives: "LO-HI" digit ranges, exact numbers, or "PREFIX*".
	MORanges []string `json:"mo_ranges,omitempty" yaml:"mo_ranges"`
	// DefaultMO makes the account receive MO that no range claims.
	DefaultMO bool `json:"default_mo,omitempty" yaml:"default_mo"`
	// Namespace tags the account's messages in capture; "" means the
	// system_id.
	Namespace string `json:"namespace,omitempty" yaml:"namespace"`
	// MaxBinds bounds concurrent binds; 0 means unlimited.
	MaxBinds int `json:"max_binds,omitempty" yaml:"max_binds"`
}

// IDFormat is how message ids are written.
type IDFormat uint8

// Message id formats: the same id appears in submit_sm_resp, query_sm and
// receipts.
const (
	IDDecimal IDFormat = iota
	IDHex
)

// Clock is the time source of the server's timers (bind, enquire_link,
// validity, retries, throttling). Nil means the real clock; tests inject a
// fake one or run inside testing/synctest.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Server is an SMPP 3.4 SMSC. Set the exported fields, then call Serve
// (several listeners may be served at once); Shutdown stops it. Fields must
// not change after the first Serve, except through the methods that say
// they are safe at run time (Faults).
type Server struct {
	// SystemID is sent in bind responses; "" means DefaultSystemID.
	SystemID string
	// Accounts that may bind. With none, any credentials bind, but only
	// on a loopback listener (Serve fails with ErrAccountsRequired
	// otherwise).
	Accounts []Account
	// Store keeps messages; nil means a MemStore with default retention.
	Store Store
	// Router picks the sink for MT messages; nil routes nothing. An MT
	// message no route claims goes to the bind owning the destination
	// (a live bind's address_range, an account's MORanges), else to
	// Unrouted.
	Router Router
	// Unrouted takes messages with no route; nil means Accept (captured
	// and reported delivered).
	Unrouted Sink
	// IDFormat selects decimal (default) or hex message ids.
	IDFormat IDFormat
	// ReceiptPerMessage sends one receipt per concatenated message (for
	// its first part's id, once every part is final) instead of one per
	// segment.
	ReceiptPerMessage bool
	// TLSConfig, when set, makes Serve speak TLS on its listener.
	TLSConfig *tls.Config
	// Timeouts on Clock: BindTimeout closes a connection not bound in
	// time; after EnquireInterval without traffic the server sends
	// enquire_link and closes the session if ResponseTimeout passes
	// without an answer (deliver_sm unanswered that long are requeued).
	BindTimeout     time.Duration
	EnquireInterval time.Duration
	ResponseTimeout time.Duration
	// DefaultValidity applies when a submit gives no validity_period;
	// MaxValidity caps the given ones (0: no cap).
	DefaultValidity time.Duration
	MaxValidity     time.Duration
	// RetryMin and RetryMax bound the exponential backoff between
	// delivery attempts to an absent or busy subscriber.
	RetryMin, RetryMax time.Duration
	// ReceiptDelay is how long after a submit_sm_resp has been written a
	// receipt for that message may leave on another bind (an ESME with a
	// transmitter and a receiver): ESMEs that read the two on separate
	// threads (Kannel) must have taken in the response first. 0 means
	// DefaultReceiptDelay; negative, none (the receipt still never
	// precedes the response).
	ReceiptDelay time.Duration
	// ReplyWindow is how long past an MT's validity an MO from its
	// destination to its source still goes to the session that submitted
	// it (docs/smsc.md, "Routing"); 0 means DefaultReplyWindow.
	ReplyWindow time.Duration
	// QueueLimit bounds the messages waiting for one destination; beyond
	// it submits get ESME_RMSGQFUL. 0 means DefaultQueueLimit.
	QueueLimit int
	// MaxCommandLen bounds command_length; a longer (or shorter than 16)
	// one is answered with generic_nack ESME_RINVCMDLEN and closes the
	// session with a logged reason.
	MaxCommandLen int
	// Connection limits (docs/reliability.md): MaxConns per listener and
	// MaxConnsPerAddr per source address (internal/connlimit, which also
	// backs off on accept errors), MaxUnbound connections not yet bound
	// (server-wide), MaxUnboundPerAddr of them per source address. A
	// connection beyond one is closed at once,
	// logged once per burst. 0 means the default (DefaultMaxConns, ...),
	// negative means no limit. MaxUnboundLen bounds command_length before
	// bind (0: DefaultMaxUnboundLen), so a peer that has not authenticated
	// cannot make the server buffer a large PDU.
	MaxConns          int
	MaxConnsPerAddr   int
	MaxUnbound        int
	MaxUnboundPerAddr int
	MaxUnboundLen     int
	// BindThrottle makes failed binds cost time per source address and
	// system_id; the zero value gives the defaults.
	BindThrottle BindThrottle
	// Faults injects errors; nil means none. Safe to change at run time
	// through its methods.
	Faults *Faults
	// OnEvent, if set, is called after a message is stored and after each
	// state change, with a snapshot it may keep (see Event). It must not
	// block.
	OnEvent func(Event)
	// WantEvents, if set, is asked before each event is built: returning
	// false (nobody listening) saves the snapshot's allocation.
	WantEvents func() bool
	// Tracer, when set, is handed every PDU of every session, e.g. a
	// simulator/trace.Recorder writing a pcap file (docs/lab.md).
	Tracer pdu.Tracer
	// Clock drives every timer; nil means the real clock.
	Clock Clock
	// Logger receives connection-level logs; nil discards them.
	Logger *slog.Logger

	initOnce sync.Once
	initErr  error
	accounts map[string]*account
	open     bool // no accounts configured
	engine   *engine
	idSeq    atomic.Uint64
	async    AsyncAppender

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	closing   bool
	connWG    sync.WaitGroup
	sessSeq   atomic.Uint64
	counters  counters
	guard     guard
	forgot    forgetting
}

// EventType says what happened to a message.
type EventType uint8

// Event types.
const (
	EventStored EventType = iota + 1
	EventState
)

// Event reports a message stored or changed, for capture (long-poll, SSE).
// Message is a snapshot the receiver may keep; its byte slices are shared
// and must not be modified.
type Event struct {
	Type    EventType
	Message *Message
}

// account is the run-time state of one system_id.
type account struct {
	Account
	moRanges   []Range
	moPrefixes []string
	bucket     tokenBucket
	binds      atomic.Int32
	out        *outbox
}

func (s *Server) init() error {
	s.initOnce.Do(func() { s.initErr = s.doInit() })
	return s.initErr
}

func (s *Server) doInit() error {
	if s.Clock == nil {
		s.Clock = realClock{}
	}
	if s.Store == nil {
		s.Store = NewMemStore(0)
	}
	if a, ok := s.Store.(AsyncAppender); ok {
		s.async = a
	}
	if s.Unrouted == nil {
		s.Unrouted = Accept
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.open = len(s.Accounts) == 0
	s.accounts = make(map[string]*account)
	for _, a := range s.Accounts {
		if err := a.Validate(); err != nil {
			return err
		}
		if _, dup := s.accounts[a.SystemID]; dup {
			return fmt.Errorf("smsc: duplicate account %q", a.SystemID)
		}
		acc := &account{Account: a}
		for _, r := range a.MORanges {
			rg, prefix, err := ParseRange(r)
			if err != nil {
				return fmt.Errorf("smsc: account %q: %w", a.SystemID, err)
			}
			if rg.Lo != "" {
				acc.moRanges = append(acc.moRanges, rg)
			} else {
				acc.moPrefixes = append(acc.moPrefixes, prefix)
			}
		}
		acc.bucket.rate = a.Throughput
		acc.out = newOutbox(s, a.SystemID)
		s.accounts[a.SystemID] = acc
	}
	// IDs start from the clock so that a restart over a durable store
	// does not reuse them (2^20 ids a second of uptime).
	s.idSeq.Store(uint64(s.Clock.Now().Unix()) << 20)
	s.engine = newEngine(s)
	s.listeners = make(map[net.Listener]struct{})
	s.sessions = make(map[*session]struct{})
	return s.engine.recover(context.Background())
}

// Serve accepts SMPP connections on l until Shutdown. Without accounts it
// refuses (ErrAccountsRequired) a listener that is not on loopback.
func (s *Server) Serve(l net.Listener) error {
	if err := s.init(); err != nil {
		return err
	}
	if s.open && !isLoopback(l.Addr()) {
		return fmt.Errorf("%w (listener %s)", ErrAccountsRequired, l.Addr())
	}
	if s.TLSConfig != nil {
		l = tls.NewListener(l, s.TLSConfig)
	}
	// The connection caps per listener and per source address, and the
	// back-off on accept errors (EMFILE in a flood), are connlimit's, as
	// for the HTTP listener.
	cl := &connlimit.Listener{Listener: l, Max: s.limit(s.MaxConns, DefaultMaxConns),
		PerSource: s.limit(s.MaxConnsPerAddr, DefaultMaxConnsPerAddr), OnRefuse: s.connRefused, Logger: s.Logger}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[cl] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, cl)
		s.mu.Unlock()
	}()
	for {
		c, err := cl.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			return err // the listener was closed: connlimit passes every other error
		}
		if !s.ServeConn(c) {
			return ErrServerClosed
		}
	}
}

// ServeConn serves one already-accepted connection on its own goroutine
// (used by Serve; tests hand it one end of net.Pipe). It returns false,
// closing c, if the server is shutting down. A connection over MaxUnbound
// or MaxUnboundPerAddr waits a moment for a slot (admitLater), then is
// closed; true is returned either way.
func (s *Server) ServeConn(c net.Conn) bool {
	if err := s.init(); err != nil {
		c.Close()
		return false
	}
	if why := s.admit(c); why != "" {
		if !s.admitLater(c) {
			s.refuseConn(c, why)
		}
		return true
	}
	return s.startSession(c)
}

// startSession serves an admitted connection; false (c closed) if the
// server is shutting down.
func (s *Server) startSession(c net.Conn) bool {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		s.release(c, true)
		c.Close()
		return false
	}
	ss := newSession(s, c)
	s.sessions[ss] = struct{}{}
	s.counters.sessions.Add(1)
	s.connWG.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.connWG.Done()
		ss.run()
		if !ss.released {
			s.release(c, !ss.everBound)
		}
		s.counters.sessions.Add(-1)
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
	}()
	return true
}

// Shutdown stops accepting, asks every bound ESME to unbind, waits for the
// sessions to end or ctx to expire (then closes them), and stops the
// delivery engine. Messages still queued stay in the store.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.init(); err != nil {
		return err
	}
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	sess := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sess = append(sess, ss)
	}
	s.mu.Unlock()
	for _, ss := range sess {
		ss.startUnbind()
	}
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		for _, ss := range sess {
			ss.close("shutdown deadline")
		}
		<-done
		err = ctx.Err()
	}
	s.engine.stop()
	return err
}

// isLoopback reports whether a listener address is on loopback (or an
// in-memory pipe).
func isLoopback(a net.Addr) bool {
	switch v := a.(type) {
	case *net.TCPAddr:
		return v.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	case nil:
		return true
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.Network() == "pipe" || a.Network() == "unix"
	}
	return ap.Addr().IsLoopback()
}

// authenticate checks a bind's credentials and returns the account state
// (created on the fly in open mode) or the command_status to answer. An
// unknown system_id and a wrong password get the same status,
// ESME_RBINDFAIL, so that ids cannot be enumerated; badCreds then names
// which it was, for the log and the failed-bind throttle.
func (s *Server) authenticate(systemID, password string, bt BindType) (acc *account, st pdu.Status, badCreds string) {
	if s.open {
		return nil, 0, "" // acquire makes it when the bind is taken
	}
	acc, ok := s.accounts[systemID]
	if !ok {
		// Compare anyway so timing does not reveal which ids exist.
		subtle.ConstantTimeCompare([]byte(password), []byte(password))
		return nil, pdu.StatusBindFail, "unknown system_id"
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(acc.Password)) != 1 {
		return nil, pdu.StatusBindFail, "wrong password"
	}
	if acc.BindTypes != 0 && acc.BindTypes&bt == 0 {
		return nil, pdu.StatusBindFail, ""
	}
	if acc.MaxBinds > 0 && int(acc.binds.Load()) >= acc.MaxBinds {
		return nil, pdu.StatusBindFail, ""
	}
	return acc, 0, ""
}

// lookupAccount returns the account state of a system_id if there is one,
// without making one.
func (s *Server) lookupAccount(systemID string) *account {
	if !s.open {
		return s.accounts[systemID]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[systemID]
}

// accountFor returns the account state of a system_id: nil for an unknown
// one, created on first use without accounts (open mode).
func (s *Server) accountFor(systemID string) *account {
	if !s.open {
		return s.accounts[systemID]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	acc, ok := s.accounts[systemID]
	if !ok {
		acc = &account{Account: Account{SystemID: systemID}}
		acc.out = newOutbox(s, systemID)
		s.accounts[systemID] = acc
	}
	return acc
}

// acquire counts a new bind of systemID and returns its account: the
// configured one, or in open mode the current one (made now if it was
// never made or was released). Under s.mu in open mode, so that release
// never frees an account a bind is taking.
func (s *Server) acquire(acc *account, systemID string) *account {
	if !s.open {
		acc.binds.Add(1)
		return acc
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	acc = s.accounts[systemID]
	if acc == nil {
		acc = &account{Account: Account{SystemID: systemID}}
		acc.out = newOutbox(s, systemID)
		s.accounts[systemID] = acc
	}
	acc.binds.Add(1)
	return acc
}

// releaseAccount frees an open-mode account that has no binds and nothing
// waiting in its outbox (no answers, no receipts owed), so that a server
// seeing many system_ids (a namespace per test) does not keep them all.
// Its outbox is retired: what is pushed to it later goes to the account
// made again for the system_id (engine.rehome).
func (s *Server) releaseAccount(acc *account) {
	if !s.open || acc == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[acc.SystemID] != acc || acc.binds.Load() != 0 || !acc.out.retire() {
		return
	}
	delete(s.accounts, acc.SystemID)
}

// current returns the account now serving acc's system_id: acc itself
// unless it was released (open mode).
func (s *Server) current(acc *account) *account {
	if !acc.out.retired.Load() {
		return acc
	}
	return s.accountFor(acc.SystemID)
}

// Forget drops what waits for an open-mode system_id that has no binds
// (answers end DELETED, receipts are no longer owed, those still held back
// by ReceiptDelay included) and frees its account: a test namespace
// deleted. It reports whether the account is
// gone; with binds, or with configured accounts, it does nothing.
func (s *Server) Forget(systemID string) bool {
	if err := s.init(); err != nil || !s.open {
		return false
	}
	s.mu.Lock()
	acc := s.accounts[systemID]
	s.mu.Unlock()
	if acc != nil && acc.binds.Load() != 0 {
		return false
	}
	// Remembered before the outbox is retired: a receipt still held back
	// by ReceiptDelay, even for an account already freed, is dropped when
	// its hold ends (engine.rehome) rather than making the account again.
	s.forgot.remember(systemID, s.Clock.Now(), s.receiptDelay())
	if acc == nil {
		return true
	}
	for _, it := range acc.out.takeAll() {
		s.dropForgotten(it)
	}
	s.releaseAccount(acc)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[systemID] == acc {
		s.forgot.keep(systemID) // a bind came first: the account stays
	}
	return s.accounts[systemID] == nil
}

// dropForgotten ends an item of a forgotten account: a message DELETED, a
// receipt no longer owed.
func (s *Server) dropForgotten(it *outItem) {
	if it.m != nil {
		s.engine.finalize(it.m, Deleted, 0, it.tries)
	} else if id := it.rcpt.owedBy; id != "" {
		patch(s.engine.ctx, s.Store, id, func(m *Message) { m.ReceiptDue = false })
	}
}

// newID returns the next message id in the configured format.
func (s *Server) newID() string { return string(s.appendID(nil)) }

// appendID appends the next message id in the configured format.
func (s *Server) appendID(b []byte) []byte {
	v := s.idSeq.Add(1)
	if s.IDFormat == IDHex {
		return strconv.AppendUint(b, v, 16)
	}
	return strconv.AppendUint(b, v, 10)
}

// wantEvents reports whether an event would be read (OnEvent set and
// WantEvents, when set, true).
func (s *Server) wantEvents() bool {
	return s.OnEvent != nil && (s.WantEvents == nil || s.WantEvents())
}

func (s *Server) emit(t EventType, m *Message) {
	if s.wantEvents() {
		// A snapshot of the fields; the byte slices and pointers it
		// shares are never written after Append, so one allocation
		// suffices.
		snap := *m
		s.OnEvent(Event{Type: t, Message: &snap})
	}
}

func (s *Server) dur(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// tokenBucket is a throughput limiter on the server clock.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
	// throttled counts the submits refused (ESME_RTHROTTLED), for
	// /metrics.
	throttled atomic.Int64
}

// allow takes one token if available.
func (b *tokenBucket) allow(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens = b.rate
	} else {
		b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		b.throttled.Add(1)
		return false
	}
	b.tokens--
	return true
}

// SubmitMO takes a mobile-originated message from a phone or a bearer
// (DESIGN.md flow: SEND SHORT MESSAGE → SMSC → deliver_sm) and queues it for
// a bind by the routing rules of docs/smsc.md ("Routing"): the session that
// last submitted an MT from its destination to its source, else that
// session's account (waiting there while none of its binds can receive);
// for an MO nobody asked for, a live bind's address_range, an
// account's MORanges, a DefaultMO account, else any receiver bind without a
// range; it waits while none is bound. It assigns ID, SubmitTime,
// Direction, State, Account and Namespace (the owner's) and returns the id
// once the message is stored.
func (s *Server) SubmitMO(ctx context.Context, m *Message) (string, error) {
	if err := s.init(); err != nil {
		return "", err
	}
	s.stamp(m, MO)
	ob, acc := s.engine.moTarget(m)
	if m.Account == "" && acc != nil {
		m.Account = acc.SystemID
	}
	if m.Namespace == "" && m.Account != "" {
		if acc := s.lookupAccount(m.Account); acc != nil && acc.Namespace != "" {
			m.Namespace = acc.Namespace
		} else {
			m.Namespace = m.Account
		}
	}
	if err := s.Store.Append(ctx, m); err != nil {
		return "", err
	}
	s.counters.mo.Add(1)
	s.emit(EventStored, m)
	ob.push(&outItem{m: m})
	return m.ID, nil
}
