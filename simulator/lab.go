package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// LabConfig is the lab-bench part of `simlab serve`'s configuration: real
// bearers for numbers outside the plan and cards in PC/SC readers attached
// as phones. In YAML:
//
//	bearers: ["smpp://user:pass@smsc.example:2775", "modem:/dev/ttyUSB2"]
//	bearer_receipt_timeout: 30s
//	bearer_mo_dest: "99955500"
//	attach:
//	  - {reader: "Virtual PCD 00 00", msisdn: "+4930123456", pin: "12345", answer: approve}
type LabConfig struct {
	// Bearers are AddBearer specifications. They may hold passwords: kept
	// out of JSON output.
	Bearers        []string        `yaml:"bearers" json:"-"`
	ReceiptTimeout time.Duration   `yaml:"bearer_receipt_timeout" json:"bearer_receipt_timeout,omitempty"`
	MODest         string          `yaml:"bearer_mo_dest" json:"bearer_mo_dest,omitempty"`
	Attach         []AttachRequest `yaml:"attach" json:"attach,omitempty"`
}

// ParseAttach reads the --attach flag form READER=MSISDN (the reader name
// may itself contain '='; the number is after the last one).
func ParseAttach(s string) (AttachRequest, error) {
	i := strings.LastIndex(s, "=")
	if i <= 0 || i == len(s)-1 {
		return AttachRequest{}, fmt.Errorf("simulator: --attach %q: want READER=MSISDN", s)
	}
	return AttachRequest{Reader: s[:i], MSISDN: s[i+1:]}, nil
}

// StartLab connects lc's bearers and attaches its readers to the running
// core. The returned Closer disconnects and detaches them all; on error
// whatever was started is stopped again.
func (c *Core) StartLab(ctx context.Context, lc LabConfig, logger *slog.Logger) (io.Closer, error) {
	l := &lab{core: c}
	for _, spec := range lc.Bearers {
		b, err := c.AddBearer(ctx, spec, BearerOptions{ReceiptTimeout: lc.ReceiptTimeout, MODest: lc.MODest, Logger: logger})
		if err != nil {
			l.Close()
			return nil, err
		}
		l.bearers = append(l.bearers, b)
	}
	for _, at := range lc.Attach {
		opts, err := at.options()
		if err != nil {
			l.Close()
			return nil, err
		}
		ra, err := c.AttachReaderBackground(at.Reader, at.MSISDN, opts)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("simulator: attach %q: %w", at.Reader, err)
		}
		l.attached = append(l.attached, ra.MSISDN)
	}
	return l, nil
}

type lab struct {
	core     *Core
	bearers  []io.Closer
	attached []string
}

func (l *lab) Close() error {
	var errs []error
	for _, n := range l.attached {
		if err := l.core.DetachReader(n); err != nil && !errors.Is(err, ErrNotAttached) {
			errs = append(errs, err)
		}
	}
	for _, b := range l.bearers {
		errs = append(errs, b.Close())
	}
	return errors.Join(errs...)
}
