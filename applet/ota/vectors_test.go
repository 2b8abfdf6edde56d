package ota

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
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

// Keys of VECTORS.md §1 (PY tests/unittests/test_ota.py).
const (
	py3DESKIc   = "300102030405060708090a0b0c0d0e0f"
	py3DESKID   = "301102030405060708090a0b0c0d0e0f"
	pyAESKIc    = "200102030405060708090a0b0c0d0e0f"
	pyAESKID    = "201102030405060708090a0b0c0d0e0f"
	pyLegacyKIc = "C21DD66ACAC13CB3BC8B331B24AFB57B"
	pyLegacyKID = "12110C78E678C25408233076AA033615"
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
	// VECTORS.md §1, PY test_ota.py SmsOtaTestCase (verified).
	{name: "PY/3DES-SJA5-CIPHERED-CC", kicAlg: AlgTDES2, kic: py3DESKIc, kidAlg: AlgTDES2, kid: py3DESKID, spi: "0619", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "00a40004023f00",
		packet: "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f", pcntr: 3},
	{name: "PY/3DES-SJA5-UNCIPHERED-CC", kicAlg: AlgTDES2, kic: py3DESKIc, kidAlg: AlgTDES2, kid: py3DESKID, spi: "0609", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "00a40004023f00",
		packet: "00201506093535b00011c49ac91ab8159ba5b83a54fb6385e0a5e31694f8b215fafc", pcntr: 3},
	{name: "PY/3DES-SJA5-UNCIPHERED-NOCC", kicAlg: AlgTDES2, kic: py3DESKIc, kidAlg: AlgTDES2, kid: py3DESKID, spi: "0601", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "00a40004023f00",
		packet: "00201506013535b000113190be334900f52b025f3f7eddfe868e96ebf310023b7769", pcntr: 3},
	{name: "PY/AES128-SJA5-CIPHERED-CC", kicAlg: AlgAES, kic: pyAESKIc, kidAlg: AlgAES, kid: pyAESKID, spi: "0619", kicb: 0x22, kidb: 0x22, tar: "b00011", cntr: "0000000000", data: "00a40004023f00",
		packet: "00281506192222b00011e87cceebb2d93083011ce294f93fc4d8de80da1abae8c37ca3e72ec4432e5058", pcntr: 11},
	// VECTORS.md §1 legacy Test_SMS_3DES (verified).
	{name: "PY/legacy-ciphered-noCC", kicAlg: AlgTDES2, kic: pyLegacyKIc, kidAlg: AlgTDES2, kid: pyLegacyKID, spi: "0419", kicb: 0x35, kidb: 0x35, tar: "b00000", cntr: "0000000000", data: "00a40000023f00",
		packet: "00180d04193535b00000e3ec80a849b554421276af3883927c20", pcntr: 3},
	// pySim leaves the CPL out of its unciphered output; the CC was
	// computed with CPL 001d in front, which is what goes on air.
	{name: "PY/legacy-signed-only(CPL restored)", kicAlg: AlgTDES2, kic: pyLegacyKIc, kidAlg: AlgTDES2, kid: pyLegacyKID, spi: "0219", kicb: 0x35, kidb: 0x35, tar: "b00000", cntr: "0000000000", data: "00a40000023f00",
		packet: "001d" + "1502193535b00000000000000000072ea17bdb72060e00a40000023f00"},
	{name: "PY/legacy-no-security(CPL restored)", kicAlg: AlgTDES2, kic: pyLegacyKIc, kidAlg: AlgTDES2, kid: pyLegacyKID, spi: "0019", kicb: 0x35, kidb: 0x35, tar: "b00000", cntr: "0000000000", data: "00a40000023f00",
		packet: "0015" + "0d00193535b0000000000000000000a40000023f00"},
	// VECTORS.md §4, ON tests/envelope (verified): AES, CC, ciphered,
	// counter must be higher.
	{name: "ON/envelope-AES", kicAlg: AlgAES, kic: "00112233445566778899aabbccddeeff", kidAlg: AlgAES, kid: "0123456789abcdef0123456701234567", spi: "1639", kicb: 0x32, kidb: 0x32, tar: "b00011", cntr: "0000000001",
		data:   "00a4000c023f00" + "00a4000c022fe2" + "00b000000a",
		packet: "00381516393232b00011d5cbcbd7ad00edcae5fb251618e04ed8502924dbad65b15be802a9d9e28267110d433c06103268db6a2a9d618fe8ab74", pcntr: 15, padding: PadISO},
	// VECTORS.md §5, G3 Dataset0348.xml test-request-001 (verified): DES-CBC, no CC.
	{name: "G3/test-request-001", kicAlg: AlgDESCBC, kic: "0000000000000000", spi: "0C01", kicb: 0x01, kidb: 0x01, tar: "B00010", cntr: "0000000001",
		data:   "A0A40000023F00A0A40000027F10A0A40000026f3CA0B2010405",
		packet: "00280D0C010101B000101B94C9BA4BE5D6656959EA5C1B6E2AAA4746F485413747189E5EECC3C0484AAD"},
	// G3 Dataset0348.xml test-request-017: 3DES three-key ciphering, RC
	// CRC32 with the algorithm known implicitly (KID 00).
	{name: "G3/test-request-017-RC-CRC32", kicAlg: AlgTDES3, kic: "938ED71B96CC424B7255E700AF27D4AA128BAA5F27D25559", implicitID: AlgCRC32, spi: "0D01", kicb: 0x09, kidb: 0x00, tar: "B00010", cntr: "0000000001",
		data:   "A0A40000023F00A0A40000027F10A0A40000026F3CA0B2010405",
		packet: "0030110D010900B0001049EB43424D46A4F8A99EEACB486531044452448F305A40C0E4C87AA122AED0A9BFE2808F1B7AB739", pcntr: 4},
	// G3 test-request-022: 3DES three-key ciphering and CC.
	{name: "G3/test-request-022-3DES3-CC", kicAlg: AlgTDES3, kic: "938ED71B96CC424B7255E700AF27D4AA128BAA5F27D25559", kidAlg: AlgTDES3, kid: "000000000000000000000000000000000000000000000000", spi: "0E01", kicb: 0x09, kidb: 0x09, tar: "B00010", cntr: "0000000001",
		data:   "A0A40000023F00A0A40000027F10A0A40000026F3CA0B2010405",
		packet: "0030150E010909B0001073BFF6C68AF22376685280DD3EDF4C099D3869CFAFB67DBC50EB241842FEAA9CB701B7F3AB0CD2AD"},
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
	// VECTORS.md §2, PY test_ota.py (verified).
	{name: "PY/3DES-PoR-CC-clear", kicAlg: AlgTDES2, kic: py3DESKIc, kid: py3DESKID, spi: "0609", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "016132",
		packet: "027100001612b0001100000000000000b5bcd6353a421fae016132"},
	{name: "PY/3DES-PoR-ciphered-CC", kicAlg: AlgTDES2, kic: py3DESKIc, kid: py3DESKID, spi: "0619", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "016132", pcntr: 6,
		packet: "027100001c12b000118bb989492c632529326a2f4681feb37c825bc9021c9f6d0b"},
	{name: "PY/AES-PoR-ciphered-CC", kicAlg: AlgAES, kic: pyAESKIc, kid: pyAESKID, spi: "0619", kicb: 0x22, kidb: 0x22, tar: "b00011", cntr: "0000000000", data: "016132", pcntr: 14,
		packet: "027100002412b00011ebc6b497e2cad7aedf36ace0e3a29b38853f0fe9ccde81913be5702b73abce1f"},
	{name: "PY/PoR-no-CC", kicAlg: AlgTDES2, kic: py3DESKIc, kid: py3DESKID, spi: "0601", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "016132",
		packet: "027100000e0ab0001100000000000000016132"},
	// PY test_ota.py test_resp_3des_signed (legacy keys).
	{name: "PY/legacy-PoR-CC", kicAlg: AlgTDES2, kic: pyLegacyKIc, kid: pyLegacyKID, spi: "0609", kicb: 0x35, kidb: 0x35, tar: "b00011", cntr: "0000000000", data: "01612f",
		packet: "027100001612b000110000000000000055f47118381175fb01612f"},
	// PY test_ota.py (newer _decode_por tests): unsecured PoR with status 02 counter low.
	{name: "PY/PoR-counter-low", kicAlg: AlgTDES2, kic: py3DESKIc, kid: py3DESKID, spi: "0201", kicb: 0x15, kidb: 0x15, tar: "b00000", cntr: "0000000007", status: StatusCounterLow,
		packet: "027100000b0ab0000000000000070002"},
	// VECTORS.md §4, ON tests/envelope (verified): the PoR in the ENVELOPE
	// response (status 0B) and the one sent by SEND SHORT MESSAGE.
	{name: "ON/envelope-PoR-0B", kicAlg: AlgAES, kic: "00112233445566778899aabbccddeeff", kid: "0123456789abcdef0123456701234567", spi: "1639", kicb: 0x32, kidb: 0x32, tar: "b00011", cntr: "0000000001", status: StatusResponseInSubmit, pcntr: 1, padding: PadISO,
		packet: "027100001412b0001100e878eeb2c2443ddbeef1ac668398fb"},
	{name: "ON/send-sm-PoR", kicAlg: AlgAES, kic: "00112233445566778899aabbccddeeff", kid: "0123456789abcdef0123456701234567", spi: "1639", kicb: 0x32, kidb: 0x32, tar: "b00011", cntr: "0000000001", data: "03900000112233445566778899", pcntr: 4, padding: PadISO,
		packet: "027100002412b000118bd0716adbf216d5dad4612ec54d64bceaf7d9228b8254d857f8d42394be9f66"},
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
	bad := unhex(t, "027100001612b000110000000000000055f47118381175fb02612f")
	r, err := OpenResponse(context.Background(), ks, keys, h, bad)
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("OpenResponse error = %v, want ErrIntegrity", err)
	}
	if !bytes.Equal(r.Data, unhex(t, "02612f")) {
		t.Errorf("data %x", r.Data)
	}
}

