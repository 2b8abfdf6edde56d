// Package modem drives a real (or emulated) AT-command modem: identity,
// signal and registration (TS 27.007), SMS in PDU mode (TS 27.005,
// TS 23.040) including class 2 binary OTA messages, reception of +CMT,
// +CMTI and +CDS, the SIM behind AT+CSIM as an applet.Card, and the SIM
// toolkit terminal through +CUSATA/+CUSATP/+CUSATT/+CUSATE. It builds on
// github.com/warthog618/modem (at, gsm) and github.com/warthog618/sms.
package modem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/simulator/atmodem"
	"github.com/warthog618/modem/at"
	"github.com/warthog618/modem/gsm"
	"github.com/warthog618/modem/trace"
	"github.com/warthog618/sms"
	"go.bug.st/serial"
)

// Options tune a Modem. The zero value is usable.
type Options struct {
	// Baud is the serial speed for Open; 0 means 115200. USB modems ignore
	// it.
	Baud int
	// Timeout bounds each AT command (the context may bound it further);
	// 0 means 5 s. Sending an SMS gets at least 60 s.
	Timeout time.Duration
	// Trace, when set, receives every byte read and written, one line per
	// transfer (for -v output), with secrets masked (atmodem.MaskLine: the
	// PIN of +CPIN, a VERIFY PIN inside +CSIM, a hidden GET INPUT answer
	// inside +CUSATT).
	Trace io.Writer
}

// Modem is an initialised AT modem in PDU mode.
type Modem struct {
	g       *gsm.GSM
	closer  io.Closer
	timeout time.Duration
	enc     *sms.Encoder

	indMu sync.Mutex // serialises AddIndication/CancelIndication users
}

// Open opens the serial port (go.bug.st/serial, with no read timeout: the
// AT reader must block) and initialises the modem on it.
func Open(ctx context.Context, port string, opts Options) (*Modem, error) {
	baud := opts.Baud
	if baud == 0 {
		baud = 115200
	}
	p, err := serial.Open(port, &serial.Mode{BaudRate: baud})
	if err != nil {
		return nil, fmt.Errorf("modem: open %s: %w", port, err)
	}
	m, err := New(ctx, p, opts)
	if err != nil {
		p.Close()
		return nil, err
	}
	m.closer = p
	return m, nil
}

// New initialises a modem on rw (a serial port, a pty, one end of a pipe):
// ESC, ATZ, ATE0, AT+GCAP (must list +CGSM), AT+CMGF=0, AT+CMEE=2. When rw
// is an io.Closer, Close closes it.
func New(ctx context.Context, rw io.ReadWriter, opts Options) (*Modem, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	closer, _ := rw.(io.Closer)
	if opts.Trace != nil {
		rw = trace.New(rw, trace.WithLogger(maskingLogger{log.New(opts.Trace, "", log.Ltime|log.Lmicroseconds)}))
	}
	a := at.New(rw, at.WithTimeout(opts.Timeout))
	m := &Modem{g: gsm.New(a), timeout: opts.Timeout, enc: sms.NewEncoder(sms.AsSubmit), closer: closer}
	if err := m.init(ctx); err != nil {
		return nil, fmt.Errorf("modem: init: %w", err)
	}
	return m, nil
}

// maskingLogger writes the wire trace with atmodem.MaskLine applied.
type maskingLogger struct{ l *log.Logger }

func (m maskingLogger) Printf(format string, v ...any) {
	m.l.Print(atmodem.MaskLine(fmt.Sprintf(format, v...)))
}

// ErrNotGSM reports a modem whose AT+GCAP does not list +CGSM (V.250
// §6.1.9, TS 27.007 §5.0): not an AT port of a GSM/UMTS/LTE modem.
var ErrNotGSM = errors.New("modem is not GSM capable (AT+GCAP lacks +CGSM)")

// init does what gsm.GSM.Init does, but accepts "+GCAP: +FCLASS, +CGSM"
// (a space after the comma), which gsm.Init rejects: escape, ATZ, ATE0,
// AT+GCAP, AT+CMGF=0 (PDU mode), AT+CMEE=2 (verbose errors).
func (m *Modem) init(ctx context.Context) error {
	if err := m.g.AT.Init(at.WithTimeout(m.cmdTimeout(ctx, 0))); err != nil {
		return err
	}
	lines, err := m.Command(ctx, "+GCAP")
	if err != nil {
		return err
	}
	if !hasGSM(lines) {
		return ErrNotGSM
	}
	for _, cmd := range []string{"+CMGF=0", "+CMEE=2"} {
		if _, err := m.Command(ctx, cmd); err != nil {
			return err
		}
	}
	return nil
}

