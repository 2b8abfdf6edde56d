package tpdu

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/testvectors"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vec holds the public vectors of testdata/vectors.txt, each with its
// source.
var vec = testvectors.MustLoad("testdata/vectors.txt")

// vectors are the TPDUs of testdata/vectors.txt.
var vectors = []struct {
	name string
	hex  string
	dir  Direction
	// reencode is the expected re-encoding when it differs from hex.
	reencode string
}{
	// pySim test_sms.py: alphanumeric OA whose length counts a spare
	// semi-octet; the 7 useful semi-octets are re-encoded (TS 23.040 §9.1.2.5).
	{"PY test_sms DELIVER alnum OA", vec.Hex("PYSMS/deliver-alnum-oa"), MT, vec.Hex("PYSMS/deliver-alnum-oa.reencoded")},
	{"OF SEND SM 1.1.1 SUBMIT", vec.Hex("OF/send-sm-1.1.1-submit"), MO, ""},
	{"OF SMS-PP 1.6.2 DELIVER", vec.Hex("OF/sms-pp-1.6.2-deliver"), MT, ""},
	{"OF SMS-PP 1.8.2 DELIVER UDHI", vec.Hex("OF/sms-pp-1.8.2-deliver"), MT, ""},
	// Its OA 03 91 2143 has a 4 where the filler F belongs: re-encoded as F.
	{"ON envelope DELIVER", vec.Hex("ON/envelope-deliver"), MT, vec.Hex("ON/envelope-deliver.reencoded")},
	{"ON SEND SM SUBMIT PoR", vec.Hex("ON/send-sm-submit"), MO, ""},
	{"PY 3DES DELIVER derived", vec.Hex("derived/pysim-3des-deliver"), MT, ""},
}

func TestVectors(t *testing.T) {
	t.Parallel()
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			b := mustHex(t, v.hex)
			m, err := Parse(b, v.dir)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, err := Marshal(m)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			want := b
			if v.reencode != "" {
				want = mustHex(t, v.reencode)
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("re-encoded\n got %X\nwant %X", out, want)
			}
		})
	}
}

func TestDecodedFields(t *testing.T) {
	t.Parallel()
	m, err := Parse(mustHex(t, vec.Hex("PYSMS/deliver-alnum-oa")), MT)
	if err != nil {
		t.Fatal(err)
	}
	d := m.(*Deliver)
	if d.MoreMessages || d.UD.header() || d.PID != 0x7F || d.DCS != 0xF6 || len(d.UD.Data) != 8 {
		t.Fatalf("PY test_sms fields: %+v", d)
	}
	if d.OA.TON != TONAlphanumeric {
		t.Fatalf("OA TON %v", d.OA.TON)
	}
	if want := time.Date(2009, 7, 9, 3, 57, 31, 0, time.FixedZone("", 0)); !d.SCTS.Equal(want) {
		t.Fatalf("SCTS %v, want %v", d.SCTS, want)
	}

	m, err = Parse(mustHex(t, "0100099110325476F840F40C54657374204D657373616765"), MO)
	if err != nil {
		t.Fatal(err)
	}
	s := m.(*Submit)
	if s.DA.String() != "+012345678" || s.PID != 0x40 || s.DCS != 0xF4 || string(s.UD.Data) != "Test Message" {
		t.Fatalf("OF SEND SM TPDU: %+v", s)
	}

	m, err = Parse(mustHex(t, "60039121437ff6624080119342803d02700000381516393232b00011d5cbcbd7ad00edcae5fb251618e04ed8502924dbad65b15be802a9d9e28267110d433c06103268db6a2a9d618fe8ab74"), MT)
	if err != nil {
		t.Fatal(err)
	}
	d = m.(*Deliver)
	if !d.StatusReportIndication || len(d.UD.Header) != 1 || d.UD.Header[0].ID != IEICommandPacket || d.OA.String() != "+123" || len(d.UD.Data) != 0x3d-3 {
		t.Fatalf("ON DELIVER: %+v", d)
	}
}

