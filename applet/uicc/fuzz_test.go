package uicc

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/simlab-dev/simlab/hsm/soft"
)

// fuzzSeeds are APDU sequences from the tests and testdata/vectors.txt.
var fuzzSeeds = [][]string{
	{"00A40004023F00", "00C0000032", "00A4000C022FE2", "00B000000A"},
	{"00A4040C07A0000000871002", "00A4000C026F07", "0020000108" + "31323334FFFFFFFF", "00B0000009"},
	{"00A4080C047FFF6FAD", "00B0000004", "00A4080C047F106F40", "00B201041C", "00DC01041C" + "FFFFFFFFFFFFFFFFFFFFFFFFFFFF0791991900000021FFFFFFFFFFFF"},
	{"801000000CFFFFFFFFFFFFFFFFFFFFFFFF", "801200001C", "801400000C" + trDisplayOK, "8012000029", "8014000016" + trGetInput141},
	{"A0A40000027F20", "A0A40000026F07", "A0C000000F", "A020000108" + "31323334FFFFFFFF", "A0B0000009"},
	{"80c200003ed13c820283818b36400881214365877ff6227052000000002502700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f", "00C000001E"},
	{"00A4040008F073696D6C616201", "00C0000002", "00CA010203AABBCC00", "", "80F2000000"},
	{"002C0001", "002C000110" + "3132333435363738" + "34333231FFFFFFFF", "0026000108" + "34333231FFFFFFFF", "80C2000006D30482020181"},
	// Logical channels, case 1 in T=0 form, GET RESPONSE in class 80.
	{"0070000001", "01A40004022FE2", "01C000001D", "0070000200", "02A4040C07A0000000871002", "0270000000", "0070800100", "0020000100"},
	{"80F20000", "80C0000032", "80F2000C00", "00A4080404" + "7FFF6F78", "00A4040C07A0000000871002", "00A408040" + "47FFF6F7E"},
}

// encodeSeq frames APDUs as [length][bytes]…; an empty APDU stands for a
// card reset.
func encodeSeq(t testing.TB, apdus []string) []byte {
	var b []byte
	for _, a := range apdus {
		x := unhex(t, a)
		b = append(b, byte(len(x)))
		b = append(b, x...)
	}
	return b
}

// FuzzTransmit sends arbitrary APDU sequences to a card with PINs, an applet
// and OTA keys: Transmit must never panic or fail, and always answer with at
// least a status word.
func FuzzTransmit(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(encodeSeq(f, s))
	}
	prof := loadProfile(f, pysimProfile+`
`)
	prof.Applets[1].TARs = []TARProfile{{TAR: Hex{0xB0, 0x00, 0x11}}}
	ks := soft.NewMemory()
	f.Cleanup(func() { ks.Close() })
	if err := prof.ImportKeys(context.Background(), ks); err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := New(prof, Options{Clock: fixedClock, Keystore: ks})
		if err != nil {
			t.Fatal(err)
		}
		a := &promptApplet{cmds: [][]byte{unhex(t, displayText111), unhex(t, getInput141)}, result: []byte{1}, envelopes: []byte{0xD3, 0xD6}}
		if err := c.Install("prompt", a); err != nil {
			t.Fatal(err)
		}
		for len(in) > 0 {
			n := int(in[0])
			in = in[1:]
			if n > len(in) {
				n = len(in)
			}
			capdu := in[:n]
			in = in[n:]
			if n == 0 {
				if _, err := c.Reset(ctx, false); err != nil {
					t.Fatal(err)
				}
				continue
			}
			r, err := c.Transmit(ctx, capdu)
			if err != nil {
				t.Fatalf("Transmit(%X): %v", capdu, err)
			}
			if len(r) < 2 {
				t.Fatalf("Transmit(%X) = %X: no status word", capdu, r)
			}
		}
	})
}

// FuzzParseProfile checks that profile parsing never panics and that every
// profile it accepts makes a card.
func FuzzParseProfile(f *testing.F) {
	for _, y := range []string{testProfile, pysimProfile, onomondoProfile} {
		f.Add([]byte(y))
	}
	if b, err := os.ReadFile("../../fixtures/cards/default.yaml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ParseProfile(in)
		if err != nil {
			return
		}
		if _, err := New(p, Options{Clock: fixedClock}); err != nil {
			t.Fatalf("accepted profile does not make a card: %v", err)
		}
		if q, err := p.Subscriber(1); err == nil {
			if err := q.Validate(); err != nil {
				t.Fatalf("Subscriber(1) invalid: %v", err)
			}
		}
	})
}

// FuzzParseScript checks that script parsing never panics and only yields
// commands of at least 4 bytes with well-formed expectations.
func FuzzParseScript(f *testing.F) {
	f.Add([]byte("# c\n00A4 0004 02 3F00 => 61XX\n00C0000032 => 62…9000\nreset\n00B0000001 => 90...\n"))
	f.Add([]byte("00A40000 => 9…0…0"))
	f.Fuzz(func(t *testing.T, in []byte) {
		steps, err := ParseScript(bytes.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range steps {
			if !s.Reset && len(s.Command) < 4 {
				t.Fatalf("line %d: command of %d bytes", s.Line, len(s.Command))
			}
			if checkPattern(s.Expect) != nil {
				t.Fatalf("line %d: bad pattern %q accepted", s.Line, s.Expect)
			}
			_ = matchResponse("6A829000", s.Expect)
		}
	})
}
