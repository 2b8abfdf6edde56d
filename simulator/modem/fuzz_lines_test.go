package modem

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseAnswers feeds arbitrary lines to the parsers of modem answers
// that FuzzParseCMT and FuzzParseCUSATP do not cover: +CSQ, +CREG/+CGREG/
// +CEREG, +COPS, +CSCA, +CSIM, +CUSATE/+CUSATE2, +CMTI (TS 27.005, TS
// 27.007). Seeds: the answers of parse_test.go. Properties: no panic,
// errors name the command, decoded values stay in their ranges.
func FuzzParseAnswers(f *testing.F) {
	for _, s := range []string{
		"+CSQ: 21,99", "+CSQ: 99,99", "+CREG: 2,1,\"00C3\",\"0000A13F\",7", "+CEREG: 5", "+CGREG: 0,3",
		"+COPS: 0,0,\"Simlab Net\",7", "+COPS: 0", "+CSCA: \"+99900000000\",145", "+CSIM: 4,\"9000\"",
		"+CUSATE: \"D00F81030101\",1", "+CUSATE2: 90,00", "+CMTI: \"SM\",3", "+CSQ: -1,8",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if sig, err := ParseCSQ(line); err == nil && (sig.RSSI < 0 || sig.RSSI > 99) {
			t.Fatalf("%q: rssi %d", line, sig.RSSI)
		}
		for _, cmd := range []string{"+CREG", "+CGREG", "+CEREG"} {
			if r, err := ParseRegistration(line, cmd); err == nil && r.Command != cmd {
				t.Fatalf("%q: command %q, want %q", line, r.Command, cmd)
			} else if err != nil && !strings.Contains(err.Error(), cmd) && !strings.Contains(err.Error(), "modem") {
				t.Fatalf("%q: error without the command: %v", line, err)
			}
		}
		if op, err := ParseCOPS(line); err == nil && !utf8.ValidString(op.Name) && utf8.ValidString(line) {
			t.Fatalf("%q: operator name %q", line, op.Name)
		}
		ParseCSCA(line)
		if b, err := ParseCSIM(line); err == nil && len(b) > len(line) {
			t.Fatalf("%q: %d octets from a shorter line", line, len(b))
		}
		ParseCUSATE(strings.Split(line, "\n"))
		if _, idx, err := ParseCMTI(line, "+CMTI"); err == nil && idx < 0 {
			t.Fatalf("%q: index %d", line, idx)
		}
	})
}
