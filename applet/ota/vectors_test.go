package ota

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/internal/testvectors"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.ReplaceAll(s, " ", "")
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// testKeys imports the KIc and KID key material (hex; "" for none) with
// the types algorithms kicAlg/kidAlg need into a fresh in-memory store.
func testKeys(t testing.TB, kicAlg Algorithm, kic string, kidAlg Algorithm, kid string) (hsm.Keystore, Keys) {
	t.Helper()
	ks := soft.NewMemory()
	t.Cleanup(func() { ks.Close() })
	var keys Keys
	imp := func(ref string, a Algorithm, material string) {
		m := unhex(t, material)
		typ, err := KeyType(a, len(m))
		if err != nil {
			t.Fatal(err)
		}
		if err := ks.Import(context.Background(), ref, typ, m); err != nil {
			t.Fatal(err)
		}
	}
	if kic != "" {
		imp("kic", kicAlg, kic)
		keys.KIc = "kic"
	}
	if kid != "" {
		imp("kid", kidAlg, kid)
		keys.KID = "kid"
	}
	return ks, keys
}

func spi(t testing.TB, s string) SPI {
	t.Helper()
	b := unhex(t, s)
	return ParseSPI(b[0], b[1])
}

func tar(t testing.TB, s string) TAR {
	var r TAR
	copy(r[:], unhex(t, s))
	return r
}

func cntr(t testing.TB, s string) Counter {
	var c Counter
	copy(c[:], unhex(t, s))
	return c
}

// vec holds the public vectors of testdata/vectors.txt, each with its
// source (pySim, onomondo-uicc, gsm0348).
var vec = testvectors.MustLoad("testdata/vectors.txt")

// Keys of pySim's test_ota.py (testdata/vectors.txt [PY]).
var (
	py3DESKIc   = vec.Hex("PY.3des.kic")
	py3DESKID   = vec.Hex("PY.3des.kid")
	pyAESKIc    = vec.Hex("PY.aes.kic")
	pyAESKID    = vec.Hex("PY.aes.kid")
	pyLegacyKIc = vec.Hex("PY.legacy.kic")
	pyLegacyKID = vec.Hex("PY.legacy.kid")
)

type cmdVector struct {
	name       string
	kicAlg     Algorithm
	kic        string
	kidAlg     Algorithm
	kid        string
	implicitID Algorithm // Keys.KIDAlg for an implicit KID
	padding    Padding
	spi        string
	kicb, kidb byte
	tar        string
	cntr       string
	data       string
	packet     string // from CPL
	pcntr      uint8
}

