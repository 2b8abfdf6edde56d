// Package mobileconnect is simlab's Mobile Connect gateway: the operator's
// OpenID Connect face (GSMA Mobile Connect, redirect and Server-Initiated,
// and OpenID CIBA) that authenticates every login through simlab's own
// phones. A login runs the real SIM challenge — seal → SMPP → handset →
// card applet → person → signed answer → verify — through a push.Pusher
// bound to the SMSC, so it shows in the capture API and in the phone's
// events like any push (docs/mobile-connect.md).
//
// The endpoints are hand-written on net/http with go-jose for JWS and JWK.
// No Go OpenID provider library fits an operator gateway's quirks: the
// mandatory version and acr_values in order of preference, login_hint
// kinds, mc_authz texts, the headless re-GET of /authorize that must be
// idempotent per (client_id, state, nonce) and answer "still waiting",
// Server-Initiated requests with their notifications, CIBA push mode, and
// fault injection for relying-party tests (zitadel/oidc's op and
// ory/fosite parse and answer these themselves, and neither offers SI or
// CIBA push). Conformance is earned instead by tests with real relying
// parties (go-oidc, zitadel/oidc's rp, openid-client) and ports of the
// OpenID oidcc-basic checks.
package mobileconnect

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

// Challenger is what the gateway asks of the operator's push platform:
// *push.Pusher bound over SMPP to the SMSC.
type Challenger interface {
	// Push runs one SIM applet challenge and waits for its outcome.
	Push(ctx context.Context, r push.Request) (push.Result, error)
	// SendText sends a plain SMS (SMS+URL and one-time codes).
	SendText(ctx context.Context, msisdn, text string, validity time.Duration) ([]string, error)
	// AwaitReceipt waits for the delivery receipt of a SendText part.
	AwaitReceipt(ctx context.Context, id string) (*client.Receipt, error)
}

// Subscriber is what the operator knows of a number: whether it is a
// Mobile Connect user, and which authenticators it has.
type Subscriber struct {
	MSISDN string
	// Known is false for numbers the operator does not serve.
	Known bool
	// Applet: the SIM carries the authenticator applet (SIM_OK, SIM_PIN);
	// without it the subscriber gets SMS+URL (LoA2 only).
	Applet bool
	// OTP: the subscriber logs in with an SMS one-time code typed on the
	// gateway's page (OTP_OK, LoA2 only).
	OTP bool
}

// Directory looks subscribers up (the operator's subscriber database).
type Directory interface {
	Subscriber(ctx context.Context, msisdn string) (Subscriber, error)
}

// DirectoryFunc adapts a function to Directory.
type DirectoryFunc func(ctx context.Context, msisdn string) (Subscriber, error)

// Subscriber implements Directory.
func (f DirectoryFunc) Subscriber(ctx context.Context, msisdn string) (Subscriber, error) {
	return f(ctx, msisdn)
}

// Deps are the gateway's collaborators, injected so tests run it against
// a real SMSC and fleet with a fake clock.
type Deps struct {
	Challenger Challenger
	Directory  Directory
	// Keystore holds the gateway's keys; nil opens Config.Keystore, or an
	// in-memory store.
	Keystore hsm.Keystore
	// Now is the clock (default time.Now); Rand the randomness for codes,
	// tokens and ids (default crypto/rand).
	Now  func() time.Time
	Rand io.Reader
	// HTTPClient sends SI and CIBA notifications (default: 10 s timeout).
	HTTPClient *http.Client
	// Logger gets operational logs, never secrets, codes or tokens.
	Logger *slog.Logger
	// After waits for SI notification retries (default time.After), so
	// tests run backoff in fake time.
	After func(time.Duration) <-chan time.Time
	// OnLogin, when set, hears every step of every login (events.go):
	// called on the login's goroutine, it must not block.
	OnLogin func(LoginEvent)
}

// Gateway is a running Mobile Connect gateway.
type Gateway struct {
	cfg     Config
	issuer  string
	path    string // the issuer URL's path: the endpoints' prefix
	deps    Deps
	keys    *keyRing
	ownKS   bool
	log     *slog.Logger
	ctx     context.Context // ends with Close; logins and notifications run under it
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	clients *clients
	st      *state
	faults  *faults
	quota   *quota
	otpNums map[string]bool
	// discoveryJSON is the discovery document, encoded once.
	discoveryJSON []byte
	// realAfter is true when Deps.After is time.After: an authorize hold
	// then waits on a pooled timer (holdTimer) instead of a new one.
	realAfter bool
}