// VECTORS.md §3, ON tests/ota/ota_test.c (verified): the CC primitive.
func TestCCPrimitive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const key = "AABBCCDDEEFF11220000000000000000"
	data1 := "0028151e193232b00011000000000106"
	cases := []struct{ data2, tdes, aes string }{
		{"0123456789abcdef0123456701234567", "c0995c616fa90e18", "baddda0ee401d63d"},
		{"0123456789abcdef0123456701234567aa", "1b3a9c868f1283d3", "f090fe9b251d5520"},
		{"0123456789abcdef01234567012345", "d6bfd6ec7ef02a0e", "de89e247cdaf128a"},
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
	// VECTORS.md §1 legacy signed-only packet (CPL restored) and §2 PoR
	// with CC in clear.
	raw, err := ParseCommand(unhex(t, "001d1502193535b00000000000000000072ea17bdb72060e00a40000023f00"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := raw.Clear()
	if err != nil || !bytes.Equal(c.Checksum, unhex(t, "072ea17bdb72060e")) || !bytes.Equal(c.Data, unhex(t, "00a40000023f00")) {
		t.Errorf("command Clear = %+v, %v", c, err)
	}
	rr, err := ParseResponse(unhex(t, "027100001612b0001100000000000000b5bcd6353a421fae016132"))
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
