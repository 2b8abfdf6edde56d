package tlv_test

import (
	"fmt"

	"github.com/simlab-dev/simlab/applet/tlv"
)

func ExampleParseBER() {
	// DISPLAY TEXT, TS 31.124 §27.22.4.1.1 (ofono's stk-test-data.h).
	b := []byte{0xD0, 0x1A, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02, 0x81, 0x02, 0x8D, 0x0F, 0x04,
		'T', 'o', 'o', 'l', 'k', 'i', 't', ' ', 'T', 'e', 's', 't', ' ', '1'}
	obj, _, err := tlv.ParseBER(b)
	if err != nil {
		panic(err)
	}
	kids, _ := obj.Children(make([]tlv.BER, 0, 4))
	for _, k := range kids {
		fmt.Printf("%v %X\n", k.Tag, k.Value)
	}
	// Output:
	// 81 012180
	// 82 8102
	// 8D 04546F6F6C6B697420546573742031
}

func ExampleAppendBERFunc() {
	fcp := tlv.AppendBERFunc(nil, tlv.TagFCP, func(b []byte) []byte {
		b = tlv.AppendBER(b, 0x82, []byte{0x41, 0x21})
		return tlv.AppendBER(b, 0x83, []byte{0x2F, 0xE2})
	})
	fmt.Printf("%X\n", fcp)
	// Output: 62088202412183022FE2
}
