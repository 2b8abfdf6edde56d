package simulator

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"sync"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/pcsc"
	"github.com/simlab-dev/simlab/simulator/person"
)

// ReaderAttachment describes a PC/SC reader whose card is a phone of the
// running simlab (`simlab phone attach`, GET /api/v1/attached).
type ReaderAttachment struct {
	MSISDN string `json:"msisdn"`
	Reader string `json:"reader"`
	// Present says whether a card is in the reader and powered on now.
	Present bool `json:"present"`
	// Error says why following the reader stopped (pcscd went away).
	Error string `json:"error,omitempty"`
}

// AttachRequest is the body of POST /api/v1/attached.
type AttachRequest struct {
	MSISDN string `json:"msisdn" yaml:"msisdn"`
	Reader string `json:"reader" yaml:"reader"`
	// PIN is the applet PIN the person knows (default fleet.DefaultPIN).
	PIN string `json:"pin,omitempty" yaml:"pin,omitempty"`
	// Answer is what the person does with every prompt: approve (default),
	// cancel, ignore, wrong-pin.
	Answer string `json:"answer,omitempty" yaml:"answer,omitempty"`
}

// readerAttachment is a reader followed in the background.
type readerAttachment struct {
	reader string
	a      *Attached
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	err error
}

// ErrAttached means the number already has a reader attached.
var ErrAttached = errors.New("simulator: number already attached to a reader")

// ErrNotAttached means no reader is attached to the number.
var ErrNotAttached = errors.New("simulator: no reader attached to this number")

// AttachReaderBackground attaches the card in reader to msisdn like
// AttachReader, following the reader in the background until DetachReader.
// The reader must be known to pcscd; it may be empty (the phone is absent
// until a card is inserted).
func (c *Core) AttachReaderBackground(reader, msisdn string, opts AttachOptions) (ReaderAttachment, error) {
	if c == nil || c.routes == nil {
		return ReaderAttachment{}, ErrNoSMSC
	}
	n, err := fleet.Normalize(msisdn)
	if err != nil {
		return ReaderAttachment{}, err
	}
	rs, err := pcsc.ListReaders(context.Background())
	if err != nil {
		return ReaderAttachment{}, err
	}
	present, found := false, false
	for _, r := range rs {
		if r.Name == reader {
			found, present = true, r.CardPresent
		}
	}
	if !found {
		return ReaderAttachment{}, fmt.Errorf("%w: %q", pcsc.ErrNoReader, reader)
	}
	return c.attachReader(n, reader, opts, false, present)
}

// attachReader attaches the card in reader to number n and follows the
// reader in the background until DetachReader. With retry, following that
// fails (pcscd not running, or gone) is tried again every attachRetry.
func (c *Core) attachReader(n, reader string, opts AttachOptions, retry, present bool) (ReaderAttachment, error) {
	r := c.routes
	r.readerOps.Lock()
	defer r.readerOps.Unlock()
	r.mu.RLock()
	_, taken := r.readers[n]
	r.mu.RUnlock()
	if taken {
		return ReaderAttachment{}, fmt.Errorf("%w: %s", ErrAttached, n)
	}
	a, err := c.Attach(context.Background(), n, nil, opts)
	if err != nil {
		return ReaderAttachment{}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &readerAttachment{reader: reader, a: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(ra.done)
		defer a.Detach()
		for {
			err := a.follow(ctx, reader)
			ra.mu.Lock()
			ra.err = err
			ra.mu.Unlock()
			if !retry || err == nil || !waitOrDone(ctx, attachRetry) {
				return
			}
		}
	}()
	r.mu.Lock()
	r.readers[n] = ra
	r.mu.Unlock()
	return ReaderAttachment{MSISDN: n, Reader: reader, Present: present}, nil
}

// DetachReader stops following the reader attached to msisdn and removes
// the number's route.
func (c *Core) DetachReader(msisdn string) error {
	n, err := fleet.Normalize(msisdn)
	if err != nil {
		return err
	}
	r := c.routes
	r.readerOps.Lock()
	defer r.readerOps.Unlock()
	r.mu.Lock()
	ra := r.readers[n]
	delete(r.readers, n)
	r.mu.Unlock()
	if ra == nil {
		return fmt.Errorf("%w: %s", ErrNotAttached, n)
	}
	ra.cancel()
	<-ra.done
	return nil
}

// Attachments lists the readers attached, by number.
func (c *Core) Attachments() []ReaderAttachment {
	r := c.routes
	r.mu.RLock()
	out := make([]ReaderAttachment, 0, len(r.readers))
	for n, ra := range r.readers {
		x := ReaderAttachment{MSISDN: n, Reader: ra.reader, Present: ra.a.Present()}
		ra.mu.Lock()
		if ra.err != nil {
			x.Error = ra.err.Error()
		}
		ra.mu.Unlock()
		out = append(out, x)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].MSISDN < out[j].MSISDN })
	return out
}

