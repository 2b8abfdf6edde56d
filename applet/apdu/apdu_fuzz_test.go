package apdu

import (
	"bytes"
	"testing"
)

// FuzzParse checks that Parse never panics, that what it accepts marshals
// back to the same bytes, and that describing it does not panic.
func FuzzParse(f *testing.F) {
	for _, v := range commandVectors {
		f.Add(unhex(f, v.hex))
	}
	f.Add(unhex(f, "00A4000400000201"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Parse(in)
		if err != nil {
			return
		}
		out, err := c.MarshalBinary()
		if err != nil {
			t.Fatalf("Marshal of parsed %X: %v", in, err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip %X -> %+v -> %X", in, c, out)
		}
		_ = DescribeCommand(c)
		if r, err := ParseResponse(in); err == nil {
			_ = DescribeResponse(r)
		}
	})
}
