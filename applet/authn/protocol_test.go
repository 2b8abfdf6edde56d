package authn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func testChallenge() Challenge {
	return Challenge{
		TransactionID:  []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
		LoA:            LoA3,
		ClientName:     "Example Bank",
		BindingMessage: "Login 4F2A",
		Context:        "Sign in to online banking",
		Nonce:          bytes.Repeat([]byte{0xAB}, 16),
		ReplyAddress:   []byte{0x05, 0x81, 0x21, 0x43, 0xF5}, // 5 digits, unknown/ISDN, "12345"
		TimeoutSeconds: 60,
	}
}

// The encoding of a known challenge, byte for byte: this is the layout
// docs/applet-protocol.md documents, so a change here is a protocol change.
func TestChallengeEncodingGolden(t *testing.T) {
	t.Parallel()
	c := testChallenge()
	got := hex.EncodeToString(AppendChallenge(nil, &c))
	want := "a0" + "62" +
		"800101" +
		"81080102030405060708" +
		"820103" +
		"830c" + hex.EncodeToString([]byte("Example Bank")) +
		"840a" + hex.EncodeToString([]byte("Login 4F2A")) +
		"8519" + hex.EncodeToString([]byte("Sign in to online banking")) +
		"8610" + strings.Repeat("ab", 16) +
		"87050581214 3f5" +
		"8802003c"
	want = strings.ReplaceAll(want, " ", "")
	if got != want {
		t.Fatalf("challenge encoding\n got %s\nwant %s", got, want)
	}
}

func TestChallengeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []Challenge{testChallenge(), {TransactionID: []byte{9}, LoA: LoA3Fallback2, ClientName: "X", Nonce: make([]byte, 8), WantUPK: true}} {
		enc := AppendChallenge([]byte{0xEE}, &c)[1:]
		enc = append(enc, 0x99) // trailing bytes are not part of the template
		got, raw, err := ParseChallenge(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, enc[:len(enc)-1]) {
			t.Errorf("raw = %x, want the template only", raw)
		}
		if !bytes.Equal(AppendChallenge(nil, &got), raw) {
			t.Errorf("re-encoding %+v differs from %x", got, raw)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	}
}

