package tlv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/simlab-dev/simlab/internal/testvectors"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// vec holds the public vectors of testdata/vectors.txt, each with its
// source.
var vec = testvectors.MustLoad("testdata/vectors.txt")

// berVectors are whole BER-TLV objects, checked both ways: parse gives tag
// and value, AppendBER of those gives the input.
var berVectors = []struct {
	name  string
	hex   string
	tag   BERTag
	value string
}{
	// ofono unit/stk-test-data.h: DISPLAY TEXT 1.1.1 (TS 31.124 §27.22.4.1).
	{"display-text-1.1.1", vec.Hex("OF/display-text-1.1.1"), TagProactive,
		"8103012180820281028D0F04546F6F6C6B697420546573742031"},
	// ofono: GET INPUT 1.1.1.
	{"get-input-1.1.1", vec.Hex("OF/get-input-1.1.1"), TagProactive,
		"8103012300820281828D0C04456E74657220313233343591020505"},
	// ofono, TS 31.124 §27.22.5 1.6.2: ENVELOPE SMS-PP download.
	{"sms-pp-1.6.2", vec.Hex("OF/envelope-sms-pp-1.6.2"), TagSMSPPDownload,
		"8202838106099111223344556677f88b1c04049121437ff6891010000000000d53686f7274204d657373616765"},
	// onomondo-uicc tests/envelope: the SMS-PP download in the ENVELOPE APDU (after 80C200005B).
	{"sms-pp-onomondo", vec.Hex("ON/envelope-sms-pp"), TagSMSPPDownload,
		"82028381860510426587f98b4c60039121437ff6624080119342803d02700000381516393232b00011d5cbcbd7ad00edcae5fb251618e04ed8502924dbad65b15be802a9d9e28267110d433c06103268db6a2a9d618fe8ab74"},
	// ISO/IEC 7816-4 §5.2.2.1: two-byte tag (language preference).
	{"two-byte-tag", "5F2D02656E", 0x5F2D, "656E"},
	// Three-byte tag, X.690 §8.1.2.4.
	{"three-byte-tag", "DF810101AA", 0xDF8101, "AA"},
	// Length forms 81 and 82 (ISO/IEC 7816-4 §5.2.2.2).
	{"length-81", "538180" + string(bytes.Repeat([]byte("00"), 0x80)), 0x53, string(bytes.Repeat([]byte("00"), 0x80))},
	{"length-82", "53820100" + string(bytes.Repeat([]byte("11"), 0x100)), 0x53, string(bytes.Repeat([]byte("11"), 0x100))},
	{"empty", "8800", 0x88, ""},
}

func TestBERVectors(t *testing.T) {
	t.Parallel()
	for _, v := range berVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			in := unhex(t, v.hex)
			obj, rest, err := ParseBER(in)
			if err != nil {
				t.Fatalf("ParseBER: %v", err)
			}
			if len(rest) != 0 {
				t.Errorf("rest = %X, want none", rest)
			}
			if obj.Tag != v.tag {
				t.Errorf("tag = %v, want %v", obj.Tag, v.tag)
			}
			if want := unhex(t, v.value); !bytes.Equal(obj.Value, want) {
				t.Errorf("value = %X, want %X", obj.Value, want)
			}
			if got := AppendBER(nil, v.tag, unhex(t, v.value)); !bytes.Equal(got, in) {
				t.Errorf("AppendBER = %X, want %X", got, in)
			}
			if obj.Len() != len(in) {
				t.Errorf("Len = %d, want %d", obj.Len(), len(in))
			}
		})
	}
}

func TestBERNestedTemplates(t *testing.T) {
	t.Parallel()
	// An FCP template of an MF as ETSI TS 102 221 §11.1.1.3 lays it out.
	fcp := AppendBERFunc(nil, TagFCP, func(b []byte) []byte {
		b = AppendBER(b, 0x82, []byte{0x78, 0x21})
		b = AppendBER(b, 0x83, []byte{0x3F, 0x00})
		b = AppendBERFunc(b, 0xA5, func(b []byte) []byte { return AppendBER(b, 0x80, []byte{0x71}) })
		return AppendBER(b, 0x8A, []byte{0x05})
	})
	want := unhex(t, "62108202782183023F00A5038001718A0105")
	if !bytes.Equal(fcp, want) {
		t.Fatalf("AppendBERFunc = %X, want %X", fcp, want)
	}
	obj, _, err := ParseBER(fcp)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := obj.Children(make([]BER, 0, 8))
	if err != nil {
		t.Fatal(err)
	}
	var tags []BERTag
	for _, k := range kids {
		tags = append(tags, k.Tag)
	}
	if len(tags) != 4 || tags[0] != 0x82 || tags[1] != 0x83 || tags[2] != 0xA5 || tags[3] != 0x8A {
		t.Fatalf("children tags = %v", tags)
	}
	if !kids[2].Tag.Constructed() || kids[0].Tag.Constructed() {
		t.Errorf("Constructed wrong for A5/82")
	}
	v, ok, err := FindBER(obj.Value, 0x83)
	if err != nil || !ok || !bytes.Equal(v, []byte{0x3F, 0x00}) {
		t.Errorf("FindBER 83 = %X %v %v", v, ok, err)
	}
	if _, ok, _ := FindBER(obj.Value, 0x84); ok {
		t.Errorf("FindBER 84 found a missing tag")
	}
}

