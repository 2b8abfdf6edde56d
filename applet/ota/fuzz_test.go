package ota

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
)

// fuzzStore holds a 3DES and an AES keyset; fuzzKeys picks the one the
// KIc's algorithm fits.
func fuzzStore(f *testing.F) hsm.Keystore {
	ks := soft.NewMemory()
	ctx := context.Background()
	for ref, k := range map[string]struct {
		typ hsm.KeyType
		hex string
	}{
		"t-kic": {hsm.TDES2, py3DESKIc}, "t-kid": {hsm.TDES2, py3DESKID},
		"a-kic": {hsm.AES128, pyAESKIc}, "a-kid": {hsm.AES128, pyAESKID},
	} {
		if err := ks.Import(ctx, ref, k.typ, unhex(f, k.hex)); err != nil {
			f.Fatal(err)
		}
	}
	f.Cleanup(func() { ks.Close() })
	return ks
}

func fuzzKeys(kic KIc) Keys {
	if kic.Algorithm() == AlgAES {
		return Keys{KIc: "a-kic", KID: "a-kid", KIcAlg: AlgAES, KIDAlg: AlgCRC16}
	}
	return Keys{KIc: "t-kic", KID: "t-kid", KIcAlg: AlgTDES2, KIDAlg: AlgCRC32}
}

// FuzzOpenCommand opens arbitrary bytes as a command packet. Whatever
// opens must seal again and reopen to the same contents.
func FuzzOpenCommand(f *testing.F) {
	for _, v := range cmdVectors {
		f.Add(unhex(f, v.packet))
	}
	ks := fuzzStore(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, pkt []byte) {
		res := ResolverFunc(func(tar TAR, kic KIc, kid KID) (Keyset, error) {
			return Keyset{Keys: fuzzKeys(kic), Counter: CounterFromUint64(uint64(tar[0]))}, nil
		})
		in := bytes.Clone(pkt)
		c, err := OpenCommand(ctx, ks, res, pkt)
		if !bytes.Equal(in, pkt) {
			t.Fatal("OpenCommand modified its input")
		}
		if err != nil {
			if StatusOf(err) == StatusOK {
				t.Fatalf("error %v with status OK", err)
			}
			return
		}
		again, err := SealCommand(ctx, ks, fuzzKeys(c.KIc), c.CommandHeader, c.Counter, c.Data)
		if err != nil {
			t.Fatalf("reseal: %v", err)
		}
		c2, err := OpenCommand(ctx, ks, res, again)
		if err != nil || c2.CommandHeader != c.CommandHeader || c2.Counter != c.Counter || !bytes.Equal(c2.Data, c.Data) {
			t.Fatalf("reopen: %+v %v", c2, err)
		}
	})
}

// FuzzOpenResponse opens arbitrary bytes as a PoR under each SPI2 byte
// and KIc/KID given by the fuzzer.
func FuzzOpenResponse(f *testing.F) {
	for _, v := range porVectors {
		s := unhex(f, v.spi)
		f.Add(unhex(f, v.packet), s[1], v.kicb)
	}
	f.Add(unhex(f, "027100001612b000110000000000000055f47118381175fb02612f"), byte(0x09), byte(0x35))
	ks := fuzzStore(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, pkt []byte, spi2, kic byte) {
		h := CommandHeader{SPI: ParseSPI(0, spi2), KIc: KIc(kic), KID: KID(kic)}
		keys := fuzzKeys(h.KIc)
		in := bytes.Clone(pkt)
		r, err := OpenResponse(ctx, ks, keys, h, pkt)
		if !bytes.Equal(in, pkt) {
			t.Fatal("OpenResponse modified its input")
		}
		if err != nil {
			return
		}
		h.TAR = r.TAR
		again, err := SealResponse(ctx, ks, keys, h, r.Counter, r.Status, r.Data)
		if err != nil {
			t.Fatalf("reseal: %v", err)
		}
		r2, err := OpenResponse(ctx, ks, keys, h, again)
		if err != nil || r2.TAR != r.TAR || r2.Counter != r.Counter || r2.Status != r.Status || !bytes.Equal(r2.Data, r.Data) {
			t.Fatalf("reopen: %+v %v", r2, err)
		}
	})
}

// FuzzReassemble feeds arbitrary user data to a Reassembler and ParseUDH.
func FuzzReassemble(f *testing.F) {
	f.Add(unhex(f, "0571007001ffabcd"), unhex(f, "027000001d"))
	uds, _ := SplitSMS(make([]byte, 200), 7)
	f.Add(uds[0], uds[1])
	f.Fuzz(func(t *testing.T, a, b []byte) {
		r, _ := NewReassembler(ReassemblyLimits{MaxParts: 8, MaxBytes: 1000, MaxAge: time.Minute, MaxPending: 4})
		for _, ud := range [][]byte{a, b} {
			u, rest, err := ParseUDH(ud)
			if err == nil && (len(rest) > len(ud) || (u.Concatenated && (u.Seq == 0 || u.Seq > u.Total))) {
				t.Fatalf("ParseUDH(%x) = %+v, %x", ud, u, rest)
			}
			p, err := r.Add(time.Time{}, "x", ud)
			if err == nil && len(p) > 1000 {
				t.Fatalf("reassembled %d bytes over the limit", len(p))
			}
		}
		if r.Pending() > 4 {
			t.Fatalf("pending %d", r.Pending())
		}
	})
}

// FuzzSealOpen seals whatever header, counter and data the fuzzer picks;
// every packet that seals must open to the same contents on the card side,
// and its PoR must open on the server side.
func FuzzSealOpen(f *testing.F) {
	for _, v := range cmdVectors {
		s := unhex(f, v.spi)
		f.Add(s[0], s[1], v.kicb, v.kidb, cntr(f, v.cntr).Uint64(), unhex(f, v.data))
	}
	ks := fuzzStore(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, spi1, spi2, kic, kid byte, n uint64, data []byte) {
		n = n%MaxCounter + 1
		h := CommandHeader{SPI: ParseSPI(spi1, spi2), KIc: KIc(kic), KID: KID(kid), TAR: TAR{1, 2, 3}}
		keys := fuzzKeys(h.KIc)
		pkt, err := SealCommand(ctx, ks, keys, h, CounterFromUint64(n), data)
		if err != nil {
			return
		}
		res := ResolverFunc(func(TAR, KIc, KID) (Keyset, error) {
			return Keyset{Keys: keys, Counter: CounterFromUint64(n - 1)}, nil
		})
		c, err := OpenCommand(ctx, ks, res, pkt)
		if err != nil || c.CommandHeader != h || c.Counter.Uint64() != n || !bytes.Equal(c.Data, data) {
			t.Fatalf("open %x: %+v %v", pkt, c, err)
		}
		por, err := SealResponse(ctx, ks, keys, h, c.Counter, StatusOK, data)
		if err != nil {
			return // e.g. DS asked for the PoR only
		}
		r, err := OpenResponse(ctx, ks, keys, h, por)
		if err != nil || r.Counter != c.Counter || !bytes.Equal(r.Data, data) {
			t.Fatalf("PoR %x: %+v %v", por, r, err)
		}
	})
}
