package ota

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

// card is a minimal card for the tests: one TAR, one keyset, a stored
// counter that is written only after a successful open.
type card struct {
	tar     TAR
	keys    Keys
	msl     MSL
	counter Counter
	resolve int
}

func (c *card) Resolve(tar TAR, kic KIc, kid KID) (Keyset, error) {
	c.resolve++
	if tar != c.tar {
		return Keyset{}, fmt.Errorf("%w: %s", ErrTARUnknown, tar)
	}
	return Keyset{Keys: c.keys, MSL: c.msl, Counter: c.counter}, nil
}

func TestCounterModes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ks, keys := testKeys(t, AlgTDES2, py3DESKIc, AlgTDES2, py3DESKID)
	data := []byte{0x80, 0xCA, 0x00, 0x00}
	type step struct {
		sent  uint64
		want  Status
		after uint64 // stored counter afterwards
	}
	cases := []struct {
		mode  CounterMode
		start uint64
		steps []step
	}{
		{CounterNone, 5, []step{{0, StatusOK, 5}, {3, StatusOK, 5}, {9, StatusOK, 5}}},
		{CounterNoCheck, 5, []step{{0, StatusOK, 5}, {5, StatusOK, 5}, {100, StatusOK, 5}}},
		{CounterHigher, 5, []step{{5, StatusCounterLow, 5}, {4, StatusCounterLow, 5}, {7, StatusOK, 7}, {7, StatusCounterLow, 7}, {1000, StatusOK, 1000}}},
		{CounterOneHigher, 5, []step{{5, StatusCounterLow, 5}, {2, StatusCounterLow, 5}, {7, StatusCounterHigh, 5}, {6, StatusOK, 6}, {6, StatusCounterLow, 6}, {7, StatusOK, 7}}},
		{CounterHigher, MaxCounter, []step{{MaxCounter, StatusCounterBlocked, MaxCounter}}},
		{CounterOneHigher, MaxCounter, []step{{0, StatusCounterBlocked, MaxCounter}}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/from-%d", tc.mode, tc.start), func(t *testing.T) {
			h := CommandHeader{SPI: SPI{Integrity: IntegrityCC, Ciphered: true, Counter: tc.mode, PoR: PoRRequired}, KIc: 0x35, KID: 0x35, TAR: TAR{0xB0, 0, 0x11}}
			c := &card{tar: h.TAR, keys: keys, counter: CounterFromUint64(tc.start)}
			for i, s := range tc.steps {
				pkt, err := SealCommand(ctx, ks, keys, h, CounterFromUint64(s.sent), data)
				if err != nil {
					t.Fatal(err)
				}
				cmd, err := OpenCommand(ctx, ks, c, pkt)
				if err == nil && cmd.StoreCounter {
					c.counter = cmd.Counter
				}
				if got := StatusOf(err); got != s.want {
					t.Errorf("step %d: sent %d: status %02x (%v), want %02x", i, s.sent, got, err, s.want)
				}
				if err == nil && !bytes.Equal(cmd.Data, data) {
					t.Errorf("step %d: data %x", i, cmd.Data)
				}
				var se *StatusError
				if err != nil && (!errors.As(err, &se) || !se.HeaderValid || !se.CounterValid || se.Counter.Uint64() != s.sent) {
					t.Errorf("step %d: error %#v lacks header or counter", i, err)
				}
				if c.counter.Uint64() != s.after {
					t.Errorf("step %d: stored counter %d, want %d", i, c.counter.Uint64(), s.after)
				}
			}
		})
	}
}

func TestOpenFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ks, keys := testKeys(t, AlgAES, pyAESKIc, AlgAES, pyAESKID)
	good := CommandHeader{SPI: SPI{Integrity: IntegrityCC, Ciphered: true, Counter: CounterHigher, PoR: PoRRequired, PoRIntegrity: IntegrityCC, PoRCiphered: true}, KIc: 0x22, KID: 0x22, TAR: TAR{0xB0, 0, 0x11}}
	seal := func(h CommandHeader, k Keys) []byte {
		p, err := SealCommand(ctx, ks, k, h, CounterFromUint64(10), []byte("hello card"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	flip := func(p []byte, i int) []byte { p = bytes.Clone(p); p[i] ^= 1; return p }
	weak := good
	weak.SPI.Ciphered = false
	noCC := good
	noCC.SPI.Integrity = IntegrityNone
	lowCounter := good
	lowCounter.SPI.Counter = CounterNoCheck
	other := good
	other.TAR = TAR{1, 2, 3}
	ds := good
	ds.SPI.Integrity = IntegrityDS
	dsPkt := seal(noCC, keys)
	dsPkt[3] |= 0x03 // claim DS
	rc := good
	rc.SPI.Integrity = IntegrityRC
	rc.KID = 0x25 // index 2, CRC32
	rcPkt := seal(rc, keys)
	cases := []struct {
		name string
		pkt  []byte
		msl  MSL
		want Status
	}{
		{"ok", seal(good, keys), MSL{Integrity: IntegrityCC, Ciphered: true, Counter: CounterHigher}, StatusOK},
		{"wrong CC (last byte)", flip(seal(good, keys), 40), MSL{}, StatusIntegrityFailed},
		{"wrong CC (header byte)", flip(seal(good, keys), 9), MSL{}, StatusTARUnknown},
		{"wrong CC (KIc index)", flip(seal(good, keys), 5), MSL{}, StatusCipheringError},
		{"wrong RC", flip(rcPkt, len(rcPkt)-1), MSL{}, StatusIntegrityFailed},
		{"RC ok", rcPkt, MSL{Integrity: IntegrityRC, Ciphered: true}, StatusOK},
		{"RC below MSL CC", rcPkt, MSL{Integrity: IntegrityCC}, StatusInsufficientSecurity},
		{"unknown TAR", seal(other, keys), MSL{}, StatusTARUnknown},
		{"MSL wants ciphering", seal(weak, keys), MSL{Integrity: IntegrityCC, Ciphered: true}, StatusInsufficientSecurity},
		{"MSL wants CC", seal(noCC, keys), MSL{Integrity: IntegrityCC}, StatusInsufficientSecurity},
		{"MSL wants counter check", seal(lowCounter, keys), MSL{Counter: CounterHigher}, StatusInsufficientSecurity},
		{"DS unsupported", dsPkt, MSL{}, StatusUndefinedSecurity},
		{"truncated", seal(good, keys)[:20], MSL{}, StatusUndefinedSecurity},
		{"ciphered part not a block multiple", func() []byte { p := append(seal(good, keys), 0); p[1]++; return p }(), MSL{}, StatusCipheringError},
	}
	for _, tc := range cases {
		c := &card{tar: good.TAR, keys: keys, msl: tc.msl, counter: CounterFromUint64(9)}
		_, err := OpenCommand(ctx, ks, c, tc.pkt)
		if got := StatusOf(err); got != tc.want {
			t.Errorf("%s: status %02x (%v), want %02x", tc.name, got, err, tc.want)
		}
		if tc.want != StatusOK && c.counter.Uint64() != 9 {
			t.Errorf("%s: card counter changed to %d", tc.name, c.counter.Uint64())
		}
		if tc.want == StatusTARUnknown && c.resolve != 1 {
			t.Errorf("%s: resolver called %d times", tc.name, c.resolve)
		}
	}
	// A CPL that disagrees with the length, fixed up so only that is wrong.
	p := seal(good, keys)
	p[1]++
	var de *DecodeError
	if _, err := OpenCommand(ctx, ks, &card{tar: good.TAR, keys: keys}, p); !errors.As(err, &de) || de.Field != "CPL" || !errors.Is(err, ErrMalformed) {
		t.Errorf("bad CPL: %v", err)
	}
	// Resolver errors choose the status.
	for _, c := range []struct {
		err  error
		want Status
	}{
		{fmt.Errorf("keyset 3 may not address it: %w", ErrSecurityLevel), StatusInsufficientSecurity},
		{&StatusError{Status: StatusInsufficientMemory, Err: errors.New("full")}, StatusInsufficientMemory},
		{errors.New("disk on fire"), StatusUndefinedSecurity},
	} {
		res := ResolverFunc(func(TAR, KIc, KID) (Keyset, error) { return Keyset{}, c.err })
		if _, err := OpenCommand(ctx, ks, res, seal(good, keys)); StatusOf(err) != c.want {
			t.Errorf("resolver error %v: status %02x", c.err, StatusOf(err))
		}
	}
	// Missing keys in the keyset.
	if _, err := OpenCommand(ctx, ks, &card{tar: good.TAR}, seal(good, keys)); StatusOf(err) != StatusUndefinedSecurity || !errors.Is(err, ErrNoKey) {
		t.Errorf("no keys: %v", err)
	}
}

func TestStatusErrorResponse(t *testing.T) {
	t.Parallel()
	h := CommandHeader{SPI: SPI{Integrity: IntegrityCC, PoR: PoROnError, PoRIntegrity: IntegrityCC, PoRCiphered: true}}
	untrusted := (&StatusError{Status: StatusIntegrityFailed, Header: h, HeaderValid: true}).ResponseHeader()
	if untrusted.SPI.PoRIntegrity != IntegrityNone || untrusted.SPI.PoRCiphered {
		t.Errorf("integrity failure keeps PoR security: %+v", untrusted.SPI)
	}
	trusted := (&StatusError{Status: StatusCounterLow, Header: h, HeaderValid: true, CounterValid: true}).ResponseHeader()
	if trusted.SPI != h.SPI {
		t.Errorf("counter failure lost PoR security: %+v", trusted.SPI)
	}
	if !h.SPI.WantsPoR(StatusCounterLow) || h.SPI.WantsPoR(StatusOK) {
		t.Error("on-error PoR mode")
	}
}

// Every supported combination of cipher and integrity seals and opens,
// both for the command and for its PoR; DS is refused on both sides.
func TestRoundTripAllAlgorithms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	keyHex := map[Algorithm]string{AlgDESCBC: "0123456789abcdef", AlgDESECB: "0123456789abcdef", AlgTDES2: py3DESKIc, AlgTDES3: py3DESKIc + "0011223344556677", AlgAES: pyAESKIc}
	kidFor := map[Algorithm]Algorithm{AlgDESCBC: AlgDESCBC, AlgDESECB: AlgDESCBC, AlgTDES2: AlgTDES2, AlgTDES3: AlgTDES3, AlgAES: AlgAES}
	for _, ca := range []Algorithm{AlgDESCBC, AlgDESECB, AlgTDES2, AlgTDES3, AlgAES} {
		for _, integ := range []Integrity{IntegrityNone, IntegrityRC, IntegrityCC} {
			for _, rc := range []Algorithm{AlgCRC16, AlgCRC32} {
				if integ != IntegrityRC && rc == AlgCRC32 {
					continue
				}
				name := fmt.Sprintf("%s/%s/%s", ca, integ, rc)
				ks, keys := testKeys(t, ca, keyHex[ca], kidFor[ca], keyHex[ca])
				kic, _ := NewKIc(1, ca)
				kidAlg := kidFor[ca]
				if integ == IntegrityRC {
					kidAlg = rc
				}
				kid, _ := NewKID(1, kidAlg)
				for _, data := range [][]byte{nil, []byte("a"), bytes.Repeat([]byte{0xA5}, 33)} {
					h := CommandHeader{SPI: SPI{Integrity: integ, Ciphered: true, Counter: CounterOneHigher, PoR: PoRRequired, PoRIntegrity: integ, PoRCiphered: true}, KIc: kic, KID: kid, TAR: TAR{1, 2, 3}}
					pkt, err := SealCommand(ctx, ks, keys, h, CounterFromUint64(8), data)
					if err != nil {
						t.Fatalf("%s: seal: %v", name, err)
					}
					res := ResolverFunc(func(TAR, KIc, KID) (Keyset, error) {
						return Keyset{Keys: keys, Counter: CounterFromUint64(7)}, nil
					})
					c, err := OpenCommand(ctx, ks, res, pkt)
					if err != nil || !bytes.Equal(c.Data, data) || !c.StoreCounter {
						t.Fatalf("%s: open: %x %v", name, c.Data, err)
					}
					por, err := SealResponse(ctx, ks, keys, c.CommandHeader, c.Counter, StatusOK, data)
					if err != nil {
						t.Fatalf("%s: seal PoR: %v", name, err)
					}
					r, err := OpenResponse(ctx, ks, keys, h, por)
					if err != nil || !bytes.Equal(r.Data, data) || r.Counter != c.Counter {
						t.Fatalf("%s: open PoR: %+v %v", name, r, err)
					}
					// Any single bit flipped after the TAR is caught (or,
					// without integrity, at least does not panic).
					for i := cmdSecOff; i < len(pkt); i += 3 {
						bad := bytes.Clone(pkt)
						bad[i] ^= 0x10
						_, err := OpenCommand(ctx, ks, res, bad)
						if integ != IntegrityNone && err == nil {
							t.Fatalf("%s: flipped byte %d accepted", name, i)
						}
					}
				}
			}
		}
	}
	ks, keys := testKeys(t, AlgAES, pyAESKIc, AlgAES, pyAESKID)
	ds := CommandHeader{SPI: SPI{Integrity: IntegrityDS, PoRIntegrity: IntegrityDS}, KIc: 0x12, KID: 0x12}
	if _, err := SealCommand(ctx, ks, keys, ds, Counter{}, nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("DS command: %v", err)
	}
	if _, err := SealResponse(ctx, ks, keys, ds, Counter{}, StatusOK, nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("DS PoR: %v", err)
	}
}
