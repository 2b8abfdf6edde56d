package apdu

import (
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/applet/tlv"
)

func TestDescribeMeanings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		hex  string
		want []string
	}{
		{"00B0830400", []string{"short file identifier 3, offset in P2", "offset 4"}},
		{"00B0010200", []string{"offset high byte (offset 258)", "offset low byte"}},
		{"00B2010C00", []string{"record number 1", "absolute/current mode, short file identifier 1"}},
		{"00B2000200", []string{"next record, current EF"}},
		{"00B2000300", []string{"previous record"}},
		{"00B2000100", []string{"invalid mode"}},
		{"80F2010100", []string{"current application is initialised", "return the DF name TLV"}},
		{"80F2020C00", []string{"terminal will initiate the termination", "no data returned"}},
		{"80F2000000", []string{"no indication", "response parameters and data as for SELECT"}},
		{"0070000001", []string{"MANAGE CHANNEL", "open logical channel", "channel 0"}},
		{"0070800100", []string{"close logical channel", "channel 1"}},
		{"002680010831323334FFFFFFFF", []string{"DISABLE PIN", "replace by the universal PIN", "PIN1"}},
		{"002C008110", []string{"second PIN Appl 1 (PIN2)"}},
		{"0020000A08", []string{"ADM1"}},
		{"0020008C08", []string{"ADM8"}},
		{"0020001108", []string{"universal PIN"}},
		{"0020000508", []string{"PIN Appl 5"}},
		{"0020007708", []string{"unknown key reference"}},
		{"A020000208", []string{"VERIFY CHV", "CHV2"}},
		{"A0B0000009", []string{"GSM (3GPP TS 51.011)", "offset high byte"}},
		{"A0A40000023F00", []string{"GSM: select by file identifier", "file identifier 3F00 (MF)"}},
		{"00A4010C027F10", []string{"select child DF", "7F10 (DF_TELECOM)"}},
		{"00A4030C", []string{"select parent DF"}},
		{"00A4090C026F07", []string{"select by path from current DF", "path 6F07"}},
		{"00A4070C00", []string{"invalid for SELECT"}},
		{"00A40408023F00", []string{"return FMD template"}},
		{"00A40401023F00", []string{"last occurrence"}},
		{"00A40402023F00", []string{"next occurrence"}},
		{"00A40403023F00", []string{"previous occurrence"}},
		{"00A4044C05A000000009", []string{"application session termination", "ETSI"}},
		{"00A4040007A0000000871004", []string{"return FCI template", "ISIM"}},
		{"00A4040009A00000015100000000", []string{"GlobalPlatform"}},
		{"00A4000C022FFF", []string{"file identifier 2FFF"}},
		{"80C2000002D600", []string{"event download (D6)"}},
		{"80C2000002D300", []string{"menu selection (D3)"}},
		{"80C2000002D200", []string{"cell broadcast download (D2)"}},
		{"80C2000002D400", []string{"call control (D4)"}},
		{"80C2000002D500", []string{"MO short message control (D5)"}},
		{"80C2000002D700", []string{"timer expiration (D7)"}},
		{"80C2000002D800", []string{"BER-TLV D8"}},
		{"80C2000002D000", []string{"proactive command (D0)"}},
		{"801000000101", []string{"terminal profile, 1 bytes"}},
		{"8014000003810100", []string{"terminal response (COMPREHENSION-TLV"}},
		{"0CA4000C023F00", []string{"secure messaging 3"}},
		{"1CA4000C023F00", []string{"command chaining"}},
		{"00B000000000FF", []string{"case 2E", "Le 00FF"}},
	}
	for _, c := range cases {
		cmd, err := Parse(unhex(t, c.hex))
		if err != nil {
			t.Fatalf("%s: %v", c.hex, err)
		}
		s := DescribeCommand(cmd).String()
		for _, w := range c.want {
			if !strings.Contains(s, w) {
				t.Errorf("%s: lacks %q:\n%s", c.hex, w, s)
			}
		}
	}
}

func TestDescribeResponseFCP(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fcp  string
		want []string
	}{
		{"8205422100200183022F00840A" + "A0000000871002FFFFFF" + "8A01048002002081020040", []string{"working EF, linear fixed, shareable, record length 32, 1 records", "operational state, deactivated", "file size: 32 bytes", "total file size: 64 bytes", "3GPP, USIM"}},
		{"820146" + "8A0101", []string{"working EF, cyclic", "creation state"}},
		{"820179" + "8A0103", []string{"BER-TLV EF", "initialisation state"}},
		{"820101" + "8A010C", []string{"working EF, transparent", "termination state"}},
		{"820107" + "8A0100" + "8A0180" + "8200", []string{"file type 07", "no information given", "proprietary", "empty"}},
	}
	for _, c := range cases {
		b := tlv.AppendBER(nil, tlv.TagFCP, unhex(t, c.fcp))
		s := DescribeResponse(Response{Data: b, SW: SWOK}).String()
		for _, w := range c.want {
			if !strings.Contains(s, w) {
				t.Errorf("%s: lacks %q:\n%s", c.fcp, w, s)
			}
		}
	}
	// FCI template, proactive command, a malformed FCP.
	for _, c := range []struct{ hex, want string }{
		{"6F03830100 9000", "FCI template"},
		{"D003810100 9000", "proactive command (D0)"},
		{"62028201 9000", "error"},
	} {
		r, _ := ParseResponse(unhex(t, c.hex))
		if s := DescribeResponse(r).String(); !strings.Contains(s, c.want) {
			t.Errorf("%s: lacks %q:\n%s", c.hex, c.want, s)
		}
	}
}
