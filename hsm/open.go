package hsm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// ErrScheme reports a key store URI whose scheme no linked backend handles.
var ErrScheme = errors.New("hsm: unknown key store URI scheme")

// Backend opens key stores named by URIs of one scheme. Backends register
// themselves from an init function (see Register); import
// github.com/simlab-dev/simlab/hsm/all to link every backend.
type Backend struct {
	// Open opens an existing key store.
	Open func(ctx context.Context, uri string) (Keystore, error)
	// Create makes a new, empty key store where the backend can (a soft
	// file); backends whose stores are made by other tools (a PKCS#11 token
	// initialised with softhsm2-util) open it instead.
	Create func(ctx context.Context, uri string) (Keystore, error)
}

var (
	backendsMu sync.RWMutex
	backends   = map[string]Backend{}
)

// Register makes a backend available to Open and Create for URIs starting
// with scheme + ":". It panics if the scheme is taken, like sql.Register.
func Register(scheme string, b Backend) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if _, dup := backends[scheme]; dup {
		panic("hsm: Register called twice for scheme " + scheme)
	}
	backends[scheme] = b
}

// Schemes lists the registered URI schemes.
func Schemes() []string {
	backendsMu.RLock()
	defer backendsMu.RUnlock()
	out := make([]string, 0, len(backends))
	for s := range backends {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func backendFor(uri string) (Backend, error) {
	scheme, _, ok := strings.Cut(uri, ":")
	if !ok {
		return Backend{}, fmt.Errorf("%w: %q has no scheme (want mem:, soft:PATH or pkcs11:…)", ErrScheme, RedactURI(uri))
	}
	backendsMu.RLock()
	b, ok := backends[scheme]
	backendsMu.RUnlock()
	if !ok {
		return Backend{}, fmt.Errorf("%w %q (linked: %s)", ErrScheme, scheme, strings.Join(Schemes(), ", "))
	}
	return b, nil
}

// Open opens the key store named by uri: "mem:" (a new, empty in-memory
// store), "soft:PATH" (an encrypted key store file; passphrase from
// $SIMLAB_HSM_PASSPHRASE or ?passphrase-source=file:PATH|env:NAME) or an
// RFC 7512 "pkcs11:" URI. docs/hsm.md lists every parameter.
func Open(ctx context.Context, uri string) (Keystore, error) {
	b, err := backendFor(uri)
	if err != nil {
		return nil, err
	}
	return b.Open(ctx, uri)
}

// Create makes the key store named by uri (see Backend.Create).
func Create(ctx context.Context, uri string) (Keystore, error) {
	b, err := backendFor(uri)
	if err != nil {
		return nil, err
	}
	return b.Create(ctx, uri)
}

// ErrNoSecret reports a PIN or passphrase that is needed but not given.
var ErrNoSecret = errors.New("hsm: no PIN or passphrase given")

// ReadSecret resolves a secret source: "file:PATH" (the file's contents,
// one trailing newline removed) or "env:NAME" (the environment variable).
// It never puts the secret in an error.
func ReadSecret(source string) ([]byte, error) {
	kind, arg, _ := strings.Cut(source, ":")
	switch kind {
	case "file":
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("hsm: secret source: %w", err)
		}
		b = []byte(strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"))
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: %s is empty", ErrNoSecret, arg)
		}
		return b, nil
	case "env":
		v := os.Getenv(arg)
		if v == "" {
			return nil, fmt.Errorf("%w: $%s is empty or unset", ErrNoSecret, arg)
		}
		return []byte(v), nil
	}
	return nil, fmt.Errorf("hsm: secret source %q: want file:PATH or env:NAME", kind)
}

// RedactURI returns uri with the values of pin-value and passphrase
// parameters replaced by "***", for logs and error messages.
func RedactURI(uri string) string {
	base, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		if name == "pin-value" || name == "passphrase" {
			parts[i] = name + "=***"
		}
	}
	return base + "?" + strings.Join(parts, "&")
}
