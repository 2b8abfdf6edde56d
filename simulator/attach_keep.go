package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

// Readers attached over the API (POST /api/v1/attached) are kept in the
// data directory with --data, and attached again when simlab starts: the
// number is routed to its reader at once (an absent subscriber until a
// card is in it) and the reader is followed, tried again every attachRetry
// while pcscd or the reader is not there. Attachments from the
// configuration (attach:, --attach) are made from it at every start, and
// Core.Attach's in-process cards are not kept.

// attachRetry is how long a restored attachment whose reader cannot be
// followed waits before it tries again.
const attachRetry = 5 * time.Second

// keepAttachment records an attachment made over the API (with --data).
// The PIN the person knows is kept with it, never logged.
func (c *Core) keepAttachment(req AttachRequest) error {
	if c.phones == nil {
		return nil
	}
	n, err := fleet.Normalize(req.MSISDN)
	if err != nil {
		return err
	}
	req.MSISDN = n
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	if err := c.phones.PutAttachment(n, b); err != nil {
		return fmt.Errorf("attach: not kept: %w", err)
	}
	return nil
}

// forgetAttachment drops the attachment kept for msisdn and reports
// whether there was one.
func (c *Core) forgetAttachment(msisdn string) (bool, error) {
	if c.phones == nil {
		return false, nil
	}
	n, err := fleet.Normalize(msisdn)
	if err != nil {
		return false, nil //nolint:nilerr // nothing kept under a number that does not normalise
	}
	kept, err := c.phones.Attachment(n)
	if err != nil || kept == nil {
		return false, err
	}
	if err := c.phones.DeleteAttachment(n); err != nil {
		return true, fmt.Errorf("attach: not forgotten: %w", err)
	}
	return true, nil
}

// decodeAttachment reads a kept attachment: the request as POST
// /api/v1/attached took it, checked again.
func decodeAttachment(b []byte) (AttachRequest, AttachOptions, error) {
	var req AttachRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return req, AttachOptions{}, fmt.Errorf("attach: kept attachment is damaged: %w", err)
	}
	if _, err := fleet.Normalize(req.MSISDN); err != nil {
		return req, AttachOptions{}, fmt.Errorf("attach: kept attachment: %w", err)
	}
	opts, err := req.options()
	return req, opts, err
}

// restoreAttachments attaches again the readers kept in the data
// directory. A number attached already (by the configuration) keeps that
// attachment; a kept attachment that cannot be read is logged and left for
// DELETE /api/v1/attached/{msisdn} to forget.
func (c *Core) restoreAttachments(logger *slog.Logger) error {
	if c.phones == nil {
		return nil
	}
	kept, err := c.phones.Attachments()
	if err != nil {
		return fmt.Errorf("serve: attachments: %w", err)
	}
	for n, b := range kept {
		req, opts, err := decodeAttachment(b)
		if err != nil {
			logger.Warn("serve: attachment not restored", "msisdn", n, "err", err)
			continue
		}
		if _, err := c.attachReader(n, req.Reader, opts, true, false); err != nil {
			if !errors.Is(err, ErrAttached) {
				logger.Warn("serve: attachment not restored", "msisdn", n, "reader", req.Reader, "err", err)
			}
			continue
		}
		logger.Info("serve: attachment restored", "msisdn", n, "reader", req.Reader)
	}
	return nil
}

// waitOrDone waits d and reports true, or false when ctx ends first.
func waitOrDone(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
