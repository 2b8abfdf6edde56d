package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeAPDU(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args  []string
		wants []string
	}{
		// applet/apdu/testdata/vectors.txt: SELECT MF, T=0 style.
		{[]string{"00A40004023F00"}, []string{"SELECT, case 3S", "P1 00: select by file identifier", "P2 04: return FCP template", "data 3F00: file identifier 3F00 (MF)"}},
		// applet/apdu/testdata/vectors.txt: TERMINAL PROFILE, FETCH; onomondo-uicc: TERMINAL RESPONSE.
		{[]string{"801000000CFFFFFFFFFFFFFFFFFFFFFFFF"}, []string{"TERMINAL PROFILE", "proprietary (ETSI TS 102 221"}},
		{[]string{"801200003f"}, []string{"FETCH, case 2S", "Le 3F: up to 63 bytes expected"}},
		{[]string{"80c200003ed13c820283818b36400881214365877ff6227052000000002502700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f"}, []string{"ENVELOPE", "SMS-PP download (D1)"}},
		{[]string{"00A4040C 07 A0000000871002"}, []string{"select by DF name (AID)", "3GPP, USIM"}},
		{[]string{"A0A40000027F20"}, []string{"GSM (3GPP TS 51.011)", "file identifier 7F20 (DF_GSM)"}},
		{[]string{"0020000108 31323334FFFFFFFF"}, []string{"VERIFY PIN", "PIN1 (PIN Appl 1)", "8 bytes of PIN data (not shown)"}},
		{[]string{"--response", "6132"}, []string{"response bytes still available (50)"}},
		{[]string{"--response", "62108202782183023F00A5038001718A01059000"}, []string{"FCP template", "DF or ADF, shareable", "operational state, activated", "normal ending"}},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, append([]string{"decode", "apdu"}, c.args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
		}
		for _, w := range c.wants {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, w, out)
			}
		}
		if strings.Contains(out, "31323334") {
			t.Errorf("%v: PIN shown:\n%s", c.args, out)
		}
	}
	code, out, _ := runCLI(t, "decode", "apdu", "--json", "00B0000000")
	var d apduDecoded
	if code != exitOK || json.Unmarshal([]byte(out), &d) != nil || d.Kind != "command" || d.Tree.Children[1].Meaning != "READ BINARY" {
		t.Errorf("--json: %d %s", code, out)
	}
	// Malformed: exit 1 with the offset; not hex: usage error.
	if code, _, errOut := runCLI(t, "decode", "apdu", "00A40004033F00"); code != exitFailure || !strings.Contains(errOut, "offset 4") {
		t.Errorf("malformed: %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "decode", "apdu", "zz"); code != exitUsage {
		t.Errorf("not hex: %d", code)
	}
	if code, _, _ := runCLI(t, "decode", "apdu", "--response", "90"); code != exitFailure {
		t.Errorf("short response: %d", code)
	}
}