func TestUDHParse(t *testing.T) {
	t.Parallel()
	// pySim test_sms.py UDH cases (testdata/vectors.txt).
	ies, n, err := ParseHeader(mustHex(t, vec.Hex("PYSMS/udh-71")))
	if err != nil || n != 3 || len(ies) != 1 || ies[0].ID != 0x71 || len(ies[0].Data) != 0 {
		t.Fatalf("027100: %v %d %v", ies, n, err)
	}
	b := mustHex(t, vec.Hex("PYSMS/udh-71-70"))
	ies, n, err = ParseHeader(b)
	if err != nil || n != 6 || len(ies) != 2 || ies[0].ID != 0x71 || ies[1].ID != 0x70 || !bytes.Equal(ies[1].Data, []byte{0xff}) || !bytes.Equal(b[n:], []byte{0xab, 0xcd}) {
		t.Fatalf("0571007001ffabcd: %v %d %v", ies, n, err)
	}
	if _, _, err := ParseHeader(mustHex(t, "0571007002ff")); !errors.Is(err, ErrLength) {
		t.Fatalf("overlong header: %v", err)
	}
}

func TestGSM7WithHeaderFillBits(t *testing.T) {
	t.Parallel()
	text := "Hello [world] €5"
	dcs, parts, err := SplitText(text, 7)
	if err != nil || dcs != DCSGSM7 || len(parts) != 1 {
		t.Fatalf("SplitText: %v %v %d", dcs, err, len(parts))
	}
	// Add a port header so the text starts after fill bits.
	parts[0].Header = []IE{Port16(2948, 9200)}
	m := &Submit{MR: 5, DA: InternationalAddress("+4179123"), DCS: dcs, VP: RelativeVP(24 * time.Hour), UD: parts[0]}
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b, MO)
	if err != nil {
		t.Fatal(err)
	}
	s := got.(*Submit)
	txt, ok, err := s.UD.Text(s.DCS)
	if err != nil || !ok || txt != text {
		t.Fatalf("text %q %v %v", txt, ok, err)
	}
	if d, _ := s.VP.Duration(); d != 24*time.Hour {
		t.Fatalf("VP %v", d)
	}
}

func TestSplitConcatenation(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("0123456789", 31) + "{}" // 314 septets with the escapes
	dcs, parts, err := SplitText(long, 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	var sb strings.Builder
	for i, p := range parts {
		ref, total, seq, ok := p.Header[0].ConcatInfo()
		if !ok || ref != 42 || total != 3 || int(seq) != i+1 || len(p.Data) > 153 {
			t.Fatalf("part %d: %v %d", i, p.Header, len(p.Data))
		}
		m := &Deliver{OA: InternationalAddress("41000"), DCS: dcs, SCTS: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), UD: p}
		b, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(b, MT)
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := back.(*Deliver).UD.Text(dcs)
		if err != nil {
			t.Fatal(err)
		}
		sb.WriteString(s)
	}
	if sb.String() != long {
		t.Fatalf("reassembled %q", sb.String())
	}
	// UCS2: 71 characters need two parts of at most 67.
	dcs, parts, err = SplitText(strings.Repeat("Ж", 71), 1)
	if err != nil || dcs != DCSUCS2 || len(parts) != 2 || len(parts[0].Data) != 134 {
		t.Fatalf("UCS2 split: %v %v %d", dcs, err, len(parts))
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		hex  string
		dir  Direction
		want error
	}{
		{"", MT, ErrTruncated},
		{"03", MT, ErrField},
		{"04", MT, ErrTruncated},
		{"041591", MT, ErrLength},                             // 21 semi-octets
		{"0404912143", MT, ErrTruncated},                      // no PID/DCS
		{"04049121437ff6891310000000000d", MT, ErrField},      // month 31
		{"04049121437ff689101000000000ff", MT, ErrLength},     // UDL 255
		{"04049121437ff6891010000000000d5368", MT, ErrLength}, // short UD
		{"44049121437ff689101000000000050570", MT, ErrLength}, // UDHL past UD
		{"0100099110325476F840F4A1", MO, ErrLength},           // UDL past end
		{"04049121f37ff6891010000000000100", MT, ErrField},    // F inside digits
	}
	for _, c := range cases {
		m, err := Parse(mustHex(t, c.hex), c.dir)
		if m != nil {
			t.Errorf("%s: a failed Parse returned a non-nil Message %#v", c.hex, m)
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.hex, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "tpdu: ") {
			t.Errorf("%s: error %q lacks the tpdu: prefix", c.hex, err)
		}
	}
}

