package mobileconnect

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mobile Connect versions (MOBILE-CONNECT.md §1.1): the redirect (DI)
// versions /authorize takes, and the Server-Initiated one.
var (
	diVersions = []string{"mc_v1.1", "mc_v2.0", "mc_di_r2_v2.3"}
	siVersion  = "mc_si_r2_v1.0"
)

// Limits on what a request may carry, in bytes.
const (
	maxParam        = 2048 // one parameter value
	maxClaims       = 4096 // the claims parameter
	maxStateNonce   = 512
	maxTexts        = 93 // binding_message + context, UTF-8 (docs/applet-protocol.md)
	maxRequestBytes = 64 << 10
)

// AuthRequest is an authorization request as /authorize (or a request
// object, for SI) carries it, after the syntax checks of ParseAuthorize.
type AuthRequest struct {
	ClientID     string
	RedirectURI  string
	ResponseType string
	Scope        []string
	Version      string
	// ACR is acr_values in order of preference: "3", "2".
	ACR   []string
	State string
	Nonce string
	// LoginHint is login_hint as sent ("MSISDN:…", "ENCR_MSISDN:…",
	// "PCR:…"); LoginHintToken is login_hint_token.
	LoginHint      string
	LoginHintToken string
	// Authz is true for mc_authz (client_name and context required).
	Authz          bool
	ClientName     string
	Context        string
	BindingMessage string
	Prompt         []string
	MaxAge         int // -1: absent
	Claims         *ClaimsRequest
	UILocales      []string
	CodeChallenge  string
	// CorrelationID is echoed in SI notifications.
	CorrelationID string
	DTBS          string
	// tokenHint is the login hint a login_hint_token carried, once
	// resolveHint has read it: what hashed_login_hint hashes then.
	tokenHint string
}

// ClaimsRequest is the part of the claims parameter (OpenID Connect Core
// §5.5) the gateway acts on: an essential acr with the values it accepts.
type ClaimsRequest struct {
	IDToken  map[string]*ClaimSpec `json:"id_token,omitempty"`
	UserInfo map[string]*ClaimSpec `json:"userinfo,omitempty"`
}

// ClaimSpec is one requested claim.
type ClaimSpec struct {
	Essential bool     `json:"essential,omitempty"`
	Value     any      `json:"value,omitempty"`
	Values    []string `json:"values,omitempty"`
}

// hasScope reports whether s is in the request's scope.
func (a *AuthRequest) hasScope(s string) bool { return slices.Contains(a.Scope, s) }

// authorizeParams are the parameters ParseAuthorize reads, in the order
// of the ap* indexes; each may appear once (RFC 6749 §3.1). Others are
// ignored (OpenID Connect Core §3.1.2.1; the GSMA SDKs send `max-age`).
var authorizeParams = [...]string{"client_id", "redirect_uri", "response_type", "scope", "version", "acr_values",
	"state", "nonce", "login_hint", "login_hint_token", "client_name", "context", "binding_message", "prompt",
	"max_age", "claims", "ui_locales", "code_challenge", "code_challenge_method", "correlation_id", "dtbs",
	"request", "request_uri", "display", "id_token_hint", "claims_locales"}

// Indexes into authorizeParams.
const (
	apClientID = iota
	apRedirectURI
	apResponseType
	apScope
	apVersion
	apACRValues
	apState
	apNonce
	apLoginHint
	apLoginHintToken
	apClientName
	apContext
	apBindingMessage
	apPrompt
	apMaxAge
	apClaims
	apUILocales
	apCodeChallenge
	apCodeChallengeMethod
	apCorrelationID
	apDTBS
	apRequest
	apRequestURI
	apDisplay
	apIDTokenHint
	apClaimsLocales
	nAuthorizeParams
)

// authorizeParamIndex maps a parameter's name to its index.
var authorizeParamIndex = func() map[string]int {
	m := make(map[string]int, len(authorizeParams))
	for i, k := range authorizeParams {
		m[k] = i
	}
	return m
}()

// authorizeQuery is what ParseAuthorize needs of a request's parameters:
// for each of authorizeParams its first value and how often it appears.
type authorizeQuery struct {
	val [nAuthorizeParams]string
	n   [nAuthorizeParams]int
}

// authorizeQueryOf takes the parameters from url.Values.
func authorizeQueryOf(v url.Values) *authorizeQuery {
	q := new(authorizeQuery)
	for i, k := range authorizeParams {
		if vs := v[k]; len(vs) > 0 {
			q.val[i], q.n[i] = vs[0], len(vs)
		}
	}
	return q
}

