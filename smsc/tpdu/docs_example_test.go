package tpdu_test

import (
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// ExampleMarshal is docs/cat.md's SMS TPDU summary, run.
func ExampleMarshal() {
	oa, scts := tpdu.InternationalAddress("99955500"), time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	packet := []byte{0x00, 0x15, 0x0D}
	text, ref := "Your code is 482913", byte(7)
	b, _ := tpdu.Marshal(tpdu.NewSIMDataDownload(oa, scts, packet))

	m, err := tpdu.Parse(b, tpdu.MT) // *Deliver, *SubmitReport, *StatusReport (MO: *Submit, *DeliverReport, *Command)
	b, err = tpdu.Marshal(m)
	d := tpdu.NewSIMDataDownload(oa, scts, packet) // PID 7F, DCS F6, UDH 70, for ENVELOPE(SMS-PP)
	dcs, parts, err := tpdu.SplitText(text, ref)   // GSM 7-bit or UCS2, concatenated (IEI 00) when long
	data, header, ref16 := parts[0].Data, []tpdu.IE(nil), false
	parts, err = tpdu.Split(dcs, data, header, uint16(ref), ref16)
	fmt.Printf("%T %X %X %d %d %v\n", m, b[:2], d.PID, dcs, len(parts), err)
	// Output: *tpdu.Deliver 4408 7F 0 1 <nil>
}
