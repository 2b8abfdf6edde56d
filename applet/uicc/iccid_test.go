package uicc

import (
	"encoding/hex"
	"testing"
)

// TestDecodeICCID: EF_ICCID's swapped BCD (TS 102 221 §13.2) both ways,
// 19 digits (one filler nibble) and 20; a filler ends the number.
func TestDecodeICCID(t *testing.T) {
	for _, iccid := range []string{"8999901000000000005", "89999010000000000050"} {
		if got := DecodeICCID(efICCID(iccid)); got != iccid {
			t.Errorf("%s: decoded %s", iccid, got)
		}
	}
	// 89 01 … as stored: 98 10 …, and an F in the middle ends the number.
	ef, _ := hex.DecodeString("981032f4ffffffffffff")
	if got := DecodeICCID(ef); got != "8901234" {
		t.Errorf("decoded %s, want 8901234", got)
	}
}

// TestDecodeIMSI: EF_IMSI (TS 31.102 §4.2.2) both ways, odd and even
// lengths, and pySim's enc_imsi vectors (osmocom/pysim @597f1e0,
// tests/unittests/test_utils.py).
func TestDecodeIMSI(t *testing.T) {
	for _, imsi := range []string{"999990000000001", "99999000000001", "262011234567890"} {
		if got := DecodeIMSI(efIMSI(imsi)); got != imsi {
			t.Errorf("%s: decoded %q", imsi, got)
		}
	}
	for ef, imsi := range map[string]string{
		"082982608200002080": "228062800000208", "080910100000214365": "001010000123456",
		"0709101000002143ff": "0010100001234", "0821826082000020f8": "22806280000028", "0801101000002143f5": "00101000012345",
	} {
		b, _ := hex.DecodeString(ef)
		if got := DecodeIMSI(b); got != imsi {
			t.Errorf("DecodeIMSI(%s) = %q, want %s", ef, got, imsi)
		}
		if got := hex.EncodeToString(efIMSI(imsi)); got != ef {
			t.Errorf("efIMSI(%s) = %s, want %s", imsi, got, ef)
		}
	}
	for _, bad := range []string{"", "00", "ff00", "0909"} {
		b, _ := hex.DecodeString(bad)
		if got := DecodeIMSI(b); got != "" {
			t.Errorf("DecodeIMSI(%s) = %q, want empty", bad, got)
		}
	}
}
