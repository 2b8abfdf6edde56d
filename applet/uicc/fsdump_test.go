package uicc

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/tlv"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/fsdump-*.txt")

// fsDump walks the card's file tree through APDUs only: from each DF it
// tries every file identifier whose first byte is 2F, 3F, 4F, 5F, 6F or 7F
// (SELECT by path from the MF, FCP asked), and writes each file found with
// its FCP, its content (READ BINARY, or every record with READ RECORD) and,
// under DF_GSM and DF_TELECOM, its TS 51.011 §9.2.1 response in class A0.
// PIN1 is verified first, so every file a client may read is read.
func fsDump(t *testing.T, c *Card) []byte {
	t.Helper()
	ctx := context.Background()
	do := func(capdu []byte) apdu.Response {
		r, err := apdu.Exchange(ctx, c, capdu)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := do(unhex(t, "0020000108"+"31323334FFFFFFFF")); r.SW != apdu.SWOK {
		t.Fatalf("VERIFY PIN: %s", r.SW)
	}
	var out bytes.Buffer
	var walk func(path []byte)
	walk = func(path []byte) {
		sel := append([]byte{0x00, 0xA4, 0x08, 0x04, byte(len(path))}, path...)
		if len(path) == 0 {
			sel = []byte{0x00, 0xA4, 0x00, 0x04, 0x00}
		}
		r := do(sel)
		if r.SW != apdu.SWOK {
			return
		}
		fmt.Fprintf(&out, "%X fcp %X\n", path, r.Data)
		obj, _, err := tlv.ParseBER(r.Data)
		if err != nil {
			t.Fatalf("%X: FCP: %v", path, err)
		}
		objs, err := tlv.ParseAllBER(nil, obj.Value)
		if err != nil {
			t.Fatalf("%X: FCP: %v", path, err)
		}
		var desc, size []byte
		for _, o := range objs {
			switch o.Tag {
			case 0x82:
				desc = o.Value
			case 0x80:
				size = o.Value
			}
		}
		if len(path) >= 2 && path[len(path)-2] != 0x7F { // an EF
			switch desc[0] {
			case 0x41:
				n := int(size[0])<<8 | int(size[1])
				fmt.Fprintf(&out, "%X data %X\n", path, do([]byte{0x00, 0xB0, 0x00, 0x00, byte(n)}).Data)
			case 0x42:
				for rec := 1; rec <= int(desc[4]); rec++ {
					fmt.Fprintf(&out, "%X rec %d %X\n", path, rec, do([]byte{0x00, 0xB2, byte(rec), 0x04, desc[3]}).Data)
				}
			}
			if len(path) == 4 && (path[1] == 0x10 || path[1] == 0x20) {
				do([]byte{0xA0, 0xA4, 0x00, 0x00, 0x02, path[0], path[1]})
				g := do([]byte{0xA0, 0xA4, 0x00, 0x00, 0x02, path[2], path[3]})
				fmt.Fprintf(&out, "%X gsm %X %s\n", path, g.Data, g.SW)
			}
			return
		}
		for _, hi := range []byte{0x2F, 0x3F, 0x4F, 0x5F, 0x6F, 0x7F} {
			for lo := 0; lo < 256; lo++ {
				if hi == 0x3F && lo == 0x00 || hi == 0x7F && lo == 0xFF {
					continue // the MF and the current ADF are not children
				}
				walk(append(path[:len(path):len(path)], hi, byte(lo)))
			}
		}
	}
	walk(nil)
	for _, df := range []string{"3F00", "7F10", "7F20"} {
		fmt.Fprintf(&out, "%s gsm %X\n", df, do(unhex(t, "A0A4000002"+df)).Data)
	}
	return out.Bytes()
}

// fsDumpProfiles are the profiles TestFSDump dumps: the tests' profile and
// one with no SMSC, another SPN, languages and AID.
var fsDumpProfiles = map[string]string{
	"test": testProfile,
	"other": `
name: other
iccid: "8944000000000000017"
imsi: "23415123456789"
msisdn: "+447900123456"
spn: "Other SPN_@x"
languages: [de, fr, xx]
usim_aid: "A0000000871002FF49FF0589"
pin1: {value: "1234"}
puk1: {value: "12345678"}
adm1: {value: "88888888"}
`,
}

// TestFSDump compares every file of the card, as a client sees it through
// APDUs, with testdata/fsdump-*.txt, written by the card before its file
// contents were shared between cards (go test -run FSDump -update rewrites
// them).
func TestFSDump(t *testing.T) {
	t.Parallel()
	for name, y := range fsDumpProfiles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := fsDump(t, newCard(t, y))
			path := "testdata/fsdump-" + name + ".txt"
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("file system differs from %s:\n%s", path, got)
			}
		})
	}
}
