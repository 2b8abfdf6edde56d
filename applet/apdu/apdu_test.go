package apdu

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/internal/testvectors"
)

// vec holds the public vectors of testdata/vectors.txt, each with its
// source.
var vec = testvectors.MustLoad("testdata/vectors.txt")

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// commandVectors are checked both ways: Parse gives the fields, Append gives
// the input back.
var commandVectors = []struct {
	name string
	hex  string
	want Command
	cse  Case
}{
	// The vpcd capture (testdata/vectors.txt): SELECT MF, T=0 style case 3 without Le.
	{"select-mf", vec.Hex("VPCD/select-mf"), Command{CLA: 0x00, INS: 0xA4, P1: 0x00, P2: 0x04, Data: []byte{0x3F, 0x00}}, Case3},
	// vpcd: GET RESPONSE Le=20.
	{"get-response", vec.Hex("VPCD/get-response"), Command{CLA: 0x00, INS: 0xC0, Ne: 0x20}, Case2},
	// vpcd: TERMINAL PROFILE of 12 bytes FF.
	{"terminal-profile", vec.Hex("VPCD/terminal-profile"), Command{CLA: 0x80, INS: 0x10, Data: bytes.Repeat([]byte{0xFF}, 12)}, Case3},
	// vpcd: FETCH Le=1D.
	{"fetch", vec.Hex("VPCD/fetch"), Command{CLA: 0x80, INS: 0x12, Ne: 0x1D}, Case2},
	// onomondo-uicc tests/envelope: TERMINAL RESPONSE for SEND SHORT MESSAGE.
	{"terminal-response", vec.Hex("ON/terminal-response"), Command{CLA: 0x80, INS: 0x14, Data: unhexMust("810301130082028281830100")}, Case3},
	// pySim test_ota.py: the APDU inside the OTA packet, SELECT MF with P2=04.
	{"ota-select", vec.Hex("PY/ota-select"), Command{CLA: 0x00, INS: 0xA4, P2: 0x04, Data: []byte{0x3F, 0x00}}, Case3},
	// Case 1: STATUS-like header only.
	{"case1", "80F20000", Command{CLA: 0x80, INS: 0xF2}, Case1},
	// Case 2S, Le 00 = 256 (ISO/IEC 7816-4 §5.1).
	{"le-256", "00B0000000", Command{INS: 0xB0, Ne: 256}, Case2},
	// Case 4S: SELECT USIM by AID with Le 00.
	{"case4s", "00A4040407A000000087100200", Command{INS: 0xA4, P1: 4, P2: 4, Data: unhexMust("A0000000871002"), Ne: 256}, Case4},
	// Extended cases (ISO/IEC 7816-4 §5.1 table 5).
	{"case2e", "00B00000000100", Command{INS: 0xB0, Ne: 256, Extended: true}, Case2},
	{"case2e-65536", "00B00000000000", Command{INS: 0xB0, Ne: 65536, Extended: true}, Case2},
	{"case3e", "00D6000000000201AB", Command{INS: 0xD6, Data: []byte{0x01, 0xAB}, Extended: true}, Case3},
	{"case4e", "00A4040400000101" + "0200", Command{INS: 0xA4, P1: 4, P2: 4, Data: []byte{0x01}, Ne: 0x200, Extended: true}, Case4},
}

func unhexMust(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestCommandVectors(t *testing.T) {
	t.Parallel()
	for _, v := range commandVectors {
		t.Run(v.name, func(t *testing.T) {
			in := unhex(t, v.hex)
			got, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.CLA != v.want.CLA || got.INS != v.want.INS || got.P1 != v.want.P1 || got.P2 != v.want.P2 ||
				!bytes.Equal(got.Data, v.want.Data) || got.Ne != v.want.Ne || got.Extended != v.want.Extended {
				t.Errorf("Parse = %+v, want %+v", got, v.want)
			}
			if got.Case() != v.cse {
				t.Errorf("Case = %d, want %d", got.Case(), v.cse)
			}
			out, err := v.want.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, in) {
				t.Errorf("Marshal = %X, want %X", out, in)
			}
			if v.want.Len() != len(in) {
				t.Errorf("Len = %d, want %d", v.want.Len(), len(in))
			}
		})
	}
}

