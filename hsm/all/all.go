// Package all links every key store backend into the program, so that
// hsm.Open and hsm.Create understand mem:, soft: and pkcs11: URIs. Import it
// for its side effect: import _ "github.com/simlab-dev/simlab/hsm/all".
// Without cgo the pkcs11: scheme is linked but reports "built without
// PKCS#11 support".
package all

import (
	_ "github.com/simlab-dev/simlab/hsm/pkcs11" // pkcs11:
	_ "github.com/simlab-dev/simlab/hsm/soft"   // mem: and soft:
)