func TestReports(t *testing.T) {
	t.Parallel()
	scts := time.Date(2026, 11, 22, 0, 30, 0, 0, time.FixedZone("", 3600))
	msgs := []Message{
		&StatusReport{MR: 9, RA: InternationalAddress("4179000"), SCTS: scts, DT: scts.Add(time.Second), ST: 0},
		&StatusReport{MR: 9, RA: InternationalAddress("4179000"), SCTS: scts, DT: scts, ST: 0x46, HasPI: true, PI: 7, PID: 0, DCS: DCSGSM7, UD: UserData{Data: []byte{0x41}}},
		&DeliverReport{PI: 0},
		&DeliverReport{FCS: 0xD4, PI: 0x07, PID: 0x7F, DCS: DCS8BitClass2, UD: UserData{Header: []IE{{ID: IEIResponsePacket, Data: []byte{}}}, Data: []byte{1, 2, 3}}},
		&SubmitReport{PI: 0, SCTS: scts},
		&SubmitReport{FCS: 0xC5, PI: 4, SCTS: scts, UD: UserData{Data: []byte("x")}},
		&Command{MR: 3, CT: 1, MN: 7, DA: InternationalAddress("123"), CD: []byte{1, 2}},
	}
	for _, m := range msgs {
		b, err := Marshal(m)
		if err != nil {
			t.Fatalf("%s: %v", m.Type(), err)
		}
		dir := MT
		switch m.(type) {
		case *DeliverReport, *Command:
			dir = MO
		}
		back, err := Parse(b, dir)
		if err != nil {
			t.Fatalf("%s %X: %v", m.Type(), b, err)
		}
		b2, err := Marshal(back)
		if err != nil || !bytes.Equal(b, b2) || back.Type() != m.Type() {
			t.Fatalf("%s: %X re-encoded %X (%v)", m.Type(), b, b2, err)
		}
	}
}

func TestSIMDataDownload(t *testing.T) {
	t.Parallel()
	packet := mustHex(t, "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f")
	scts := time.Date(2022, 7, 25, 0, 0, 0, 0, time.UTC)
	m := NewSIMDataDownload(Address{TON: TONUnknown, NPI: NPIISDN, Number: "12345678"}, scts, packet)
	m.MoreMessages = true // pySim sends TP-MMS = 0
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// The derived spec-correct TPDU (testdata/vectors.txt).
	want := mustHex(t, vec.Hex("derived/pysim-3des-deliver"))
	if !bytes.Equal(b, want) {
		t.Fatalf("got  %X\nwant %X", b, want)
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	f, err := Explain(mustHex(t, "04049121437ff6891010000000000d53686f7274204d657373616765"), MT)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	f.Print(&sb, "")
	for _, want := range []string{"SMS-DELIVER", "(U)SIM data download", "8-bit data, class 2", "1998-01-01 00:00:00 +00:00"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("tree lacks %q:\n%s", want, sb.String())
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, v := range vectors {
		b, _ := hex.DecodeString(v.hex)
		f.Add(b, v.dir == MO)
	}
	f.Fuzz(func(t *testing.T, b []byte, mo bool) {
		dir := MT
		if mo {
			dir = MO
		}
		m, err := Parse(b, dir)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tpdu: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		_ = ExplainMessage(m)
		out, err := Marshal(m)
		if err != nil {
			// A decoded value that cannot be re-encoded: only acceptable for
			// alphanumeric addresses that hold characters outside GSM 7-bit.
			return
		}
		m2, err := Parse(out, dir)
		if err != nil {
			t.Fatalf("re-encoding %X of %X does not parse: %v", out, b, err)
		}
		out2, err := Marshal(m2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("not idempotent: %X -> %X -> %X (%v)", b, out, out2, err)
		}
	})
}
