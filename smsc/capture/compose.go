package capture

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// ComposeRequest is the body of POST /api/v1/messages: a text message to
// a phone, as an ESME would submit it.
type ComposeRequest struct {
	// From is the sender: digits (+ first for an international number)
	// or an alphanumeric name of at most 11 characters.
	From string `json:"from"`
	// To is the phone's number.
	To   string `json:"to"`
	Text string `json:"text"`
	// Namespace files the message under a namespace (default none).
	Namespace string `json:"namespace,omitempty"`
}

// ComposeResponse is the answer: the SMSC's id of each part.
type ComposeResponse struct {
	IDs []string `json:"ids"`
}

// MaxComposeParts bounds a composed text: at most this many SMS.
const MaxComposeParts = 10

var composeRef atomic.Uint32

// compose serves POST /api/v1/messages: the text is encoded (GSM 7-bit,
// else UCS2), split into concatenated parts when it needs several, and
// each part submitted through Submit like a submit_sm.
func (a *API) compose(w http.ResponseWriter, r *http.Request) {
	if a.Submit == nil {
		writeErr(w, http.StatusNotImplemented, "this server takes no messages over HTTP")
		return
	}
	var req ComposeRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeErr(w, http.StatusBadRequest, "body: %v", err)
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeErr(w, http.StatusBadRequest, "body: more than one JSON value")
		return
	}
	src, err := composeSource(req.From)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	to, ok := smsc.NormalizeNumber(req.To)
	if !ok || len(to) > 20 {
		writeErr(w, http.StatusBadRequest, "to: want the phone's number in digits, got %q", req.To)
		return
	}
	if req.Text == "" {
		writeErr(w, http.StatusBadRequest, "text: empty")
		return
	}
	parts, err := client.SplitText(req.Text, byte(composeRef.Add(1)))
	if err != nil || len(parts) > MaxComposeParts {
		writeErr(w, http.StatusBadRequest, "text: at most %d SMS are sent", MaxComposeParts)
		return
	}
	resp := ComposeResponse{IDs: []string{}}
	for _, p := range parts {
		m := &smsc.Message{Namespace: req.Namespace, Source: src, Dest: smsc.Address{TON: 1, NPI: 1, Addr: to},
			ESMClass: p.ESMClass, DCS: p.DataCoding, Body: p.ShortMessage}
		if p.ESMClass&client.ESMUDHI != 0 && len(p.ShortMessage) > 0 {
			n := 1 + int(p.ShortMessage[0])
			m.UDH, m.Body = p.ShortMessage[:n], p.ShortMessage[n:]
		}
		id, err := a.Submit(r.Context(), m)
		if err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, smsc.ErrQueueFull) || errors.Is(err, smsc.ErrStoreFull) {
				code = http.StatusServiceUnavailable
			}
			writeErr(w, code, "%v", err)
			return
		}
		resp.IDs = append(resp.IDs, id)
	}
	writeJSON(w, http.StatusAccepted, resp)
}

// composeSource reads the sender: digits (international with a +) or an
// alphanumeric name (TON 5, TS 23.040 §9.1.2.5: at most 11 characters).
func composeSource(from string) (smsc.Address, error) {
	from = strings.TrimSpace(from)
	switch {
	case from == "":
		return smsc.Address{TON: 5, Addr: "simlab"}, nil
	case strings.HasPrefix(from, "+") && len(from) > 1 && strings.Trim(from[1:], "0123456789") == "":
		return smsc.Address{TON: 1, NPI: 1, Addr: from[1:]}, nil
	case strings.Trim(from, "0123456789") == "" && len(from) <= 20:
		return smsc.Address{TON: 0, NPI: 1, Addr: from}, nil
	case len(from) <= 11:
		return smsc.Address{TON: 5, Addr: from}, nil
	}
	return smsc.Address{}, errors.New("from: digits, or a name of at most 11 characters")
}
