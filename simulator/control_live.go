package simulator

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
)

// SendRequest is the body of POST /api/v1/phones/{msisdn}/sms: the phone
// sends Text to To.
type SendRequest struct {
	// To is the address: digits, + first for an international number,
	// a short code such as 12345 without.
	To   string `json:"to"`
	Text string `json:"text"`
}

// SendResponse is the answer: the SMSC's id of each SMS sent (several for
// a long text).
type SendResponse struct {
	IDs []string `json:"ids"`
}

// OpenRequest is the body of POST /api/v1/phones/{msisdn}/open.
type OpenRequest struct {
	URL string `json:"url"`
}

// mountLive adds the routes of the live page: the event stream, prompts
// waiting for a person, challenges, a phone sending an SMS or opening a
// link.
func mountLive(mux *http.ServeMux, c *Core) {
	mux.HandleFunc("GET /api/v1/events", c.eventStream)
	mux.HandleFunc("POST /api/v1/phones/{msisdn}/sms", c.phoneSend)
	mux.HandleFunc("POST /api/v1/phones/{msisdn}/open", c.phoneOpen)
	mux.HandleFunc("GET /api/v1/prompts", c.prompts)
	mux.HandleFunc("POST /api/v1/prompts/{id}", c.replyPrompt)
	mux.HandleFunc("GET /api/v1/challenges", c.challenges)
}

// maxLiveBody bounds the bodies of the live page's POSTs.
const maxLiveBody = 64 << 10

// phoneWith reads the JSON body into v and finds the phone of the path;
// it has answered with the error when it returns nil.
func (c *Core) phoneWith(w http.ResponseWriter, r *http.Request, v any) *fleet.Phone {
	if err := decodeBody(w, r, maxLiveBody, v); err != nil {
		apiError(w, fmt.Errorf("body: %w", err))
		return nil
	}
	p, err := c.Fleet.Phone(r.Context(), r.PathValue("msisdn"))
	if err != nil {
		apiError(w, err)
		return nil
	}
	return p
}

func (c *Core) phoneSend(w http.ResponseWriter, r *http.Request) {
	var req SendRequest
	p := c.phoneWith(w, r, &req)
	if p == nil {
		return
	}
	ids, err := p.SendText(r.Context(), req.To, req.Text)
	if err != nil {
		code := http.StatusBadRequest
		if !errors.Is(err, fleet.ErrSend) || len(ids) > 0 {
			code = http.StatusBadGateway
		}
		writeJSON(w, code, map[string]any{"error": err.Error(), "ids": ids})
		return
	}
	writeJSON(w, http.StatusAccepted, SendResponse{IDs: ids})
}

func (c *Core) phoneOpen(w http.ResponseWriter, r *http.Request) {
	var req OpenRequest
	p := c.phoneWith(w, r, &req)
	if p == nil {
		return
	}
	if err := p.OpenLink(r.Context(), req.URL); err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": p.Inbox()})
}

// msisdnParam reads the optional ?msisdn= filter, normalised.
func msisdnParam(r *http.Request) (string, error) {
	q := r.URL.Query().Get("msisdn")
	if q == "" {
		return "", nil
	}
	return fleet.Normalize(q)
}

func (c *Core) prompts(w http.ResponseWriter, r *http.Request) {
	n, err := msisdnParam(r)
	if err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"prompts": c.Live.Human.Pending(n)})
}

func (c *Core) replyPrompt(w http.ResponseWriter, r *http.Request) {
	var rep person.Reply
	if err := decodeBody(w, r, maxLiveBody, &rep); err != nil {
		apiError(w, fmt.Errorf("body: %w", err))
		return
	}
	st, err := c.Live.Human.Reply(r.PathValue("id"), rep)
	switch {
	case errors.Is(err, person.ErrNoPrompt):
		writeError(w, http.StatusNotFound, "%v", err)
	case err != nil:
		apiError(w, err)
	default:
		writeJSON(w, http.StatusOK, st)
	}
}

func (c *Core) challenges(w http.ResponseWriter, r *http.Request) {
	n, err := msisdnParam(r)
	if err != nil {
		apiError(w, err)
		return
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > DefaultChallenges {
			apiError(w, fmt.Errorf("limit: want 1..%d, got %q", DefaultChallenges, s))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"challenges": c.Live.Challenges.Recent(n, limit)})
}

// eventStream serves GET /api/v1/events: Server-Sent Events from the one
// hub. ?topics= is a comma-separated list of phone (each phone's events,
// named by their kind: the default), message (the capture stream's
// message, state and deleted), human (prompts waiting for a person:
// human, human_done), challenge (challenge), login (login: a step of a
// Mobile Connect login, logins.go); ?msisdn= keeps one phone's.
// ?buffer= is how many events may wait for the client (default
// capture.DefaultStreamBuffer a batch, ten batches a second); an overflow
// event tells a client that fell behind that it lost events (it should
// reload what it shows).
func (c *Core) eventStream(w http.ResponseWriter, r *http.Request) {
	n, err := msisdnParam(r)
	if err != nil {
		apiError(w, err)
		return
	}
	topics := capture.TopicPhone
	if q := r.URL.Query().Get("topics"); q != "" {
		topics = 0
		for _, name := range strings.Split(q, ",") {
			t, ok := capture.TopicNames[strings.TrimSpace(name)]
			if !ok {
				apiError(w, fmt.Errorf("topics: unknown topic %q (want phone, message, human, challenge or login)", name))
				return
			}
			topics |= t
		}
	}
	var match func(*capture.HubEvent) bool
	if n != "" {
		match = func(e *capture.HubEvent) bool {
			if e.Message != nil {
				return smsc.NormalizeAddr(e.Message.Dest.Addr) == n || smsc.NormalizeAddr(e.Message.Source.Addr) == n
			}
			return e.Topic == capture.TopicMessage || e.MSISDN == n
		}
	}
	buf, err := capture.StreamBuffer(r)
	if err != nil {
		apiError(w, err)
		return
	}
	sub := c.Live.Hub.Subscribe(topics, match, buf)
	defer c.Live.Hub.Unsubscribe(sub)
	c.Live.Hub.WriteStream(w, r, sub, capture.StreamOptions{Hello: "simlab events", Done: c.Capture.Done()})
}
