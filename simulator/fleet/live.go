package fleet

import (
	"encoding/json"
	"time"
)

// EventRef is an event a phone recorded, handed to Config.OnEvent: its
// number, kind and sequence number at once, the whole Event (APDU trace
// decoded) only when asked for, so that a listener that filters or drops
// it costs the phone nothing more.
type EventRef struct {
	MSISDN string
	Kind   string
	Seq    uint64
	p      *Phone
	e      event
}

// Event returns the full event.
func (r EventRef) Event() Event { return r.p.export(r.e) }

// MarshalJSON encodes the full event.
func (r EventRef) MarshalJSON() ([]byte, error) { return json.Marshal(r.Event()) }

// Challenge is one SMS-PP download session of a phone as the phone saw
// it: when it arrived, how it ended and how long the phone took, for the
// web page's list of challenges and GET /api/v1/challenges.
type Challenge struct {
	MSISDN string    `json:"msisdn"`
	Start  time.Time `json:"start"`
	// LatencyMS is from the download reaching the phone to its answer
	// leaving it (or to the session's end without one).
	LatencyMS float64 `json:"latency_ms"`
	// Outcome is the applet's (approved, cancelled, wrong_pin, …), or
	// "answered" for a card without the authenticator applet, or
	// "no_answer" when the session ended without an answer SMS.
	Outcome string `json:"outcome"`
	// LoAAsked and LoAAchieved: 2, 3 or "3 2" asked; 0 achieved when the
	// challenge failed. Empty for a card without the applet.
	LoAAsked    string `json:"loa_asked,omitempty"`
	LoAAchieved string `json:"loa_achieved,omitempty"`
	// FirstSeq is the sequence number of the session's first event in the
	// phone's log: the session's flow is the phone's events from there to
	// its "session" event.
	FirstSeq uint64 `json:"first_seq"`
}

// challenge tells Config.OnChallenge how session s ended.
func (p *Phone) challenge(s *session, outcome string, d time.Duration) {
	f := p.fleet.cfg.OnChallenge
	if f == nil {
		return
	}
	c := Challenge{MSISDN: p.msisdn, Start: s.at, LatencyMS: float64(d.Microseconds()) / 1000, Outcome: outcome, FirstSeq: s.firstSeq}
	p.resMu.Lock()
	if p.applet != nil && outcome != "no_answer" {
		asked, achieved := p.applet.LastLoA()
		c.LoAAsked = loaName(byte(asked))
		c.LoAAchieved = loaName(byte(achieved))
	}
	p.resMu.Unlock()
	f(c)
}

// loaName spells a LoA as acr_values do: "2", "3", "3 2"; "0" for none.
func loaName(l byte) string {
	switch l {
	case 0x02:
		return "2"
	case 0x03:
		return "3"
	case 0x32:
		return "3 2"
	}
	return "0"
}
