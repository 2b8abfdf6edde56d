package push

import (
	"crypto/ecdsa"

	"github.com/simlab-dev/simlab/applet/authn"
)

// Answer is the card's signed answer to a challenge and what it signs over
// (docs/applet-protocol.md, "What the card signs"), for a caller that
// passes it on: the Mobile Connect gateway puts it in the id_token as dts,
// dts_time and upk so that a relying party can check it itself.
type Answer struct {
	// Challenge is the challenge template as sent (A0 …).
	Challenge []byte
	// Response is the opened response.
	Response authn.Response
	// Public is the card's signing key when the Pusher knew it (nil with
	// Request.NoVerify).
	Public *ecdsa.PublicKey
}
