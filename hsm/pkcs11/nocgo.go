//go:build !cgo

package pkcs11

import (
	"context"
	"errors"

	"github.com/simlab-dev/simlab/hsm"
)

// Supported reports whether this build has PKCS#11 support (it needs cgo).
const Supported = false

// ErrUnsupported is returned by Open in builds without cgo.
var ErrUnsupported = errors.New("pkcs11: built without PKCS#11 support (rebuild with CGO_ENABLED=1)")

// Store is unusable in builds without cgo.
type Store struct{ hsm.Keystore }

// Open fails: this build has no PKCS#11 support.
func Open(context.Context, URI) (*Store, error) { return nil, ErrUnsupported }
