package authn_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"github.com/simlab-dev/simlab/internal/workers"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// chain is one SIM with the authenticator applet in a handset, and the
// server side (what simlab push or a SUT does) sharing the key store.
type chain struct {
	ks      hsm.Keystore
	card    *uicc.Card
	applet  *authn.Applet
	pub     *ecdsa.PublicKey
	hs      *handset.Handset
	keys    ota.Keys
	header  ota.CommandHeader
	counter uint64
	mu      sync.Mutex
	mo      []*tpdu.Submit
	oa      tpdu.Address // the challenges' originator; zero: +99955501
}

// from is the address the challenges come from.
func (c *chain) from() tpdu.Address {
	if c.oa == (tpdu.Address{}) {
		return tpdu.InternationalAddress("99955501")
	}
	return c.oa
}

const testPIN = "24680"

func newChain(t testing.TB, b person.Behaviour, cfg authn.Config) *chain {
	t.Helper()
	return newChainGo(t, b, cfg, nil)
}

// newChainGo is newChain whose handset starts proactive sessions with run
// (handset.Config.Go), as simlab serve's fleet does.
func newChainGo(t testing.TB, b person.Behaviour, cfg authn.Config, run func(func())) *chain {
	t.Helper()
	ctx := context.Background()
	p, err := uicc.LoadProfile("../../fixtures/cards/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ks := soft.NewMemory()
	if err := p.ImportKeys(ctx, ks); err != nil {
		t.Fatal(err)
	}
	card, err := uicc.New(p, uicc.Options{Keystore: ks})
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Generate(ctx, "card-sig", hsm.ECP256); err != nil {
		t.Fatal(err)
	}
	signer, err := ks.Signer(ctx, "card-sig")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Signer = signer
	if cfg.PIN == "" && !cfg.NoPINSupport {
		cfg.PIN = testPIN
	}
	a, err := authn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := card.Install("authn", a); err != nil {
		t.Fatal(err)
	}
	c := &chain{ks: ks, card: card, applet: a, pub: signer.Public().(*ecdsa.PublicKey)}
	ksProf := p.Keysets[0]
	c.keys = ota.Keys{KIc: strings.ReplaceAll(ksProf.KIc.Ref, "{iccid}", p.ICCID), KID: strings.ReplaceAll(ksProf.KID.Ref, "{iccid}", p.ICCID)}
	kic, _ := ota.NewKIc(ksProf.KVN, ota.AlgAES)
	kid, _ := ota.NewKID(ksProf.KVN, ota.AlgAES)
	var tar ota.TAR
	copy(tar[:], p.Applets[0].TARs[0].TAR)
	c.header = ota.CommandHeader{SPI: ota.ParseSPI(0x16, 0x39), KIc: kic, KID: kid, TAR: tar}
	c.hs = handset.New(handset.Config{Card: card, Person: person.New(b, 1), PIN: testPIN, PromptTimeout: 30 * time.Second, Go: run,
		SendSMS: func(ctx context.Context, b *tpdu.Submit) error {
			c.mu.Lock()
			c.mo = append(c.mo, b)
			c.mu.Unlock()
			return nil
		}})
	if _, err := c.hs.PowerOn(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// push seals ch into an SMS, delivers it to the handset and opens the
// response that comes back by SEND SHORT MESSAGE.
func (c *chain) push(t *testing.T, ch authn.Challenge) (authn.Response, error) {
	t.Helper()
	ctx := context.Background()
	raw := authn.AppendChallenge(nil, &ch)
	c.counter++
	var cntr ota.Counter
	for i := 0; i < 5; i++ {
		cntr[4-i] = byte(c.counter >> (8 * i))
	}
	pkt, err := ota.SealCommand(ctx, c.ks, c.keys, c.header, cntr, raw)
	if err != nil {
		t.Fatal(err)
	}
	d := tpdu.NewSIMDataDownload(c.from(), time.Now(), pkt)
	sms, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.mo = nil
	c.mu.Unlock()
	if _, err := c.hs.DeliverSMS(ctx, [][]byte{sms}); err != nil {
		t.Fatal(err)
	}
	if err := c.hs.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(c.mo) == 0 {
		t.Fatal("card sent no SMS, want the response")
	}
	// Reassemble: the first part carries IE 71, every part of a
	// concatenated response a concatenation IE.
	var body []byte
	for i, sub := range c.mo {
		if sub.DA != c.from() {
			t.Fatalf("response sent to %+v, want the originator %+v", sub.DA, c.from())
		}
		if sub.PID != 0x7F || byte(sub.DCS) != 0xF6 || !sub.UD.HasHeader {
			t.Fatalf("response SMS PID %02X DCS %02X UDHI %v", sub.PID, byte(sub.DCS), sub.UD.HasHeader)
		}
		_, has71 := sub.UD.IE(0x71)
		if has71 != (i == 0) {
			t.Fatalf("part %d: IE 71 present = %v", i+1, has71)
		}
		if len(c.mo) > 1 {
			ie, ok := sub.UD.IE(0x00)
			_, total, seq, _ := ie.ConcatInfo()
			if !ok || int(total) != len(c.mo) || int(seq) != i+1 {
				t.Fatalf("part %d: concatenation IE %v", i+1, ie)
			}
		}
		body = append(body, sub.UD.Data...)
	}
	hdr := []byte{0x02, 0x71, 0x00}
	por, err := ota.OpenResponse(ctx, c.ks, c.keys, c.header, append(hdr, body...))
	if err != nil {
		t.Fatalf("open response packet: %v", err)
	}
	if por.Status != 0 {
		t.Fatalf("response packet status %v", por.Status)
	}
	r, err := authn.ParseResponse(por.Data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.TransactionID, ch.TransactionID) {
		t.Errorf("transaction id %x, want %x", r.TransactionID, ch.TransactionID)
	}
	return r, authn.Verify(c.pub, raw, &r)
}

func challenge(loa authn.LoA, binding string) authn.Challenge {
	return authn.Challenge{TransactionID: []byte("tx-0001"), LoA: loa, ClientName: "Example Bank", BindingMessage: binding,
		Nonce: bytes.Repeat([]byte{7}, 16), TimeoutSeconds: 30}
}

func TestFullChainOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		b       person.Behaviour
		cfg     authn.Config
		loa     authn.LoA
		want    authn.Outcome
		wantLoA authn.LoA
	}{
		{"LoA2 approve", person.Default(), authn.Config{}, authn.LoA2, authn.Approved, authn.LoA2},
		{"LoA3 approve", person.Default(), authn.Config{}, authn.LoA3, authn.Approved, authn.LoA3},
		{"LoA3 cancel", person.Behaviour{Then: person.Step{Answer: person.AnswerCancel}}, authn.Config{}, authn.LoA3, authn.Cancelled, 0},
		{"LoA2 ignore", person.Behaviour{Then: person.Step{Answer: person.AnswerIgnore}}, authn.Config{}, authn.LoA2, authn.Timeout, 0},
		{"LoA2 busy", person.Behaviour{Then: person.Step{Answer: person.AnswerBusy}}, authn.Config{}, authn.LoA2, authn.Busy, 0},
		{"LoA3 wrong PIN", person.Behaviour{Then: person.Step{Answer: person.AnswerWrongPIN}}, authn.Config{}, authn.LoA3, authn.WrongPIN, 0},
		{"LoA3 no PIN support", person.Default(), authn.Config{NoPINSupport: true}, authn.LoA3, authn.PINNotSupported, 0},
		{"3,2 falls back", person.Default(), authn.Config{NoPINSupport: true}, authn.LoA3Fallback2, authn.Approved, authn.LoA2},
		{"3,2 with PIN", person.Default(), authn.Config{}, authn.LoA3Fallback2, authn.Approved, authn.LoA3},
		{"blocked", person.Default(), authn.Config{Blocked: true}, authn.LoA3, authn.PINBlocked, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newChain(t, tc.b, tc.cfg)
				r, err := c.push(t, challenge(tc.loa, "Login 4F2A"))
				if err != nil {
					t.Fatalf("signature: %v", err)
				}
				if r.Outcome != tc.want || r.AchievedLoA != tc.wantLoA {
					t.Fatalf("outcome %v LoA %v, want %v %v", r.Outcome, r.AchievedLoA, tc.want, tc.wantLoA)
				}
			})
		})
	}
}

func TestWrongPINThreeTimesBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := person.Behaviour{Steps: []person.Step{{Answer: person.AnswerWrongPIN}, {Answer: person.AnswerWrongPIN}, {Answer: person.AnswerWrongPIN}}, Then: person.Step{Answer: person.AnswerApprove}}
		c := newChain(t, b, authn.Config{})
		for i, want := range []struct {
			o    authn.Outcome
			left byte
		}{{authn.WrongPIN, 2}, {authn.WrongPIN, 1}, {authn.PINBlocked, 0}, {authn.PINBlocked, 0}} {
			r, err := c.push(t, challenge(authn.LoA3, "Login"))
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome != want.o || !r.HasTriesLeft || r.TriesLeft != want.left {
				t.Fatalf("challenge %d: %v tries %d (%v), want %v tries %d", i+1, r.Outcome, r.TriesLeft, r.HasTriesLeft, want.o, want.left)
			}
		}
		if st := c.applet.State(); !st.Blocked {
			t.Errorf("state %+v, want blocked", st)
		}
		// LoA2 still works on a blocked PIN.
		if r, _ := c.push(t, challenge(authn.LoA2, "Login")); r.Outcome != authn.Approved {
			t.Errorf("LoA2 on blocked PIN: %v", r.Outcome)
		}
	})
}

