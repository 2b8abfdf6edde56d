package modem

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/warthog618/sms/encoding/tpdu"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// pySimDeliver is the SMS-DELIVER decode vector of smsc/tpdu/testdata/vectors.txt (pySim
// tests/unittests/test_sms.py): OA alphanumeric, PID 7F, DCS F6, UDL 8.
const pySimDeliver = "0408D0E5759A0E7FF6907090307513000824010101BB400101"

func TestParseCMT(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, prefix, head, pdu string
		smsc                    string
		tpdu                    string
	}{
		{"+CMT with SMSC (TS 27.005 §3.4.1)", "+CMT", "+CMT: ,25", "07919999990000F0" + pySimDeliver, "+99999900000", pySimDeliver},
		{"+CMT with alpha containing a comma", "+CMT", `+CMT: "Bob, jr",25`, "00" + pySimDeliver, "", pySimDeliver},
		{"+CMGR stored", "+CMGR", "+CMGR: 0,,25", "00" + pySimDeliver, "", pySimDeliver},
		{"+CDS without SMSC", "+CDS", "+CDS: 25", pySimDeliver, "", pySimDeliver},
		{"lower-case hex", "+CMT", "+CMT: ,25", strings.ToLower("00" + pySimDeliver), "", pySimDeliver},
	}
	for _, c := range cases {
		smsc, tp, err := ParseCMT(c.prefix, c.head, c.pdu)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if smsc != c.smsc || !bytes.Equal(tp, mustHex(c.tpdu)) {
			t.Errorf("%s: smsc %q tpdu %X", c.name, smsc, tp)
		}
		var d tpdu.TPDU
		d.Direction = tpdu.MT
		if err := d.UnmarshalBinary(tp); err != nil || d.PID != 0x7F || d.DCS != 0xF6 || len(d.UD) != 8 {
			t.Errorf("%s: decoded %+v, %v", c.name, d, err)
		}
	}
	bad := []struct{ head, pdu string }{
		{"+CMT: ,24", "00" + pySimDeliver},     // length mismatch
		{"+CMT: ,x", "00" + pySimDeliver},      // length not a number
		{"+CMT: ,25", "00" + pySimDeliver[:7]}, // odd hex
		{"+CMTI: ,25", "00" + pySimDeliver},    // wrong prefix
		{"+CMT: ,25", "0A91"},                  // SMSC address runs off the end
	}
	for _, b := range bad {
		if _, _, err := ParseCMT("+CMT", b.head, b.pdu); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCMT(%q, %q) = %v, want ErrMalformed", b.head, b.pdu, err)
		}
	}
}

// displayText111 is DISPLAY TEXT "Toolkit Test 1", TS 31.124 27.22.4.1.1.1
// (applet/cat/testdata/vectors.txt, ofono unit/stk-test-data.h).
const displayText111 = "D01A8103012180820281028D0F04546F6F6C6B697420546573742031"

func TestParseCUSATP(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		`+CUSATP: "` + displayText111 + `"`,
		`+CUSATP: ` + displayText111,
		`+CUSATP:"` + strings.ToLower(displayText111) + `"`,
	} {
		got, err := ParseCUSATP(line)
		if err != nil || !bytes.Equal(got, mustHex(displayText111)) {
			t.Errorf("ParseCUSATP(%q) = %X, %v", line, got, err)
		}
	}
	for _, line := range []string{`+CUSATP: "81030121"`, `+CUSATP: "D0`, `+CUSATP: "D0ZZ"`, `+CUSATE: "D000"`, `+CUSATP: ""`} {
		if _, err := ParseCUSATP(line); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCUSATP(%q) = %v, want ErrMalformed", line, err)
		}
	}
}

func TestParseCSIM(t *testing.T) {
	t.Parallel()
	got, err := ParseCSIM(`+CSIM: 4,"9000"`)
	if err != nil || !bytes.Equal(got, []byte{0x90, 0x00}) {
		t.Errorf("ParseCSIM: %X %v", got, err)
	}
	for _, l := range []string{`+CSIM: 6,"9000"`, `+CSIM: 2,"90"`, `+CSIM: 4`, `+CSIM: x,"9000"`} {
		if _, err := ParseCSIM(l); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCSIM(%q) = %v", l, err)
		}
	}
}

