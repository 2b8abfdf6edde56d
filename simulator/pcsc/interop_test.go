//go:build linux

package pcsc_test

import (
	"encoding/hex"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/internal/testvectors"
)

// scriptorRun plays lines to pcsc-tools' scriptor on reader 0 and returns
// its output as "> command" / "< response" pairs, upper-case hex with
// spaces, one per line.
func scriptorRun(t *testing.T, lines ...string) string {
	t.Helper()
	scriptor := needs.Command(t, "scriptor", "pcsc-tools")
	ctx := testContext(t, 30*time.Second)
	cmd := exec.CommandContext(ctx, scriptor, "-r", reader0)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scriptor: %v\n%s", err, out)
	}
	return string(out)
}

// TestScriptorGetResponseClass80: issue 16 item 4 through pcscd with a
// third-party terminal. scriptor sends exactly what it is given: STATUS
// in class 80 without Le (T=0 style) is answered 61xx, and GET RESPONSE in
// class 80 (TS 102 221 table 10.5; pySim-shell's envelope_sms does the
// same) returns the FCP, where the card used to answer 6E00.
func TestScriptorGetResponseClass80(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	plugCard(t, 0, newUICC(t), false)
	out := scriptorRun(t, "reset", "80 F2 00 00", "80 C0 00 00 32", "80 10 00 00 04 7F E1 E1 0E", "80 F2 00 00", "00 C0 00 00 32")
	for _, want := range []string{
		"> 80 F2 00 00\n< 61 32",
		"> 80 C0 00 00 32\n< 62 30 82 02 78 21 83 02 3F 00",
		"> 00 C0 00 00 32\n< 62 30 82 02 78 21",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scriptor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "6E 00") {
		t.Errorf("class not supported:\n%s", out)
	}
}

// TestScriptorCase1AndChannels: items 5 and 6 through scriptor. VERIFY
// PIN1 in T=0 case 1 form (P3 = 00) is the retry counter query (63C3, not
// 6700); MANAGE CHANNEL opens channel 1 (the card's choice), a command on
// it by CLA 01 reads EF_ICCID there while the basic channel stays at the
// MF, and the close in case 1 form ends it.
func TestScriptorCase1AndChannels(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	plugCard(t, 0, newUICC(t), false)
	out := scriptorRun(t, "reset",
		"00 20 00 01 00",
		"00 70 00 00 01",
		"01 A4 00 0C 02 2F E2",
		"01 B0 00 00 0A",
		"00 B0 00 00 0A",
		"00 70 80 01 00",
		"01 B0 00 00 0A",
	)
	for _, want := range []string{
		"> 00 20 00 01 00\n< 63 C3",
		"> 00 70 00 00 01\n< 01 90 00",
		"> 01 A4 00 0C 02 2F E2\n< 90 00",
		"> 01 B0 00 00 0A\n< 98 99 09 01 00 00 00 00 00 F5 90 00",
		"> 00 B0 00 00 0A\n< 69 86",
		"> 00 70 80 01 00\n< 90 00",
		"> 01 B0 00 00 0A\n< 68 81",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scriptor output lacks %q:\n%s", want, out)
		}
	}
}

var openscResponse = regexp.MustCompile(`^Received \(SW1=0x([0-9A-F]{2}), SW2=0x([0-9A-F]{2})\)`)

// opensc sends APDUs with OpenSC's opensc-tool (-c default: no card driver
// of its own, so it sends exactly these, completing 61xx and 6Cxx as a
// T=0 terminal) on reader 0 and returns the status word and data of each
// answer, in order.
func opensc(t *testing.T, apdus ...string) (sws []string, data [][]byte) {
	t.Helper()
	tool := needs.Command(t, "opensc-tool", "opensc")
	ctx := testContext(t, 60*time.Second)
	args := []string{"-r", "0", "-c", "default"}
	for _, a := range apdus {
		args = append(args, "-s", a)
	}
	out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("opensc-tool: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if m := openscResponse.FindStringSubmatch(line); m != nil {
			sws = append(sws, m[1]+m[2])
			data = append(data, nil)
			continue
		}
		if len(sws) > 0 && !strings.HasPrefix(line, "Sending:") {
			data[len(data)-1] = append(data[len(data)-1], dumpLine(line)...)
		}
	}
	if len(sws) != len(apdus) {
		t.Fatalf("opensc-tool answered %d of %d APDUs:\n%s", len(sws), len(apdus), out)
	}
	return sws, data
}

// dumpLine reads the bytes of one line of opensc-tool's hex dump: up to
// 16 "XX " groups, then (after padding) one printable character per byte.
// The largest n whose groups match and leave room for n characters is the
// byte count, so printable text that looks like hex is not taken for data.
func dumpLine(line string) []byte {
	for n := min(16, len(line)/3); n > 0; n-- {
		head, rest := line[:3*n], line[3*n:]
		if len(rest) < n || !hexGroups.MatchString(head) {
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(head, " ", ""))
		if err == nil {
			return b
		}
	}
	return nil
}

var hexGroups = regexp.MustCompile(`^(?:[0-9A-F]{2} )+$`)

// mandatoryFile is a line of applet/uicc/testdata/mandatory-files.txt.
type mandatoryFile struct {
	spec, name, path string
	linear           bool
	size             int
	atLeast          bool
}

func readMandatoryFiles(t *testing.T) []mandatoryFile {
	t.Helper()
	rows, err := testvectors.Table("../../applet/uicc/testdata/mandatory-files.txt", 6)
	if err != nil {
		t.Fatal(err)
	}
	var out []mandatoryFile
	for _, f := range rows {
		size, atLeast := strings.CutSuffix(f[5], "+")
		n, err := strconv.Atoi(size)
		if err != nil {
			t.Fatalf("mandatory-files.txt: %q", f)
		}
		out = append(out, mandatoryFile{spec: f[0], name: f[1], path: f[2], linear: f[4] == "linear", size: n, atLeast: atLeast})
	}
	return out
}

