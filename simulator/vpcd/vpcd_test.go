package vpcd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/vpcd/vpcdtest"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Frames captured between pcscd 1.9.9 + vpcd 3.3 and a small virtual card
// (applet/apdu/testdata/vectors.txt).
func TestDecodeFrameVectors(t *testing.T) {
	t.Parallel()
	cases := []struct{ wire, payload string }{
		{"000104", "04"},
		{"000101", "01"},
		{"000100", "00"},
		{"000102", "02"},
		{"00163B9F96801F878031E073FE211B674A4C753034054BA9", "3B9F96801F878031E073FE211B674A4C753034054BA9"},
		{"000700A40004023F00", "00A40004023F00"},
		{"00026120", "6120"},
		{"000500C0000020", "00C0000020"},
		{"0011801000000CFFFFFFFFFFFFFFFFFFFFFFFF", "801000000CFFFFFFFFFFFFFFFFFFFFFFFF"},
		{"0002911D", "911D"},
	}
	for _, c := range cases {
		wire, want := mustHex(t, c.wire), mustHex(t, c.payload)
		p, n, err := DecodeFrame(wire)
		if err != nil || n != len(wire) || !bytes.Equal(p, want) {
			t.Errorf("DecodeFrame(%s) = %X, %d, %v; want %s, %d", c.wire, p, n, err, c.payload, len(wire))
		}
		got, err := AppendFrame(nil, want)
		if err != nil || !bytes.Equal(got, wire) {
			t.Errorf("AppendFrame(%s) = %X, %v; want %s", c.payload, got, err, c.wire)
		}
		// Every strict prefix is incomplete, not an error.
		for i := 0; i < len(wire); i++ {
			if p, n, err := DecodeFrame(wire[:i]); p != nil || n != 0 || err != nil {
				t.Errorf("DecodeFrame(%X) = %X, %d, %v; want incomplete", wire[:i], p, n, err)
			}
		}
	}
	// vsmartcard issue #253: reset and GET ATR coalesced in one segment.
	wire := mustHex(t, "000102000104")
	p, n, err := DecodeFrame(wire)
	if err != nil || n != 3 || !bytes.Equal(p, []byte{2}) {
		t.Fatalf("first frame = %X, %d, %v", p, n, err)
	}
	p, n, err = DecodeFrame(wire[n:])
	if err != nil || n != 3 || !bytes.Equal(p, []byte{4}) {
		t.Fatalf("second frame = %X, %d, %v", p, n, err)
	}
}

func TestDecodeFrameErrors(t *testing.T) {
	t.Parallel()
	if _, _, err := DecodeFrame([]byte{0, 0, 1}); !errors.Is(err, ErrFrame) {
		t.Fatalf("zero length: err = %v, want ErrFrame", err)
	}
	if _, err := AppendFrame(nil, make([]byte, MaxPayload+1)); !errors.Is(err, ErrFrame) {
		t.Fatalf("oversize: err = %v, want ErrFrame", err)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{"000104", "000102000104", "000700A40004023F00", "0000", "00", "FFFF00"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := DecodeFrame(b)
		if err != nil {
			return
		}
		if n == 0 {
			return
		}
		if n != len(p)+2 || n > len(b) {
			t.Fatalf("n = %d, payload %d bytes, input %d", n, len(p), len(b))
		}
		again, err := AppendFrame(nil, p)
		if err != nil || !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoding %X gave %X, %v", b[:n], again, err)
		}
	})
}

// fakeVPCD plays pcscd's vpcd driver: it listens on 127.0.0.1 and lets the
// test drive each accepted connection.
type fakeVPCD struct {
	ln    net.Listener
	conns chan net.Conn
}

func newFakeVPCD(t *testing.T) *fakeVPCD {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeVPCD{ln: ln, conns: make(chan net.Conn, 4)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(f.conns)
				return
			}
			f.conns <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return f
}

func (f *fakeVPCD) accept(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	select {
	case c := <-f.conns:
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	case <-time.After(10 * time.Second):
		t.Fatal("virtual card did not connect")
	}
	return nil, nil
}

func readFrame(t *testing.T, r *bufio.Reader) []byte {
	t.Helper()
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatalf("read frame length: %v", err)
	}
	p := make([]byte, int(hdr[0])<<8|int(hdr[1]))
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatalf("read frame payload: %v", err)
	}
	return p
}

func startCard(t *testing.T, v *VirtualCard) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
}