// The parameters' character rules are byte loops, not regular
// expressions: they run on every request.

// isMSISDN reports whether s is a number: an optional "+", then 6 to 15
// digits.
func isMSISDN[T string | []byte](s T) bool {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) < 6 || len(s) > 15 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isHex reports whether s is hexadecimal digits (at least one).
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// isPKCE reports whether s is RFC 7636 §4.1's code_verifier or §4.2's
// code_challenge: 43 to 128 unreserved characters.
func isPKCE(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			return false
		}
	}
	return true
}

// isUnreserved is RFC 3986 §2.3.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// ParseAuthorize checks the syntax of an authorization request (the
// parameters of GET or POST /authorize). It returns what it could read
// even with an error, so the caller can tell where the error may be sent:
// only once client_id and redirect_uri are known to belong together
// (RFC 6749 §4.1.2.1). Checks that need the client (client_name,
// redirect_uri registration) are the caller's.
func ParseAuthorize(v url.Values) (AuthRequest, *Error) {
	return authorizeQueryOf(v).parse()
}

// parse is ParseAuthorize over the parameters however they were read.
func (q *authorizeQuery) parse() (AuthRequest, *Error) {
	a := AuthRequest{MaxAge: -1}
	var first *Error
	fail := func(e *Error) {
		if first == nil {
			first = e
		}
	}
	get := func(i int) string {
		k := authorizeParams[i]
		if q.n[i] > 1 {
			fail(newError(ErrInvalidRequest, "parameter "+k+" is repeated"))
		}
		if q.n[i] == 0 {
			return ""
		}
		v := q.val[i]
		if len(v) > maxParam && i != apClaims && i != apLoginHintToken && i != apRequest {
			fail(newError(ErrInvalidRequest, "parameter "+k+" is too long"))
			return ""
		}
		if !utf8.ValidString(v) {
			fail(newError(ErrInvalidRequest, "parameter "+k+" is not UTF-8"))
			return ""
		}
		return v
	}
	// The redirect target first: without it nothing can be redirected.
	a.ClientID = get(apClientID)
	a.RedirectURI = get(apRedirectURI)
	a.State = get(apState)
	if len(a.State) > maxStateNonce {
		a.State = ""
		fail(mandatory("state"))
	}
	if a.ClientID == "" {
		return a, mandatory("client_id")
	}
	if u, err := url.Parse(a.RedirectURI); a.RedirectURI == "" || err != nil || !u.IsAbs() || u.Fragment != "" {
		a.RedirectURI = ""
		return a, mandatory("redirect_uri")
	}
	for i, k := range authorizeParams {
		if q.n[i] > 1 {
			fail(newError(ErrInvalidRequest, "parameter "+k+" is repeated"))
		}
	}
	if get(apRequest) != "" || get(apRequestURI) != "" {
		fail(newError("request_not_supported", "request objects are taken by /si-authorize only"))
	}
	a.ResponseType = get(apResponseType)
	switch a.ResponseType {
	case "code":
	case "":
		fail(mandatory("response_type"))
	default:
		fail(newError(ErrUnsupportedResponseType, "response_type must be code"))
	}
	a.Scope = strings.Fields(get(apScope))
	a.Version = get(apVersion)
	if !slices.Contains(diVersions, a.Version) {
		fail(mandatory("version"))
	}
	var e *Error
	if a.ACR, e = parseACR(get(apACRValues)); e != nil {
		fail(e)
	}
	a.Nonce = get(apNonce)
	if a.Nonce == "" || len(a.Nonce) > maxStateNonce {
		fail(mandatory("nonce"))
	}
	if a.State == "" {
		fail(mandatory("state"))
	}
	if e := checkScope(&a); e != nil {
		fail(e)
	}
	a.LoginHint = get(apLoginHint)
	a.LoginHintToken = get(apLoginHintToken)
	if a.LoginHint != "" {
		if _, _, e := parseLoginHint(a.LoginHint); e != nil {
			fail(e)
		}
	}
	if a.LoginHint != "" && a.LoginHintToken != "" {
		fail(newError(ErrInvalidRequest, "login_hint and login_hint_token are mutually exclusive"))
	}
	if len(a.LoginHintToken) > maxParam*4 {
		fail(newError(ErrInvalidRequest, "login_hint_token is too long"))
	}
	a.ClientName = get(apClientName)
	a.Context = get(apContext)
	a.BindingMessage = get(apBindingMessage)
	if e := checkTexts(&a); e != nil {
		fail(e)
	}
	if p := get(apPrompt); p != "" {
		a.Prompt = strings.Fields(p)
		for _, x := range a.Prompt {
			switch x {
			case "none", "login", "consent", "select_account", "no_seam":
			default:
				fail(newError(ErrInvalidRequest, "prompt value "+strconv.Quote(x)+" is not supported"))
			}
		}
		if slices.Contains(a.Prompt, "none") && len(a.Prompt) > 1 {
			fail(newError(ErrInvalidRequest, "prompt=none cannot be combined with other values"))
		}
	}
	if m := get(apMaxAge); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			fail(newError(ErrInvalidRequest, "max_age must be a non-negative integer"))
		} else {
			a.MaxAge = n
		}
	}
	if c := get(apClaims); c != "" {
		if len(c) > maxClaims {
			fail(newError(ErrInvalidRequest, "claims is too long"))
		} else {
			var cr ClaimsRequest
			if err := json.Unmarshal([]byte(c), &cr); err != nil {
				fail(newError(ErrInvalidRequest, "claims is not a valid JSON claims request"))
			} else {
				a.Claims = &cr
				if e := applyClaimsACR(&a); e != nil {
					fail(e)
				}
			}
		}
	}
	a.UILocales = strings.Fields(get(apUILocales))
	a.CodeChallenge = get(apCodeChallenge)
	method := get(apCodeChallengeMethod)
	if a.CodeChallenge != "" {
		if method != "S256" {
			fail(newError(ErrInvalidRequest, "code_challenge_method must be S256"))
		} else if !isPKCE(a.CodeChallenge) {
			fail(newError(ErrInvalidRequest, "code_challenge is malformed"))
		}
	} else if method != "" {
		fail(newError(ErrInvalidRequest, "code_challenge_method without code_challenge"))
	}
	a.CorrelationID = get(apCorrelationID)
	a.DTBS = get(apDTBS)
	get(apDisplay)
	get(apIDTokenHint)
	get(apClaimsLocales)
	return a, first
}

