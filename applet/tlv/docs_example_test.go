package tlv_test

import (
	"fmt"

	"github.com/simlab-dev/simlab/applet/tlv"
)

// ExampleParseCTLV is docs/cat.md's COMPREHENSION-TLV summary, run: parse
// one object or all, append with the comprehension-required flag, or with
// the length patched after the value is written.
func ExampleParseCTLV() {
	b := []byte{0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02, 0x81, 0x02}
	buf := make([]tlv.CTLV, 0, 4)
	value := []byte{0x04, 'O', 'K'}

	o, rest, err := tlv.ParseCTLV(b)          // one object; o.Value aliases b
	objs, err := tlv.ParseAllCTLV(buf[:0], b) // all; no allocation when buf is big enough
	fmt.Printf("%v %X, %d left, %d objects, %v\n", o.Tag, o.Value, len(rest), len(objs), err)

	b = b[:0]
	b = tlv.AppendCTLV(b, 0x0D, true, value)                                                      // tag 0D with CR → 8D
	b = tlv.AppendCTLVFunc(b, 0x0B, true, func(b []byte) []byte { return append(b, 0x00, 0x01) }) // length patched afterwards
	fmt.Printf("%X\n", b)
	// Output:
	// 1 012180, 4 left, 2 objects, <nil>
	// 8D03044F4B8B020001
}
