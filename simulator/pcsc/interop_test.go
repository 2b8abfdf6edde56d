//go:build linux

package pcsc_test

import (
	"encoding/hex"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/needs"
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

var openscResponse = regexp.MustCompile(`(?m)^Received \(SW1=0x([0-9A-F]{2}), SW2=0x([0-9A-F]{2})\)(?::\s*\n((?:[0-9A-F]{2} [^\n]*\n)*))?`)

// opensc sends APDUs with OpenSC's opensc-tool on reader 0 and returns the
// status words and data of the answers, in order.
func opensc(t *testing.T, apdus ...string) (sws []string, data [][]byte) {
	t.Helper()
	tool := needs.Command(t, "opensc-tool", "opensc")
	ctx := testContext(t, 30*time.Second)
	args := []string{"-r", "0", "-c", "default"}
	for _, a := range apdus {
		args = append(args, "-s", a)
	}
	out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("opensc-tool: %v\n%s", err, out)
	}
	for _, m := range openscResponse.FindAllStringSubmatch(string(out), -1) {
		sws = append(sws, m[1]+m[2])
		var d []byte
		for _, l := range strings.Split(strings.TrimSpace(m[3]), "\n") {
			// "62 30 82 02 … .0......" : hex first, then an ASCII column.
			fields := strings.Fields(l)
			for _, f := range fields {
				if len(f) != 2 {
					break
				}
				b, err := hex.DecodeString(f)
				if err != nil {
					break
				}
				d = append(d, b...)
			}
		}
		data = append(data, d)
	}
	if len(sws) != len(apdus) {
		t.Fatalf("opensc-tool answered %d of %d APDUs:\n%s", len(sws), len(apdus), out)
	}
	return sws, data
}

func TestOpenSCTry(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	plugCard(t, 0, newUICC(t), false)
	tool := needs.Command(t, "opensc-tool", "opensc")
	out, err := exec.Command(tool, "-r", "0", "-c", "default", "-s", "00 A4 08 04 04 7F FF 6F 78", "-s", "00 20 00 01 08 31 32 33 34 FF FF FF FF", "-s", "00 B0 00 00 02", "-s", "80 F2 00 00").CombinedOutput()
	t.Logf("%v\n%s", err, out)
}