// parseACR reads acr_values: a space-separated list of "2" and "3" in
// order of preference (OpenID Connect Core §3.1.2.1), each at most once.
func parseACR(s string) ([]string, *Error) {
	f := strings.Fields(s)
	bad := len(f) == 0 || len(f) > 2
	for i, x := range f {
		if (x != "2" && x != "3") || slices.Contains(f[:i], x) {
			bad = true
		}
	}
	if bad {
		return nil, mandatory("acr_values")
	}
	return f, nil
}

// checkScope requires openid and a Mobile Connect product: mc_authn or
// mc_authz. Other scope values are ignored (OpenID Connect Core §3.1.2.1).
func checkScope(a *AuthRequest) *Error {
	if len(a.Scope) == 0 {
		return mandatory("scope")
	}
	if !a.hasScope("openid") {
		return newError(ErrInvalidScope, "scope must contain openid")
	}
	a.Authz = a.hasScope("mc_authz")
	if !a.Authz && !a.hasScope("mc_authn") {
		return newError(ErrInvalidScope, "scope must contain mc_authn or mc_authz")
	}
	return nil
}

// checkTexts applies the rules for what the phone shows: for mc_authz
// client_name and context are required; binding_message and context
// together are at most 93 bytes of UTF-8; client_name at most 40.
func checkTexts(a *AuthRequest) *Error {
	if a.Authz {
		if a.ClientName == "" {
			return mandatory("client_name")
		}
		if a.Context == "" {
			return mandatory("context")
		}
	}
	if len(a.ClientName) > maxClientName {
		return newError(ErrInvalidRequest, "client_name is longer than 40 bytes")
	}
	if len(a.BindingMessage)+len(a.Context) > maxTexts {
		return newError(ErrInvalidRequest, "binding_message and context together are longer than 93 bytes")
	}
	return nil
}

// applyClaimsACR narrows acr_values to the values of an essential acr
// claim (OpenID Connect Core §5.5.1.1), keeping the order of preference.
func applyClaimsACR(a *AuthRequest) *Error {
	spec := a.Claims.IDToken["acr"]
	if spec == nil || !spec.Essential {
		return nil
	}
	vals := spec.Values
	if s, ok := spec.Value.(string); ok {
		vals = append(vals, s)
	}
	if len(vals) == 0 {
		return nil
	}
	var keep []string
	for _, x := range a.ACR {
		if slices.Contains(vals, x) {
			keep = append(keep, x)
		}
	}
	if len(keep) == 0 {
		return newError(ErrInvalidRequest, "the essential acr in claims matches none of acr_values")
	}
	a.ACR = keep
	return nil
}

