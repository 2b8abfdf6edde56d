package vpcd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/applet"
)

// swNoDiagnosis answers a command the card failed to process
// (ISO/IEC 7816-4 §5.6: 6F00, no precise diagnosis), so pcscd never waits.
var swNoDiagnosis = []byte{0x6F, 0x00}

// VirtualCard connects an applet.Card to vpcd. The zero value is not
// usable: set Card. Fields must not change once Run has started.
type VirtualCard struct {
	// Card answers the APDUs; Card.Reset runs on power on and reset.
	Card applet.Card
	// Addr is vpcd's address, DefaultAddr when empty.
	Addr string
	// Dial opens the connection to vpcd; a net.Dialer on Addr when nil.
	Dial func(ctx context.Context) (net.Conn, error)
	// MinBackoff and MaxBackoff bound the wait between connection attempts
	// (doubling from MinBackoff); 100 ms and 5 s when zero.
	MinBackoff, MaxBackoff time.Duration
	// NoQuickAck turns off TCP_QUICKACK before each read. vpcd writes the
	// length and the payload in two sends, so with Nagle on its side and
	// delayed ACKs on ours every APDU would stall ~40 ms.
	NoQuickAck bool
	// Logf, when set, receives connection and protocol events.
	Logf func(format string, args ...any)

	apdus atomic.Int64
}

// APDUs returns how many command APDUs the card has answered so far.
func (v *VirtualCard) APDUs() int64 { return v.apdus.Load() }

func (v *VirtualCard) logf(format string, args ...any) {
	if v.Logf != nil {
		v.Logf(format, args...)
	}
}

func (v *VirtualCard) addr() string {
	if v.Addr == "" {
		return DefaultAddr
	}
	return v.Addr
}

func (v *VirtualCard) dial(ctx context.Context) (net.Conn, error) {
	if v.Dial != nil {
		return v.Dial(ctx)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", v.addr())
}

// Run connects to vpcd and serves the card until ctx is done, reconnecting
// with exponential backoff when vpcd is not up yet or drops the connection.
// It returns ctx's error.
func (v *VirtualCard) Run(ctx context.Context) error {
	if v.Card == nil {
		return errors.New("vpcd: VirtualCard.Card is nil")
	}
	minB, maxB := v.MinBackoff, v.MaxBackoff
	if minB <= 0 {
		minB = 100 * time.Millisecond
	}
	if maxB < minB {
		maxB = max(5*time.Second, minB)
	}
	backoff := minB
	for {
		conn, err := v.dial(ctx)
		if err == nil {
			v.logf("vpcd: connected to %s", conn.RemoteAddr())
			backoff = minB
			err = v.ServeConn(ctx, conn)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			v.logf("vpcd: connection lost: %v", err)
		} else {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			v.logf("vpcd: cannot reach vpcd at %s (is pcscd running with the vpcd driver?): %v; retrying in %v", v.addr(), err, backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, maxB)
	}
}

// ServeConn serves one connection to vpcd until it closes, fails or ctx is
// done; it closes conn. It returns io.EOF when vpcd closed the connection.
func (v *VirtualCard) ServeConn(ctx context.Context, conn net.Conn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()

	var qa func()
	if !v.NoQuickAck {
		qa = quickAcker(conn)
	}
	atr, err := v.Card.Reset(ctx, true)
	if err != nil {
		return fmt.Errorf("vpcd: initial reset: %w", err)
	}
	buf := make([]byte, 0, 4096)
	rd := make([]byte, 4096)
	var out []byte
	for {
		// Handle every whole frame already buffered before reading again.
		for {
			payload, n, err := DecodeFrame(buf)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			resp, reply, err := v.handle(ctx, payload, &atr)
			if err != nil {
				return err
			}
			buf = buf[:copy(buf, buf[n:])]
			if reply {
				out, err = AppendFrame(out[:0], resp)
				if err != nil {
					return err
				}
				if _, err := conn.Write(out); err != nil {
					return fmt.Errorf("vpcd: write: %w", err)
				}
			}
		}
		if qa != nil {
			qa()
		}
		n, err := conn.Read(rd)
		buf = append(buf, rd[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("vpcd: read: %w", err)
		}
	}
}

// handle processes one payload; reply says whether resp must be sent.
func (v *VirtualCard) handle(ctx context.Context, p []byte, atr *[]byte) (resp []byte, reply bool, err error) {
	if len(p) == 1 {
		switch p[0] {
		case CtrlPowerOff:
			v.logf("vpcd: power off")
			return nil, false, nil
		case CtrlPowerOn, CtrlReset:
			cold := p[0] == CtrlPowerOn
			a, err := v.Card.Reset(ctx, cold)
			if err != nil {
				return nil, false, fmt.Errorf("vpcd: reset (cold=%v): %w", cold, err)
			}
			*atr = a
			return nil, false, nil
		case CtrlGetATR:
			return *atr, true, nil
		default:
			v.logf("vpcd: ignoring unknown control byte 0x%02X", p[0])
			return nil, false, nil
		}
	}
	r, err := v.Card.Transmit(ctx, p)
	v.apdus.Add(1)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		v.logf("vpcd: card failed on %X: %v; answering 6F00", p, err)
		return swNoDiagnosis, true, nil
	}
	if len(r) < 2 {
		v.logf("vpcd: card answered %X with %d bytes; answering 6F00", p, len(r))
		return swNoDiagnosis, true, nil
	}
	return r, true, nil
}
