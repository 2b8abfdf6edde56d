package mobileconnect

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
)

// TestPCRFormula: the PCR is exactly the formula keys.go documents,
// computed here with crypto/hmac alone, and resolves back; so a change to
// how the gateway assembles the MAC inputs cannot change the subjects RPs
// already hold.
func TestPCRFormula(t *testing.T) {
	ctx := context.Background()
	ks := soft.NewMemory()
	key := bytes.Repeat([]byte{0x5c, 0x17}, 16)
	if err := ks.Import(ctx, labelPCR, hsm.HMAC, key); err != nil {
		t.Fatal(err)
	}
	k := &keyRing{ks: ks}
	mac := func(parts ...string) []byte {
		m := hmac.New(sha256.New, key)
		for i, p := range parts {
			if i > 0 {
				m.Write([]byte{0})
			}
			m.Write([]byte(p))
		}
		return m.Sum(nil)
	}
	for _, c := range []struct{ client, msisdn string }{
		{"client", "447700900123"}, {"", "1"}, {"a-much-longer-client-identifier-than-usual-0123456789", "12345678901234567890123456789012"},
	} {
		tag := mac("simlab-pcr-tag", c.client, c.msisdn)[:16]
		pad := mac("simlab-pcr-pad", c.client, string(tag))
		want := append([]byte(nil), tag...)
		for i := range len(c.msisdn) {
			want = append(want, c.msisdn[i]^pad[i])
		}
		got, err := k.pcr(ctx, c.client, c.msisdn)
		if err != nil || got != base64.RawURLEncoding.EncodeToString(want) {
			t.Fatalf("pcr(%q, %q) = %q, %v; want %q", c.client, c.msisdn, got, err, base64.RawURLEncoding.EncodeToString(want))
		}
		if back, err := k.resolvePCR(ctx, c.client, got); err != nil || back != c.msisdn {
			t.Fatalf("resolvePCR = %q, %v; want %q", back, err, c.msisdn)
		}
	}
	if _, err := k.pcr(ctx, "client", "123456789012345678901234567890123"); err == nil {
		t.Fatal("a 33-digit number got a PCR")
	}
}