func TestChallengeLimits(t *testing.T) {
	t.Parallel()
	mod := func(f func(*Challenge)) Challenge { c := testChallenge(); f(&c); return c }
	for name, c := range map[string]Challenge{
		"texts over 93":    mod(func(c *Challenge) { c.BindingMessage = strings.Repeat("x", 60); c.Context = strings.Repeat("y", 34) }),
		"no client name":   mod(func(c *Challenge) { c.ClientName = "" }),
		"long client name": mod(func(c *Challenge) { c.ClientName = strings.Repeat("n", 41) }),
		"short nonce":      mod(func(c *Challenge) { c.Nonce = c.Nonce[:7] }),
		"bad LoA":          mod(func(c *Challenge) { c.LoA = 4 }),
		"no txid":          mod(func(c *Challenge) { c.TransactionID = nil }),
		"bad utf8":         mod(func(c *Challenge) { c.Context = "\xff" }),
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
	ok := mod(func(c *Challenge) { c.BindingMessage = strings.Repeat("x", 60); c.Context = strings.Repeat("y", 33) })
	if err := ok.Validate(); err != nil {
		t.Errorf("93 bytes exactly: %v", err)
	}
}

func TestParseChallengeErrors(t *testing.T) {
	t.Parallel()
	c := testChallenge()
	good := AppendChallenge(nil, &c)
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"empty":       {nil, ErrMalformed},
		"wrong tag":   {append([]byte{0xA1}, good[1:]...), ErrMalformed},
		"truncated":   {good[:len(good)-3], ErrMalformed},
		"no nonce":    {mustHex("a00c800101810101820102830158"), ErrMissing},
		"version 2":   {mustHex("a003800102"), ErrVersion},
		"bad LoA len": {mustHex("a00e80010181010182020203830158"), ErrMalformed},
		"bad timeout": {mustHex("a005800101880101"), ErrMalformed},
	} {
		_, _, err := ParseChallenge(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestSignVerifyAndTamper(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := testChallenge()
	raw := AppendChallenge(nil, &c)
	upk, err := CompressPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	r := Response{TransactionID: c.TransactionID, Outcome: Approved, AchievedLoA: LoA3, TriesLeft: 3, HasTriesLeft: true, DTSTime: 1790000000, UPK: upk}
	if err := Sign(key, nil, raw, &r); err != nil {
		t.Fatal(err)
	}
	enc := AppendResponse(nil, &r)
	got, err := ParseResponse(enc)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(got.UPK)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(pub, raw, &got); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !bytes.Equal(AppendResponse(nil, &got), enc) {
		t.Error("response does not re-encode to the same bytes")
	}
	// Any change to what was shown or answered breaks the signature.
	tampered := got
	tampered.Outcome = Cancelled
	if err := Verify(pub, raw, &tampered); !errors.Is(err, ErrSignature) {
		t.Errorf("changed outcome: %v", err)
	}
	c2 := c
	c2.BindingMessage = "Login 0000"
	if err := Verify(pub, AppendChallenge(nil, &c2), &got); !errors.Is(err, ErrSignature) {
		t.Errorf("changed binding message: %v", err)
	}
	// A response without upk fits a single SMS with room for OTA overhead.
	r.UPK = nil
	if err := Sign(key, nil, raw, &r); err != nil {
		t.Fatal(err)
	}
	if n := len(AppendResponse(nil, &r)); n > 100 {
		t.Errorf("response without upk is %d bytes, want ≤ 100 to fit one SMS after OTA sealing", n)
	}
}

func TestParseResponseErrors(t *testing.T) {
	t.Parallel()
	r := Response{TransactionID: []byte{1}, Outcome: WrongPIN, HasTriesLeft: true, TriesLeft: 2, DTSTime: 5, Signature: make([]byte, 64)}
	good := AppendResponse(nil, &r)
	if _, err := ParseResponse(good); err != nil {
		t.Fatal(err)
	}
	noSig := tlvWrap(byte(TagResponse), appendResponseBody(nil, &r))
	if _, err := ParseResponse(noSig); !errors.Is(err, ErrMissing) {
		t.Errorf("no signature: %v", err)
	}
	if _, err := ParseResponse(good[:20]); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated: %v", err)
	}
}

func tlvWrap(tag byte, body []byte) []byte {
	return append([]byte{tag, byte(len(body))}, body...)
}

func TestOutcomeAndLoANames(t *testing.T) {
	t.Parallel()
	want := []string{"approved", "cancelled", "timeout", "wrong_pin", "pin_blocked", "pin_not_supported", "busy", "sim_error", "invalid_request"}
	for i, w := range want {
		if got := Outcome(i).String(); got != w {
			t.Errorf("Outcome(%d) = %q, want %q", i, got, w)
		}
	}
	for s, l := range map[string]LoA{"2": LoA2, "3": LoA3, "3,2": LoA3Fallback2} {
		got, err := ParseLoA(s)
		if err != nil || got != l || (l.String() != s) {
			t.Errorf("ParseLoA(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseLoA("4"); err == nil {
		t.Error("ParseLoA(4) accepted")
	}
}

func FuzzParseChallenge(f *testing.F) {
	c := testChallenge()
	f.Add(AppendChallenge(nil, &c))
	f.Add(mustHex("a003800101"))
	f.Add([]byte{0xA0, 0x81})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, raw, err := ParseChallenge(b)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(b, raw) {
			t.Fatalf("raw %x is not a prefix of the input", raw)
		}
		if got.Validate() == nil {
			// A valid challenge re-encodes and parses to the same values.
			again, _, err := ParseChallenge(AppendChallenge(nil, &got))
			if err != nil || !bytes.Equal(again.Nonce, got.Nonce) || again.ClientName != got.ClientName || again.LoA != got.LoA {
				t.Fatalf("re-parse of %+v: %+v, %v", got, again, err)
			}
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	r := Response{TransactionID: []byte{1, 2}, Outcome: Approved, AchievedLoA: LoA2, DTSTime: 7, Signature: make([]byte, 64)}
	f.Add(AppendResponse(nil, &r))
	f.Add([]byte{0xA1, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseResponse(b)
		if err != nil {
			return
		}
		if len(got.Signature) != 64 {
			t.Fatalf("accepted a %d-byte signature", len(got.Signature))
		}
	})
}

// TestDocumentedExample checks the worked example in
// docs/applet-protocol.md byte for byte.
func TestDocumentedExample(t *testing.T) {
	t.Parallel()
	c := Challenge{
		TransactionID: mustHex("0102030405060708"), LoA: LoA3, ClientName: "Example Bank",
		BindingMessage: "Login 4F2A", Nonce: bytes.Repeat([]byte{0xAB}, 16), TimeoutSeconds: 60,
	}
	raw := AppendChallenge(nil, &c)
	if got, want := hex.EncodeToString(raw), "a04080010181080102030405060708820103830c4578616d706c652042616e6b840a4c6f67696e20344632418610abababababababababababababababab8802003c"; got != want {
		t.Fatalf("challenge\n got %s\nwant %s", got, want)
	}
	r := Response{TransactionID: c.TransactionID, Outcome: Approved, AchievedLoA: LoA3, TriesLeft: 3, HasTriesLeft: true, DTSTime: 1795000000}
	d := SignedDigest(raw, &r)
	if got := hex.EncodeToString(d[:]); got != "feaaa2998adce730bd48605a4d53064e11bb35a4c29fee142df1806f57faf2d9" {
		t.Fatalf("digest %s", got)
	}
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{0x11}, 32))
	if err != nil {
		t.Fatal(err)
	}
	upk, _ := CompressPublicKey(&key.PublicKey)
	if got := hex.EncodeToString(upk); got != "020217e617f0b6443928278f96999e69a23a4f2c152bdf6d6cdf66e5b80282d4ed" {
		t.Fatalf("upk %s", got)
	}
	resp, err := ParseResponse(mustHex("a15e8001018108010203040506070882010083010384010385046afd86c08a40452d1e156a084d6a157060e57c5b4afa5df9d04f787a94d2bcfba6cc28417a98fb216805bdc301c95f188f3269049eb2ed9eff174acfdf15464254fb8a91f4a8"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(&key.PublicKey, raw, &resp); err != nil {
		t.Fatalf("documented response does not verify: %v", err)
	}
}
