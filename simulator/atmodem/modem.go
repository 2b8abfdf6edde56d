package atmodem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet"
)

// Config describes the emulated modem and what stands behind it. Zero
// fields take the defaults shown.
type Config struct {
	Manufacturer string // +CGMI, "simlab"
	Model        string // +CGMM, "simlab emulated modem"
	Revision     string // +CGMR, "1.0"
	IMEI         string // +CGSN, "359881030000008" (valid Luhn check digit)
	IMSI         string // +CIMI, "999990000000001"
	ICCID        string // +CCID, "8999900000000000018"
	MSISDN       string // +CNUM; also the address incoming SMPP traffic is routed by
	SMSC         string // +CSCA, "+999000"
	Operator     string // +COPS long alphanumeric name, "simlab"
	// RSSI is the +CSQ <rssi> (TS 27.007 §8.5: 0..31, 99 unknown); 0 means
	// the default 20 (-73 dBm).
	RSSI int
	// Storage is the number of message slots in each memory ("SM", "ME");
	// 0 means 30.
	Storage int
	// Backend sends and receives the short messages; required.
	Backend Backend
	// Card, when set, is the SIM behind AT+CSIM, the USAT commands and SMS-PP
	// data download (class 2, PID 0x7F messages are passed to the card in an
	// ENVELOPE instead of being stored).
	Card applet.Card
	// Now is the clock for service-centre time stamps; time.Now when nil.
	Now func() time.Time
	// Log, when set, receives one line per command line and unsolicited
	// result (for -v output and debugging). Never given secrets.
	Log func(format string, args ...any)
}

