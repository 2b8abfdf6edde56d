package main

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
)

// TestCardPushKeysFromHSM: --hsm/--kic-ref/--kid-ref name a card's own keys
// in a key store (here an encrypted soft file), and the challenge sealed
// with them runs against the card. The card here is an emulated one whose
// keys happen to be the demo derivation, stored under labels in the file.
func TestCardPushKeysFromHSM(t *testing.T) {
	ctx := context.Background()
	t.Setenv(soft.PassphraseEnv, "test passphrase")
	path := filepath.Join(t.TempDir(), "card-keys.hsm")
	ks, err := hsm.Create(ctx, "soft:"+path)
	if err != nil {
		t.Fatal(err)
	}
	msisdn := fleet.FleetNumber(21)
	iccid, _, err := fleet.Identity(nil, msisdn)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := keys.Card(ctx, ks, iccid)
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}

	card, applet, err := fleet.NewCard(ctx, soft.NewMemory(), nil, msisdn, fleet.CardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kc := cardKeyFlags{hsmURI: "soft:" + path, kicRef: ck.AESKIc, kidRef: ck.AESKID, kic: "12", kid: "12", spi: "1639",
		pub: hex.EncodeToString(applet.PublicKey())}
	cfg := push.CardConfig{Card: card, Person: person.New(person.Default(), 1), PIN: fleet.DefaultPIN}
	if err := kc.apply(ctx, &cfg); err != nil {
		t.Fatal(err)
	}
	defer cfg.Keystore.Close()
	res, err := push.ChallengeCard(ctx, cfg, push.Request{LoA: authn.LoA3, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "3" || !res.SignatureValid {
		t.Fatalf("result %+v", res)
	}
	// Wrong references are refused before anything reaches the card.
	bad := kc
	bad.kicRef, bad.kidRef = "", ""
	if err := bad.apply(ctx, &push.CardConfig{}); err == nil {
		t.Error("--hsm without --kic-ref/--kid-ref accepted")
	}
}
