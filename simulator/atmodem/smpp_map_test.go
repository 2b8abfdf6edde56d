package atmodem

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

func TestSubmitFromTPDU(t *testing.T) {
	t.Parallel()
	// OTA SMS-SUBMIT: UDHI, SRR, DA +447700900123, PID 7F, DCS F6, UDH 027000.
	pkt, _ := hex.DecodeString("00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f")
	s := tpdu.TPDU{Direction: tpdu.MO, PID: 0x7F, DCS: 0xF6, UD: pkt}
	s.FirstOctet = s.FirstOctet.WithMTI(tpdu.MtSubmit) | tpdu.FoSRR
	s.DA.SetNumber("+447700900123")
	s.SetUDH(tpdu.UserDataHeader{{ID: 0x70}})
	m, err := SubmitFromTPDU(&s, "+999001234567")
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != (client.Address{TON: 1, NPI: 1, Addr: "999001234567"}) ||
		m.Dest != (client.Address{TON: 1, NPI: 1, Addr: "447700900123"}) ||
		m.ESMClass != 0x40 || m.ProtocolID != 0x7F || m.DataCoding != 0xF6 || m.RegisteredDelivery != 1 ||
		!bytes.Equal(m.ShortMessage, append([]byte{0x02, 0x70, 0x00}, pkt...)) {
		t.Errorf("submit_sm %+v", m)
	}
	// And back: the deliver_sm the SMSC would make of it is the same
	// message as an SMS-DELIVER.
	scts := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	tps, err := DeliverFromSMPP(&client.Message{Source: m.Source, ESMClass: m.ESMClass, ProtocolID: m.ProtocolID,
		DataCoding: m.DataCoding, ShortMessage: m.ShortMessage}, scts, 1)
	if err != nil || len(tps) != 1 {
		t.Fatalf("DeliverFromSMPP: %d, %v", len(tps), err)
	}
	var d tpdu.TPDU
	d.Direction = tpdu.MT
	if err := d.UnmarshalBinary(tps[0]); err != nil {
		t.Fatal(err)
	}
	if d.OA.Number() != "+999001234567" || d.PID != 0x7F || d.DCS != 0xF6 || !bytes.Equal(d.UD, pkt) ||
		len(d.UDH) != 1 || d.UDH[0].ID != 0x70 || !d.SCTS.Equal(scts) {
		t.Errorf("SMS-DELIVER %X", tps[0])
	}

	// GSM 7-bit: unpacked septets; data_coding below 0x10 reduced.
	g := tpdu.TPDU{Direction: tpdu.MO, DCS: 0x01, UD: []byte("hi")}
	g.FirstOctet = g.FirstOctet.WithMTI(tpdu.MtSubmit)
	g.DA.Addr, g.DA.TOA = "07700900123", 0x81
	m, err = SubmitFromTPDU(&g, "999001")
	if err != nil || m.DataCoding != 0x00 || string(m.ShortMessage) != "hi" || m.Dest.TON != 0 || m.Source.TON != 0 {
		t.Errorf("GSM submit_sm %+v %v", m, err)
	}
}

func TestDeliverFromSMPP(t *testing.T) {
	t.Parallel()
	scts := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	decode := func(tps [][]byte) (string, []*tpdu.TPDU) {
		t.Helper()
		var segs []*tpdu.TPDU
		for _, b := range tps {
			d := &tpdu.TPDU{Direction: tpdu.MT}
			if err := d.UnmarshalBinary(b); err != nil {
				t.Fatalf("TPDU %X: %v", b, err)
			}
			segs = append(segs, d)
		}
		text, err := sms.Decode(segs)
		if err != nil {
			t.Fatal(err)
		}
		return string(text), segs
	}
	// Latin-1 (data_coding 3) becomes GSM 7-bit; alphanumeric source.
	tps, err := DeliverFromSMPP(&client.Message{Source: client.Address{TON: 5, Addr: "SIMLAB"}, DataCoding: 0x03,
		ShortMessage: []byte("caf\xe9")}, scts, 1)
	if err != nil {
		t.Fatal(err)
	}
	text, segs := decode(tps)
	if text != "café" || segs[0].DCS != 0x00 || segs[0].OA.Addr != "SIMLAB" {
		t.Errorf("Latin-1: %q DCS %02X OA %+v", text, byte(segs[0].DCS), segs[0].OA)
	}
	// A long UCS2 body in message_payload is split into concatenated parts.
	long := strings.Repeat("Ж", 100) // 200 octets in UCS2
	tps, err = DeliverFromSMPP(&client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "447700900123"},
		DataCoding: 0x08, TLVs: []client.TLV{{Tag: 0x0424, Value: utf16be(long)}}}, scts, 9)
	if err != nil {
		t.Fatal(err)
	}
	text, segs = decode(tps)
	n, seq, ref, ok := segs[1].ConcatInfo()
	if len(tps) != 2 || text != long || !ok || n != 2 || seq != 2 || ref != 9 {
		t.Errorf("UCS2 payload: %d parts, %q, concat %d/%d ref %d", len(tps), text, seq, n, ref)
	}
	// A sender in international form, "+" and all (issue 16: the modem
	// dropped it): TP-OA holds the digits, TON international (TS 23.040
	// §9.1.2.5), whatever TON the ESME gave.
	for _, src := range []client.Address{{TON: 1, NPI: 1, Addr: "+4412345678"}, {Addr: "+4412345678"}} {
		tps, err = DeliverFromSMPP(&client.Message{Source: src, ShortMessage: []byte("hi")}, scts, 1)
		if err != nil {
			t.Fatalf("source %+v: %v", src, err)
		}
		if _, segs = decode(tps); segs[0].OA.Addr != "4412345678" || segs[0].OA.TOA != 0x91 || segs[0].OA.Number() != "+4412345678" {
			t.Errorf("source %+v: OA %+v", src, segs[0].OA)
		}
	}
	// A UDH length beyond the body is refused.
	if _, err := DeliverFromSMPP(&client.Message{ESMClass: 0x40, ShortMessage: []byte{0x05, 0x00}}, scts, 1); err == nil {
		t.Error("bad UDH accepted")
	}
}
