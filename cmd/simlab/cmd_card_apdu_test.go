package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCardAPDUUsage(t *testing.T) {
	t.Parallel()
	cases := [][]string{
		{"card", "apdu", "--reader", "X"},                   // no APDU
		{"card", "apdu", "00A40004023F00"},                  // no reader
		{"card", "apdu", "--reader", "X", "00A4zz"},         // not hex
		{"card", "apdu", "--reader", "X", "00A4"},           // too short for an APDU
		{"card", "apdu", "--reader", "X", "00A40004053F00"}, // Lc says 5, 2 bytes follow
	}
	for _, args := range cases {
		if code, _, stderr := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
	}
}

func TestParseAPDUArg(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]byte{
		"00A40004023F00":       {0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00},
		"00 a4 00 04 02 3f 00": {0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00},
		"0x80:F2:00:00:00":     {0x80, 0xF2, 0x00, 0x00, 0x00},
	} {
		got, err := parseAPDUArg(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("parseAPDUArg(%q) = %X, %v; want %X", in, got, err, want)
		}
	}
	if got := spaced("00A4"); got != "00 A4" {
		t.Errorf("spaced = %q", got)
	}
	x := describeExchange([]byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00}, []byte{0x61, 0x20})
	if x.Name != "SELECT" || x.SW != "6120" || !strings.Contains(x.SWName, "32") {
		t.Errorf("describeExchange = %+v", x)
	}
}
