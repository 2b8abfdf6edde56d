package fleet

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]struct {
		kind Kind
		name string
	}{
		"99900000000": {KindMagic, "approve"},
		"99900019999": {KindMagic, "cancel"},
		"99900030042": {KindMagic, "wrong-pin"},
		"99900120001": {KindMagic, "very-slow"},
		"99900990000": {KindUnknown, ""}, // no outcome 99
		"99901000000": {KindFleet, ""},
		"99901999999": {KindFleet, ""},
		"9990100000":  {KindUnknown, ""}, // too short
		"41791234567": {KindUnknown, ""},
	} {
		kind, m := Classify(in)
		if kind != want.kind || m.Name != want.name {
			t.Errorf("Classify(%s) = %v %q, want %v %q", in, kind, m.Name, want.kind, want.name)
		}
	}
}

func TestMagicNumbersRoundTrip(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for _, m := range MagicOutcomes {
		if seen[m.Code] {
			t.Fatalf("code %d used twice", m.Code)
		}
		seen[m.Code] = true
		for _, idx := range []int{0, 1, MagicPerCode - 1} {
			n, err := MagicNumberFor(m.Name, idx)
			if err != nil {
				t.Fatal(err)
			}
			if k, got := Classify(n); k != KindMagic || got.Name != m.Name {
				t.Errorf("%s #%d = %s classifies as %v %q", m.Name, idx, n, k, got.Name)
			}
		}
	}
	if _, err := MagicNumberFor("approve", MagicPerCode); err == nil {
		t.Error("index 10000 accepted")
	}
	if _, err := MagicNumberFor("nope", 0); err == nil {
		t.Error("unknown outcome accepted")
	}
	if n := FleetNumber(123); n != "99901000123" {
		t.Errorf("FleetNumber(123) = %s", n)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+999 00 00 0001": "99900000001", "0099901000001": "99901000001", "99901000001": "99901000001",
		"+99901000001": "99901000001", "491701234567": "491701234567", "+4930123456": "4930123456",
		"00999": "00999", "+0099901000001": "99901000001", "(0)30-123": "030123",
	} {
		if got, err := Normalize(in); err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "+", "abc", "999x", "++99901000001", "+ ", "99901000001+"} {
		if _, err := Normalize(in); err == nil {
			t.Errorf("Normalize(%q) accepted", in)
		}
	}
}

// TestIdentityDocumented checks the table in docs/numbers.md.
func TestIdentityDocumented(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ msisdn, iccid, imsi string }{
		{"+99901000000", "8999901000000000005", "999990000000001"},
		{"+99901000123", "8999901000000001235", "999990000000124"},
		{"+99900000001", "8999901000010000011", "999990001000002"},
		{"+99900030042", "8999901000010300429", "999990001030043"},
	} {
		iccid, imsi, err := Identity(nil, c.msisdn)
		if err != nil || iccid != c.iccid || imsi != c.imsi {
			t.Errorf("Identity(%s) = %s %s %v, want %s %s", c.msisdn, iccid, imsi, err, c.iccid, c.imsi)
		}
	}
	if _, _, err := Identity(nil, "+4912345"); err == nil {
		t.Error("a number outside the plan has an identity")
	}
}

func TestDecodeAPDUNames(t *testing.T) {
	t.Parallel()
	a := decodeAPDU([]byte{0x80, 0x12, 0x00, 0x00, 0x18}, []byte{0xD0, 0x00, 0x91, 0x18})
	if a.Command != "FETCH" || !strings.Contains(a.Status, "9118") || a.C != "8012000018" {
		t.Errorf("decodeAPDU = %+v", a)
	}
}

// TestMaskSecrets: PINs never leave the phone's event log in clear
// (decodeAPDU masks with apdu.MaskSecrets).
func TestMaskSecrets(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		// TERMINAL RESPONSE to GET INPUT with hidden input (qualifier 04),
		// "24680" typed (the shape of ofono's GET INPUT 1.4.1 answer, applet/cat/testdata/vectors.txt).
		{"8014000014810301230482028281830100" + "8d06043234363830", "8014000014810301230482028281830100" + "8d06045858585858"},
		// GET INPUT without hidden input: kept.
		{"8014000014810301230082028281830100" + "8d06043132333435", "8014000014810301230082028281830100" + "8d06043132333435"},
		// VERIFY PIN1 "1234" padded.
		{"0020000108" + "31323334ffffffff", "0020000108" + "5858585858585858"},
		// FETCH: kept.
		{"8012000018", "8012000018"},
	} {
		in, _ := hex.DecodeString(c.in)
		got := decodeAPDU(in, []byte{0x90, 0x00}).C
		if got != c.want {
			t.Errorf("decodeAPDU(%s) shows %s, want %s", c.in, got, c.want)
		}
		if hex.EncodeToString(in) != c.in {
			t.Errorf("decodeAPDU changed its input")
		}
	}
}
