//go:build !cgo

package pkcs11

import (
	"context"
	"errors"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
)

func TestUnsupportedWithoutCgo(t *testing.T) {
	t.Parallel()
	if Supported {
		t.Fatal("Supported is true in a build without cgo")
	}
	_, err := hsm.Open(context.Background(), "pkcs11:token=test?pin-value=1234")
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("Open: %v, want ErrUnsupported", err)
	}
}
