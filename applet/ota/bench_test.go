package ota

import (
	"context"
	"testing"
)

// BenchmarkSealOpen seals a 64-byte command packet (CC, ciphered, counter
// must be higher) on the server side and opens it on the card side; the
// "+PoR" cases also seal and open its PoR (CC, ciphered, 8 bytes of data).
func BenchmarkSealOpen(b *testing.B) {
	for _, withPoR := range []bool{false, true} {
		benchSealOpen(b, withPoR)
	}
}

func benchSealOpen(b *testing.B, withPoR bool) {
	suffix := ""
	if withPoR {
		suffix = "+PoR"
	}
	for _, bc := range []struct {
		name     string
		alg      Algorithm
		kic, kid string
		kb       byte
	}{
		{"AES128", AlgAES, pyAESKIc, pyAESKID, 0x22},
		{"3DES2", AlgTDES2, py3DESKIc, py3DESKID, 0x35},
	} {
		b.Run(bc.name+suffix, func(b *testing.B) {
			ctx := context.Background()
			ks, keys := testKeys(b, bc.alg, bc.kic, bc.alg, bc.kid)
			h := CommandHeader{SPI: SPI{Integrity: IntegrityCC, Ciphered: true, Counter: CounterHigher, PoR: PoRRequired, PoRIntegrity: IntegrityCC, PoRCiphered: true}, KIc: KIc(bc.kb), KID: KID(bc.kb), TAR: TAR{0xB0, 0, 0x11}}
			data := make([]byte, 64)
			res := ResolverFunc(func(TAR, KIc, KID) (Keyset, error) { return Keyset{Keys: keys}, nil })
			var buf, rbuf []byte
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				pkt, err := AppendCommand(ctx, buf[:0], ks, keys, h, CounterFromUint64(uint64(i+1)), data)
				if err != nil {
					b.Fatal(err)
				}
				buf = pkt
				c, err := OpenCommand(ctx, ks, res, pkt)
				if err != nil {
					b.Fatal(err)
				}
				if !withPoR {
					continue
				}
				por, err := AppendResponse(ctx, rbuf[:0], ks, keys, c.CommandHeader, c.Counter, StatusOK, c.Data[:8])
				if err != nil {
					b.Fatal(err)
				}
				rbuf = por
				if _, err := OpenResponse(ctx, ks, keys, h, por); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
