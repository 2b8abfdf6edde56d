package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// MCClient is a relying party of the Mobile Connect gateway, as registered
// at run time (POST /api/v1/mc/clients; docs/mobile-connect.md).
type MCClient struct {
	ID                  string   `json:"client_id"`
	Secret              string   `json:"client_secret,omitempty"`
	RedirectURIs        []string `json:"redirect_uris,omitempty"`
	LoopbackRedirects   bool     `json:"loopback_redirects,omitempty"`
	ClientNames         []string `json:"client_names,omitempty"`
	NotificationURIs    []string `json:"notification_uris,omitempty"`
	JWKS                string   `json:"jwks,omitempty"`
	IDTokenAlg          string   `json:"id_token_signed_response_alg,omitempty"`
	CIBAMode            string   `json:"backchannel_token_delivery_mode,omitempty"`
	CIBANotificationURI string   `json:"backchannel_client_notification_endpoint,omitempty"`
	OTP                 bool     `json:"otp,omitempty"`
	Disabled            bool     `json:"disabled,omitempty"`
}

// MCClientInfo is a registered client as the gateway lists it: never its
// secret, only whether it has one.
type MCClientInfo struct {
	MCClient
	HasSecret bool `json:"has_secret"`
}

// MCClientList is the body of GET /api/v1/mc/clients.
type MCClientList struct {
	Clients []MCClientInfo `json:"clients"`
}

// MCRotated names the gateway's new signing key (POST /api/v1/mc/keys/rotate).
type MCRotated struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// MCFaultRule injects faults into a client's logins, or the next login
// only (POST /api/v1/mc/faults).
type MCFaultRule struct {
	ClientID   string   `json:"client_id,omitempty"`
	Faults     []string `json:"faults"`
	Next       bool     `json:"next,omitempty"`
	TokenDelay string   `json:"token_delay,omitempty"`
}

// MCFaultList is the body of GET /api/v1/mc/faults: the rules installed
// and every fault name the gateway knows.
type MCFaultList struct {
	Rules  []MCFaultRule `json:"rules"`
	Faults []string      `json:"faults"`
}

// MCClients lists the gateway's clients (GET /api/v1/mc/clients).
func (c *Client) MCClients(ctx context.Context) ([]MCClientInfo, error) {
	out, err := call[MCClientList](ctx, c, http.MethodGet, "/api/v1/mc/clients", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Clients, nil
}

// AddMCClient registers a relying party (POST /api/v1/mc/clients).
func (c *Client) AddMCClient(ctx context.Context, cl MCClient) (*MCClientInfo, error) {
	return call[MCClientInfo](ctx, c, http.MethodPost, "/api/v1/mc/clients", nil, cl)
}

// DeleteMCClient removes a relying party (DELETE /api/v1/mc/clients/{id}).
func (c *Client) DeleteMCClient(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/mc/clients/"+url.PathEscape(id), nil, nil, nil)
}

// RotateMCKey makes a new id_token signing key current; the old one stays
// published until its tokens expire (POST /api/v1/mc/keys/rotate; alg
// ES256 or RS256, empty for the gateway's default).
func (c *Client) RotateMCKey(ctx context.Context, alg string) (*MCRotated, error) {
	var q url.Values
	if alg != "" {
		q = url.Values{"alg": {alg}}
	}
	return call[MCRotated](ctx, c, http.MethodPost, "/api/v1/mc/keys/rotate", q, nil)
}

// MCFaults returns the fault rules installed (GET /api/v1/mc/faults).
func (c *Client) MCFaults(ctx context.Context) (*MCFaultList, error) {
	return call[MCFaultList](ctx, c, http.MethodGet, "/api/v1/mc/faults", nil, nil)
}

// AddMCFault installs a fault rule (POST /api/v1/mc/faults).
func (c *Client) AddMCFault(ctx context.Context, r MCFaultRule) (*MCFaultRule, error) {
	return call[MCFaultRule](ctx, c, http.MethodPost, "/api/v1/mc/faults", nil, r)
}

// ResetMCFaults removes the fault rules of one client, or every rule when
// clientID is empty (DELETE /api/v1/mc/faults[?client_id=…]).
func (c *Client) ResetMCFaults(ctx context.Context, clientID string) error {
	var q url.Values
	if clientID != "" {
		q = url.Values{"client_id": {clientID}}
	}
	return c.do(ctx, http.MethodDelete, "/api/v1/mc/faults", q, nil, nil)
}

// MCLogin is one Mobile Connect login as GET /api/v1/mc/logins lists it:
// its steps folded, never a secret (docs/mobile-connect.md, "Logins").
type MCLogin struct {
	Seq              uint64          `json:"seq"`
	ID               string          `json:"id"`
	Flow             string          `json:"flow"`
	Start            time.Time       `json:"start"`
	ClientID         string          `json:"client_id"`
	ClientName       string          `json:"client_name,omitempty"`
	ACRAsked         string          `json:"acr_asked,omitempty"`
	ACR              string          `json:"acr,omitempty"`
	AMR              []string        `json:"amr,omitempty"`
	LoginHintMethod  string          `json:"login_hint_method,omitempty"`
	MSISDN           string          `json:"msisdn,omitempty"`
	PCR              string          `json:"pcr,omitempty"`
	Status           string          `json:"status"`
	Error            string          `json:"error,omitempty"`
	ErrorDescription string          `json:"error_description,omitempty"`
	LatencyMS        float64         `json:"latency_ms"`
	Challenge        *MCChallengeRef `json:"challenge,omitempty"`
	MessageID        string          `json:"message_id,omitempty"`
	Steps            []MCLoginStep   `json:"steps"`
}

// MCChallengeRef names a challenge of GET /api/v1/challenges.
type MCChallengeRef struct {
	MSISDN   string `json:"msisdn"`
	FirstSeq uint64 `json:"first_seq"`
}

// MCLoginStep is one step of a login (number_page, request, asked,
// answered, code, token, error).
type MCLoginStep struct {
	Step             string    `json:"step"`
	Time             time.Time `json:"time"`
	ElapsedMS        float64   `json:"elapsed_ms"`
	Outcome          string    `json:"outcome,omitempty"`
	Error            string    `json:"error,omitempty"`
	ErrorDescription string    `json:"error_description,omitempty"`
	// IDToken is the id_token handed to the client, decoded (the token
	// step); never the token itself.
	IDToken *MCIDToken `json:"id_token,omitempty"`
}

// MCIDToken is an id_token the gateway issued, decoded: its JOSE header
// and claims.
type MCIDToken struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	// Published is false when the signing key is not in the JWKS (the
	// unknown_key fault).
	Published bool            `json:"published"`
	Faults    []string        `json:"faults,omitempty"`
	Claims    MCIDTokenClaims `json:"claims"`
}