func TestParseStatusLines(t *testing.T) {
	t.Parallel()
	// TS 27.007 §8.5: rssi 0 → -113 dBm, 31 → -51 dBm, 99 unknown.
	for _, c := range []struct {
		line string
		want Signal
	}{
		{"+CSQ: 0,0", Signal{RSSI: 0, BER: 0, DBM: -113}},
		{"+CSQ: 31,99", Signal{RSSI: 31, BER: 99, DBM: -51}},
		{"+CSQ: 99,99", Signal{RSSI: 99, BER: 99}},
	} {
		got, err := ParseCSQ(c.line)
		if err != nil || got != c.want {
			t.Errorf("ParseCSQ(%q) = %+v, %v", c.line, got, err)
		}
	}
	if _, err := ParseCSQ("+CSQ: 40,0"); !errors.Is(err, ErrMalformed) {
		t.Errorf("rssi 40: %v", err)
	}
	regs := []struct {
		line, cmd string
		stat      int
		lac       string
		act       int
	}{
		{"+CREG: 0,1", "+CREG", 1, "", -1},
		{`+CREG: 2,5,"00A1","0000B2C3",7`, "+CREG", 5, "00A1", 7},
		{`+CEREG: 2,1,"00A1","0000B2C3",7`, "+CEREG", 1, "00A1", 7},
		{"+CREG: 3", "+CREG", 3, "", -1},                   // unsolicited, n=1
		{`+CREG: 1,"00A1","B2C3"`, "+CREG", 1, "00A1", -1}, // unsolicited, n=2
	}
	for _, c := range regs {
		r, err := ParseRegistration(c.line, c.cmd)
		if err != nil || r.Stat != c.stat || r.LAC != c.lac || r.AcT != c.act {
			t.Errorf("ParseRegistration(%q) = %+v, %v", c.line, r, err)
		}
	}
	op, err := ParseCOPS(`+COPS: 0,0,"Vodafone, UK",7`)
	if err != nil || op.Name != "Vodafone, UK" || op.AcT != 7 {
		t.Errorf("ParseCOPS: %+v %v", op, err)
	}
	if op, err := ParseCOPS("+COPS: 0"); err != nil || op.Name != "" {
		t.Errorf("ParseCOPS unregistered: %+v %v", op, err)
	}
	for line, want := range map[string]string{`+CSCA: "+447785016005",145`: "+447785016005",
		`+CSCA: "447785016005",145`: "+447785016005", `+CSCA: "0044",129`: "0044"} {
		if got, err := ParseCSCA(line); err != nil || got != want {
			t.Errorf("ParseCSCA(%q) = %q, %v", line, got, err)
		}
	}
	mem, idx, err := ParseCMTI(`+CMTI: "SM",3`, "+CMTI")
	if err != nil || mem != "SM" || idx != 3 {
		t.Errorf("ParseCMTI: %q %d %v", mem, idx, err)
	}
	// EF_ICCID 98 99 09 ... nibble-swapped (TS 102 221 §13.2).
	if iccid, err := parseCRSMICCID(`+CRSM: 144,0,"989909000000000010F8"`); err != nil || iccid != "8999900000000000018" {
		t.Errorf("parseCRSMICCID: %q %v", iccid, err)
	}
	res, err := ParseCUSATE([]string{`+CUSATE: "ABCD",0`, "+CUSATE2: 144,0"})
	if err != nil || !bytes.Equal(res.Response, []byte{0xAB, 0xCD}) || res.SW != 0x9000 || res.Busy {
		t.Errorf("ParseCUSATE: %+v %v", res, err)
	}
}

// FuzzParseCMT checks that ParseCMT never panics, that what it accepts
// has the announced length, and that it accepts what the emulator writes.
func FuzzParseCMT(f *testing.F) {
	f.Add("+CMT: ,25", "00"+pySimDeliver)
	f.Add("+CMT: ,25", "07919999990000F0"+pySimDeliver)
	f.Add(`+CMT: "a,b",25`, pySimDeliver)
	f.Add("+CDS: 25", pySimDeliver)
	f.Fuzz(func(t *testing.T, head, pdu string) {
		for _, prefix := range []string{"+CMT", "+CDS", "+CMGR"} {
			smsc, tp, err := ParseCMT(prefix, head, pdu)
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error without ErrMalformed: %v", err)
				}
				continue
			}
			f, _ := fields(head, prefix)
			if n, _ := strconv.Atoi(f[len(f)-1]); n != len(tp) {
				t.Fatalf("TPDU of %d octets, head says %d", len(tp), n)
			}
			if smsc != "" && pdu == hex.EncodeToString(tp) {
				t.Fatalf("SMSC %q from a PDU that is only the TPDU", smsc)
			}
		}
	})
}

// FuzzParseCUSATP checks that ParseCUSATP never panics and that what it
// accepts is a D0 proactive command that formats back to the same line.
func FuzzParseCUSATP(f *testing.F) {
	f.Add(`+CUSATP: "` + displayText111 + `"`)
	f.Add(`+CUSATP: D0198103012304820281828D0A04456E7465722050494E91020505`)
	f.Add(`+CUSATP: "D0"`)
	f.Fuzz(func(t *testing.T, line string) {
		cmd, err := ParseCUSATP(line)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error without ErrMalformed: %v", err)
			}
			return
		}
		if len(cmd) < 2 || cmd[0] != 0xD0 {
			t.Fatalf("accepted %X", cmd)
		}
		again, err := ParseCUSATP(fmt.Sprintf(`+CUSATP: "%X"`, cmd))
		if err != nil || !bytes.Equal(again, cmd) {
			t.Fatalf("round trip %X: %X %v", cmd, again, err)
		}
	})
}

func TestHasGSM(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]bool{
		"+GCAP: +CGSM":             true,
		"+GCAP: +FCLASS, +CGSM":    true, // rejected by gsm.Init (DEPS.md)
		"+GCAP: +CGSM,+FCLASS,+DS": true,
		"+GCAP: +FCLASS":           false,
		"+GCAP: +CGSMX":            false,
		"+CGSM":                    false,
	} {
		if got := hasGSM([]string{line}); got != want {
			t.Errorf("hasGSM(%q) = %v", line, got)
		}
	}
}

// TestURCFilter: unsolicited lines that leak into a command's answer are
// dropped, the command's own information lines kept (DEPS.md: the at
// package forwards the first line of every indication too).
func TestURCFilter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		line, cmd string
		urc       bool
	}{
		{`+CMTI: "SM",3`, "+CGMI", true},
		{"+CREG: 1", "+CSQ", true},
		{"+CREG: 0,1", "+CREG?", false},
		{"+CPIN: READY", "+CPIN?", false},
		{"RDY", "+CGSN", true},
		{"simlab", "+CGMI", false},
		{"+CSQ: 20,99", "+CSQ", false},
	}
	for _, c := range cases {
		if got := isURC(c.line, cmdPrefix(c.cmd)); got != c.urc {
			t.Errorf("isURC(%q) during AT%s = %v", c.line, c.cmd, got)
		}
	}
}