// New builds a gateway. issuer is the issuer URL when cfg.Issuer is empty
// (`simlab serve` derives it from the HTTP address).
func New(ctx context.Context, cfg Config, issuer string, d Deps) (*Gateway, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Issuer != "" {
		issuer = cfg.Issuer
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("mobileconnect: issuer %q is not an http(s) URL", issuer)
	}
	if d.Challenger == nil || d.Directory == nil {
		return nil, fmt.Errorf("mobileconnect: a Challenger and a Directory are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	realAfter := d.After == nil
	if realAfter {
		d.After = time.After
	}
	if d.OnLogin != nil {
		d.Challenger = tracedChallenger{d.Challenger}
	}
	g := &Gateway{cfg: cfg, issuer: strings.TrimRight(issuer, "/"), path: strings.TrimRight(u.Path, "/"), deps: d, log: d.Logger,
		realAfter: realAfter}
	if d.Keystore == nil {
		if cfg.Keystore != "" {
			if d.Keystore, err = hsm.Open(ctx, cfg.Keystore); err != nil {
				return nil, fmt.Errorf("mobileconnect: keystore: %w", err)
			}
		} else {
			d.Keystore = newMemoryKeystore()
		}
		g.deps.Keystore, g.ownKS = d.Keystore, true
	}
	ttl := max(cfg.TokenTTL, cfg.SITTL+cfg.TokenTTL)
	if g.keys, err = newKeyRing(ctx, g.deps.Keystore, d.Now, ttl); err != nil {
		g.closeKeystore()
		return nil, err
	}
	g.clients = newClients(cfg)
	g.st = newState()
	g.faults = &faults{}
	g.quota = newQuota(cfg.Quota, cfg.QuotaWindow)
	g.otpNums = map[string]bool{}
	for _, n := range cfg.OTPNumbers {
		g.otpNums[strings.TrimPrefix(n, "+")] = true
	}
	if g.discoveryJSON, err = json.Marshal(g.discovery()); err != nil {
		g.closeKeystore()
		return nil, fmt.Errorf("mobileconnect: discovery: %w", err)
	}
	g.discoveryJSON = append(g.discoveryJSON, '\n')
	g.ctx, g.cancel = context.WithCancel(context.Background())
	return g, nil
}

func (g *Gateway) closeKeystore() {
	if g.ownKS && g.deps.Keystore != nil {
		_ = g.deps.Keystore.Close()
	}
}

// Close ends the logins and notifications under way and waits for them.
func (g *Gateway) Close() error {
	g.cancel()
	g.wg.Wait()
	g.keys.settle() // the key store stays open while keys are made
	g.closeKeystore()
	return nil
}

// Issuer is the issuer URL (no trailing slash).
func (g *Gateway) Issuer() string { return g.issuer }

// Path is the issuer URL's path, where Register mounts the endpoints.
func (g *Gateway) Path() string { return g.path }

// go runs f under the gateway's context, counted for Close.
func (g *Gateway) goCtx(f func(ctx context.Context)) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f(g.ctx)
	}()
}

// Mux is where the gateway mounts its handlers: an *http.ServeMux, or a
// server's registration that puts them behind its own rules.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register mounts the gateway's endpoints under its issuer path on public
// (relying parties call them with their own client credentials, and the
// person's browser reaches the pages), and its control API under
// /api/v1/mc/ on control (behind the server's API auth). Go 1.22 method
// patterns, all in this one function.
func (g *Gateway) Register(public, control Mux) {
	p := g.path
	pub := func(pattern string, h http.HandlerFunc) { public.Handle(pattern, h) }
	pub("GET "+p+"/.well-known/openid-configuration", g.handleDiscovery)
	pub("GET "+p+"/jwks", g.handleJWKS)
	pub("GET "+p+"/authorize", g.handleAuthorize)
	pub("POST "+p+"/authorize", g.handleAuthorize)
	pub("POST "+p+"/otp", g.handleOTP)
	pub("GET "+p+"/l/{token}", g.handleLink)
	pub("GET "+p+"/static/app.css", g.handleStylesheet)
	pub("POST "+p+"/token", g.handleToken)
	pub("GET "+p+"/userinfo", g.handleUserinfo)
	pub("POST "+p+"/userinfo", g.handleUserinfo)
	pub("POST "+p+"/si-authorize", g.handleSIAuthorize)
	pub("POST "+p+"/bc-authorize", g.handleBackchannel)
	ctl := func(pattern string, h http.HandlerFunc) { control.Handle(pattern, h) }
	ctl("GET /api/v1/mc/clients", g.handleListClients)
	ctl("POST /api/v1/mc/clients", g.handleAddClient)
	ctl("DELETE /api/v1/mc/clients/{id}", g.handleDeleteClient)
	ctl("POST /api/v1/mc/keys/rotate", g.handleRotate)
	ctl("GET /api/v1/mc/faults", g.handleGetFaults)
	ctl("POST /api/v1/mc/faults", g.handleAddFault)
	ctl("DELETE /api/v1/mc/faults", g.handleDeleteFaults)
}

// Handler returns the gateway alone on a mux (for tests and embedding).
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	g.Register(mux, mux)
	return mux
}