func TestInvalidRequestAndUPK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newChain(t, person.Default(), authn.Config{})
		bad := challenge(authn.LoA2, "")
		bad.ClientName = strings.Repeat("n", 41)
		r, err := c.push(t, bad)
		if err != nil {
			t.Fatal(err)
		}
		if r.Outcome != authn.InvalidRequest || !bytes.Equal(r.TransactionID, bad.TransactionID) {
			t.Errorf("41-byte client name: %v, transaction id %x (want %x echoed)", r.Outcome, r.TransactionID, bad.TransactionID)
		}
		ch := challenge(authn.LoA2, "hi")
		ch.WantUPK = true
		ch.BindingMessage = ""
		ch.TransactionID = []byte{1}
		ch.Nonce = ch.Nonce[:8]
		ch.ClientName = "B"
		r, err = c.push(t, ch)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := authn.ParsePublicKey(r.UPK)
		if err != nil || !pub.Equal(c.pub) {
			t.Errorf("upk %x does not match the card key: %v", r.UPK, err)
		}
	})
}

// BenchmarkLoA3CardSession measures one whole LoA3 session on the card side
// through the handset: ENVELOPE(SMS-PP download) with the OTA packet opened
// (counter, CC, deciphering), GET INPUT answered with the right PIN, the PIN
// check, the ECDSA P-256 signature, the response sealed and sent by SEND
// SHORT MESSAGE. The command packets are sealed before the timer starts.
func BenchmarkLoA3CardSession(b *testing.B) {
	// Sessions run on parked goroutines, as in simlab serve (internal/workers).
	w := workers.New(0)
	defer w.Close()
	c := newChainGo(b, person.Default(), authn.Config{}, w.Go)
	ctx := context.Background()
	ch := challenge(authn.LoA3, "Login 4F2A")
	raw := authn.AppendChallenge(nil, &ch)
	sms := make([][]byte, b.N)
	for i := range sms {
		var cntr ota.Counter
		n := uint64(i + 1)
		for j := 0; j < 5; j++ {
			cntr[4-j] = byte(n >> (8 * j))
		}
		pkt, err := ota.SealCommand(ctx, c.ks, c.keys, c.header, cntr, raw)
		if err != nil {
			b.Fatal(err)
		}
		d, err := tpdu.NewSIMDataDownload(tpdu.InternationalAddress("99955501"), time.Now(), pkt).AppendBinary(nil)
		if err != nil {
			b.Fatal(err)
		}
		sms[i] = d
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.mo = c.mo[:0]
		if _, err := c.hs.DeliverSMS(ctx, [][]byte{sms[i]}); err != nil {
			b.Fatal(err)
		}
		if err := c.hs.Wait(); err != nil {
			b.Fatal(err)
		}
		if len(c.mo) != 1 {
			b.Fatalf("session %d sent %d SMS", i, len(c.mo))
		}
	}
}

// BenchmarkCryptoECDSASign is the yardstick for BenchmarkLoA3CardSession on
// a noisy machine: one crypto/ecdsa P-256 signature, measured in the same
// run (docs/benchmarks.md compares the two as a ratio).
func BenchmarkCryptoECDSASign(b *testing.B) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("yardstick"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ecdsa.SignASN1(rand.Reader, priv, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is what a sender spends checking one answer's signature
// (authn.Verify: SignedDigest and crypto/ecdsa's P-256 verification), the
// cost simlab load's --verify-every spares the generator.
func BenchmarkVerify(b *testing.B) {
	c := newChain(b, person.Default(), authn.Config{})
	ch := challenge(authn.LoA3, "Login 4F2A")
	raw := authn.AppendChallenge(nil, &ch)
	r := authn.Response{TransactionID: ch.TransactionID, Outcome: authn.Approved, AchievedLoA: authn.LoA3}
	signer, err := c.ks.Signer(context.Background(), "card-sig")
	if err != nil {
		b.Fatal(err)
	}
	if err := authn.Sign(signer, nil, raw, &r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := authn.Verify(c.pub, raw, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReplyToOriginatorType: without a reply address the response goes
// back to the originator as it came, its type kept: a national number and
// an alphanumeric sender (which once ended the session in a SIM error).
func TestReplyToOriginatorType(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newChain(t, person.Default(), authn.Config{})
		for _, oa := range []tpdu.Address{
			{TON: tpdu.TONNational, NPI: tpdu.NPIISDN, Number: "0301234567"},
			{TON: tpdu.TONAlphanumeric, Number: "SIMLAB"},
		} {
			c.oa = oa
			r, err := c.push(t, challenge(authn.LoA2, "hi"))
			if err != nil || r.Outcome != authn.Approved {
				t.Fatalf("from %+v: %v %v", oa, r.Outcome, err)
			}
		}
	})
}
