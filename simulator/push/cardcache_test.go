package push_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestPusherCardKeysBounded: over the fleet's key store (a Pusher's
// default, here bounded to 2 cards), challenging 6 cards keeps the keys of
// at most 2, and a card whose keys were dropped is derived again and still
// answers with a signature that verifies (AES and 3DES keysets). It used
// to keep three keys per card ever challenged.
func TestPusherCardKeysBounded(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	ctx := context.Background()
	for _, tdes := range []bool{false, true} {
		ks, err := fleet.NewKeyStore(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		p, err := push.New(ctx, push.Config{Keystore: ks, TDES: tdes,
			SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "card-keys", Password: "x", NoReconnect: true}})
		if err != nil {
			t.Fatal(err)
		}
		base := 300
		if tdes {
			base = 400
		}
		for i := range 7 {
			num := fleet.FleetNumber(base + i%6) // the 7th is the first again, derived anew
			res, err := p.Push(ctx, push.Request{MSISDN: num, LoA: authn.LoA2, Timeout: 10 * time.Second})
			if err != nil || res.Outcome != "approved" || !res.SignatureValid {
				t.Fatalf("tdes %v, challenge %d: %+v %v", tdes, i, res, err)
			}
			l, err := ks.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cards := map[string]bool{}
			for _, k := range l {
				if rest, ok := strings.CutPrefix(k.Label, "card/"); ok {
					iccid, _, _ := strings.Cut(rest, "/")
					cards[iccid] = true
				}
			}
			if len(cards) > 2 {
				t.Fatalf("tdes %v: keys of %d cards held after challenge %d, bound 2", tdes, len(cards), i)
			}
		}
		p.Close(ctx)
	}
}
