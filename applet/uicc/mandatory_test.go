package uicc

import (
	"bytes"
	"context"
	"testing"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/tlv"
)

// mandatoryFile is one EF a specification makes mandatory, with the
// structure and size it gives.
type mandatoryFile struct {
	spec   string // where the specification defines it
	name   string
	path   string // from the MF, hex; 7FFF is the USIM ADF
	sfi    byte   // 0: none required
	linear bool
	size   int // transparent: exact size (0 = at least min)
	min    int // transparent: smallest size allowed
	recLen int // linear fixed: record length (0 = at least min)
}

// mandatoryFiles are the EFs that ETSI TS 102 221 §13 (MF), 3GPP TS 31.102
// §4.2 (ADF_USIM, entries marked M and those UST services 10, 12, 19 and
// 21 make present) and 3GPP TS 51.011 §10.3 (DF_GSM, entries marked M)
// ask for, with the sizes of those sections. pySim-read reads the DF_GSM
// ones in class A0 and stopped at EF_ACC before they existed (issue 16).
var mandatoryFiles = []mandatoryFile{
	{spec: "TS 102 221 §13.2", name: "EF_ICCID", path: "2FE2", sfi: 0x02, size: 10},
	{spec: "TS 102 221 §13.1", name: "EF_DIR", path: "2F00", sfi: 0x1E, linear: true},
	{spec: "TS 102 221 §13.4", name: "EF_PL", path: "2F05", sfi: 0x05, min: 2},
	{spec: "TS 102 221 §13.3", name: "EF_ARR", path: "2F06", sfi: 0x06, linear: true},
	{spec: "TS 31.102 §4.2.1", name: "EF_LI", path: "7FFF6F05", sfi: 0x02, min: 2},
	{spec: "TS 31.102 §4.2.2", name: "EF_IMSI", path: "7FFF6F07", sfi: 0x07, size: 9},
	{spec: "TS 31.102 §4.2.3", name: "EF_Keys", path: "7FFF6F08", sfi: 0x08, size: 33},
	{spec: "TS 31.102 §4.2.4", name: "EF_KeysPS", path: "7FFF6F09", sfi: 0x09, size: 33},
	{spec: "TS 31.102 §4.2.6", name: "EF_HPPLMN", path: "7FFF6F31", sfi: 0x12, size: 1},
	{spec: "TS 31.102 §4.2.8", name: "EF_UST", path: "7FFF6F38", sfi: 0x04, min: 1},
	{spec: "TS 31.102 §4.2.15", name: "EF_ACC", path: "7FFF6F78", sfi: 0x06, size: 2},
	{spec: "TS 31.102 §4.2.16", name: "EF_FPLMN", path: "7FFF6F7B", sfi: 0x0D, min: 12},
	{spec: "TS 31.102 §4.2.17", name: "EF_LOCI", path: "7FFF6F7E", sfi: 0x0B, size: 11},
	{spec: "TS 31.102 §4.2.18", name: "EF_AD", path: "7FFF6FAD", sfi: 0x03, min: 4},
	{spec: "TS 31.102 §4.2.21", name: "EF_ECC", path: "7FFF6FB7", sfi: 0x01, linear: true, min: 4},
	{spec: "TS 31.102 §4.2.23", name: "EF_PSLOCI", path: "7FFF6F73", sfi: 0x0C, size: 14},
	{spec: "TS 31.102 §4.2.43", name: "EF_START-HFN", path: "7FFF6F5B", sfi: 0x0F, size: 6},
	{spec: "TS 31.102 §4.2.44", name: "EF_THRESHOLD", path: "7FFF6F5C", sfi: 0x10, size: 3},
	{spec: "TS 31.102 §4.2.47", name: "EF_NETPAR", path: "7FFF6FC4", min: 1},
	{spec: "TS 31.102 §4.2.36", name: "EF_ARR", path: "7FFF6F06", sfi: 0x17, linear: true},
	{spec: "TS 31.102 §4.2.25 (UST 10)", name: "EF_SMS", path: "7FFF6F3C", linear: true, recLen: 176},
	{spec: "TS 31.102 §4.2.27 (UST 12)", name: "EF_SMSP", path: "7FFF6F42", linear: true, min: 28},
	{spec: "TS 31.102 §4.2.28 (UST 10)", name: "EF_SMSS", path: "7FFF6F43", min: 2},
	{spec: "TS 31.102 §4.2.12 (UST 19)", name: "EF_SPN", path: "7FFF6F46", size: 17},
	{spec: "TS 31.102 §4.2.26 (UST 21)", name: "EF_MSISDN", path: "7FFF6F40", linear: true, min: 14},
	{spec: "TS 51.011 §10.3.1", name: "EF_LP", path: "7F206F05", min: 1},
	{spec: "TS 51.011 §10.3.2", name: "EF_IMSI", path: "7F206F07", size: 9},
	{spec: "TS 51.011 §10.3.3", name: "EF_Kc", path: "7F206F20", size: 9},
	{spec: "TS 51.011 §10.3.5", name: "EF_HPPLMN", path: "7F206F31", size: 1},
	{spec: "TS 51.011 §10.3.7", name: "EF_SST", path: "7F206F38", min: 2},
	{spec: "TS 51.011 §10.3.19", name: "EF_BCCH", path: "7F206F74", size: 16},
	{spec: "TS 51.011 §10.3.15", name: "EF_ACC", path: "7F206F78", size: 2},
	{spec: "TS 51.011 §10.3.16", name: "EF_FPLMN", path: "7F206F7B", size: 12},
	{spec: "TS 51.011 §10.3.17", name: "EF_LOCI", path: "7F206F7E", size: 11},
	{spec: "TS 51.011 §10.3.18", name: "EF_AD", path: "7F206FAD", min: 3},
	{spec: "TS 51.011 §10.3.19a", name: "EF_Phase", path: "7F206FAE", size: 1},
}

// TestMandatoryFiles selects every mandatory EF by path (TS 102 221 §8.4.2)
// and checks its FCP against the specification's FID, structure, size and
// SFI, then reads it whole; the DF_GSM files are selected in class A0 as
// well and their TS 51.011 §9.2.1 response checked the same way.
func TestMandatoryFiles(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	run(t, c, []step{{"0020000108" + "31323334FFFFFFFF", "9000"}, {"00A4040C07A0000000871002", "9000"}})
	for _, f := range mandatoryFiles {
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
				if f.recLen != 0 && rl != f.recLen || rl < f.min || n < 1 || size != rl*n {
					t.Errorf("%s: %d records of %d bytes, file size %d; want records of %d (at least %d) bytes", f.spec, n, rl, size, f.recLen, f.min)
				}
				for r := 1; r <= n; r++ {
					if got := exchange(t, c, []byte{0x00, 0xB2, byte(r), 0x04, byte(rl)}); len(got) != rl {
						t.Errorf("%s: record %d is %d bytes", f.spec, r, len(got))
					}
				}
			} else {
				if f.size != 0 && size != f.size || size < f.min {
					t.Errorf("%s: %d bytes, want %d (at least %d)", f.spec, size, f.size, f.min)
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
