package connlimit

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
)

// flakyListener fails its first Accepts with EMFILE, as a process out of
// file descriptors does, then hands out connections.
type flakyListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
}

func (f *flakyListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestAcceptSurvivesEMFILE: accept errors other than a closed listener
// are waited out, not returned (issue #15: a connection flood stopped SMPP
// for good).
func TestAcceptSurvivesEMFILE(t *testing.T) {
	t.Parallel()
	inner := listen(t)
	l := &Listener{Listener: &flakyListener{Listener: inner, fails: 3}}
	defer l.Close()
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept after EMFILE: %v", err)
	}
	got.Close()
	// Close ends a back-off in progress.
	l2 := &Listener{Listener: &flakyListener{Listener: listen(t), fails: 1 << 30}}
	done := make(chan error, 1)
	go func() { _, err := l2.Accept(); done <- err }()
	l2.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept on a closed listener: %v, want net.ErrClosed", err)
	}
}

// TestCaps: beyond the per-source cap and the listener's cap a connection
// is refused (Refuse sees it, with the reason); a closed one frees its
// place.
func TestCaps(t *testing.T) {
	t.Parallel()
	inner := listen(t)
	refused := make(chan string, 4)
	l := &Listener{Listener: inner, Max: 3, PerSource: 2,
		Refuse: func(c net.Conn, reason string) { io.WriteString(c, "no\n"); refused <- reason }}
	defer l.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	dial()
	a1, a2 := <-accepted, <-accepted
	over := dial()
	if r := <-refused; r != ReasonPerSource {
		t.Fatalf("third from one source: refused for %q", r)
	}
	if b, _ := io.ReadAll(over); string(b) != "no\n" {
		t.Fatalf("refused connection read %q", b)
	}
	if total, src := l.Open(netip.MustParseAddr("127.0.0.1")); total != 2 || src != 2 {
		t.Fatalf("open %d, from 127.0.0.1 %d; want 2, 2", total, src)
	}
	a1.Close()
	dial()
	a3 := <-accepted
	// 127.0.0.2 is another source: within its own cap, but the listener
	// holds 2 + 1 = 3 = Max once it is in.
	c, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, inner.Addr().(*net.TCPAddr))
	if err != nil {
		t.Skipf("no 127.0.0.2 here: %v", err)
	}
	defer c.Close()
	a4 := <-accepted
	c2, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, inner.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if r := <-refused; r != ReasonTotal {
		t.Fatalf("beyond Max: refused for %q", r)
	}
	for _, c := range []net.Conn{a2, a3, a4} {
		c.Close()
	}
	if total, _ := l.Open(netip.Addr{}); total != 0 {
		t.Fatalf("after closing all: %d open", total)
	}
}