var cmdVectors = []cmdVector{
	// pySim test_ota.py SmsOtaTestCase (testdata/vectors.txt [PY], verified).
	{name: "PY/3DES-SJA5-CIPHERED-CC", kicAlg: AlgTDES2, kic: py3DESKIc, kidAlg: AlgTDES2, kid: py3DESKID, spi: "0619", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: vec.Hex("PY.apdu"),
		packet: vec.Hex("PY/3DES-SJA5-CIPHERED-CC"), pcntr: 3},
	{name: "PY/3DES-SJA5-UNCIPHERED-CC", kicAlg: AlgTDES2, kic: py3DESKIc, kidAlg: AlgTDES2, kid: py3DESKID, spi: "0609", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: vec.Hex("PY.apdu"),
		packet: vec.Hex("PY/3DES-SJA5-UNCIPHERED-CC"), pcntr: 3},
	{name: "PY/3DES-SJA5-UNCIPHERED-NOCC", kicAlg: AlgTDES2, kic: py3DESKIc, kidAlg: AlgTDES2, kid: py3DESKID, spi: "0601", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: vec.Hex("PY.apdu"),
		packet: vec.Hex("PY/3DES-SJA5-UNCIPHERED-NOCC"), pcntr: 3},
	{name: "PY/AES128-SJA5-CIPHERED-CC", kicAlg: AlgAES, kic: pyAESKIc, kidAlg: AlgAES, kid: pyAESKID, spi: "0619", kicb: 0x22, kidb: 0x22, tar: "b00011", cntr: "0000000000", data: vec.Hex("PY.apdu"),
		packet: vec.Hex("PY/AES128-SJA5-CIPHERED-CC"), pcntr: 11},
	// pySim test_ota.py legacy Test_SMS_3DES ([PY], verified).
	{name: "PY/legacy-ciphered-noCC", kicAlg: AlgTDES2, kic: pyLegacyKIc, kidAlg: AlgTDES2, kid: pyLegacyKID, spi: "0419", kicb: 0x35, kidb: 0x35, tar: "b00000", cntr: "0000000000", data: vec.Hex("PY.legacy.apdu"),
		packet: vec.Hex("PY/legacy-ciphered-noCC"), pcntr: 3},
	// pySim leaves the CPL out of its unciphered output; the CC was
	// computed with CPL 001d in front, which is what goes on air.
	{name: "PY/legacy-signed-only(CPL-restored)", kicAlg: AlgTDES2, kic: pyLegacyKIc, kidAlg: AlgTDES2, kid: pyLegacyKID, spi: "0219", kicb: 0x35, kidb: 0x35, tar: "b00000", cntr: "0000000000", data: vec.Hex("PY.legacy.apdu"),
		packet: vec.Hex("PY/legacy-signed-only(CPL-restored)")},
	{name: "PY/legacy-no-security(CPL-restored)", kicAlg: AlgTDES2, kic: pyLegacyKIc, kidAlg: AlgTDES2, kid: pyLegacyKID, spi: "0019", kicb: 0x35, kidb: 0x35, tar: "b00000", cntr: "0000000000", data: vec.Hex("PY.legacy.apdu"),
		packet: vec.Hex("PY/legacy-no-security(CPL-restored)")},
	// onomondo-uicc tests/envelope ([ON], verified): AES, CC, ciphered,
	// counter must be higher.
	{name: "ON/envelope-AES", kicAlg: AlgAES, kic: vec.Hex("ON.kic"), kidAlg: AlgAES, kid: vec.Hex("ON.kid"), spi: "1639", kicb: 0x32, kidb: 0x32, tar: "b00011", cntr: "0000000001",
		data:   vec.Hex("ON.apdus"),
		packet: vec.Hex("ON/envelope-AES"), pcntr: 15, padding: PadISO},
	// gsm0348 Dataset0348.xml test-request-001 ([G3], verified): DES-CBC, no CC.
	{name: "G3/test-request-001", kicAlg: AlgDESCBC, kic: vec.Hex("G3.des.kic"), spi: "0C01", kicb: 0x01, kidb: 0x01, tar: "B00010", cntr: "0000000001",
		data:   vec.Hex("G3.apdus"),
		packet: vec.Hex("G3/test-request-001")},
	// G3 Dataset0348.xml test-request-017: 3DES three-key ciphering, RC
	// CRC32 with the algorithm known implicitly (KID 00).
	{name: "G3/test-request-017-RC-CRC32", kicAlg: AlgTDES3, kic: vec.Hex("G3.3des3.kic"), implicitID: AlgCRC32, spi: "0D01", kicb: 0x09, kidb: 0x00, tar: "B00010", cntr: "0000000001",
		data:   vec.Hex("G3.apdus"),
		packet: vec.Hex("G3/test-request-017-RC-CRC32"), pcntr: 4},
	// G3 test-request-022: 3DES three-key ciphering and CC.
	{name: "G3/test-request-022-3DES3-CC", kicAlg: AlgTDES3, kic: vec.Hex("G3.3des3.kic"), kidAlg: AlgTDES3, kid: vec.Hex("G3.3des3.kid"), spi: "0E01", kicb: 0x09, kidb: 0x09, tar: "B00010", cntr: "0000000001",
		data:   vec.Hex("G3.apdus"),
		packet: vec.Hex("G3/test-request-022-3DES3-CC")},
}

func (v *cmdVector) setup(t testing.TB) (hsm.Keystore, Keys, CommandHeader) {
	ks, keys := testKeys(t, v.kicAlg, v.kic, v.kidAlg, v.kid)
	keys.KIDAlg = v.implicitID
	keys.Padding = v.padding
	h := CommandHeader{SPI: spi(t, v.spi), KIc: KIc(v.kicb), KID: KID(v.kidb), TAR: tar(t, v.tar)}
	return ks, keys, h
}

func TestCommandVectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, v := range cmdVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ks, keys, h := v.setup(t)
			want := unhex(t, v.packet)
			got, err := SealCommand(ctx, ks, keys, h, cntr(t, v.cntr), unhex(t, v.data))
			if err != nil {
				t.Fatalf("SealCommand: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("SealCommand\n got %x\nwant %x", got, want)
			}
			res := ResolverFunc(func(gt TAR, kic KIc, kid KID) (Keyset, error) {
				if gt != h.TAR || kic != h.KIc || kid != h.KID {
					t.Errorf("Resolve(%s, %s, %s), want %s", gt, kic, kid, h.TAR)
				}
				return Keyset{Keys: keys}, nil
			})
			c, err := OpenCommand(ctx, ks, res, want)
			if err != nil {
				t.Fatalf("OpenCommand: %v", err)
			}
			if c.CommandHeader != h || c.Counter != cntr(t, v.cntr) || c.PCNTR != v.pcntr || !bytes.Equal(c.Data, unhex(t, v.data)) {
				t.Errorf("OpenCommand = %+v %s pcntr %d data %x", c.CommandHeader, c.Counter, c.PCNTR, c.Data)
			}
			raw, err := ParseCommand(want)
			if err != nil || raw.Header != h || raw.CPL != len(want)-2 {
				t.Errorf("ParseCommand = %+v, %v", raw, err)
			}
		})
	}
}

