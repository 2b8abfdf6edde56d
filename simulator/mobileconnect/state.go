package mobileconnect

import (
	"sync"
	"time"

	"github.com/simlab-dev/simlab/simulator/push"
)

// session is what one authentication established: who, for which client,
// how, and what the phone showed. Codes and tokens point at it.
type session struct {
	clientID  string
	msisdn    string
	scope     []string
	acr       string
	amr       []string
	authTime  time.Time
	nonce     string
	loginHint string // as sent, for hashed_login_hint
	authz     bool
	displayed displayedData
	answer    *push.Answer // the card's signed answer (SIM logins)
	// recipient is the SI notification_uri (async mode).
	recipient string
	// faults injected into this session's tokens, and how long slow_token
	// holds the token endpoint (faults.go).
	faults     []string
	tokenDelay time.Duration
	// trace reports the tokens issued for it (events.go); nil unless
	// someone listens.
	trace *trace
}

func (s *session) hasScope(v string) bool {
	for _, x := range s.scope {
		if x == v {
			return true
		}
	}
	return false
}

// displayedData is what the phone showed (the id_token's displayed_data).
type displayedData struct {
	ClientName     string `json:"client_name"`
	BindingMessage string `json:"binding_message,omitempty"`
	Context        string `json:"context,omitempty"`
}

// codeGrant is an authorization code: single use (RFC 6749 §4.1.2).
type codeGrant struct {
	sess          *session
	redirectURI   string
	codeChallenge string
	exp           time.Time
	used          bool
	issued        [][32]byte // tokens issued for it, revoked when it is replayed
}

// tokenInfo is an access or refresh token.
type tokenInfo struct {
	sess    *session
	exp     time.Time
	refresh bool
}

// loginKey identifies a redirect login: the headless re-GET of the same
// authorize URL finds it again (MOBILE-CONNECT.md §1.2).
type loginKey struct{ clientID, state, nonce string }

// login is a redirect (DI) authentication under way or done.
type login struct {
	id      string // random; names the login in the OTP form and SMS link
	key     loginKey
	req     AuthRequest
	created time.Time
	done    chan struct{}
	// Set before done is closed: where the browser goes next.
	location string

	// Under state.mu: the OTP the page waits for.
	otpWanted bool
	otpHash   [32]byte
	otpTries  int
	otpResult chan bool // receives true once the right code is typed
}

// state is the gateway's memory: logins, codes and tokens, all keyed by
// hashes of their secrets. Entries expire; sweep drops them.
type state struct {
	mu      sync.Mutex
	logins  map[loginKey]*login
	byID    map[string]*login        // by login id, for the OTP form
	links   map[string]chan struct{} // SMS+URL links waiting to be opened
	pending int
	codes   map[[32]byte]*codeGrant
	tokens  map[[32]byte]*tokenInfo
	bc      map[string]*backchannel // SI and CIBA requests by auth_req_id
	puts    int
}

func newState() *state {
	return &state{logins: map[loginKey]*login{}, byID: map[string]*login{}, links: map[string]chan struct{}{}, codes: map[[32]byte]*codeGrant{},
		tokens: map[[32]byte]*tokenInfo{}, bc: map[string]*backchannel{}}
}

// sweepLocked drops expired entries every 512 insertions, so memory stays
// bounded by the rate of requests times the lifetimes.
func (s *state) sweepLocked(now time.Time, loginTTL time.Duration) {
	s.puts++
	if s.puts%512 != 0 {
		return
	}
	for k, l := range s.logins {
		select {
		case <-l.done:
			if now.Sub(l.created) > loginTTL {
				delete(s.logins, k)
				delete(s.byID, l.id)
			}
		default:
		}
	}
	for k, c := range s.codes {
		if now.After(c.exp) {
			delete(s.codes, k)
		}
	}
	for k, t := range s.tokens {
		if now.After(t.exp) {
			delete(s.tokens, k)
		}
	}
	for k, b := range s.bc {
		if now.After(b.exp.Add(time.Minute)) {
			select {
			case <-b.done:
				delete(s.bc, k)
			default:
			}
		}
	}
}
