package pkcs11

import (
	"context"

	"github.com/simlab-dev/simlab/hsm"
)

func init() {
	open := func(ctx context.Context, uri string) (hsm.Keystore, error) {
		u, err := ParseURI(uri)
		if err != nil {
			return nil, err
		}
		s, err := Open(ctx, u)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	// A token is created with the HSM's own tools (softhsm2-util
	// --init-token), so Create opens it.
	hsm.Register("pkcs11", hsm.Backend{Open: open, Create: open})
}