// Discovery is the OpenID Provider metadata (OpenID Connect Discovery 1.0
// §3) with Mobile Connect's additions (MOBILE-CONNECT.md §1.2) and CIBA's.
type Discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	SIAuthorizationEndpoint           string   `json:"si_authorization_endpoint"`
	BackchannelEndpoint               string   `json:"backchannel_authentication_endpoint"`
	BackchannelModes                  []string `json:"backchannel_token_delivery_modes_supported"`
	BackchannelSigningAlgs            []string `json:"backchannel_authentication_request_signing_alg_values_supported"`
	BackchannelUserCode               bool     `json:"backchannel_user_code_parameter_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgs                []string `json:"id_token_signing_alg_values_supported"`
	RequestObjectSigningAlgs          []string `json:"request_object_signing_alg_values_supported"`
	TokenEndpointAuthMethods          []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	ClaimsParameterSupported          bool     `json:"claims_parameter_supported"`
	MCClaimsParameterSupported        bool     `json:"mc_claims_parameter_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ACRValuesSupported                []string `json:"acr_values_supported"`
	UILocalesSupported                []string `json:"ui_locales_supported"`
	DisplayValuesSupported            []string `json:"display_values_supported"`
	PromptValuesSupported             []string `json:"prompt_values_supported"`
	MCVersion                         []string `json:"mc_version"`
	MCDIScopesSupported               []string `json:"mc_di_scopes_supported"`
	MCAMRValuesSupported              []string `json:"mc_amr_values_supported"`
	LoginHintMethodsSupported         []string `json:"login_hint_methods_supported"`
	MCHashAlgsSupported               []string `json:"mc_hash_algs_supported"`
	AuthorizationResponseIssParameter bool     `json:"authorization_response_iss_parameter_supported"`
}

// AMR values (MOBILE-CONNECT.md §1.4).
const (
	AMRSIMOK    = "SIM_OK"
	AMRSIMPIN   = "SIM_PIN"
	AMRSMSURLOK = "SMS_URL_OK"
	AMROTPOK    = "OTP_OK"
)

func (g *Gateway) discovery() Discovery {
	e := g.issuer
	return Discovery{
		Issuer: e, AuthorizationEndpoint: e + "/authorize", TokenEndpoint: e + "/token", UserinfoEndpoint: e + "/userinfo",
		JWKSURI: e + "/jwks", SIAuthorizationEndpoint: e + "/si-authorize", BackchannelEndpoint: e + "/bc-authorize",
		BackchannelModes:         []string{"poll", "ping", "push"},
		BackchannelSigningAlgs:   []string{"RS256", "ES256", "HS256"},
		ScopesSupported:          []string{"openid", "mc_authn", "mc_authz", "phone", "offline_access"},
		ResponseTypesSupported:   []string{"code", "mc_si_async_code", "mc_si_polling"},
		ResponseModesSupported:   []string{"query"},
		GrantTypesSupported:      []string{grantCode, grantRefresh, GrantSI, GrantCIBA},
		SubjectTypesSupported:    []string{"pairwise"},
		IDTokenSigningAlgs:       []string{"ES256", "RS256"},
		RequestObjectSigningAlgs: []string{"RS256", "ES256", "HS256"},
		TokenEndpointAuthMethods: []string{"client_secret_basic", "client_secret_post"},
		ClaimsSupported: []string{"iss", "aud", "azp", "sub", "acr", "amr", "nonce", "auth_time", "iat", "exp", "jti", "at_hash",
			"hashed_login_hint", "displayed_data", "dts", "dts_time", "upk", "recipient", "phone_number", "phone_number_verified"},
		ClaimsParameterSupported: true, MCClaimsParameterSupported: true,
		CodeChallengeMethodsSupported: []string{"S256"},
		ACRValuesSupported:            []string{"2", "3"},
		UILocalesSupported:            []string{"en"},
		DisplayValuesSupported:        []string{"page"},
		PromptValuesSupported:         []string{"none", "login", "consent", "select_account", "no_seam"},
		MCVersion:                     append(append([]string(nil), diVersions...), siVersion),
		MCDIScopesSupported:           []string{"openid", "mc_authn", "mc_authz"},
		MCAMRValuesSupported:          []string{AMRSIMOK, AMRSIMPIN, AMRSMSURLOK, AMROTPOK},
		LoginHintMethodsSupported:     []string{HintMSISDN, HintEncrMSISDN, HintPCR},
		MCHashAlgsSupported:           []string{"SHA-256"},
	}
}

// handleDiscovery serves the discovery document, encoded once in New.
func (g *Gateway) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeRawJSON(w, g.discoveryJSON)
}

func (g *Gateway) handleJWKS(w http.ResponseWriter, r *http.Request) {
	b, err := g.keys.jwksJSON()
	if err != nil {
		g.log.Error("mc: JWKS", "err", err)
		newError(ErrServerError, "the key set could not be encoded").writeJSON(w)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeRawJSON(w, b)
}

// writeRawJSON writes an encoded JSON document, 200.
func writeRawJSON(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// Header values of every login's answers, made once and shared: net/http
// only reads a header's values, and Set or Add elsewhere replaces or
// copies the slice rather than writing into it. The keys are canonical.
var (
	hdrNoStore = []string{"no-store"}
	hdrNoCache = []string{"no-cache"}
	hdrJSON    = []string{"application/json"}
)

// algFor is the id_token algorithm for a client.
func (g *Gateway) algFor(cl *Client) jose.SignatureAlgorithm {
	if cl != nil && cl.IDTokenAlg != "" {
		return jose.SignatureAlgorithm(cl.IDTokenAlg)
	}
	return jose.SignatureAlgorithm(g.cfg.SigningAlg)
}