func (c *Config) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Manufacturer, "simlab")
	def(&c.Model, "simlab emulated modem")
	def(&c.Revision, "1.0")
	def(&c.IMEI, "359881030000008")
	def(&c.IMSI, "999990000000001")
	def(&c.ICCID, "8999900000000000018")
	def(&c.SMSC, "+999000")
	def(&c.Operator, "simlab")
	if c.RSSI == 0 {
		c.RSSI = 20
	}
	if c.Storage == 0 {
		c.Storage = 30
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// settings are the parameters ATZ and AT&F restore (V.250 §6.1).
type settings struct {
	echo, verbose, quiet bool
	cmee                 int
	cmgf                 int
	cscs                 string
	cnmi                 [5]int
	creg, cereg, cgreg   int
	csms                 int
	csdh                 int
	csmp                 [4]int // fo, vp, pid, dcs (TS 27.005 §3.3.2)
	copsFormat           int
	clip, crc, ccwa      int
	mem                  [3]string // +CPMS mem1 (read/delete), mem2 (write/send), mem3 (receive)
	sregs                map[int]int
}

func defaultSettings() settings {
	return settings{
		echo: true, verbose: true,
		cscs:  "IRA",
		csmp:  [4]int{17, 167, 0, 0},
		mem:   [3]string{"SM", "SM", "SM"},
		sregs: map[int]int{0: 0, 3: 13, 4: 10, 5: 8, 7: 50, 10: 1},
	}
}

// Modem is an emulated AT modem. It keeps its settings, message storage and
// SIM toolkit state across Serve calls, but serves one terminal at a time.
type Modem struct {
	cfg Config

	serving sync.Mutex // held while Serve runs

	set      settings
	store    map[string]*storage
	lastLine string

	// pending is the AT+CMGS (or AT+CMGW) waiting for its body after the
	// "> " prompt, nil in command mode.
	pending *bodyEntry
	// urcs queued while a command or a message body is in progress.
	urcs []string

	usat usatState
	// iccid is the card's ICCID once read (cardICCID).
	iccid string
}

// New returns a modem with cfg (defaults filled in).
func New(cfg Config) (*Modem, error) {
	if cfg.Backend == nil {
		return nil, errors.New("atmodem: Config.Backend is required")
	}
	cfg.defaults()
	m := &Modem{cfg: cfg, set: defaultSettings()}
	m.store = map[string]*storage{"SM": newStorage(cfg.Storage), "ME": newStorage(cfg.Storage)}
	return m, nil
}

// maxLine bounds one command line (V.250 §5.2.1 asks for at least 40
// characters; long +CSIM and +CUSATE lines need a few hundred).
const maxLine = 8192

// session is one Serve call: the writer and the partial input line.
type session struct {
	m    *Modem
	w    io.Writer
	line []byte
	over bool
	err  error
}

// Serve runs the AT interpreter on rw until ctx is done or reading fails.
// It returns nil when ctx is done or rw reaches EOF. rw is not closed; the
// caller closes it after Serve returns, which also ends the reading
// goroutine.
func (m *Modem) Serve(ctx context.Context, rw io.ReadWriter) error {
	m.serving.Lock()
	defer m.serving.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan []byte)
	rerr := make(chan error, 1)
	go func() {
		for {
			buf := make([]byte, 1024)
			n, err := rw.Read(buf)
			if n > 0 {
				select {
				case in <- buf[:n]:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				rerr <- err
				return
			}
		}
	}()
	s := &session{m: m, w: rw}
	incoming := m.cfg.Backend.Incoming()
	for s.err == nil {
		select {
		case <-ctx.Done():
			return nil
		case err := <-rerr:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("atmodem: read: %w", err)
		case b := <-in:
			s.input(ctx, b)
		case in := <-incoming:
			fcs := s.incoming(ctx, in.TPDU)
			if in.Report != nil {
				in.Report(fcs)
			}
		}
		s.flushURCs()
	}
	return s.err
}

func (m *Modem) logf(format string, args ...any) {
	if m.cfg.Log != nil {
		m.cfg.Log(format, args...)
	}
}

// write sends raw bytes to the terminal; the first error stops the session.
func (s *session) write(b string) {
	if s.err != nil {
		return
	}
	if _, err := io.WriteString(s.w, b); err != nil {
		s.err = fmt.Errorf("atmodem: write: %w", err)
	}
}

// info writes one information response line (V.250 §5.7.1).
func (s *session) info(line string) {
	if s.m.set.verbose {
		s.write("\r\n" + line + "\r\n")
	} else {
		s.write(line + "\r\n")
	}
}

// result writes a final result code: OK, ERROR or +CME/+CMS ERROR.
func (s *session) result(err error) {
	if s.m.set.quiet {
		return
	}
	if err == nil {
		if s.m.set.verbose {
			s.write("\r\nOK\r\n")
		} else {
			s.write("0\r")
		}
		return
	}
	text := "ERROR"
	var cme CMEError
	var cms CMSError
	switch {
	case errors.As(err, &cms) && s.m.set.cmee > 0:
		text = fmt.Sprintf("+CMS ERROR: %d", int(cms))
	case errors.As(err, &cme) && s.m.set.cmee == 1:
		text = fmt.Sprintf("+CME ERROR: %d", int(cme))
	case errors.As(err, &cme) && s.m.set.cmee == 2:
		text = "+CME ERROR: " + cme.text()
	}
	if s.m.set.verbose {
		s.write("\r\n" + text + "\r\n")
	} else if text == "ERROR" {
		s.write("4\r")
	} else {
		s.write(text + "\r\n")
	}
}

// urc queues an unsolicited result code; it is written once no command or
// message body is in progress.
func (s *session) urc(lines ...string) {
	s.m.urcs = append(s.m.urcs, lines...)
}

func (s *session) flushURCs() {
	if s.m.pending != nil || len(s.line) > 0 {
		return
	}
	for _, l := range s.m.urcs {
		s.m.logf("urc: %s", firstLine(l))
		s.write("\r\n" + l + "\r\n")
	}
	s.m.urcs = s.m.urcs[:0]
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\r'); i >= 0 {
		return s[:i]
	}
	return s
}

