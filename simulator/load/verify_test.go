package load_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestVerifyEvery gives the sender the wrong public key for every card, so
// every answer whose signature is checked fails: with VerifyEvery 3, exactly
// challenges 0, 3 and 6 of 9 must fail, the others pass as approved.
func TestVerifyEvery(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	ctx := context.Background()
	ks := soft.NewMemory()
	wrong, err := ecdsa.GenerateKey(elliptic.P256(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := push.New(ctx, push.Config{
		SMPP:     client.Config{Addr: srv.SMPPAddr, SystemID: "verify-every", Password: "x", NoReconnect: true},
		Keystore: ks,
		CardFor: func(ctx context.Context, msisdn string) (push.Card, error) {
			c, err := push.FleetCard(ctx, ks, msisdn, false)
			c.Public = &wrong.PublicKey
			return c, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	nums, err := load.ParseRange(fleet.FleetNumber(0) + "-" + fleet.FleetNumber(8))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		every      int
		noVerify   bool
		wantFailed []int
	}{
		{every: 3, wantFailed: []int{0, 3, 6}},
		{every: 1, wantFailed: []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{every: 3, noVerify: true},
	} {
		tgt := &load.Challenges{Pusher: p, Numbers: nums, LoA: authn.LoA2, PromptTimeout: 10 * time.Second,
			VerifyEvery: c.every, NoVerify: c.noVerify}
		var failed []int
		for i := range 9 {
			r := tgt.Do(ctx, i)
			if r.Verified {
				t.Errorf("every %d, challenge %d: counted as verified with the wrong key", c.every, i)
			}
			switch {
			case errors.Is(r.Err, load.ErrUnverified):
				failed = append(failed, i)
			case r.Err != nil || r.Outcome != "approved":
				t.Fatalf("every %d, challenge %d: %+v", c.every, i, r)
			}
		}
		if len(failed) != len(c.wantFailed) {
			t.Errorf("every %d no-verify %v: failed %v, want %v", c.every, c.noVerify, failed, c.wantFailed)
			continue
		}
		for i := range failed {
			if failed[i] != c.wantFailed[i] {
				t.Errorf("every %d: failed %v, want %v", c.every, failed, c.wantFailed)
				break
			}
		}
	}
}

// TestVerifyEveryCounts: with the right keys, exactly the sampled answers
// count as verified.
func TestVerifyEveryCounts(t *testing.T) {
	t.Parallel()
	srv := simtest.NewServer(t)
	ctx := context.Background()
	p, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: srv.SMPPAddr, SystemID: "verify-count", Password: "x", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	nums, err := load.ParseRange(fleet.FleetNumber(20) + "-" + fleet.FleetNumber(26))
	if err != nil {
		t.Fatal(err)
	}
	tgt := &load.Challenges{Pusher: p, Numbers: nums, LoA: authn.LoA2, PromptTimeout: 10 * time.Second, VerifyEvery: 3}
	var verified []int
	for i := range 7 {
		r := tgt.Do(ctx, i)
		if r.Err != nil || r.Outcome != "approved" {
			t.Fatalf("challenge %d: %+v", i, r)
		}
		if r.Verified {
			verified = append(verified, i)
		}
	}
	if len(verified) != 3 || verified[0] != 0 || verified[1] != 3 || verified[2] != 6 {
		t.Errorf("verified %v, want [0 3 6]", verified)
	}
}
