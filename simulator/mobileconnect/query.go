package mobileconnect

import (
	"net/url"
	"slices"
	"strings"
)

// Reading a query string in one pass. url.ParseQuery builds a map of
// slices and unescapes every key and value: about a dozen allocations for
// an /authorize request whose handler wants 26 known names. The readers
// here keep url.ParseQuery's semantics exactly (FuzzParseAuthorize checks
// them against it) but keep only the known names' values, as substrings
// of the query where nothing needs unescaping.

// queryFallback is the count of "&" from which a query is handed to
// url.ParseQuery instead: it alone applies the GODEBUG urlmaxqueryparams
// limit (10,000 by default), and no client sends that many.
const queryFallback = 1000

// readAuthorizeQuery reads /authorize's parameters from a raw query as
// url.ParseQuery (r.URL.Query, errors ignored) then authorizeQueryOf
// would: pairs split at "&", a pair holding ";" or failing to unescape
// dropped, "+" a space.
func readAuthorizeQuery(raw string) *authorizeQuery {
	if strings.Count(raw, "&") >= queryFallback {
		v, _ := url.ParseQuery(raw)
		return authorizeQueryOf(v)
	}
	q := new(authorizeQuery)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok := queryUnescape(k)
		if !ok {
			continue
		}
		i, known := authorizeParamIndex[k]
		if !known {
			continue
		}
		if v, ok = queryUnescape(v); !ok {
			continue
		}
		if q.n[i] == 0 {
			q.val[i] = v
		}
		q.n[i]++
	}
	return q
}

// queryUnescape is url.QueryUnescape, returning s itself (no copy) when
// it holds no escape and no "+".
func queryUnescape(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// tokenFormFields are the names a token request's form is read for, in
// tokenRequest's field order.
var tokenFormFields = [...]string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "auth_req_id",
	"client_id", "client_secret", "scope"}

// errFormUnreadable is postForm's answer to a form that does not parse.
func errFormUnreadable() *Error { return newError(ErrInvalidRequest, "the form could not be read") }

// readTokenForm reads a token request's form body as r.ParseForm then
// parseTokenForm would: a form url.ParseQuery refuses is unreadable;
// every name, known or not, at most once and its value at most maxParam
// bytes. Only the known names' values are kept.
func readTokenForm(body string) (tokenRequest, *Error) {
	if strings.Count(body, "&") >= queryFallback {
		v, err := url.ParseQuery(body)
		if err != nil {
			return tokenRequest{}, errFormUnreadable()
		}
		return parseTokenForm(v)
	}
	// Per name: how often it came and whether its first value is too
	// long; repeated is reported before too long, as parseTokenForm does.
	type seen struct {
		name string
		n    int
		long bool
	}
	var (
		val   [len(tokenFormFields)]string
		known [len(tokenFormFields)]seen
		other []seen
	)
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			return tokenRequest{}, errFormUnreadable()
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok := queryUnescape(k)
		if !ok {
			return tokenRequest{}, errFormUnreadable()
		}
		if v, ok = queryUnescape(v); !ok {
			return tokenRequest{}, errFormUnreadable()
		}
		var s *seen
		if i := tokenFieldIndex(k); i >= 0 {
			s = &known[i]
			if s.n == 0 {
				val[i] = v
			}
		} else {
			j := slices.IndexFunc(other, func(o seen) bool { return o.name == k })
			if j < 0 {
				other = append(other, seen{name: k})
				j = len(other) - 1
			}
			s = &other[j]
		}
		if s.n == 0 {
			s.name, s.long = k, len(v) > maxParam
		}
		s.n++
	}
	for _, set := range [2][]seen{known[:], other} {
		for _, s := range set {
			if s.n > 1 {
				return tokenRequest{}, newError(ErrInvalidRequest, "parameter "+s.name+" is repeated")
			}
			if s.long {
				return tokenRequest{}, newError(ErrInvalidRequest, "parameter "+s.name+" is too long")
			}
		}
	}
	return checkTokenRequest(tokenRequest{GrantType: val[0], Code: val[1], RedirectURI: val[2], CodeVerifier: val[3],
		RefreshToken: val[4], AuthReqID: val[5], ClientID: val[6], ClientSecret: val[7], Scope: val[8]})
}

// tokenFieldIndex is k's index in tokenFormFields, or -1.
func tokenFieldIndex(k string) int {
	for i, f := range tokenFormFields {
		if f == k {
			return i
		}
	}
	return -1
}
