package mobileconnect

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config is the gateway's part of `simlab serve`'s YAML (the
// `mobile_connect:` section). The zero value is a working gateway with the
// demo client.
type Config struct {
	// Disabled turns the gateway off.
	Disabled bool `yaml:"disabled" json:"disabled,omitempty"`
	// Issuer is the issuer URL (default http(s)://<HTTP address>/mc, the
	// scheme the HTTP listener's: the server's `https:` settings); its
	// path is where the endpoints are mounted. Set it for a server behind
	// a proxy.
	Issuer string `yaml:"issuer" json:"issuer,omitempty"`
	// Keystore is a key store URI (docs/hsm.md: soft:…, pkcs11:…) for the
	// signing keys, the PCR key and the ENCR_MSISDN key; empty keeps them
	// in memory (PCRs then change when the server restarts).
	Keystore string `yaml:"keystore" json:"keystore,omitempty"`
	// SigningAlg is the default id_token algorithm: ES256 (default) or
	// RS256; a client may ask for the other.
	SigningAlg string `yaml:"signing_alg" json:"signing_alg,omitempty"`
	// Clients are the registered relying parties; the demo client is added
	// unless NoDemoClient.
	Clients      []Client `yaml:"clients" json:"clients,omitempty"`
	NoDemoClient bool     `yaml:"no_demo_client" json:"no_demo_client,omitempty"`
	// OTPNumbers are subscribers who log in with an SMS one-time code
	// typed on the gateway's page (amr OTP_OK) instead of their SIM.
	OTPNumbers []string `yaml:"otp_numbers" json:"otp_numbers,omitempty"`
	// Lifetimes: the phone's prompt (ChallengeTimeout, default 60 s),
	// authorization codes (default 5 min), access and id tokens (default 1
	// h), refresh tokens (default 24 h), SI requests (default 5 min).
	ChallengeTimeout time.Duration `yaml:"challenge_timeout" json:"challenge_timeout,omitempty"`
	CodeTTL          time.Duration `yaml:"code_ttl" json:"code_ttl,omitempty"`
	TokenTTL         time.Duration `yaml:"token_ttl" json:"token_ttl,omitempty"`
	RefreshTTL       time.Duration `yaml:"refresh_ttl" json:"refresh_ttl,omitempty"`
	SITTL            time.Duration `yaml:"si_ttl" json:"si_ttl,omitempty"`
	// AuthorizeHold is how long a repeated GET /authorize of a login
	// under way waits for it to end before answering the waiting page
	// (default 5 s, the GSMA SDKs' polling interval; negative: not at all).
	AuthorizeHold time.Duration `yaml:"authorize_hold" json:"authorize_hold,omitempty"`
	// AuthorizeFirstHold is how long the first GET /authorize of a login
	// from a client that is not a browser (its Accept header does not name
	// text/html: the headless SDKs, curl, RP libraries) waits for the
	// phone before answering the waiting page (default 1 s; negative: not
	// at all). A phone that answers within it makes the first GET the
	// redirect, one HTTP exchange less per login. A browser gets the
	// waiting page at once, whatever this says.
	AuthorizeFirstHold time.Duration `yaml:"authorize_first_hold" json:"authorize_first_hold,omitempty"`
	// MaxPending bounds the logins under way at once (default 10,000);
	// past it /authorize answers temporarily_unavailable.
	MaxPending int `yaml:"max_pending" json:"max_pending,omitempty"`
	// Quota, when set, allows each client so many authorize, si-authorize
	// and token requests per QuotaWindow (default a day) and answers 429
	// with Retry-After beyond (the demo environment's 100 calls a day).
	Quota       int           `yaml:"quota" json:"quota,omitempty"`
	QuotaWindow time.Duration `yaml:"quota_window" json:"quota_window,omitempty"`
	// SMPPSystemID and SMPPPassword are the gateway's SMPP account when the
	// server requires accounts; Source is the address its challenges come
	// from (default 99955513).
	SMPPSystemID string `yaml:"smpp_system_id" json:"smpp_system_id,omitempty"`
	SMPPPassword string `yaml:"smpp_password" json:"-"`
	Source       string `yaml:"source" json:"source,omitempty"`
}

// Client is a registered relying party.
type Client struct {
	ID     string `yaml:"client_id" json:"client_id"`
	Secret string `yaml:"client_secret" json:"client_secret,omitempty"`
	// RedirectURIs are matched exactly. LoopbackRedirects also accepts any
	// http(s) URI on a loopback host (the demo client).
	RedirectURIs      []string `yaml:"redirect_uris" json:"redirect_uris,omitempty"`
	LoopbackRedirects bool     `yaml:"loopback_redirects" json:"loopback_redirects,omitempty"`
	// ClientNames are the names the client may show on the phone
	// (client_name); the first is the default.
	ClientNames []string `yaml:"client_names" json:"client_names,omitempty"`
	// NotificationURIs are the SI notification_uri values allowed
	// (loopback ones too with LoopbackRedirects).
	NotificationURIs []string `yaml:"notification_uris" json:"notification_uris,omitempty"`
	// JWKS holds the client's public keys (a JSON Web Key Set) for
	// request objects and login_hint_tokens signed RS256/ES256; HS256 uses
	// the secret.
	JWKS string `yaml:"jwks" json:"jwks,omitempty"`
	// IDTokenAlg is the id_token algorithm for this client (ES256 or
	// RS256; default the gateway's).
	IDTokenAlg string `yaml:"id_token_signed_response_alg" json:"id_token_signed_response_alg,omitempty"`
	// CIBAMode is the client's CIBA token delivery mode (poll, ping or
	// push; default poll); CIBANotificationURI its client notification
	// endpoint for ping and push (CIBA Core §4).
	CIBAMode            string `yaml:"backchannel_token_delivery_mode" json:"backchannel_token_delivery_mode,omitempty"`
	CIBANotificationURI string `yaml:"backchannel_client_notification_endpoint" json:"backchannel_client_notification_endpoint,omitempty"`
	// OTP makes this client's logins use an SMS one-time code.
	OTP bool `yaml:"otp" json:"otp,omitempty"`
	// Disabled refuses the client's requests (access_denied).
	Disabled bool `yaml:"disabled" json:"disabled,omitempty"`
}

// Demo client: it mirrors the public demo environment of the seed's
// Mobile Connect API. It is for tests only: its secret is published.
const (
	DemoClientID     = "odRmlfWY0CWcHOo8RcrKO6wTg2jwrqe0"
	DemoClientSecret = "simlab-demo-secret"
)

// DemoClient returns the built-in test-only client: any loopback
// redirect_uri and notification_uri, client_names demo, service, login,
// pay, test and bevestig, request objects signed with DemoRequestKey.
func DemoClient() Client {
	return Client{ID: DemoClientID, Secret: DemoClientSecret, LoopbackRedirects: true,
		ClientNames: []string{"demo", "service", "login", "pay", "test", "bevestig"}, JWKS: demoJWKS()}
}

// Default lifetimes and limits.
const (
	DefaultChallengeTimeout   = 60 * time.Second
	DefaultCodeTTL            = 5 * time.Minute
	DefaultTokenTTL           = time.Hour
	DefaultRefreshTTL         = 24 * time.Hour
	DefaultSITTL              = 5 * time.Minute
	DefaultMaxPending         = 10000
	DefaultAuthorizeHold      = 5 * time.Second
	DefaultAuthorizeFirstHold = time.Second
	DefaultSource             = "99955513"
	// DefaultPath is the issuer's path on simlab's HTTP listener.
	DefaultPath = "/mc"
)

// WithDefaults returns c with empty fields set.
func (c Config) WithDefaults() Config {
	if c.SigningAlg == "" {
		c.SigningAlg = "ES256"
	}
	if c.ChallengeTimeout <= 0 {
		c.ChallengeTimeout = DefaultChallengeTimeout
	}
	if c.CodeTTL <= 0 {
		c.CodeTTL = DefaultCodeTTL
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	if c.SITTL <= 0 {
		c.SITTL = DefaultSITTL
	}
	if c.AuthorizeHold == 0 {
		c.AuthorizeHold = DefaultAuthorizeHold
	}
	if c.AuthorizeFirstHold == 0 {
		c.AuthorizeFirstHold = DefaultAuthorizeFirstHold
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.QuotaWindow <= 0 {
		c.QuotaWindow = 24 * time.Hour
	}
	if c.Source == "" {
		c.Source = DefaultSource
	}
	return c
}

// Validate checks the issuer and the clients.
func (c Config) Validate() error {
	if c.Issuer != "" {
		u, err := url.Parse(c.Issuer)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("mobileconnect: issuer %q: want http(s)://host[:port][/path] without query or fragment", c.Issuer)
		}
	}
	switch c.SigningAlg {
	case "", "ES256", "RS256":
	default:
		return fmt.Errorf("mobileconnect: signing_alg %q: want ES256 or RS256", c.SigningAlg)
	}
	seen := map[string]bool{}
	for _, cl := range c.Clients {
		if err := cl.Validate(); err != nil {
			return err
		}
		if seen[cl.ID] {
			return fmt.Errorf("mobileconnect: client %q registered twice", cl.ID)
		}
		seen[cl.ID] = true
	}
	return nil
}

// maxClientName is the applet's client_name limit in bytes
// (docs/applet-protocol.md, tag 83).
const maxClientName = 40

// Validate checks one client registration.
func (cl Client) Validate() error {
	if cl.ID == "" || len(cl.ID) > 200 {
		return errors.New("mobileconnect: client_id is missing or longer than 200 bytes")
	}
	if cl.Secret == "" && cl.JWKS == "" {
		return fmt.Errorf("mobileconnect: client %q: needs a client_secret (or jwks for SI only)", cl.ID)
	}
	if len(cl.RedirectURIs) == 0 && !cl.LoopbackRedirects && len(cl.NotificationURIs) == 0 {
		return fmt.Errorf("mobileconnect: client %q: no redirect_uris", cl.ID)
	}
	for _, u := range append(slices.Clone(cl.RedirectURIs), cl.NotificationURIs...) {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.Fragment != "" {
			return fmt.Errorf("mobileconnect: client %q: URI %q: want an absolute http(s) URI without fragment", cl.ID, u)
		}
	}
	for _, n := range cl.ClientNames {
		if n == "" || len(n) > maxClientName {
			return fmt.Errorf("mobileconnect: client %q: client_name %q: 1 to %d bytes", cl.ID, n, maxClientName)
		}
	}
	switch cl.IDTokenAlg {
	case "", "ES256", "RS256":
	default:
		return fmt.Errorf("mobileconnect: client %q: id_token_signed_response_alg %q: want ES256 or RS256", cl.ID, cl.IDTokenAlg)
	}
	switch cl.CIBAMode {
	case "", "poll":
	case "ping", "push":
		if cl.CIBANotificationURI == "" {
			return fmt.Errorf("mobileconnect: client %q: CIBA %s mode needs backchannel_client_notification_endpoint", cl.ID, cl.CIBAMode)
		}
	default:
		return fmt.Errorf("mobileconnect: client %q: backchannel_token_delivery_mode %q: want poll, ping or push", cl.ID, cl.CIBAMode)
	}
	if cl.CIBANotificationURI != "" {
		if p, err := url.Parse(cl.CIBANotificationURI); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("mobileconnect: client %q: backchannel_client_notification_endpoint must be an http(s) URI", cl.ID)
		}
	}
	if cl.JWKS != "" {
		if _, err := parseJWKS(cl.JWKS); err != nil {
			return fmt.Errorf("mobileconnect: client %q: %w", cl.ID, err)
		}
	}
	return nil
}

// redirectAllowed reports whether uri is one of the client's redirect URIs.
func (cl *Client) redirectAllowed(uri string) bool {
	if slices.Contains(cl.RedirectURIs, uri) {
		return true
	}
	return cl.LoopbackRedirects && isLoopbackURI(uri)
}

// notificationAllowed reports whether uri may receive SI notifications.
func (cl *Client) notificationAllowed(uri string) bool {
	if slices.Contains(cl.NotificationURIs, uri) {
		return true
	}
	return cl.LoopbackRedirects && isLoopbackURI(uri)
}

// isLoopbackURI reports whether uri is an absolute http(s) URI on a
// loopback host, without fragment.
func isLoopbackURI(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" || u.User != nil {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// clientName returns the name shown on the phone: the asked one when the
// client may use it, else the client's first name.
func (cl *Client) defaultName() string {
	if len(cl.ClientNames) > 0 {
		return cl.ClientNames[0]
	}
	if len(cl.ID) <= maxClientName {
		return cl.ID
	}
	return cl.ID[:maxClientName]
}
