package simulator

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// The Host check (docs/api.md "Which hosts are served"): the defence
// against DNS rebinding. A page on evil.example whose name is made to
// resolve to 127.0.0.1 after it loaded is same-origin with itself, so the
// browser's cross-origin rules let it call this server and read the
// answers. What gives it away is the Host header: the browser sends the
// name the page used, evil.example. The server answers only requests whose
// Host is
//
//   - "localhost", or an IP address (a rebinding needs a DNS name: a Host
//     that is an address can only come from a page served from that
//     address, that is from this server);
//   - the host of the HTTP listen address (--http NAME:PORT);
//   - the host of the Mobile Connect issuer (mobile_connect.issuer,
//     --issuer), which relying parties and browsers use;
//   - a name of Config.AllowedHosts ("*.example.com" for a domain's
//     subdomains, "*" for any host, which needs an API token);
//
// and answers any other 421 Misdirected Request (RFC 9110 §15.5.20). The
// check applies to every request, with or without a token: a session
// cookie is bound to the name the browser logged in with, but the
// unauthenticated endpoints (health, the OpenID Connect pages) are public.
type hostPolicy struct {
	any      bool
	names    map[string]bool // lower case, no trailing dot
	suffixes []string        // ".example.com"
}

// newHostPolicy builds the policy of cfg (validated).
func newHostPolicy(cfg Config) *hostPolicy {
	p := &hostPolicy{names: map[string]bool{"localhost": true}}
	add := func(h string) {
		h = normalHost(h)
		switch {
		case h == "":
		case h == "*":
			p.any = true
		case strings.HasPrefix(h, "*."):
			p.suffixes = append(p.suffixes, h[1:])
		default:
			p.names[h] = true
		}
	}
	if host, _, err := net.SplitHostPort(cfg.HTTPAddr); err == nil {
		add(host)
	}
	if u, err := url.Parse(cfg.MobileConnect.Issuer); err == nil && cfg.MobileConnect.Issuer != "" {
		add(u.Hostname())
	}
	for _, h := range cfg.AllowedHosts {
		add(h)
	}
	return p
}

// normalHost lower-cases a host name and drops a trailing dot (the
// absolute form "localhost." names the same host).
func normalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// allows reports whether the server answers a request with this Host
// header (host, or host:port; an IPv6 address in brackets).
func (p *hostPolicy) allows(hostport string) bool {
	if p.any || hostport == "" {
		// No Host at all comes from an HTTP/1.0 client, never from a
		// browser.
		return true
	}
	host := hostport
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return false
		}
		host = host[1:end]
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	host = normalHost(host)
	if p.names[host] {
		return true
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// check answers 421 for a Host the policy does not allow.
func (p *hostPolicy) check(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.allows(r.Host) {
			writeError(w, http.StatusMisdirectedRequest,
				"host %q is not served here (DNS rebinding protection): use localhost or an IP address, or add the name to allowed_hosts", r.Host)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// validateAllowedHosts checks Config.AllowedHosts: host names without
// scheme, port or path, "*.domain" for subdomains, "*" only with a token.
func validateAllowedHosts(hosts []string, token string) error {
	var errs []error
	for i, h := range hosts {
		n := normalHost(h)
		name := strings.TrimPrefix(n, "*.")
		switch {
		case n == "*":
			if token == "" {
				errs = append(errs, errors.New(`serve: allowed_hosts: "*" turns the DNS-rebinding check off: it needs an API token`))
			}
		case name == "" || strings.ContainsAny(name, "/:*@?#[] "):
			errs = append(errs, fmt.Errorf("serve: allowed_hosts[%d] %q: want a host name (example.com, *.example.com), without scheme, port or path", i, h))
		}
	}
	return errors.Join(errs...)
}
