package uicc

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/applet/tlv"
)

func TestATR(t *testing.T) {
	t.Parallel()
	atr := DefaultATR
	// ISO/IEC 7816-3 §8.2: walk the interface bytes, collect protocols, check TCK.
	y, i := atr[1]>>4, 2
	k := int(atr[1] & 0x0F)
	var protos []int
	for {
		for _, bit := range []byte{1, 2, 4} {
			if y&bit != 0 {
				i++
			}
		}
		if y&8 == 0 {
			break
		}
		td := atr[i]
		i++
		protos = append(protos, int(td&0x0F))
		y = td >> 4
	}
	if i+k+1 != len(atr) {
		t.Fatalf("ATR length: interface bytes end at %d, %d historical bytes, len %d", i, k, len(atr))
	}
	var x byte
	for _, b := range atr[1:] {
		x ^= b
	}
	if x != 0 {
		t.Errorf("TCK does not check: XOR = %02X", x)
	}
	if len(protos) < 2 || protos[0] != 0 || protos[1] != 1 {
		t.Errorf("protocols %v, want T=0 then T=1", protos)
	}
	c := newCard(t, testProfile)
	got, err := c.Reset(context.Background(), true)
	if err != nil || !bytes.Equal(got, atr) {
		t.Fatalf("Reset = %X, %v", got, err)
	}
}

// TestVPCDFrames replays the APDUs of the pcscd + vpcd capture
// (testdata/vectors.txt [VPCD]):
// SELECT MF T=0 style gives 61xx, GET RESPONSE gives the FCP and 9000.
func TestVPCDFrames(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	sel := tx(t, c, vec.Hex("VPCD/select-mf"))
	if !strings.HasPrefix(sel, "61") || len(sel) != 4 {
		t.Fatalf("SELECT MF = %s, want 61xx", sel)
	}
	n := sel[2:]
	fcp := tx(t, c, "00C00000"+n)
	if !strings.HasPrefix(fcp, "62") || !strings.HasSuffix(fcp, "9000") {
		t.Fatalf("GET RESPONSE = %s", fcp)
	}
	raw := unhex(t, fcp[:len(fcp)-4])
	obj, rest, err := tlv.ParseBER(raw)
	if err != nil || len(rest) != 0 || obj.Tag != tlv.TagFCP {
		t.Fatalf("FCP does not parse: %v", err)
	}
	for tag, want := range map[tlv.BERTag]string{0x82: "7821", 0x83: "3F00", 0x8A: "05"} {
		v, ok, _ := tlv.FindBER(obj.Value, tag)
		if !ok || !strings.EqualFold(string(hexs(v)), want) {
			t.Errorf("FCP tag %v = %X, want %s", tag, v, want)
		}
	}
	// The same SELECT T=1 style: data and 9000 at once.
	if got := tx(t, c, "00A40004023F0000"); got != fcp {
		t.Errorf("T=1 SELECT = %s, want %s", got, fcp)
	}
	// The captured card answered SELECT MF 6120; ours has a 50-byte FCP
	// (6132, the length pySim's OTA PoRs also show).
	if sel != "6132" {
		t.Errorf("SELECT MF = %s, want 6132", sel)
	}
}

func hexs(b []byte) []byte { return []byte(strings.ToUpper(string(bytesToHex(b)))) }

func bytesToHex(b []byte) []byte {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0x0F])
	}
	return out
}

func TestDefaultProfile(t *testing.T) {
	t.Parallel()
	p, err := LoadProfile("../../fixtures/cards/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !LuhnValid(p.ICCID) || !strings.HasPrefix(p.MSISDN, "+999") || !strings.HasPrefix(p.IMSI, "999") {
		t.Errorf("default identities out of the test ranges: %s %s %s", p.ICCID, p.IMSI, p.MSISDN)
	}
	q, err := p.Subscriber(12345)
	if err != nil {
		t.Fatal(err)
	}
	if q.ICCID != "8999901000000123450" || !LuhnValid(q.ICCID) || q.IMSI != "999990000012346" || q.MSISDN != "+999100012346" {
		t.Errorf("Subscriber(12345) = %s %s %s", q.ICCID, q.IMSI, q.MSISDN)
	}
	if _, err := p.Subscriber(1e15); err == nil {
		t.Error("Subscriber overflow accepted")
	}
	if p.PIN1.String() != "PIN(4 digits, 3 retries)" || strings.Contains(p.Keysets[0].KIc.String(), "5d2f") {
		t.Error("String leaks secrets")
	}
}

func TestProfileErrors(t *testing.T) {
	t.Parallel()
	base, err := os.ReadFile("../../fixtures/cards/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ from, to, want string }{
		{`iccid: "8999901000000000005"`, `iccid: "89x"`, "iccid"},
		{`imsi: "999990000000001"`, `imsi: "99"`, "imsi"},
		{`pin1: {value: "1234"`, `pin1: {value: "12"`, "pin1.value"},
		{`puk1: {value: "12345678"`, `puk1: {value: "1234"`, "puk1.value"},
		{`- kvn: 2`, `- kvn: 1`, "keysets[1].kvn"},
		{`algorithm: 3des-2key, value: "0f1e`, `algorithm: rot13, value: "0f1e`, "keysets[1].kic.algorithm"},
		{`tar: "534C41"`, `tar: "534C"`, "applets[0].tars[0].tar"},
		{`keysets: [1, 2]`, `keysets: [7]`, "applets[0].tars[0].keysets"},
		{`spn: simlab`, `spn: simlab
colour: red`, "colour"},
	}
	for _, c := range cases {
		y := strings.Replace(string(base), c.from, c.to, 1)
		if y == string(base) {
			t.Fatalf("case %q does not apply", c.want)
		}
		_, err := ParseProfile([]byte(y))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v", c.want, err)
		}
	}
}

func TestContents(t *testing.T) {
	t.Parallel()
	// TS 31.102 §4.2.2: IMSI 001010123456789 → 08 09 10 10 10 32 54 76 98.
	if got := efIMSI("001010123456789"); !bytes.Equal(got, unhex(t, "080910101032547698")) {
		t.Errorf("EF_IMSI = %X", got)
	}
	// Even number of digits: parity nibble 1, filler F.
	if got := efIMSI("00101012345678"); !bytes.Equal(got, unhex(t, "0801101010325476F8")) {
		t.Errorf("EF_IMSI even = %X", got)
	}
	// TS 102 221 §13.2: ICCID digits in swapped BCD.
	if got := efICCID("8999901000000000005"); !bytes.Equal(got, unhex(t, "989909010000000000F5")) {
		t.Errorf("EF_ICCID = %X", got)
	}
	if got := dialNumber("+999100000001"); !bytes.Equal(got, unhex(t, "07919919000000 10FFFFFFFF")) {
		t.Errorf("dial number = %X", got)
	}
}
