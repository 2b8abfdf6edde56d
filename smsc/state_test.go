package smsc_test

import (
	"testing"

	"github.com/fiorix/go-smpp/smpp"
	"github.com/fiorix/go-smpp/smpp/pdu/pdutext"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// TestMessageStateVectors: every state as message_state on a 3.4 and a 5.0
// session. SMPP 3.4 §5.2.28 defines ENROUTE 1 … REJECTED 8 and nothing for
// a scheduled message; SMPP 5.0 §4.7.15 Table 4-50 adds SCHEDULED 0 and
// SKIPPED 9 (final: "accepted but not transmitted"), so a scheduled
// message must never be 9, and is ENROUTE on 3.4 (the 5.0 text: "V3.4 and
// earlier MCs are likely to return ENROUTE for scheduled messages").
func TestMessageStateVectors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		st       smsc.State
		v34, v50 uint8
	}{
		{smsc.Scheduled, 1, 0},
		{smsc.Enroute, 1, 1},
		{smsc.Delivered, 2, 2},
		{smsc.Expired, 3, 3},
		{smsc.Deleted, 4, 4},
		{smsc.Undeliverable, 5, 5},
		{smsc.Accepted, 6, 6},
		{smsc.Unknown, 7, 7},
		{smsc.Rejected, 8, 8},
		{smsc.State(0), 7, 7}, // no state: UNKNOWN rather than SCHEDULED
		{smsc.State(42), 7, 7},
	} {
		for _, v := range []struct {
			version, want uint8
		}{{0x33, c.v34}, {smsc.Version34, c.v34}, {smsc.Version50, c.v50}, {0x51, c.v50}} {
			if got := c.st.MessageState(v.version); got != v.want {
				t.Errorf("%v on interface version %#x: message_state %d, want %d", c.st, v.version, got, v.want)
			}
		}
	}
}

// TestQueryScheduled: query_sm of a message scheduled for later is ENROUTE
// (1) to a 3.4 ESME — go-smpp, which reads 9 as SKIPPED — and SCHEDULED
// (0) to one that bound with interface_version 0x50, which is answered
// sc_interface_version 0x50. Once delivered, both read DELIVERED (2) with
// a final_date.
func TestQueryScheduled(t *testing.T) {
	t.Parallel()
	srv := &smsc.Server{}
	addr := startServer(t, srv)
	const later = "000000001000000R" // ten minutes from now (SMPP 3.4 §7.1.1)

	t.Run("go-smpp 3.4", func(t *testing.T) {
		tx := &smpp.Transmitter{Addr: addr, User: "gosmpp", Passwd: "x"}
		defer tx.Close()
		awaitBound(t, tx.Bind())
		sm, err := tx.Submit(&smpp.ShortMessage{Src: "SimLab", Dst: "99900000401", Text: pdutext.Raw("later"),
			SourceAddrTON: 5, ScheduleDeliveryTime: later})
		if err != nil {
			t.Fatal(err)
		}
		q, err := tx.QuerySM("SimLab", sm.RespID(), 5, 0)
		if err != nil {
			t.Fatal(err)
		}
		if q.MsgState != "ENROUTE" || q.FinalDate != "" {
			t.Errorf("query_sm of a scheduled message on a 3.4 bind: %+v, want ENROUTE without final_date", q)
		}
		sm, err = tx.Submit(&smpp.ShortMessage{Src: "SimLab", Dst: "99900000402", Text: pdutext.Raw("now"), SourceAddrTON: 5})
		if err != nil {
			t.Fatal(err)
		}
		if q, err = tx.QuerySM("SimLab", sm.RespID(), 5, 0); err != nil || q.MsgState != "DELIVERED" || q.FinalDate == "" {
			t.Errorf("query_sm of a delivered message: %+v %v", q, err)
		}
	})

	for _, c := range []struct {
		name          string
		version       uint8
		scVersion     uint8 // 0: no sc_interface_version
		scheduledWire uint8
	}{
		{"3.3", 0x33, 0, 1},
		{"3.4", 0x34, 0x34, 1},
		{"5.0", 0x50, 0x50, 0},
	} {
		t.Run("raw "+c.name, func(t *testing.T) {
			e := dialESME(t, addr)
			b := e.call(pdu.CmdBindTransmitter, &pdu.Bind{SystemID: []byte("raw"), Password: []byte("x"), InterfaceVersion: c.version}, pdu.StatusOK)
			var br pdu.BindResp
			if err := br.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			if v, ok := br.TLVs.Uint8(pdu.TagSCInterfaceVersion); v != c.scVersion || ok != (c.scVersion != 0) {
				t.Errorf("sc_interface_version %#x (present %v), want %#x", v, ok, c.scVersion)
			}
			sm := textSM("99900000403", "later")
			sm.ScheduleDeliveryTime = []byte(later)
			id := e.submit(sm, pdu.StatusOK)
			var q pdu.QuerySMResp
			if err := q.Unmarshal(e.call(pdu.CmdQuerySM, &pdu.QuerySM{MessageID: []byte(id), Source: sm.Source}, pdu.StatusOK)); err != nil {
				t.Fatal(err)
			}
			if q.MessageState != c.scheduledWire || len(q.FinalDate) != 0 || string(q.MessageID) != id {
				t.Errorf("query_sm_resp %+v, want message_state %d and no final_date", q, c.scheduledWire)
			}
			// Accept is inline: delivered before submit_sm_resp.
			id = e.submit(textSM("99900000404", "now"), pdu.StatusOK)
			if err := q.Unmarshal(e.call(pdu.CmdQuerySM, &pdu.QuerySM{MessageID: []byte(id)}, pdu.StatusOK)); err != nil {
				t.Fatal(err)
			}
			if q.MessageState != 2 || len(q.FinalDate) == 0 {
				t.Errorf("query_sm_resp of a delivered message %+v", q)
			}
		})
	}
}
