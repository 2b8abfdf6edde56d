package fleet

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
)

// TestKeyCache checks the default key store: card keys are derived on use,
// equal to those keys.Card derives in a plain store, evicted beyond the
// bound and derived again; a signer outlives its key's eviction.
func TestKeyCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc, err := newKeyCache(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	plain := soft.NewMemory()
	iccids := []string{"8999901000000000005", "8999901000000001235", "8999901000010000011"}
	for _, iccid := range iccids {
		ck, err := keys.Card(ctx, plain, iccid)
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{ck.AESKIc, ck.AESKID, ck.TDESKIc, ck.TDESKID, ck.Sign} {
			want, err := plain.Info(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kc.Info(ctx, ref)
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			if got != want {
				t.Errorf("%s: %+v, want %+v", ref, got, want)
			}
		}
		data := bytes.Repeat([]byte{0x5A}, 32)
		m1, err1 := plain.MAC(ctx, ck.AESKID, data)
		m2, err2 := kc.MAC(ctx, ck.AESKID, data)
		if err1 != nil || err2 != nil || !bytes.Equal(m1, m2) {
			t.Errorf("MAC: %x %v / %x %v", m1, err1, m2, err2)
		}
	}
	if n, derived := kc.resident(); n != 2 || derived != 3 {
		t.Errorf("resident %d, derived %d; want 2, 3", n, derived)
	}
	// The first card was evicted: using it derives it again.
	sg, err := kc.Signer(ctx, keys.CardRef(iccids[0], "sign"))
	if err != nil {
		t.Fatal(err)
	}
	if _, derived := kc.resident(); derived != 4 {
		t.Errorf("derived %d after using an evicted card, want 4", derived)
	}
	for _, iccid := range iccids[1:] { // evict it again
		if _, err := kc.Info(ctx, keys.CardRef(iccid, "sign")); err != nil {
			t.Fatal(err)
		}
	}
	digest := sha256.Sum256([]byte("challenge"))
	sig, err := sg.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(sg.Public().(*ecdsa.PublicKey), digest[:], sig) {
		t.Error("signature by an evicted card's signer does not verify")
	}
	// Card keys cannot be imported over; other keys go to the masters.
	if err := kc.Import(ctx, keys.CardRef(iccids[0], "aes-kic"), hsm.AES128, make([]byte, 16)); !errors.Is(err, hsm.ErrExists) {
		t.Errorf("import over a card key: %v", err)
	}
	if err := kc.Import(ctx, "lab/extra", hsm.AES128, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Info(ctx, "lab/extra"); err != nil {
		t.Error(err)
	}
	if _, err := kc.Info(ctx, "card/89x99/sign"); !errors.Is(err, hsm.ErrNotFound) {
		t.Errorf("bad ICCID: %v, want ErrNotFound", err)
	}
}

// TestPutAway checks that a phone beyond MaxCards gives up its card when
// idle, keeps its applet PIN state, and builds the card again on use; a
// phone whose card was handed out keeps it.
func TestPutAway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, err := New(Config{MaxCards: 1})
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := MagicNumberFor("pin-blocked", 7)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.Phone(ctx, wrong)
	if err != nil {
		t.Fatal(err)
	}
	before := a.Info()
	if !before.PIN.Blocked || before.PublicKey == "" {
		t.Fatalf("info %+v", before)
	}
	b, err := f.Phone(ctx, FleetNumber(1))
	if err != nil {
		t.Fatal(err)
	}
	if a.resident() || !b.resident() {
		t.Fatalf("resident a=%v b=%v, want only b", a.resident(), b.resident())
	}
	after := a.Info()
	if after.PIN != before.PIN || after.PublicKey != before.PublicKey || after.ICCID != before.ICCID {
		t.Errorf("put away: info %+v, was %+v", after, before)
	}
	// Card() builds it again and pins it: b is put away instead.
	if a.Card() == nil {
		t.Fatal("no card")
	}
	if !a.resident() || b.resident() {
		t.Errorf("after Card(): resident a=%v b=%v", a.resident(), b.resident())
	}
	if again := a.Info(); again.PIN != before.PIN || again.PublicKey != before.PublicKey {
		t.Errorf("rebuilt: info %+v, was %+v", again, before)
	}
	if _, err := f.Phone(ctx, FleetNumber(2)); err != nil {
		t.Fatal(err)
	}
	if !a.resident() {
		t.Error("a pinned phone was put away")
	}
}

func (p *Phone) resident() bool { return p.Resident() }

// TestTraceRing checks that only the last MaxTraces sessions keep their
// APDU trace, and that traces round-trip through the compact framing.
func TestTraceRing(t *testing.T) {
	t.Parallel()
	f, err := New(Config{MaxTraces: 2})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Phone(context.Background(), FleetNumber(3))
	if err != nil {
		t.Fatal(err)
	}
	c, r := []byte{0x80, 0xC2, 0x00, 0x00, 0x01, 0xAA}, []byte{0x91, 0x26}
	for i := 0; i < 3; i++ {
		p.record("prompt", "between sessions", nil)
		p.record("session", "ended", appendAPDU(appendAPDU(nil, c, r), nil, []byte{0x90, 0x00}))
	}
	var traced, sessions []int
	for i, e := range p.Events() {
		if e.Kind != "session" {
			continue
		}
		sessions = append(sessions, i)
		if len(e.APDUs) > 0 {
			traced = append(traced, i)
			if len(e.APDUs) != 2 || e.APDUs[0].C != "80c2000001aa" || e.APDUs[0].R != "9126" || e.APDUs[1].C != "" || e.APDUs[1].R != "9000" {
				t.Errorf("trace %+v", e.APDUs)
			}
		}
	}
	if len(traced) != 2 || len(sessions) != 3 || !slices.Equal(traced, sessions[1:]) {
		t.Errorf("sessions at %v, those with a trace at %v: want the last two", sessions, traced)
	}
	if got := decodeTrace([]byte{0x00, 0x05, 0x01}); len(got) != 0 {
		t.Errorf("truncated trace decoded to %+v", got)
	}
}

// TestEventLogBound: a phone's log shows the last MaxEvents events, in
// order, however many came, and holds at most half as many again.
func TestEventLogBound(t *testing.T) {
	t.Parallel()
	f, err := New(Config{MaxEvents: 4})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Phone(context.Background(), FleetNumber(4))
	if err != nil {
		t.Fatal(err)
	}
	before := len(p.Events())
	for i := range 23 {
		p.record("test", strconv.Itoa(i), nil)
		evs := p.Events()
		want := min(4, before+i+1)
		if len(evs) != want || evs[len(evs)-1].Detail != strconv.Itoa(i) {
			t.Fatalf("after event %d: %d events, last %q; want %d ending with %d", i, len(evs), evs[len(evs)-1].Detail, want, i)
		}
		if i >= 3 && evs[0].Detail != strconv.Itoa(i-3) {
			t.Fatalf("after event %d: first %q, want %d", i, evs[0].Detail, i-3)
		}
		p.mu.Lock()
		held := len(p.events)
		p.mu.Unlock()
		if held > 6 {
			t.Fatalf("holds %d events, bound 6", held)
		}
	}
	if got := p.Info().Events; got != 4 {
		t.Errorf("Info().Events = %d, want 4", got)
	}
}

// TestManyPinnedPhones: pinned phones (Card()) keep their cards and count
// against MaxCards, but do not stop the others from being put away (they
// used to stay at the back of the list, where eviction gave up after 64).
func TestManyPinnedPhones(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, err := New(Config{MaxCards: 2})
	if err != nil {
		t.Fatal(err)
	}
	var pinned []*Phone
	for i := range 70 {
		p, err := f.Phone(ctx, FleetNumber(100+i))
		if err != nil {
			t.Fatal(err)
		}
		if p.Card() == nil {
			t.Fatal("no card")
		}
		pinned = append(pinned, p)
	}
	var others []*Phone
	for i := range 5 {
		p, err := f.Phone(ctx, FleetNumber(200+i))
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, p)
	}
	for _, p := range pinned {
		if !p.resident() {
			t.Fatal("a pinned phone was put away")
		}
	}
	resident := 0
	for _, p := range others {
		if p.resident() {
			resident++
		}
	}
	if resident > 1 {
		t.Errorf("%d of 5 unpinned phones keep their card beyond MaxCards 2 with 70 pinned, want at most the last one", resident)
	}
}