// spaced writes b as hex pairs separated by spaces, as opensc-tool takes
// an APDU.
func spaced(b []byte) string {
	h := strings.ToUpper(hex.EncodeToString(b))
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

// TestMandatoryFilesOpenSC: OpenSC's opensc-tool, through pcscd and vpcd,
// selects every EF that TS 102 221 §13, TS 31.102 §4.2 and TS 51.011 §10.3
// make mandatory (issue 16 item 7; pySim-read stopped at EF_ACC, and pySim
// cannot be installed here) and reads it whole: its FCP (tag 80) gives
// the size the specification asks for, READ BINARY returns that many
// bytes, READ RECORD every record at the record length.
func TestMandatoryFilesOpenSC(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	card := newUICC(t)
	plugCard(t, 0, card, false)
	files := readMandatoryFiles(t)
	pin := append([]byte(card.Profile().PIN1.Value), 0xFF, 0xFF, 0xFF, 0xFF)
	apdus := []string{"00 20 00 01 08 " + spaced(pin), "00 A4 04 0C 07 A0 00 00 00 87 10 02"}
	for _, f := range files {
		path, _ := hex.DecodeString(f.path)
		apdus = append(apdus, spaced(append([]byte{0x00, 0xA4, 0x08, 0x04, byte(len(path))}, append(path, 0x00)...)))
	}
	sws, data := opensc(t, apdus...)
	if sws[0] != "9000" || sws[1] != "9000" {
		t.Fatalf("VERIFY PIN1 %s, SELECT USIM %s", sws[0], sws[1])
	}
	var reads []string
	var want []mandatoryFile
	sizes := map[string]int{}
	for i, f := range files {
		sw, fcp := sws[2+i], data[2+i]
		if sw != "9000" {
			t.Errorf("%s %s (%s): SELECT answered %s", f.spec, f.name, f.path, sw)
			continue
		}
		obj, _, err := tlv.ParseBER(fcp)
		if err != nil || obj.Tag != tlv.TagFCP {
			t.Errorf("%s %s: FCP %X: %v", f.spec, f.name, fcp, err)
			continue
		}
		objs, _ := tlv.ParseAllBER(nil, obj.Value)
		var desc, size []byte
		for _, o := range objs {
			switch o.Tag {
			case 0x82:
				desc = o.Value
			case 0x80:
				size = o.Value
			}
		}
		if len(size) != 2 || len(desc) < 2 {
			t.Errorf("%s %s: FCP %X without size or descriptor", f.spec, f.name, fcp)
			continue
		}
		n := int(size[0])<<8 | int(size[1])
		path, _ := hex.DecodeString(f.path)
		sel := spaced(append([]byte{0x00, 0xA4, 0x08, 0x0C, byte(len(path))}, path...))
		if f.linear {
			if len(desc) != 5 {
				t.Errorf("%s %s: descriptor %X is not linear fixed", f.spec, f.name, desc)
				continue
			}
			rl, recs := int(desc[2])<<8|int(desc[3]), int(desc[4])
			if rl < f.size || !f.atLeast && rl != f.size || rl*recs != n {
				t.Errorf("%s %s: %d records of %d bytes in %d, want records of %d", f.spec, f.name, recs, rl, n, f.size)
			}
			reads = append(reads, sel)
			want = append(want, mandatoryFile{name: f.name + " select"})
			for r := 1; r <= recs; r++ {
				reads = append(reads, spaced([]byte{0x00, 0xB2, byte(r), 0x04, byte(rl)}))
				want = append(want, mandatoryFile{name: f.name, size: rl})
			}
			continue
		}
		if n < f.size || !f.atLeast && n != f.size {
			t.Errorf("%s %s: %d bytes, want %d (at least: %v)", f.spec, f.name, n, f.size, f.atLeast)
		}
		sizes[f.name] = n
		reads = append(reads, sel, spaced([]byte{0x00, 0xB0, 0x00, 0x00, byte(n)}))
		want = append(want, mandatoryFile{name: f.name + " select"}, mandatoryFile{name: f.name, size: n})
	}
	if len(reads) < 2*len(files) {
		t.Fatalf("%d reads for %d files", len(reads), len(files))
	}
	sws, data = opensc(t, append(apdus[:2:2], reads...)...)
	for i, w := range want {
		sw, d := sws[2+i], data[2+i]
		switch {
		case sw != "9000":
			t.Errorf("%s: %s answered %s", w.name, reads[i], sw)
		case !strings.HasSuffix(w.name, " select") && len(d) != w.size:
			t.Errorf("%s: %s gave %d bytes, want %d", w.name, reads[i], len(d), w.size)
		}
	}
}

// TestDumpLine: opensc-tool's dump lines, including printable data that
// looks like hex.
func TestDumpLine(t *testing.T) {
	for line, want := range map[string]string{
		"00 02 ..": "0002",
		"62 1B 82 02 41 21 83 02 6F 78 8A 01 05 8C 03 03 b...A!..ox......": "621B82024121830 26F788A01058C0303",
		"9A 90 80 02 00 02 81 02 00 22 88 01 30          .........\"..0":   "9A9080020002810200228801 30",
		"41 42 20 43 AB C": "41422043",
		"Sending: 00":      "",
	} {
		if got := strings.ToUpper(hex.EncodeToString(dumpLine(line))); got != strings.ReplaceAll(want, " ", "") {
			t.Errorf("dumpLine(%q) = %s, want %s", line, got, want)
		}
	}
}