func TestSessionLikePCSCD(t *testing.T) {
	t.Parallel()
	f := newFakeVPCD(t)
	card := &vpcdtest.Card{}
	v := &VirtualCard{Card: card, Addr: f.ln.Addr().String()}
	startCard(t, v)
	c, r := f.accept(t)

	// GET ATR, then power on + GET ATR coalesced in one write (issue #253).
	c.Write(mustHex(t, "000104"))
	if got := readFrame(t, r); !bytes.Equal(got, vpcdtest.ATR) {
		t.Fatalf("ATR = %X", got)
	}
	c.Write(mustHex(t, "000101000104"))
	if got := readFrame(t, r); !bytes.Equal(got, vpcdtest.ATR) {
		t.Fatalf("ATR after power on = %X", got)
	}
	steps := []struct{ cmd, resp string }{
		{"00A40004023F00", "6116"},                                        // T=0 style: 61xx
		{"00C0000016", hex.EncodeToString(vpcdtest.MFFCP) + "9000"},       // GET RESPONSE
		{"00A40004023F0000", hex.EncodeToString(vpcdtest.MFFCP) + "9000"}, // with Le
		{"801000000CFFFFFFFFFFFFFFFFFFFFFFFF", "9000"},                    // TERMINAL PROFILE
	}
	// Send the APDUs one byte at a time: the card must reassemble frames.
	for _, s := range steps {
		frame, _ := AppendFrame(nil, mustHex(t, s.cmd))
		for _, b := range frame {
			if _, err := c.Write([]byte{b}); err != nil {
				t.Fatal(err)
			}
		}
		if got := readFrame(t, r); !bytes.EqualFold([]byte(hex.EncodeToString(got)), []byte(s.resp)) {
			t.Fatalf("%s -> %X, want %s", s.cmd, got, s.resp)
		}
	}
	// Reset (no reply) then GET ATR: the reset must have reached the card.
	before := card.Resets()
	c.Write(mustHex(t, "000102000104"))
	readFrame(t, r)
	if card.Resets() != before+1 {
		t.Fatalf("resets = %d, want %d", card.Resets(), before+1)
	}
	if v.APDUs() != 4 {
		t.Fatalf("APDUs() = %d, want 4", v.APDUs())
	}
}

func TestReconnectAfterDrop(t *testing.T) {
	t.Parallel()
	f := newFakeVPCD(t)
	v := &VirtualCard{Card: &vpcdtest.Card{}, Addr: f.ln.Addr().String(), MinBackoff: time.Millisecond}
	startCard(t, v)
	c, r := f.accept(t)
	c.Write(mustHex(t, "000104"))
	readFrame(t, r)
	c.Close() // vpcd drops the card (pcscd restarted)
	c2, r2 := f.accept(t)
	c2.Write(mustHex(t, "000104"))
	if got := readFrame(t, r2); !bytes.Equal(got, vpcdtest.ATR) {
		t.Fatalf("ATR after reconnect = %X", got)
	}
}

func TestRetriesUntilVPCDIsUp(t *testing.T) {
	t.Parallel()
	f := newFakeVPCD(t)
	var mu sync.Mutex
	attempts := 0
	v := &VirtualCard{
		Card:       &vpcdtest.Card{},
		MinBackoff: time.Millisecond,
		MaxBackoff: 4 * time.Millisecond,
		Dial: func(ctx context.Context) (net.Conn, error) {
			mu.Lock()
			attempts++
			n := attempts
			mu.Unlock()
			if n <= 3 {
				return nil, errors.New("connection refused")
			}
			var d net.Dialer
			return d.DialContext(ctx, "tcp", f.ln.Addr().String())
		},
	}
	startCard(t, v)
	c, r := f.accept(t)
	c.Write(mustHex(t, "000104"))
	readFrame(t, r)
	mu.Lock()
	defer mu.Unlock()
	if attempts != 4 {
		t.Fatalf("attempts = %d, want 4", attempts)
	}
}

// failingCard answers every APDU with an error.
type failingCard struct{ vpcdtest.Card }

func (f *failingCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	return nil, errors.New("boom")
}

func TestCardErrorBecomes6F00(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	v := &VirtualCard{Card: &failingCard{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.ServeConn(ctx, b) }()
	a.Write(mustHex(t, "000700A40004023F00"))
	if got := readFrame(t, bufio.NewReader(a)); !bytes.Equal(got, []byte{0x6F, 0x00}) {
		t.Fatalf("got %X, want 6F00", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("ServeConn = %v", err)
	}
}

func TestZeroLengthFrameEndsSession(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	v := &VirtualCard{Card: &vpcdtest.Card{}}
	done := make(chan error, 1)
	go func() { done <- v.ServeConn(context.Background(), b) }()
	a.Write([]byte{0, 0})
	if err := <-done; !errors.Is(err, ErrFrame) {
		t.Fatalf("ServeConn = %v, want ErrFrame", err)
	}
	a.Close()
}

// FuzzServeConn feeds arbitrary byte streams from "vpcd" to the card: the
// session must answer or end with an error, never panic or hang.
func FuzzServeConn(f *testing.F) {
	for _, s := range []string{"000104", "000101000104000700A40004023F00", "0000", "000105", "0001", "000500C0000016000102"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := net.Pipe()
		v := &VirtualCard{Card: &vpcdtest.Card{}}
		done := make(chan error, 1)
		go func() { done <- v.ServeConn(context.Background(), b) }()
		drained := make(chan struct{})
		go func() { io.Copy(io.Discard, a); close(drained) }()
		a.Write(in)
		a.Close()
		<-drained
		if err := <-done; err == nil {
			t.Fatal("ServeConn returned nil on a closed connection")
		}
	})
}