// Login hint kinds (discovery's login_hint_methods_supported).
const (
	HintMSISDN     = "MSISDN"
	HintEncrMSISDN = "ENCR_MSISDN"
	HintPCR        = "PCR"
)

// parseLoginHint splits a login_hint into its kind and value and checks
// the value's syntax: MSISDN:<6..15 digits, + allowed>, ENCR_MSISDN:<hex>,
// PCR:<the gateway's PCR>.
func parseLoginHint(h string) (kind, value string, e *Error) {
	kind, value, ok := strings.Cut(h, ":")
	if !ok {
		return "", "", newError(ErrInvalidRequest, "login_hint must be MSISDN:…, ENCR_MSISDN:… or PCR:…")
	}
	switch strings.ToUpper(kind) {
	case HintMSISDN:
		if !isMSISDN(value) {
			return "", "", newError(ErrInvalidRequest, "login_hint MSISDN must be the number in E.164 digits")
		}
		return HintMSISDN, strings.TrimPrefix(value, "+"), nil
	case HintEncrMSISDN:
		if len(value)%2 != 0 || len(value) < 64 || len(value) > 1024 || !isHex(value) {
			return "", "", newError(ErrInvalidRequest, "login_hint ENCR_MSISDN must be hex RSA ciphertext")
		}
		return HintEncrMSISDN, value, nil
	case HintPCR:
		if value == "" || len(value) > 128 {
			return "", "", newError(ErrInvalidRequest, "login_hint PCR is malformed")
		}
		return HintPCR, value, nil
	}
	return "", "", newError(ErrInvalidRequest, "login_hint must be MSISDN:…, ENCR_MSISDN:… or PCR:…")
}

// tokenRequest is a token endpoint request's form (RFC 6749 §4.1.3, §6;
// the SI and CIBA grants).
type tokenRequest struct {
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	AuthReqID    string
	ClientID     string
	ClientSecret string
	Scope        string
}

// Grant types.
const (
	grantCode    = "authorization_code"
	grantRefresh = "refresh_token"
	// GrantSI is Mobile Connect's Server-Initiated polling grant.
	GrantSI = "urn:openid:params:mc:grant_type:server_initiated"
	// GrantCIBA is CIBA Core §10.1's grant.
	GrantCIBA = "urn:openid:params:grant-type:ciba"
)

// parseTokenForm checks a token request's parameters: each at most once,
// each bounded, the grant's own parameters present.
func parseTokenForm(v url.Values) (tokenRequest, *Error) {
	var t tokenRequest
	for k, vs := range v {
		if len(vs) > 1 {
			return t, newError(ErrInvalidRequest, "parameter "+k+" is repeated")
		}
		if len(vs[0]) > maxParam {
			return t, newError(ErrInvalidRequest, "parameter "+k+" is too long")
		}
	}
	return checkTokenRequest(tokenRequest{GrantType: v.Get("grant_type"), Code: v.Get("code"), RedirectURI: v.Get("redirect_uri"),
		CodeVerifier: v.Get("code_verifier"), RefreshToken: v.Get("refresh_token"), AuthReqID: v.Get("auth_req_id"),
		ClientID: v.Get("client_id"), ClientSecret: v.Get("client_secret"), Scope: v.Get("scope")})
}

// checkTokenRequest checks that the grant's own parameters are present.
func checkTokenRequest(t tokenRequest) (tokenRequest, *Error) {
	switch t.GrantType {
	case "":
		return t, mandatory("grant_type")
	case grantCode:
		if t.Code == "" {
			return t, mandatory("code")
		}
		if t.CodeVerifier != "" && !isPKCE(t.CodeVerifier) {
			return t, newError(ErrInvalidRequest, "code_verifier is malformed")
		}
	case grantRefresh:
		if t.RefreshToken == "" {
			return t, mandatory("refresh_token")
		}
	case GrantSI, GrantCIBA:
		if t.AuthReqID == "" {
			return t, mandatory("auth_req_id")
		}
	default:
		return t, newError(ErrUnsupportedGrantType, "grant_type is not supported")
	}
	return t, nil
}
