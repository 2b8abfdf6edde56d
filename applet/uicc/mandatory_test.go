package uicc

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/internal/testvectors"
)

// mandatoryFile is one EF a specification makes mandatory, with the
// structure and size it gives: a line of testdata/mandatory-files.txt.
type mandatoryFile struct {
	spec    string // where the specification defines it
	name    string
	path    string // from the MF, hex; 7FFF is the USIM ADF
	sfi     byte   // 0: none required
	linear  bool
	size    int  // transparent: the size; linear fixed: the record length
	atLeast bool // size is a minimum
}

// mandatoryFiles reads testdata/mandatory-files.txt: the EFs that ETSI TS
// 102 221 §13 (MF), 3GPP TS 31.102 §4.2 (ADF_USIM) and 3GPP TS 51.011
// §10.3 (DF_GSM) ask for. pySim-read reads the DF_GSM ones in class A0 and
// stopped at EF_ACC before they existed (issue 16).
func mandatoryFiles(t *testing.T) []mandatoryFile {
	t.Helper()
	rows, err := testvectors.Table("testdata/mandatory-files.txt", 6)
	if err != nil {
		t.Fatal(err)
	}
	var out []mandatoryFile
	for _, f := range rows {
		m := mandatoryFile{spec: f[0], name: f[1], path: f[2], linear: f[4] == "linear"}
		if f[3] != "-" {
			v, err := strconv.ParseUint(f[3], 16, 8)
			if err != nil {
				t.Fatalf("mandatory-files.txt: SFI %q", f[3])
			}
			m.sfi = byte(v)
		}
		size, atLeast := strings.CutSuffix(f[5], "+")
		if m.size, err = strconv.Atoi(size); err != nil {
			t.Fatalf("mandatory-files.txt: size %q", f[5])
		}
		m.atLeast = atLeast
		out = append(out, m)
	}
	return out
}

// TestMandatoryFiles selects every mandatory EF by path (TS 102 221 §8.4.2)
// and checks its FCP against the specification's FID, structure, size and
// SFI, then reads it whole; the DF_GSM files are selected in class A0 as
// well and their TS 51.011 §9.2.1 response checked the same way.
func TestMandatoryFiles(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	run(t, c, []step{{"0020000108" + "31323334FFFFFFFF", "9000"}, {"00A4040C07A0000000871002", "9000"}})
	files := mandatoryFiles(t)
	if len(files) < 30 {
		t.Fatalf("%d mandatory files listed", len(files))
	}
	for _, f := range files {
		t.Run(f.name+"@"+f.path, func(t *testing.T) {
			path := unhex(t, f.path)
			fcp := exchange(t, c, append([]byte{0x00, 0xA4, 0x08, 0x04, byte(len(path))}, path...))
			obj, _, err := tlv.ParseBER(fcp)
			if err != nil || obj.Tag != tlv.TagFCP {
				t.Fatalf("%s: FCP %X: %v", f.spec, fcp, err)
			}
			do := map[tlv.BERTag][]byte{}
			objs, err := tlv.ParseAllBER(nil, obj.Value)
			if err != nil {
				t.Fatalf("FCP %X: %v", fcp, err)
			}
			for _, o := range objs {
				do[o.Tag] = o.Value
			}
			if fid := do[0x83]; !bytes.Equal(fid, path[len(path)-2:]) {
				t.Errorf("%s: file identifier %X, want %X", f.spec, fid, path[len(path)-2:])
			}
			desc := do[0x82]
			size := int(do[0x80][0])<<8 | int(do[0x80][1])
			switch {
			case f.linear && (len(desc) != 5 || desc[0] != 0x42):
				t.Fatalf("%s: file descriptor %X, want linear fixed (42 21 rl rl n)", f.spec, desc)
			case !f.linear && (len(desc) != 2 || desc[0] != 0x41):
				t.Fatalf("%s: file descriptor %X, want transparent (41 21)", f.spec, desc)
			}
			if f.linear {
				rl, n := int(desc[2])<<8|int(desc[3]), int(desc[4])
				if !f.atLeast && rl != f.size || rl < f.size || n < 1 || size != rl*n {
					t.Errorf("%s: %d records of %d bytes, file size %d; want records of %d bytes (at least: %v)", f.spec, n, rl, size, f.size, f.atLeast)
				}
				for r := 1; r <= n; r++ {
					if got := exchange(t, c, []byte{0x00, 0xB2, byte(r), 0x04, byte(rl)}); len(got) != rl {
						t.Errorf("%s: record %d is %d bytes", f.spec, r, len(got))
					}
				}
			} else {
				if !f.atLeast && size != f.size || size < f.size {
					t.Errorf("%s: %d bytes, want %d (at least: %v)", f.spec, size, f.size, f.atLeast)
				}
				if got := exchange(t, c, []byte{0x00, 0xB0, 0x00, 0x00, byte(size)}); len(got) != size {
					t.Errorf("%s: READ BINARY gave %d bytes of %d", f.spec, len(got), size)
				}
			}
			if f.sfi != 0 && !bytes.Equal(do[0x88], []byte{f.sfi << 3}) {
				t.Errorf("%s: SFI %X, want %02X", f.spec, do[0x88], f.sfi)
			}
			if f.path[:4] != "7F20" {
				return
			}
			// 2G: the same file through class A0 (TS 51.011 §9.2.1).
			exchange(t, c, []byte{0xA0, 0xA4, 0x00, 0x00, 0x02, 0x7F, 0x20})
			r := exchange(t, c, []byte{0xA0, 0xA4, 0x00, 0x00, 0x02, path[2], path[3]})
			if len(r) < 15 || int(r[2])<<8|int(r[3]) != size || r[6] != 0x04 || r[13] != 0x00 {
				t.Errorf("%s: GSM response %X: want a transparent EF (type 04, structure 00) of %d bytes", f.spec, r, size)
			}
			if got := exchange(t, c, []byte{0xA0, 0xB0, 0x00, 0x00, byte(size)}); len(got) != size {
				t.Errorf("%s: class A0 READ BINARY gave %d bytes of %d", f.spec, len(got), size)
			}
		})
	}
}

// exchange sends capdu with apdu.Exchange (GET RESPONSE in the command's
// class) and fails the test unless it ends in 9000; it returns the data.
func exchange(t *testing.T, c *Card, capdu []byte) []byte {
	t.Helper()
	r, err := apdu.Exchange(context.Background(), c, capdu)
	if err != nil {
		t.Fatal(err)
	}
	if r.SW != apdu.SWOK {
		t.Fatalf("%X: %s", capdu, r.SW)
	}
	return r.Data
}
