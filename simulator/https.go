package simulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"
)

// HTTPS serves the HTTP listener over TLS (the `https:` section of serve's
// YAML, --https-* flags): with a PEM certificate and key, or with a
// certificate generated at start for the listener's host (test only),
// written to SelfSignedOut when set so clients can trust it. Every part
// of the HTTP listener then speaks HTTPS: the API, the metrics, the web
// page and the Mobile Connect gateway, whose issuer follows the scheme.
type HTTPS struct {
	Cert          string `yaml:"cert" json:"cert,omitempty"`
	Key           string `yaml:"key" json:"-"`
	SelfSigned    bool   `yaml:"self_signed" json:"self_signed,omitempty"`
	SelfSignedOut string `yaml:"self_signed_out" json:"self_signed_out,omitempty"`
}

// On reports whether the HTTP listener speaks HTTPS.
func (h HTTPS) On() bool { return h.Cert != "" || h.SelfSigned }

func (h HTTPS) validate() error {
	switch {
	case (h.Cert == "") != (h.Key == ""):
		return errors.New("serve: https: cert and key go together")
	case h.Cert != "" && h.SelfSigned:
		return errors.New("serve: https: a certificate or self_signed, not both")
	case h.SelfSignedOut != "" && !h.SelfSigned:
		return errors.New("serve: https: self_signed_out needs self_signed")
	}
	return nil
}

// httpsListener wraps the HTTP listener in TLS as h says. It returns the
// certificate pool that trusts the system's roots and the server's own
// certificate, for the
// server's clients of itself (the phones opening SMS+URL links).
func httpsListener(h HTTPS, ln net.Listener) (net.Listener, *tls.Config, *x509.CertPool, error) {
	var cert tls.Certificate
	var err error
	if h.Cert != "" {
		if cert, err = tls.LoadX509KeyPair(h.Cert, h.Key); err != nil {
			return nil, nil, nil, fmt.Errorf("serve: https: %w", err)
		}
	} else {
		var pemCert []byte
		if cert, pemCert, err = selfSigned(ln.Addr()); err != nil {
			return nil, nil, nil, fmt.Errorf("serve: https: %w", err)
		}
		if h.SelfSignedOut != "" {
			if err := os.WriteFile(h.SelfSignedOut, pemCert, 0o644); err != nil {
				return nil, nil, nil, fmt.Errorf("serve: https: %w", err)
			}
		}
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
		pool.AddCert(leaf)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return tls.NewListener(ln, tc), tc, pool, nil
}

// refuseHTTPS is refuseHTTP for an HTTPS listener: TLS is layered over the
// connection caps, so a connection beyond them gets its 503 after a TLS
// handshake (within the same second), not as plaintext the client's TLS
// would take for a broken handshake. tc is read when a connection is
// refused: it is set before the listener accepts.
func refuseHTTPS(tc **tls.Config) func(net.Conn, string) {
	return func(c net.Conn, reason string) {
		c.SetDeadline(time.Now().Add(time.Second))
		t := tls.Server(c, *tc)
		if t.Handshake() != nil {
			return
		}
		refuseHTTP(t, reason)
	}
}

// SelfClient is an HTTP client for this server's own HTTP listener: it
// trusts the server's HTTPS certificate (self-signed or not) besides the
// system's roots; http.DefaultClient without HTTPS.
func (s *Server) SelfClient() *http.Client {
	if c := linkClient(s.cfg.httpsRoots); c != nil {
		return c
	}
	return http.DefaultClient
}

// linkClient is the HTTP client the phones open SMS links with: one that
// also trusts the server's own HTTPS certificate (roots), so a person can
// open the gateway's SMS+URL link on the server that sent it; nil (the
// default client) without HTTPS.
func linkClient(roots *x509.CertPool) *http.Client {
	if roots == nil {
		return nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// selfSigned makes a P-256 certificate valid for a year for localhost,
// 127.0.0.1, ::1 and the listener's host; it returns it and its PEM.
func selfSigned(addr net.Addr) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "simlab (self-signed, test only)"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host, _, err := net.SplitHostPort(addr.String()); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemCert, nil
}
