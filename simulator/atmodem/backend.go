package atmodem

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/warthog618/sms/encoding/tpdu"
)

// Backend is the network and the phone behind the emulated modem: it takes
// the SMS-SUBMIT TPDUs that the terminal sends with AT+CMGS and yields the
// SMS-DELIVER and SMS-STATUS-REPORT TPDUs (TS 23.040 §9.2.2) addressed to
// the modem's subscriber.
type Backend interface {
	// Submit sends one SMS-SUBMIT TPDU (without the SMSC address) and
	// returns the TP-Message-Reference the modem reports in "+CMGS: <mr>".
	// A *CMSError chooses the error the terminal sees; any other error is
	// reported as +CMS ERROR: 500.
	Submit(ctx context.Context, tpdu []byte) (mr byte, err error)
	// Incoming delivers the TPDUs for the mobile station: SMS-DELIVER
	// (MTI 00) and SMS-STATUS-REPORT (MTI 10), each with an optional
	// Report. The channel is never closed while the modem serves.
	Incoming() <-chan Incoming
}

// Incoming is one TPDU for the mobile station.
type Incoming struct {
	TPDU []byte
	// Report, when set, is told how the mobile station answered the
	// message, once, on the modem's goroutine: 0 for RP-ACK, otherwise
	// the TP-FCS of its RP-ERROR (TS 23.040 §9.2.3.22), e.g. FCSToolkitBusy
	// or FCSDataDownloadError for an SMS-PP download the SIM did not take
	// (TS 31.111 §7.1.1.2). It must not block.
	Report func(fcs byte)
}

// TP-Failure-Cause values the modem reports (TS 23.040 §9.2.3.22).
const (
	FCSSIMStorageFull    byte = 0xD0 // SIM SMS storage full
	FCSMemoryExceeded    byte = 0xD3 // memory capacity exceeded (ME storage)
	FCSToolkitBusy       byte = 0xD4 // (U)SIM Application Toolkit busy
	FCSDataDownloadError byte = 0xD5 // (U)SIM data download error
	FCSTPDUNotSupported  byte = 0xB0 // TPDU not supported
)

// CMSError is a message service failure, TS 27.005 §3.2.5 (<err> of
// +CMS ERROR). A Backend returns one to choose the code the terminal sees.
type CMSError int

// Message service failure codes used by the emulator (TS 27.005 §3.2.5).
const (
	CMSOperationNotAllowed   CMSError = 302
	CMSOperationNotSupported CMSError = 303
	CMSInvalidPDUParameter   CMSError = 304
	CMSInvalidTextParameter  CMSError = 305
	CMSSIMNotInserted        CMSError = 310
	CMSInvalidMemoryIndex    CMSError = 321
	CMSMemoryFull            CMSError = 322
	CMSSMSCAddressUnknown    CMSError = 330
	CMSNoNetworkService      CMSError = 331
	CMSNetworkTimeout        CMSError = 332
	CMSUnknownError          CMSError = 500
)

// Error formats the code as the terminal would see it.
func (e CMSError) Error() string { return fmt.Sprintf("atmodem: +CMS ERROR: %d", int(e)) }

// ErrBackendClosed is returned by MemoryBackend.Submit after Close.
var ErrBackendClosed = errors.New("atmodem: backend closed")

// Submitted is one SMS-SUBMIT that reached a MemoryBackend.
type Submitted struct {
	// TPDU is the SMS-SUBMIT as the terminal sent it, with TP-MR replaced
	// by the reference the modem reported.
	TPDU []byte
	// MR is the TP-Message-Reference reported in +CMGS.
	MR byte
}

// MemoryBackend is a Backend without a network: it records what the modem
// submits and delivers what the test (or bench) hands to Deliver. With
// StatusReports set it answers every submit that requests one (TP-SRR) with
// an SMS-STATUS-REPORT saying "delivered". The zero value is not usable:
// call NewMemoryBackend.
type MemoryBackend struct {
	// Now stamps the status reports; time.Now when nil.
	Now func() time.Time
	// StatusReports makes the backend answer TP-SRR with a delivered
	// status report.
	StatusReports bool
	// OnSubmit, when set, is called for every submit before it is recorded;
	// a non-nil error is returned to the modem instead.
	OnSubmit func(tpdu []byte) error

	in chan Incoming

	mu        sync.Mutex
	mr        byte
	submitted []Submitted
	changed   chan struct{}
	closed    bool
}