type porVector struct {
	name       string
	kicAlg     Algorithm
	kic, kid   string
	spi        string
	kicb, kidb byte
	tar, cntr  string
	status     Status
	data       string
	packet     string // from the UDH 027100
	pcntr      uint8
	padding    Padding
}

var porVectors = []porVector{
	// pySim test_ota.py PoRs ([PY], verified).
	{name: "PY/3DES-PoR-CC-clear", kicAlg: AlgTDES2, kic: py3DESKIc, kid: py3DESKID, spi: "0609", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "016132",
		packet: vec.Hex("PY/3DES-PoR-CC-clear")},
	{name: "PY/3DES-PoR-ciphered-CC", kicAlg: AlgTDES2, kic: py3DESKIc, kid: py3DESKID, spi: "0619", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "016132", pcntr: 6,
		packet: vec.Hex("PY/3DES-PoR-ciphered-CC")},
	{name: "PY/AES-PoR-ciphered-CC", kicAlg: AlgAES, kic: pyAESKIc, kid: pyAESKID, spi: "0619", kicb: 0x22, kidb: 0x22, tar: "b00011", cntr: "0000000000", data: "016132", pcntr: 14,
		packet: vec.Hex("PY/AES-PoR-ciphered-CC")},
	{name: "PY/PoR-no-CC", kicAlg: AlgTDES2, kic: py3DESKIc, kid: py3DESKID, spi: "0601", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "016132",
		packet: vec.Hex("PY/PoR-no-CC")},
	// PY test_ota.py test_resp_3des_signed (legacy keys).
	{name: "PY/legacy-PoR-CC", kicAlg: AlgTDES2, kic: pyLegacyKIc, kid: pyLegacyKID, spi: "0609", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "01612f",
		packet: vec.Hex("PY/legacy-PoR-CC")},
	// PY test_ota.py (newer _decode_por tests): unsecured PoR with status 02 counter low.
	{name: "PY/PoR-counter-low", kicAlg: AlgTDES2, kic: py3DESKIc, kid: py3DESKID, spi: "0201", kicb: 0x15, kidb: 0x15, tar: "b00000", cntr: "0000000007", status: StatusCounterLow,
		packet: vec.Hex("PY/PoR-counter-low")},
	// onomondo-uicc tests/envelope ([ON], verified): the PoR in the ENVELOPE
	// response (status 0B) and the one sent by SEND SHORT MESSAGE.
	{name: "ON/envelope-PoR-0B", kicAlg: AlgAES, kic: vec.Hex("ON.kic"), kid: vec.Hex("ON.kid"), spi: "1639", kicb: 0x32, kidb: 0x32, tar: "b00011", cntr: "0000000001", status: StatusResponseInSubmit, pcntr: 1, padding: PadISO,
		packet: vec.Hex("ON/envelope-PoR-0B")},
	{name: "ON/send-sm-PoR", kicAlg: AlgAES, kic: vec.Hex("ON.kic"), kid: vec.Hex("ON.kid"), spi: "1639", kicb: 0x32, kidb: 0x32, tar: "b00011", cntr: "0000000001", data: vec.Hex("ON/send-sm-PoR.data"), pcntr: 4, padding: PadISO,
		packet: vec.Hex("ON/send-sm-PoR")},
}

func (v *porVector) setup(t testing.TB) (hsm.Keystore, Keys, CommandHeader) {
	ks, keys := testKeys(t, v.kicAlg, v.kic, v.kicAlg, v.kid)
	keys.Padding = v.padding
	return ks, keys, CommandHeader{SPI: spi(t, v.spi), KIc: KIc(v.kicb), KID: KID(v.kidb), TAR: tar(t, v.tar)}
}

func TestResponseVectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, v := range porVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ks, keys, h := v.setup(t)
			want := unhex(t, v.packet)
			got, err := SealResponse(ctx, ks, keys, h, cntr(t, v.cntr), v.status, unhex(t, v.data))
			if err != nil {
				t.Fatalf("SealResponse: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("SealResponse\n got %x\nwant %x", got, want)
			}
			r, err := OpenResponse(ctx, ks, keys, h, want)
			if err != nil {
				t.Fatalf("OpenResponse: %v", err)
			}
			if r.TAR != h.TAR || r.Counter != cntr(t, v.cntr) || r.Status != v.status || r.PCNTR != v.pcntr || !bytes.Equal(r.Data, unhex(t, v.data)) {
				t.Errorf("OpenResponse = %+v", r)
			}
		})
	}
}