// mountAttach adds the attachment API: POST /api/v1/attached (body
// AttachRequest), GET /api/v1/attached, DELETE /api/v1/attached/{msisdn}.
func mountAttach(mux *http.ServeMux, c *Core) {
	mux.HandleFunc("GET /api/v1/attached", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"attached": c.Attachments()})
	})
	mux.HandleFunc("POST /api/v1/attached", func(w http.ResponseWriter, r *http.Request) {
		var req AttachRequest
		if err := decodeBody(w, r, 1<<16, &req); err != nil {
			writeError(w, http.StatusBadRequest, "attach: body: %v", err)
			return
		}
		opts, err := req.options()
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		ra, err := c.AttachReaderBackground(req.Reader, req.MSISDN, opts)
		if err == nil {
			// With --data the attachment outlives a restart (attach_keep.go).
			if kerr := c.keepAttachment(req); kerr != nil {
				_ = c.DetachReader(ra.MSISDN)
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": kerr.Error()})
				return
			}
		}
		switch {
		case err == nil:
			writeJSON(w, http.StatusCreated, ra)
		case errors.Is(err, ErrAttached):
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		case errors.Is(err, pcsc.ErrNoReader):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		case errors.Is(err, pcsc.ErrNotSupported), errors.Is(err, pcsc.ErrNoService):
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		default:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		}
	})
	mux.HandleFunc("DELETE /api/v1/attached/{msisdn}", func(w http.ResponseWriter, r *http.Request) {
		err := c.DetachReader(r.PathValue("msisdn"))
		// A kept attachment goes too, even one that could not be restored.
		kept, kerr := c.forgetAttachment(r.PathValue("msisdn"))
		if kerr != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": kerr.Error()})
			return
		}
		if errors.Is(err, ErrNotAttached) && kept {
			err = nil
		}
		switch {
		case err == nil:
			n, _ := fleet.Normalize(r.PathValue("msisdn")) // it normalised to be detached
			writeJSON(w, http.StatusOK, map[string]any{"msisdn": n, "detached": true})
		case errors.Is(err, ErrNotAttached):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		default:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		}
	})
}

// options checks the request and builds the phone's options. The PIN is
// never echoed in errors.
func (req AttachRequest) options() (AttachOptions, error) {
	opts := AttachOptions{PIN: req.PIN}
	if req.PIN != "" && (len(req.PIN) < 4 || len(req.PIN) > 8 || !allDigits(req.PIN)) {
		return opts, errors.New("attach: pin must be 4 to 8 digits")
	}
	if req.Reader == "" || req.MSISDN == "" {
		return opts, errors.New("attach: reader and msisdn are required")
	}
	switch req.Answer {
	case "":
	case person.AnswerApprove, person.AnswerCancel, person.AnswerIgnore, person.AnswerWrongPIN, person.AnswerHuman:
		h := fnv.New64a()
		h.Write([]byte(req.MSISDN))
		opts.Person = person.New(person.Behaviour{Then: person.Step{Answer: req.Answer}}, h.Sum64())
	default:
		return opts, fmt.Errorf("attach: answer %q: want approve, cancel, ignore, wrong-pin or human", req.Answer)
	}
	return opts, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// DetachAll stops following every attached reader (for Core.Shutdown).
func (c *Core) DetachAll() {
	for _, a := range c.Attachments() {
		_ = c.DetachReader(a.MSISDN)
	}
}
