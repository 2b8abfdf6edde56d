package ota

import (
	"errors"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
)

func TestSPIRoundTrip(t *testing.T) {
	t.Parallel()
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			s := ParseSPI(byte(a), byte(b))
			if x, y := s.Bytes(); x != byte(a) || y != byte(b) {
				t.Fatalf("SPI %02x%02x round-trips to %02x%02x", a, b, x, y)
			}
		}
	}
	// onomondo-uicc tests/envelope: SPI 1639 = CC, ciphered, counter must be higher;
	// PoR required, CC, ciphered, via SMS-SUBMIT.
	s := ParseSPI(0x16, 0x39)
	want := SPI{Integrity: IntegrityCC, Ciphered: true, Counter: CounterHigher, PoR: PoRRequired, PoRIntegrity: IntegrityCC, PoRCiphered: true, PoRSubmit: true}
	if s != want || s.Uint16() != 0x1639 {
		t.Errorf("ParseSPI(1639) = %+v", s)
	}
	if got := s.String(); got != "cc,ciphered,counter=must-be-higher;por=required,por-cc,por-ciphered,por-via=submit" {
		t.Errorf("String() = %q", got)
	}
	// SPI1 b5b4 = 11 is "exactly one higher" (testdata/vectors.txt on
	// pySim's name for it).
	if ParseSPI(0x18, 0).Counter != CounterOneHigher || CounterOneHigher.String() != "must-be-one-higher" {
		t.Error("counter mode 3")
	}
	if ParseSPI(0x01, 0x02).Integrity != IntegrityRC || ParseSPI(0x03, 0x0C).PoRIntegrity != IntegrityDS || ParseSPI(0, 0x02).PoR != PoROnError {
		t.Error("integrity / PoR mode")
	}
	if m := ParseMSL(0x06); m != (MSL{Integrity: IntegrityCC, Ciphered: true}) || m.Byte() != 0x06 {
		t.Errorf("ParseMSL(06) = %+v", m)
	}
}

func TestKIcKID(t *testing.T) {
	t.Parallel()
	// TS 102 225 §5.1.2/§5.1.3 codings.
	kic := []struct {
		b   byte
		idx int
		a   Algorithm
	}{{0x35, 3, AlgTDES2}, {0x22, 2, AlgAES}, {0x01, 0, AlgDESCBC}, {0x09, 0, AlgTDES3}, {0x1D, 1, AlgDESECB}, {0x40, 4, AlgImplicit}, {0x03, 0, AlgProprietary}, {0x06, 0, AlgReserved}}
	for _, c := range kic {
		k := KIc(c.b)
		if k.Index() != c.idx || k.Algorithm() != c.a {
			t.Errorf("KIc %02x = index %d %s", c.b, k.Index(), k.Algorithm())
		}
		if c.a <= AlgAES {
			if n, err := NewKIc(c.idx, c.a); err != nil || n != k {
				t.Errorf("NewKIc(%d, %s) = %02x, %v", c.idx, c.a, byte(n), err)
			}
		}
	}
	kid := []struct {
		b     byte
		integ Integrity
		a     Algorithm
	}{{0x35, IntegrityCC, AlgTDES2}, {0x32, IntegrityCC, AlgAES}, {0x19, IntegrityCC, AlgTDES3}, {0x1D, IntegrityCC, AlgReserved},
		{0x01, IntegrityRC, AlgCRC16}, {0x05, IntegrityRC, AlgCRC32}, {0x00, IntegrityRC, AlgImplicit}, {0x09, IntegrityRC, AlgReserved}}
	for _, c := range kid {
		if got := KID(c.b).Algorithm(c.integ); got != c.a {
			t.Errorf("KID %02x for %s = %s, want %s", c.b, c.integ, got, c.a)
		}
		if c.a != AlgReserved && c.a != AlgImplicit {
			if n, err := NewKID(int(c.b>>4), c.a); err != nil || byte(n) != c.b {
				t.Errorf("NewKID(%d, %s) = %02x, %v", c.b>>4, c.a, byte(n), err)
			}
		}
	}
	if _, err := NewKIc(16, AlgAES); err == nil {
		t.Error("index 16 accepted")
	}
	if _, err := NewKIc(1, AlgCRC16); err == nil {
		t.Error("CRC16 as cipher accepted")
	}
	for _, c := range []struct {
		a   Algorithm
		n   int
		typ hsm.KeyType
		ok  bool
	}{{AlgDESCBC, 8, hsm.DES, true}, {AlgTDES2, 16, hsm.TDES2, true}, {AlgTDES3, 24, hsm.TDES3, true}, {AlgAES, 24, hsm.AES192, true}, {AlgAES, 32, hsm.AES256, true}, {AlgTDES2, 24, "", false}, {AlgCRC32, 4, "", false}} {
		typ, err := KeyType(c.a, c.n)
		if (err == nil) != c.ok || typ != c.typ {
			t.Errorf("KeyType(%s, %d) = %s, %v", c.a, c.n, typ, err)
		}
	}
	if CounterFromUint64(0x0102030405).Uint64() != 0x0102030405 || CounterFromUint64(MaxCounter).String() != "ffffffffff" {
		t.Error("counter")
	}
}

// AES-192/256 keys follow from the key length (TS 102 225 §5.1.2): seal
// and open with each.
func TestAESKeyLengths(t *testing.T) {
	t.Parallel()
	for _, key := range []string{pyAESKIc, pyAESKIc + "0001020304050607", pyAESKIc + pyAESKID} {
		ks, keys := testKeys(t, AlgAES, key, AlgAES, key)
		h := CommandHeader{SPI: SPI{Integrity: IntegrityCC, Ciphered: true}, KIc: 0x12, KID: 0x12}
		pkt, err := SealCommand(t.Context(), ks, keys, h, Counter{}, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		res := ResolverFunc(func(TAR, KIc, KID) (Keyset, error) { return Keyset{Keys: keys}, nil })
		if c, err := OpenCommand(t.Context(), ks, res, pkt); err != nil || string(c.Data) != "x" {
			t.Errorf("%d-byte key: %v", len(key)/2, err)
		}
	}
}

// ParseAlgorithm reads back every concrete algorithm's name and refuses the
// codings that are not algorithms.
func TestParseAlgorithm(t *testing.T) {
	t.Parallel()
	for a := AlgDESCBC; a <= AlgCRC32; a++ {
		if got, err := ParseAlgorithm(a.String()); err != nil || got != a {
			t.Errorf("ParseAlgorithm(%q) = %v, %v", a.String(), got, err)
		}
	}
	for _, s := range []string{"", "implicit", "proprietary", "reserved", "AES", "aes128"} {
		if a, err := ParseAlgorithm(s); !errors.Is(err, ErrUnsupported) {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want ErrUnsupported", s, a, err)
		}
	}
}