// hasGSM looks for +CGSM among the capabilities of a +GCAP answer.
func hasGSM(lines []string) bool {
	for _, l := range lines {
		if !strings.HasPrefix(l, "+GCAP:") {
			continue
		}
		for _, c := range strings.Split(strings.TrimPrefix(l, "+GCAP:"), ",") {
			if strings.Trim(c, ` "`) == "+CGSM" {
				return true
			}
		}
	}
	return false
}

// Close closes the port; commands in flight fail.
func (m *Modem) Close() error {
	if m.closer == nil {
		return nil
	}
	return m.closer.Close()
}

// Closed is closed when the modem connection is lost.
func (m *Modem) Closed() <-chan struct{} { return m.g.Closed() }

// cmdTimeout is the smaller of the modem timeout (at least min) and the
// time left before ctx's deadline.
func (m *Modem) cmdTimeout(ctx context.Context, min time.Duration) time.Duration {
	d := m.timeout
	if d < min {
		d = min
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			d = left
		}
	}
	if d <= 0 {
		d = time.Millisecond
	}
	return d
}

// urcPrefixes are unsolicited result codes that can leak into a running
// command's information lines (the at package forwards the first line of
// every indication as well); Command drops them.
var urcPrefixes = []string{"+CMT:", "+CMTI:", "+CDS:", "+CDSI:", "+CUSATP:", "+CUSATEND", "+CUSATS:",
	"RING", "+CRING", "+CLIP:", "^", "+CGEV:", "+CUSD:", "+CREG:", "+CGREG:", "+CEREG:", "+CPIN:",
	"RDY", "+CFUN:", "+CIEV:", "+QIND:", "+QUSIM:", "SMS DONE", "PB DONE", "+STIN:", "*EMRDY"}

func isURC(l string, keep string) bool {
	if keep != "" && strings.HasPrefix(l, keep) {
		return false
	}
	for _, p := range urcPrefixes {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// Command issues "AT"+cmd and returns its information lines without
// unsolicited lines and empty lines. Errors from the modem are
// at.CMEError, at.CMSError or at.ErrError.
func (m *Modem) Command(ctx context.Context, cmd string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lines, err := m.g.Command(cmd, at.WithTimeout(m.cmdTimeout(ctx, 0)))
	if err != nil {
		return nil, fmt.Errorf("modem: %s: %w", atmodem.MaskLine("AT"+cmd), err)
	}
	keep := cmdPrefix(cmd)
	out := lines[:0]
	for _, l := range lines {
		if l == "" || isURC(l, keep) {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// cmdPrefix is the information prefix of cmd ("+CMGR=3" → "+CMGR:").
func cmdPrefix(cmd string) string {
	if i := strings.IndexAny(cmd, "=?"); i >= 0 {
		cmd = cmd[:i]
	}
	if strings.HasPrefix(cmd, "+") || strings.HasPrefix(cmd, "^") {
		return cmd + ":"
	}
	return ""
}

// line returns the first information line starting with prefix.
func line(lines []string, prefix string) (string, error) {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix+":") {
			return l, nil
		}
	}
	return "", fmt.Errorf("%w: no %s: line in %q", ErrMalformed, prefix, lines)
}

// value returns the answer of an identity command: the first line, without
// a "<cmd>: " prefix that some modems add.
func value(lines []string, cmd string) (string, error) {
	for _, l := range lines {
		l = strings.TrimSpace(strings.TrimPrefix(l, cmd+":"))
		if l != "" {
			return strings.Trim(l, `"`), nil
		}
	}
	return "", fmt.Errorf("%w: empty answer to AT%s", ErrMalformed, cmd)
}

// IsCMSError reports whether err carries the +CMS ERROR code.
func IsCMSError(err error, code string) bool {
	var e at.CMSError
	return errors.As(err, &e) && string(e) == code
}