func TestAppendBERFuncLong(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x1234, 0x10000} {
		val := bytes.Repeat([]byte{0xA5}, n)
		got := AppendBERFunc([]byte{0xEE}, 0x7F21, func(b []byte) []byte { return append(b, val...) })
		want := AppendBER([]byte{0xEE}, 0x7F21, val)
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: AppendBERFunc differs from AppendBER", n)
		}
		obj, _, err := ParseBER(got[1:])
		if err != nil || obj.Tag != 0x7F21 || len(obj.Value) != n {
			t.Fatalf("n=%d: reparse %v %v %d", n, err, obj.Tag, len(obj.Value))
		}
	}
}

func TestParseAllBERPadding(t *testing.T) {
	t.Parallel()
	// ISO/IEC 7816-4 §5.2.2: 00/FF may occur before, between and after objects
	// (e.g. an EF_DIR record padded with FF).
	in := unhex(t, "00610A4F08A000000087100201FFFF5001AAFFFF")
	got, err := ParseAllBER(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Tag != TagApplication || got[1].Tag != TagAppLabel {
		t.Fatalf("got %+v", got)
	}
	// Only padding: no objects, no error.
	if got, err := ParseAllBER(nil, unhex(t, "FFFFFF")); err != nil || len(got) != 0 {
		t.Fatalf("padding only: %v %v", got, err)
	}
}

func TestParseBERErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		hex    string
		err    error
		offset int
	}{
		{"", ErrBERTruncated, 0},
		{"FF01AA", ErrBERTag, 0},
		{"00", ErrBERTag, 0},
		{"5F", ErrBERTruncated, 1},
		{"5F80", ErrBERTag, 1},
		{"5F818181810100", ErrBERTag, 4},
		{"62", ErrBERTruncated, 1},
		{"6280", ErrBERLength, 1},
		{"6284000000010A", ErrBERLength, 1},
		{"6282", ErrBERTruncated, 2},
		{"620301", ErrBERTruncated, 3},
		{"53830100000000", ErrBERTruncated, 7},
	}
	for _, c := range cases {
		_, _, err := ParseBER(unhex(t, c.hex))
		var be *BERError
		if !errors.Is(err, c.err) || !errors.As(err, &be) {
			t.Errorf("%s: err = %v, want %v", c.hex, err, c.err)
			continue
		}
		if be.Offset != c.offset {
			t.Errorf("%s: offset = %d, want %d (%v)", c.hex, be.Offset, c.offset, err)
		}
	}
	// ParseAllBER reports offsets in the whole input.
	_, err := ParseAllBER(nil, unhex(t, "8001AAFF8205"))
	var be *BERError
	if !errors.As(err, &be) || be.Offset != 6 {
		t.Errorf("ParseAllBER offset: %v", err)
	}
}

func TestBERTag(t *testing.T) {
	t.Parallel()
	cases := []struct {
		tag   BERTag
		str   string
		n     int
		class int
		cons  bool
	}{
		{TagFCP, "62", 1, 1, true},
		{0x82, "82", 1, 2, false},
		{0x5F2D, "5F2D", 2, 1, false},
		{0xBF0C, "BF0C", 2, 2, true},
		{0xDF8181, "DF8181", 3, 3, false},
		{0x9F818181, "9F818181", 4, 2, false},
	}
	for _, c := range cases {
		if c.tag.String() != c.str || c.tag.Len() != c.n || c.tag.Class() != c.class || c.tag.Constructed() != c.cons {
			t.Errorf("%v: got %s %d %d %v", c.str, c.tag, c.tag.Len(), c.tag.Class(), c.tag.Constructed())
		}
		if got := AppendBERTag(nil, c.tag); len(got) != c.n {
			t.Errorf("%v: AppendBERTag = %X", c.str, got)
		}
	}
}

func TestParseAllBERNoAlloc(t *testing.T) {
	in := unhex(t, "D01B8103012300820281828D0C04456E74657220313233343591020505")
	obj, _, _ := ParseBER(in)
	dst := make([]BER, 0, 8)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		dst, err = ParseAllBER(dst[:0], obj.Value)
		if err != nil || len(dst) != 4 {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseAllBER allocates %v times", allocs)
	}
}

func BenchmarkParseAllBER(b *testing.B) {
	in := unhex(b, "8103012300820281828D0C04456E74657220313233343591020505")
	dst := make([]BER, 0, 8)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		dst, _ = ParseAllBER(dst[:0], in)
	}
}