// MCIDTokenClaims are an issued id_token's claims (times in seconds since
// the epoch).
type MCIDTokenClaims struct {
	Iss             string           `json:"iss"`
	Aud             string           `json:"aud"`
	Azp             string           `json:"azp,omitempty"`
	Sub             string           `json:"sub"`
	ACR             string           `json:"acr,omitempty"`
	AMR             []string         `json:"amr,omitempty"`
	Nonce           string           `json:"nonce,omitempty"`
	AuthTime        int64            `json:"auth_time,omitempty"`
	Iat             int64            `json:"iat"`
	Exp             int64            `json:"exp"`
	JTI             string           `json:"jti,omitempty"`
	AtHash          string           `json:"at_hash,omitempty"`
	HashedLoginHint string           `json:"hashed_login_hint,omitempty"`
	DisplayedData   *MCDisplayedData `json:"displayed_data,omitempty"`
	DTS             string           `json:"dts,omitempty"`
	DTSTime         *int64           `json:"dts_time,omitempty"`
	UPK             *MCJWK           `json:"upk,omitempty"`
	Recipient       string           `json:"recipient,omitempty"`
}

// MCDisplayedData is what the phone showed (the displayed_data claim of
// an authorization login).
type MCDisplayedData struct {
	ClientName     string `json:"client_name"`
	BindingMessage string `json:"binding_message,omitempty"`
	Context        string `json:"context,omitempty"`
}

// MCJWK is the card's public key of the upk claim (a P-256 JWK).
type MCJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// MCLoginList is the body of GET /api/v1/mc/logins: a page of logins,
// newest first, and the Before of the next page (0: none).
type MCLoginList struct {
	Logins []MCLogin `json:"logins"`
	Before uint64    `json:"before,omitempty"`
}

// MCLoginQuery selects logins: of one number, of one client, older than
// Before (a page's Before), at most Limit (0: the server's 50).
type MCLoginQuery struct {
	MSISDN, ClientID string
	Before           uint64
	Limit            int
}

// MCLogins lists the gateway's recent logins, newest first (GET
// /api/v1/mc/logins).
func (c *Client) MCLogins(ctx context.Context, q MCLoginQuery) (*MCLoginList, error) {
	v := url.Values{}
	if q.MSISDN != "" {
		v.Set("msisdn", q.MSISDN)
	}
	if q.ClientID != "" {
		v.Set("client_id", q.ClientID)
	}
	if q.Before != 0 {
		v.Set("before", strconv.FormatUint(q.Before, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return call[MCLoginList](ctx, c, http.MethodGet, "/api/v1/mc/logins", v, nil)
}
