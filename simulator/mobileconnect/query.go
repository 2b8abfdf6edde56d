package mobileconnect

import (
	"net/url"
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