// NewMemoryBackend returns a MemoryBackend that buffers up to 64 incoming
// TPDUs.
func NewMemoryBackend() *MemoryBackend {
	return &MemoryBackend{in: make(chan Incoming, 64), changed: make(chan struct{})}
}

// Submit records the SMS-SUBMIT and returns the next message reference.
func (b *MemoryBackend) Submit(ctx context.Context, tp []byte) (byte, error) {
	if b.OnSubmit != nil {
		if err := b.OnSubmit(tp); err != nil {
			return 0, err
		}
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, ErrBackendClosed
	}
	b.mr++
	mr := b.mr
	cp := append([]byte(nil), tp...)
	if len(cp) > 1 {
		cp[1] = mr
	}
	b.submitted = append(b.submitted, Submitted{TPDU: cp, MR: mr})
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
	if b.StatusReports && len(cp) > 0 && cp[0]&0x20 != 0 {
		var t tpdu.TPDU
		t.Direction = tpdu.MO
		if err := t.UnmarshalBinary(cp); err == nil {
			now := time.Now
			if b.Now != nil {
				now = b.Now
			}
			if sr, err := StatusReport(mr, t.DA, 0x00, now(), now()); err == nil {
				// Never block: the modem that reads b.in is the one
				// waiting for this Submit. A full buffer drops the report.
				select {
				case b.in <- Incoming{TPDU: sr}:
				default:
				}
			}
		}
	}
	return mr, nil
}

// Incoming returns the channel Deliver feeds.
func (b *MemoryBackend) Incoming() <-chan Incoming { return b.in }

// Deliver hands a TPDU (SMS-DELIVER or SMS-STATUS-REPORT) to the modem. It
// blocks while the buffer is full, until ctx is done.
func (b *MemoryBackend) Deliver(ctx context.Context, tp []byte) error {
	select {
	case b.in <- Incoming{TPDU: append([]byte(nil), tp...)}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DeliverReport hands a TPDU to the modem like Deliver and waits for the
// mobile station's answer: 0 for RP-ACK, or the TP-FCS of its RP-ERROR.
func (b *MemoryBackend) DeliverReport(ctx context.Context, tp []byte) (byte, error) {
	got := make(chan byte, 1)
	select {
	case b.in <- Incoming{TPDU: append([]byte(nil), tp...), Report: func(fcs byte) { got <- fcs }}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case fcs := <-got:
		return fcs, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Submitted returns a copy of what has been submitted so far.
func (b *MemoryBackend) Submitted() []Submitted {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Submitted(nil), b.submitted...)
}

// AwaitSubmitted waits until at least n messages have been submitted and
// returns them all, or returns ctx's error.
func (b *MemoryBackend) AwaitSubmitted(ctx context.Context, n int) ([]Submitted, error) {
	for {
		b.mu.Lock()
		if len(b.submitted) >= n {
			out := append([]Submitted(nil), b.submitted...)
			b.mu.Unlock()
			return out, nil
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("atmodem: waiting for %d submitted messages: %w", n, ctx.Err())
		}
	}
}

// Close makes further submits fail with ErrBackendClosed.
func (b *MemoryBackend) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// StatusReport builds an SMS-STATUS-REPORT TPDU (TS 23.040 §9.2.2.3) for the
// message with reference mr sent to ra, with TP-Status st (§9.2.3.15: 0x00
// received by the SME, 0x40.. permanent errors), service-centre time stamp
// scts and discharge time dt.
func StatusReport(mr byte, ra tpdu.Address, st byte, scts, dt time.Time) ([]byte, error) {
	t := tpdu.TPDU{Direction: tpdu.MT, MR: mr, RA: ra, ST: st,
		SCTS: tpdu.Timestamp{Time: scts}, DT: tpdu.Timestamp{Time: dt}}
	if err := t.SetSmsType(tpdu.SmsStatusReport); err != nil {
		return nil, err
	}
	b, err := t.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("atmodem: status report: %w", err)
	}
	return b, nil
}
