package tlv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func ctlvHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Objects from ofono's CAT vectors (unit/stk-test-data.h, TS 31.124;
// testdata/vectors.txt) plus the formats of TS 101 220 §7.1.
var ctlvCases = []struct {
	name  string
	hex   string
	tag   CTLVTag
	cr    bool
	three bool
	value string
}{
	{"command details, CR (OF DISPLAY TEXT 1.1.1)", "8103012180", 0x01, true, false, "012180"},
	{"device identities", "82028102", 0x02, true, false, "8102"},
	{"text string", "8D0F04546F6F6C6B697420546573742031", 0x0D, true, false, "04546F6F6C6B697420546573742031"},
	{"address without CR (OF SMS-PP 1.6.2)", "06099111223344556677F8", 0x06, false, false, "9111223344556677F8"},
	{"empty value (immediate response)", "AB00", 0x2B, true, false, ""},
	{"three-byte tag with CR", "7F8123020102", 0x0123, true, true, "0102"},
	{"three-byte tag without CR", "7F7FFF00", 0x7FFF, false, true, ""},
	{"three-byte tag holding a small value", "7F000D00", 0x0D, false, true, ""},
	{"two-byte length", "0B8180" + strings.Repeat("00", 128), 0x0B, false, false, strings.Repeat("00", 128)},
	{"three-byte length", "0B820100" + strings.Repeat("11", 256), 0x0B, false, false, strings.Repeat("11", 256)},
}

func TestCTLVVectors(t *testing.T) {
	t.Parallel()
	for _, c := range ctlvCases {
		b := ctlvHex(t, c.hex)
		o, rest, err := ParseCTLV(b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(rest) != 0 || o.Tag != c.tag || o.CR != c.cr || o.ThreeByte != c.three || !bytes.Equal(o.Value, ctlvHex(t, c.value)) {
			t.Fatalf("%s: got %+v rest %X", c.name, o, rest)
		}
		if o.Len() != len(b) {
			t.Fatalf("%s: Len %d, want %d", c.name, o.Len(), len(b))
		}
		if out := o.Append(nil); !bytes.Equal(out, b) {
			t.Fatalf("%s: encoded %X, want %X", c.name, out, b)
		}
	}
}

func TestParseAllCTLV(t *testing.T) {
	// ofono GET INPUT 1.1.1 without its D0 header.
	b := ctlvHex(t, vec.Hex("OF/get-input-1.1.1")[4:])
	var buf [8]CTLV
	objs, err := ParseAllCTLV(buf[:0], b)
	if err != nil || len(objs) != 4 {
		t.Fatalf("%v %d", err, len(objs))
	}
	if o, ok := FindCTLV(objs, 0x11); !ok || !bytes.Equal(o.Value, []byte{5, 5}) {
		t.Fatalf("response length %+v %v", o, ok)
	}
	var out []byte
	for _, o := range objs {
		out = o.Append(out)
	}
	if !bytes.Equal(out, b) {
		t.Fatalf("re-encoded %X", out)
	}
	allocs := testing.AllocsPerRun(100, func() { _, _ = ParseAllCTLV(buf[:0], b) })
	if allocs != 0 {
		t.Fatalf("ParseAllCTLV into a big enough slice allocates %v times", allocs)
	}
}

func TestCTLVErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		hex    string
		want   error
		offset int
	}{
		{"", ErrCTLVTruncated, 0},
		{"00", ErrCTLVTag, 0},
		{"80", ErrCTLVTag, 0},
		{"FF00", ErrCTLVTag, 0},
		{"7F01", ErrCTLVTruncated, 2},
		{"7F000000", ErrCTLVTag, 1},
		{"81", ErrCTLVTruncated, 1},
		{"8180", ErrCTLVLength, 1},
		{"818105", ErrCTLVLength, 1},   // non-minimal
		{"81820080", ErrCTLVLength, 1}, // non-minimal
		{"818481000000", ErrCTLVLength, 1},
		{"8181", ErrCTLVTruncated, 2},
		{"810301", ErrCTLVTruncated, 3},
		{"8D8185" + "00", ErrCTLVTruncated, 4},
	}
	for _, c := range cases {
		_, _, err := ParseCTLV(ctlvHex(t, c.hex))
		var ce *CTLVError
		if !errors.Is(err, c.want) || !errors.As(err, &ce) {
			t.Errorf("%s: %v, want %v", c.hex, err, c.want)
			continue
		}
		if ce.Offset != c.offset {
			t.Errorf("%s: offset %d, want %d (%v)", c.hex, ce.Offset, c.offset, err)
		}
		if !strings.HasPrefix(err.Error(), "tlv: ") {
			t.Errorf("%s: %q lacks the tlv: prefix", c.hex, err)
		}
	}
	// Offsets in ParseAllCTLV count from the start of the input.
	_, err := ParseAllCTLV(nil, ctlvHex(t, "8103012180820281"))
	var ce *CTLVError
	if !errors.As(err, &ce) || ce.Offset != 8 {
		t.Fatalf("ParseAllCTLV offset: %v", err)
	}
}

func TestAppendCTLVFunc(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 127, 128, 255, 256, 70000} {
		v := bytes.Repeat([]byte{0xA5}, n)
		got := AppendCTLVFunc([]byte{0xEE}, 0x0B, true, func(b []byte) []byte { return append(b, v...) })
		want := AppendCTLV([]byte{0xEE}, 0x0B, true, v)
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: %X… vs %X…", n, got[:min(8, len(got))], want[:min(8, len(want))])
		}
		o, rest, err := ParseCTLV(got[1:])
		if err != nil || len(rest) != 0 || len(o.Value) != n {
			t.Fatalf("n=%d: %v", n, err)
		}
	}
}

func FuzzParseCTLV(f *testing.F) {
	for _, c := range ctlvCases {
		b, _ := hex.DecodeString(c.hex)
		f.Add(b)
	}
	f.Add([]byte{0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02, 0x81, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, err := ParseAllCTLV(nil, b)
		if err != nil {
			var ce *CTLVError
			if !errors.As(err, &ce) || ce.Offset < 0 || ce.Offset > len(b) {
				t.Fatalf("bad error %v for %X", err, b)
			}
			return
		}
		// Only the shortest length form is accepted, so encoding is exact.
		var out []byte
		for _, o := range objs {
			out = o.Append(out)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("%X re-encoded as %X", b, out)
		}
	})
}

func BenchmarkParseAllCTLV(b *testing.B) {
	v := ctlvHex(b, "8103012300820281828D0C04456E74657220313233343591020505")
	var buf [8]CTLV
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAllCTLV(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}