// input feeds received bytes through the line discipline: CR ends a
// command line (S3), LF is ignored (S4), BS deletes (S5), ESC discards the
// line; after a "> " prompt the bytes are the message body instead.
func (s *session) input(ctx context.Context, b []byte) {
	for i := 0; i < len(b) && s.err == nil; i++ {
		c := b[i]
		if s.m.pending != nil {
			s.bodyByte(ctx, c)
			continue
		}
		switch c {
		case byte(s.m.set.sregs[3]):
			line := string(s.line)
			over := s.over
			s.line, s.over = s.line[:0], false
			if s.m.set.echo {
				s.write(line + "\r")
			}
			if over {
				s.result(errors.New("line too long"))
				continue
			}
			s.execLine(ctx, line)
		case '\n', 0:
		case 0x1b:
			s.line = s.line[:0]
		case byte(s.m.set.sregs[5]), 0x7f:
			if len(s.line) > 0 {
				s.line = s.line[:len(s.line)-1]
			}
		default:
			if len(s.line) >= maxLine {
				s.over = true
				continue
			}
			s.line = append(s.line, c)
		}
	}
}

// execLine runs one command line. Text before "AT" is ignored (V.250
// §5.2.1); "A/" repeats the previous line; a line without "AT" gets no
// answer, like a real modem.
func (s *session) execLine(ctx context.Context, line string) {
	line = strings.TrimLeft(line, " \t")
	if strings.EqualFold(line, "A/") {
		line = s.m.lastLine
	}
	i := indexAT(line)
	if i < 0 {
		return
	}
	line = line[i:]
	s.m.lastLine = line
	s.m.logf("cmd: %s", MaskLine(line))
	cmds, err := ParseLine(line)
	if err != nil {
		s.result(err)
		return
	}
	for _, c := range cmds {
		lines, err := s.exec(ctx, c)
		if len(lines) > 0 {
			s.info(strings.Join(lines, "\r\n"))
		}
		if err != nil {
			s.result(err)
			return
		}
		if s.m.pending != nil {
			// +CMGS/+CMGW: the prompt is out; the result follows the body.
			return
		}
	}
	s.result(nil)
}

// indexAT finds "AT" in any case, byte by byte (the line need not be
// UTF-8).
func indexAT(line string) int {
	for i := 0; i+1 < len(line); i++ {
		if upper(line[i]) == 'A' && upper(line[i+1]) == 'T' {
			return i
		}
	}
	return -1
}

// CMEError is a mobile equipment error, TS 27.007 §9.2 (<err> of
// +CME ERROR).
type CMEError int

// Equipment error codes used by the emulator (TS 27.007 §9.2.1).
const (
	CMEOperationNotAllowed   CMEError = 3
	CMEOperationNotSupported CMEError = 4
	CMESIMNotInserted        CMEError = 10
	CMEInvalidIndex          CMEError = 21
	CMENotFound              CMEError = 22
	CMEIncorrectParameters   CMEError = 50
	CMEUnknown               CMEError = 100
	CMESIMBusy               CMEError = 14
	CMESIMPINRequired        CMEError = 11
	CMESIMPUKRequired        CMEError = 12
	CMESIMFailure            CMEError = 13
	CMEIncorrectPassword     CMEError = 16
)

// Error formats the error in verbose form (+CMEE=2).
func (e CMEError) Error() string { return "atmodem: +CME ERROR: " + e.text() }

func (e CMEError) text() string {
	switch e {
	case CMEOperationNotAllowed:
		return "operation not allowed"
	case CMEOperationNotSupported:
		return "operation not supported"
	case CMESIMNotInserted:
		return "SIM not inserted"
	case CMESIMBusy:
		return "SIM busy"
	case CMESIMPINRequired:
		return "SIM PIN required"
	case CMESIMPUKRequired:
		return "SIM PUK required"
	case CMESIMFailure:
		return "SIM failure"
	case CMEIncorrectPassword:
		return "incorrect password"
	case CMEInvalidIndex:
		return "invalid index"
	case CMENotFound:
		return "not found"
	case CMEIncorrectParameters:
		return "incorrect parameters"
	}
	return "unknown"
}

// errUnknownCommand is answered with plain ERROR, whatever +CMEE says.
var errUnknownCommand = errors.New("atmodem: unknown command")

// intArg parses an optional integer argument; empty means def.
func intArg(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, CMEIncorrectParameters
	}
	return v, nil
}
