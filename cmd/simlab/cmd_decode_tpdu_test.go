package main

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

func TestDecodeTPDU(t *testing.T) {
	t.Parallel()
	// smsc/tpdu/testdata/vectors.txt: ofono SMS-PP 1.6.2 TPDU, direction detected.
	code, out, errOut := runCLI(t, "decode", "tpdu", "04049121437ff6891010000000000d53686f7274204d657373616765")
	if code != exitOK || !strings.HasPrefix(out, "MT SMS-DELIVER") || !strings.Contains(out, "(U)SIM data download") || !strings.Contains(out, `"Short Message"`) {
		t.Fatalf("exit %d %s\n%s", code, errOut, out)
	}
	// smsc/tpdu/testdata/vectors.txt: SEND SM TPDU, as JSON.
	code, out, _ = runCLI(t, "decode", "tpdu", "--direction", "mo", "--json", "0100099110325476F840F40C54657374204D657373616765")
	var d struct {
		Type      string `json:"type"`
		Direction string `json:"direction"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != exitOK || d.Type != "SMS-SUBMIT" || d.Direction != "MO" {
		t.Fatalf("json: exit %d %v %s", code, err, out)
	}
	// GSM 7-bit text after a concatenation header (fill bit), built here.
	_, parts, err := tpdu.SplitText(strings.Repeat("long text ", 20), 66)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tpdu.Marshal(&tpdu.Deliver{OA: tpdu.InternationalAddress("41790000000"), SCTS: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), UD: parts[0]})
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "decode", "tpdu", "--direction", "mt", hex.EncodeToString(b))
	if code != exitOK || !strings.Contains(out, "reference 66, part 1 of 2") || !strings.Contains(out, `"long text long text`) {
		t.Errorf("concatenated: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "decode", "tpdu", "--direction", "mt", "0408D0E5"); code != exitFailure || !strings.Contains(errOut, "offset") {
		t.Errorf("truncated: exit %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "decode", "tpdu", "--direction", "up", "00"); code != exitUsage {
		t.Errorf("bad direction: exit %d", code)
	}
}
