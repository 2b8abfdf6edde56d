package tpdu_test

import (
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// A long text is split into concatenated SMS-DELIVERs.
func ExampleSplitText() {
	dcs, parts, _ := tpdu.SplitText("Your code is 493021. "+fmt.Sprintf("%0200d", 0), 7)
	for _, ud := range parts {
		m := &tpdu.Deliver{OA: tpdu.InternationalAddress("+41790000000"), DCS: dcs, SCTS: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), UD: ud}
		b, _ := tpdu.Marshal(m)
		ref, total, seq, _ := ud.Header[0].ConcatInfo()
		fmt.Println(len(b), ref, seq, "/", total)
	}
	// Output:
	// 159 7 1 / 2
	// 85 7 2 / 2
}

func ExampleParse() {
	// testdata/vectors.txt: the TPDU inside ofono's SEND SHORT MESSAGE 1.1.1.
	b := []byte{0x01, 0x00, 0x09, 0x91, 0x10, 0x32, 0x54, 0x76, 0xF8, 0x40, 0xF4, 0x0C, 'T', 'e', 's', 't', ' ', 'M', 'e', 's', 's', 'a', 'g', 'e'}
	m, _ := tpdu.Parse(b, tpdu.MO)
	s := m.(*tpdu.Submit)
	fmt.Println(s.Type(), s.DA, s.DCS, string(s.UD.Data))
	// Output: SMS-SUBMIT +012345678 8-bit data, class 0 (flash, immediate display) Test Message
}