func TestMarshalPicksExtended(t *testing.T) {
	t.Parallel()
	c := Command{INS: 0xD6, Data: make([]byte, 300)}
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4+3+300 || b[4] != 0 || b[5] != 0x01 || b[6] != 0x2C {
		t.Fatalf("extended header %X", b[:7])
	}
	c = Command{INS: 0xB0, Ne: 257}
	b, _ = c.MarshalBinary()
	if !bytes.Equal(b, unhex(t, "00B00000000101")) {
		t.Fatalf("Ne 257 = %X", b)
	}
	if _, err := (&Command{Ne: 65537}).MarshalBinary(); !errors.Is(err, ErrEncode) {
		t.Fatalf("Ne 65537: %v", err)
	}
	if _, err := (&Command{Data: make([]byte, 65536)}).MarshalBinary(); !errors.Is(err, ErrEncode) {
		t.Fatalf("Nc 65536: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		hex    string
		err    error
		offset int
	}{
		{"", ErrShort, 0},
		{"00A4", ErrShort, 2},
		{"00A40004", nil, 0},
		{"00A40004033F00", ErrLength, 4},           // Lc 3, 2 bytes
		{"00A40004023F000000", ErrLength, 4},       // Lc 2, 3 more bytes
		{"00A4000400", nil, 0},                     // case 2S
		{"00A400040001", ErrLength, 6},             // 00 + 1 byte
		{"00A40004000000", nil, 0},                 // case 2E
		{"00A4000400000201", ErrLength, 4},         // extended Lc 2, 1 byte
		{"00A40004000000AA", ErrLength, 5},         // extended Lc 0000
		{"00A400040000020102030405", ErrLength, 4}, // ext Lc 2 + 4 bytes
	}
	for _, c := range cases {
		_, err := Parse(unhex(t, c.hex))
		if c.err == nil {
			if err != nil {
				t.Errorf("%s: %v", c.hex, err)
			}
			continue
		}
		var e *Error
		if !errors.Is(err, c.err) || !errors.As(err, &e) {
			t.Errorf("%s: err = %v, want %v", c.hex, err, c.err)
			continue
		}
		if e.Offset != c.offset {
			t.Errorf("%s: offset %d, want %d (%v)", c.hex, e.Offset, c.offset, err)
		}
		if !strings.HasPrefix(err.Error(), "apdu: ") {
			t.Errorf("%s: error %q lacks prefix", c.hex, err)
		}
	}
}

func TestResponse(t *testing.T) {
	t.Parallel()
	// vpcd: FETCH answer D01A… 9000 and SELECT answer 6120.
	in := unhex(t, vec.Hex("VPCD/fetch.r"))
	r, err := ParseResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.SW != SWOK || len(r.Data) != 28 {
		t.Fatalf("got %+v", r)
	}
	if !bytes.Equal(r.Append(nil), in) {
		t.Fatal("Append differs")
	}
	r, _ = ParseResponse(unhex(t, vec.Hex("VPCD/select-mf.r")))
	if r.SW != ResponseAvailable(0x20) || len(r.Data) != 0 {
		t.Fatalf("6120: %+v", r)
	}
	if _, err := ParseResponse([]byte{0x90}); !errors.Is(err, ErrShort) {
		t.Fatalf("1 byte: %v", err)
	}
}

func TestSWNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sw   SW
		name string
		ok   bool
	}{
		{0x9000, "normal ending of the command", true},
		{0x911D, "normal ending, proactive command pending (29 bytes)", true},
		{0x6120, "response bytes still available (32)", true},
		{0x6C0A, "wrong Le field, exact length 10", false},
		{0x63C2, "verification failed, 2 retries left", false},
		{0x6983, "authentication/PIN method blocked", false},
		{0x6A82, "file not found", false},
		{0x6A86, "incorrect parameters P1 to P2", false},
		{0x6700, "wrong length", false},
		{0x6B00, "wrong parameters P1-P2", false},
		{0x6D00, "instruction code not supported or invalid", false},
		{0x6E00, "class not supported", false},
		{0x6F00, "technical problem, no precise diagnosis", false},
		{0x9F22, "response data available (34 bytes, GSM)", true},
		{0x9E10, "data download error, response of 16 bytes", false},
		{0x9300, "SIM Application Toolkit is busy", false},
		{0x9201, "command successful after 1 internal retries (GSM)", true},
		{0x9804, "access condition not fulfilled or CHV verification failed (GSM)", false},
		{0x9840, "CHV blocked or unblock failed, no attempt left (GSM)", false},
		{0x62F2, "more data available and proactive command pending", false},
		{0x6F42, "technical problem", false},
		{0x1234, "unknown status word", false},
	}
	for _, c := range cases {
		if got := c.sw.Name(); got != c.name {
			t.Errorf("%04X: %q, want %q", uint16(c.sw), got, c.name)
		}
		if c.sw.OK() != c.ok {
			t.Errorf("%04X: OK = %v", uint16(c.sw), c.sw.OK())
		}
	}
	if WrongLe(300) != 0x6C00 || VerifyFailed(20) != 0x63CF || ProactivePending(0x1D) != 0x911D || GSMResponseAvailable(0x22) != 0x9F22 {
		t.Error("constructors")
	}
	if s := SW(0x6A82).String(); s != "6A82 file not found" {
		t.Errorf("String = %q", s)
	}
}

func TestClassOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cla  byte
		want Class
	}{
		{0x00, Class{Kind: ClassInterindustry}},
		{0x03, Class{Kind: ClassInterindustry, Channel: 3}},
		{0x0C, Class{Kind: ClassInterindustry, SecureMessaging: 3}},
		{0x10, Class{Kind: ClassInterindustry, Chaining: true}},
		{0x40, Class{Kind: ClassInterindustry, Channel: 4}},
		{0x6F, Class{Kind: ClassInterindustry, Channel: 19, SecureMessaging: 2}},
		{0x80, Class{Kind: ClassProprietary}},
		{0x81, Class{Kind: ClassProprietary, Channel: 1}},
		{0xC0, Class{Kind: ClassProprietary, Channel: 4}},
		{0xA0, Class{Kind: ClassGSM}},
		{0x90, Class{Kind: ClassReserved}},
		{0xB0, Class{Kind: ClassReserved}},
		{0x20, Class{Kind: ClassReserved}},
		{0xFF, Class{Kind: ClassInvalid}},
	}
	for _, c := range cases {
		if got := ClassOf(c.cla); got != c.want {
			t.Errorf("%02X: %+v, want %+v", c.cla, got, c.want)
		}
	}
}

func TestInsName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cla, ins byte
		name     string
	}{
		{0x00, 0xA4, "SELECT"}, {0x80, 0x10, "TERMINAL PROFILE"}, {0x80, 0xC2, "ENVELOPE"},
		{0x80, 0x12, "FETCH"}, {0x80, 0x14, "TERMINAL RESPONSE"}, {0x00, 0x20, "VERIFY PIN"},
		{0xA0, 0x20, "VERIFY CHV"}, {0xA0, 0x88, "RUN GSM ALGORITHM"}, {0x80, 0xF2, "STATUS"},
		{0x80, 0xE6, "INSTALL"}, {0x00, 0xC0, "GET RESPONSE"}, {0x00, 0x99, ""},
	}
	for _, c := range cases {
		if got := InsName(c.cla, c.ins); got != c.name {
			t.Errorf("%02X %02X: %q, want %q", c.cla, c.ins, got, c.name)
		}
	}
	if n := (&Command{INS: 0x99}).Name(); n != "INS 99" {
		t.Errorf("Name = %q", n)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	c, _ := Parse(unhex(t, "00A4080C047F106F3C"))
	n := DescribeCommand(c)
	if n.Meaning != "SELECT, case 3S" || n.Children[2].Meaning != "select by path from MF" ||
		n.Children[3].Meaning != "no data returned, first or only occurrence" || n.Children[5].Meaning != "path 7F10/6F3C" {
		t.Errorf("SELECT by path: %+v", n)
	}
	// PIN data is never shown.
	c, _ = Parse(unhex(t, "002000010831323334FFFFFFFF"))
	n = DescribeCommand(c)
	for _, ch := range n.Children {
		if strings.Contains(ch.Value, "3132") || strings.Contains(ch.Meaning, "3132") {
			t.Errorf("PIN leaked: %+v", ch)
		}
	}
	if n.Children[3].Meaning != "PIN1 (PIN Appl 1)" {
		t.Errorf("key ref: %+v", n.Children[3])
	}
	r, _ := ParseResponse(unhex(t, "62108202782183023F00A5038001718A01059000"))
	n = DescribeResponse(r)
	if n.Children[0].Meaning != "FCP template" || len(n.Children[0].Children) != 4 ||
		n.Children[0].Children[1].Meaning != "file identifier 3F00 (MF)" {
		t.Errorf("FCP: %+v", n)
	}
}

func TestNodeString(t *testing.T) {
	t.Parallel()
	c, _ := Parse(unhex(t, "00A4000C023F00"))
	want := `C-APDU: SELECT, case 3S
  CLA 00: interindustry (ISO/IEC 7816-4), logical channel 0
  INS A4: SELECT
  P1 00: select by file identifier (MF, DF or EF)
  P2 0C: no data returned, first or only occurrence
  Lc 02: 2 bytes of data
  data 3F00: file identifier 3F00 (MF)
`
	if got := DescribeCommand(c).String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
