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
