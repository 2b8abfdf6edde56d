// Package connlimit caps a listener's concurrent connections, in all and per
// source address, and keeps its accept loop alive through temporary errors
// such as EMFILE. net/http and the SMSC both serve on it; the standard
// library's netutil.LimitListener has no per-source cap and blocks Accept
// while full (a flood then queues in the kernel instead of being answered),
// hence this small package.
package connlimit

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Refusal reasons, passed to Listener.Refuse and Listener.OnRefuse.
const (
	ReasonTotal     = "listener"   // the listener's cap
	ReasonPerSource = "per_source" // the cap for one source address
)

// Listener wraps a net.Listener. Set the fields before the first Accept.
// Accept returns only connections within the caps; the others are handed
// to Refuse (or closed) and Accept goes on. An accept error other than the
// listener being closed is taken as temporary: Accept backs off (5 ms
// doubling to 1 s), logs once per burst, and tries again.
type Listener struct {
	net.Listener
	// Max caps concurrent connections; PerSource caps those from one IP
	// address. 0 or less: no cap.
	Max, PerSource int
	// Refuse, when set, answers a refused connection and closes it (for
	// example an HTTP 503). It runs on its own goroutine, at most
	// MaxRefusing at once; beyond that a refused connection is just
	// closed.
	Refuse func(c net.Conn, reason string)
	// OnRefuse, when set, is told of each refusal (for metrics).
	OnRefuse func(reason string)
	// Logger receives accept errors; nil discards them.
	Logger *slog.Logger

	mu       sync.Mutex
	total    int
	bySource map[netip.Addr]int
	refusing int
	done     chan struct{}
	once     sync.Once
}

// MaxRefusing bounds the refusals answered at once.
const MaxRefusing = 64

func (l *Listener) init() {
	l.once.Do(func() {
		l.done = make(chan struct{})
		l.bySource = make(map[netip.Addr]int)
	})
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	l.init()
	var backoff time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			select {
			case <-l.done:
				return nil, net.ErrClosed
			default:
			}
			if backoff == 0 && l.Logger != nil {
				l.Logger.Warn("accept failed; backing off", "listener", l.Addr().String(), "err", err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.done:
				t.Stop()
				return nil, net.ErrClosed
			}
			continue
		}
		backoff = 0
		src := sourceOf(c)
		l.mu.Lock()
		reason := ""
		switch {
		case l.Max > 0 && l.total >= l.Max:
			reason = ReasonTotal
		case l.PerSource > 0 && l.bySource[src] >= l.PerSource:
			reason = ReasonPerSource
		default:
			l.total++
			l.bySource[src]++
		}
		answer := reason != "" && l.Refuse != nil && l.refusing < MaxRefusing
		if answer {
			l.refusing++
		}
		l.mu.Unlock()
		if reason == "" {
			return &conn{Conn: c, l: l, src: src}, nil
		}
		if l.OnRefuse != nil {
			l.OnRefuse(reason)
		}
		if !answer {
			c.Close()
			continue
		}
		go func() {
			defer func() {
				l.mu.Lock()
				l.refusing--
				l.mu.Unlock()
			}()
			l.Refuse(c, reason)
			c.Close()
		}()
	}
}

// Close implements net.Listener; it also ends a back-off in progress.
func (l *Listener) Close() error {
	l.init()
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return l.Listener.Close()
}

// Open returns the connections counted now, in all and from src.
func (l *Listener) Open(src netip.Addr) (total, fromSource int) {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.bySource[src]
}

func (l *Listener) release(src netip.Addr) {
	l.mu.Lock()
	l.total--
	if n := l.bySource[src] - 1; n > 0 {
		l.bySource[src] = n
	} else {
		delete(l.bySource, src)
	}
	l.mu.Unlock()
}

// sourceOf is the connection's remote IP address (unmapped from IPv4-in-6);
// the zero Addr for connections without one (pipes, Unix sockets).
func sourceOf(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// conn releases its place when closed (once).
type conn struct {
	net.Conn
	l    *Listener
	src  netip.Addr
	once sync.Once
}

func (c *conn) Close() error {
	// Released before the socket closes: a peer that sees the close can
	// connect again at once.
	c.once.Do(func() { c.l.release(c.src) })
	return c.Conn.Close()
}

// Unwrap returns the underlying connection (for TCP options).
func (c *conn) Unwrap() net.Conn { return c.Conn }
