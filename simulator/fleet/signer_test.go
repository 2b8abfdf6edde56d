package fleet

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"reflect"
	"testing"

	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm/soft"
)

// TestLazySignerHoldsNoKey: a card key's signer keeps no key (Signer's
// doc): its first Public looks the key up through the cache (deriving it
// again after an eviction) and remembers only the public key; each Sign
// looks the key up.
func TestLazySignerHoldsNoKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc, err := newKeyCache(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	iccid := "8999901000000000005"
	ref := keys.CardRef(iccid, "sign")
	sg, err := kc.Signer(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	// No field of the signer may hold a key (a crypto.Signer or a private
	// key) beside the cache it looks keys up in.
	v := reflect.ValueOf(sg).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Type.Implements(reflect.TypeFor[crypto.Signer]()) || f.Type == reflect.TypeFor[*ecdsa.PrivateKey]() {
			t.Errorf("%s.%s (%s) can hold the private key", v.Type(), f.Name, f.Type)
		}
	}
	if err := kc.Delete(ctx, ref); err != nil { // evict the card
		t.Fatal(err)
	}
	_, before := kc.resident()
	pub, ok := sg.Public().(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("Public() = %T, want *ecdsa.PublicKey", sg.Public())
	}
	if _, after := kc.resident(); after != before+1 {
		t.Errorf("Public of an evicted card derived %d times, want once", after-before)
	}
	plain := soft.NewMemory()
	ck, err := keys.Card(ctx, plain, iccid)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.Signer(ctx, ck.Sign)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(want.Public()) {
		t.Error("Public differs from the card's key")
	}
	// The public key is remembered: evicted again, Public derives nothing.
	if err := kc.Delete(ctx, ref); err != nil {
		t.Fatal(err)
	}
	_, before = kc.resident()
	if !pub.Equal(sg.Public()) {
		t.Error("second Public differs")
	}
	if _, after := kc.resident(); after != before {
		t.Errorf("second Public derived %d times, want none", after-before)
	}
	// Sign looks the key up.
	digest := sha256.Sum256([]byte("challenge"))
	sig, err := sg.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if _, after := kc.resident(); after != before+1 {
		t.Errorf("Sign of an evicted card derived %d times, want once", after-before)
	}
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		t.Error("signature does not verify")
	}
}

// TestPINStateDerivesNoKeys: a phone's settings and PIN state (what
// /metrics reads of every phone) come without deriving the keys of a card
// that was put away; its Info (the phone detail) derives them for the
// public key.
func TestPINStateDerivesNoKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, err := New(Config{MaxCards: 1, KeyCache: 1})
	if err != nil {
		t.Fatal(err)
	}
	kc := f.ks.(*keyCache)
	blocked, err := MagicNumberFor("pin-blocked", 0)
	if err != nil {
		t.Fatal(err)
	}
	var phones []*Phone
	for _, n := range []string{blocked, FleetNumber(1), FleetNumber(2)} {
		p, err := f.Phone(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		phones = append(phones, p)
	}
	for _, p := range phones[:2] {
		if p.Resident() {
			t.Fatalf("%s kept its card", p.MSISDN())
		}
	}
	_, before := kc.resident()
	if st := phones[0].PINState(); !st.Blocked || st.TriesLeft != 0 {
		t.Errorf("pin-blocked phone: %+v", st)
	}
	if st := phones[1].PINState(); st.Blocked || !st.Supported {
		t.Errorf("fleet phone: %+v", st)
	}
	for _, p := range phones {
		if p.Settings().Absent {
			t.Errorf("%s absent", p.MSISDN())
		}
	}
	if _, after := kc.resident(); after != before {
		t.Errorf("PINState and Settings derived %d cards' keys, want none", after-before)
	}
	if in := phones[1].Info(); len(in.PublicKey) != 66 {
		t.Errorf("Info public key %q", in.PublicKey)
	}
	if _, after := kc.resident(); after != before+1 {
		t.Errorf("Info of a put-away card derived %d cards' keys, want 1", after-before)
	}
}
