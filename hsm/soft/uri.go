package soft

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/simlab-dev/simlab/hsm"
)

// PassphraseEnv is the environment variable a soft: URI takes its
// passphrase from when it has no passphrase-source parameter.
const PassphraseEnv = "SIMLAB_HSM_PASSPHRASE"

func init() {
	mem := func(context.Context, string) (hsm.Keystore, error) { return NewMemory(), nil }
	hsm.Register("mem", hsm.Backend{Open: mem, Create: mem})
	hsm.Register("soft", hsm.Backend{
		Open: func(_ context.Context, uri string) (hsm.Keystore, error) {
			path, pass, err := ParseURI(uri)
			if err != nil {
				return nil, err
			}
			defer clear(pass)
			return Open(path, pass)
		},
		Create: func(_ context.Context, uri string) (hsm.Keystore, error) {
			path, pass, err := ParseURI(uri)
			if err != nil {
				return nil, err
			}
			defer clear(pass)
			return Create(path, pass, FileOptions{})
		},
	})
}

// ParseURI splits "soft:PATH[?passphrase-source=file:P|env:NAME]" into the
// file path and the passphrase, which comes from $SIMLAB_HSM_PASSPHRASE
// when no source is given.
func ParseURI(uri string) (path string, passphrase []byte, err error) {
	rest, ok := strings.CutPrefix(uri, "soft:")
	if !ok {
		return "", nil, fmt.Errorf("hsm/soft: URI %q does not start with \"soft:\"", hsm.RedactURI(uri))
	}
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", nil, fmt.Errorf("hsm/soft: URI has no file path (want soft:/path/to/keys)")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, fmt.Errorf("hsm/soft: URI query: %w", err)
	}
	for k := range q {
		if k != "passphrase-source" {
			return "", nil, fmt.Errorf("hsm/soft: unknown URI parameter %q (want passphrase-source)", k)
		}
	}
	src := q.Get("passphrase-source")
	if src == "" {
		src = "env:" + PassphraseEnv
	}
	passphrase, err = hsm.ReadSecret(src)
	if err != nil {
		return "", nil, err
	}
	return path, passphrase, nil
}
