package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeCAT(t *testing.T) {
	t.Parallel()
	cases := []struct {
		hex   string
		wants []string
	}{
		// applet/cat/testdata/vectors.txt, ofono GET INPUT 1.4.1.
		{"D0278103012304820281828D180450617373776F726420313C53454E443E3233343536373891020408",
			[]string{"GET INPUT", "user input shall not be revealed", `"Password 1<SEND>2345678"`, "4..8 characters"}},
		// applet/cat/testdata/vectors.txt, TERMINAL RESPONSE screen busy.
		{"81030121808202828183022001", []string{"TERMINAL RESPONSE", "screen is busy", "terminal → UICC"}},
		// applet/uicc/testdata/vectors.txt, onomondo ENVELOPE APDU.
		{"80c200005bd15982028381860510426587f98b4c60039121437ff6624080119342803d02700000381516393232b00011d5cbcbd7ad00edcae5fb251618e04ed8502924dbad65b15be802a9d9e28267110d433c06103268db6a2a9d618fe8ab74",
			[]string{"ENVELOPE", "SMS-PP download", "SMS-DELIVER", "IE 70", "8-bit data, class 2"}},
		// applet/apdu/testdata/vectors.txt: the FETCH response as vpcd carried it (data + 9000).
		{"D01A8103012180820281028D0F04546F6F6C6B6974205465737420319000", []string{"FETCH response", `"Toolkit Test 1"`, "SW1 SW2"}},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, "decode", "cat", c.hex)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", c.hex, code, errOut)
		}
		for _, w := range c.wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", c.hex, w, out)
			}
		}
	}
	code, out, _ := runCLI(t, "decode", "cat", "--json", "810301218082028281830110")
	var d struct {
		Kind string `json:"kind"`
		Tree struct {
			Name     string `json:"name"`
			Value    string `json:"value"`
			Children []struct {
				Name string `json:"name"`
			} `json:"children"`
		} `json:"tree"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != exitOK {
		t.Fatalf("json: exit %d %v\n%s", code, err, out)
	}
	if d.Kind != "TERMINAL RESPONSE data" || !strings.Contains(d.Tree.Value, "terminated by the user") || len(d.Tree.Children) != 3 {
		t.Errorf("json: %+v", d)
	}
	if code, _, errOut := runCLI(t, "decode", "cat", "D01A8103012180"); code != exitFailure || !strings.Contains(errOut, "offset") {
		t.Errorf("truncated: exit %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "decode", "cat", "zz"); code != exitUsage {
		t.Errorf("not hex: exit %d", code)
	}
}