// PY test_ota.py test_resp_3des_signed_err: one data byte changed, the CC
// no longer matches.
func TestResponseBadCC(t *testing.T) {
	t.Parallel()
	v := porVectors[4]
	ks, keys, h := v.setup(t)
	bad := unhex(t, vec.Hex("PY/legacy-PoR-CC-bad"))
	r, err := OpenResponse(context.Background(), ks, keys, h, bad)
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("OpenResponse error = %v, want ErrIntegrity", err)
	}
	if !bytes.Equal(r.Data, unhex(t, "02612f")) {
		t.Errorf("data %x", r.Data)
	}
}

// onomondo-uicc's tests/ota/ota_test.c (testdata/vectors.txt [ON],
// verified): the CC primitive.
func TestCCPrimitive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := vec.Hex("ON.cc.key")
	data1 := vec.Hex("ON.cc.data1")
	var cases []struct{ data2, tdes, aes string }
	for i := 1; i <= 3; i++ {
		n := fmt.Sprint(i)
		cases = append(cases, struct{ data2, tdes, aes string }{vec.Hex("ON.cc.data2." + n), vec.Hex("ON.cc.3des." + n), vec.Hex("ON.cc.aes." + n)})
	}
	for _, alg := range []Algorithm{AlgTDES2, AlgAES} {
		ks, keys := testKeys(t, alg, "", alg, key)
		s := security{integ: IntegrityCC, integAlg: alg, cl: 8, kidRef: keys.KID}
		for _, c := range cases {
			in := unhex(t, data1+c.data2)
			var out [8]byte
			if err := s.checksum(ctx, ks, in, &out); err != nil {
				t.Fatal(err)
			}
			want := c.tdes
			if alg == AlgAES {
				want = c.aes
			}
			if hex.EncodeToString(out[:]) != want {
				t.Errorf("%s CC(%s) = %x, want %s", alg, c.data2, out, want)
			}
		}
	}
	// Padding count (same source).
	for _, c := range []struct {
		alg     Algorithm
		n, want int
	}{{AlgTDES2, 1, 7}, {AlgTDES2, 7, 1}, {AlgTDES2, 8, 0}, {AlgAES, 1, 15}, {AlgAES, 15, 1}, {AlgAES, 16, 0}} {
		s := security{ciphered: true, cipherAlg: c.alg}
		if got := s.padLen(c.n); got != c.want {
			t.Errorf("%s padLen(%d) = %d, want %d", c.alg, c.n, got, c.want)
		}
	}
}

// TS 102 225 §5.1.2 examples (quoted in G3's CRC16X25Test/CRC32Test).
func TestCRC(t *testing.T) {
	t.Parallel()
	in := []byte{1, 2, 3, 4, 5}
	if got := appendRC(nil, AlgCRC16, in); !bytes.Equal(got, []byte{0x22, 0xEC}) {
		t.Errorf("CRC16 = %x, want 22ec", got)
	}
	if got := appendRC(nil, AlgCRC32, in); !bytes.Equal(got, []byte{0x47, 0x0B, 0x99, 0xF4}) {
		t.Errorf("CRC32 = %x, want 470b99f4", got)
	}
	// CRC-16/X-25 check value.
	if got := CRC16([]byte("123456789")); got != 0x906E {
		t.Errorf("CRC16(123456789) = %04x, want 906e", got)
	}
}

func TestClear(t *testing.T) {
	t.Parallel()
	// pySim's legacy signed-only packet (CPL-restored) and its PoR with
	// the CC in clear (testdata/vectors.txt [PY]).
	raw, err := ParseCommand(unhex(t, vec.Hex("PY/legacy-signed-only(CPL-restored)")))
	if err != nil {
		t.Fatal(err)
	}
	c, err := raw.Clear()
	if err != nil || !bytes.Equal(c.Checksum, unhex(t, "072ea17bdb72060e")) || !bytes.Equal(c.Data, unhex(t, "00a40000023f00")) {
		t.Errorf("command Clear = %+v, %v", c, err)
	}
	rr, err := ParseResponse(unhex(t, vec.Hex("PY/3DES-PoR-CC-clear")))
	if err != nil {
		t.Fatal(err)
	}
	c, err = rr.Clear()
	if err != nil || rr.TAR != tar(t, "b00011") || c.Status != StatusOK || !bytes.Equal(c.Checksum, unhex(t, "b5bcd6353a421fae")) || !bytes.Equal(c.Data, unhex(t, "016132")) {
		t.Errorf("response Clear = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "0002", "00031500", "0020", "000e0c00193535b0000000000000"} {
		if _, err := ParseCommand(unhex(t, bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCommand(%s) = %v", bad, err)
		}
	}
	for _, bad := range []string{"", "00", "027000000e0ab00011", "027100000e0a", "027100000e09b000110000000000000001", "027100000e0ab0001100"} {
		if _, err := ParseResponse(unhex(t, bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseResponse(%s) = %v", bad, err)
		}
	}
}
