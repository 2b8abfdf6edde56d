package pdu

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	gopdu "github.com/fiorix/go-smpp/smpp/pdu"
	"github.com/fiorix/go-smpp/smpp/pdu/pdufield"
	"github.com/fiorix/go-smpp/smpp/pdu/pdutlv"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectors are complete PDUs laid out field by field from SMPP 3.4 §4
// (the tables of each PDU) and checked both ways: decoded into the typed
// body, then encoded back to the same octets.
var vectors = []struct {
	name string
	hex  string
	body interface {
		Body
		Unmarshal([]byte) error
	}
	want any
}{
	{
		name: "bind_transmitter §4.1.1",
		hex: "0000002a 00000002 00000000 00000001" +
			"736d7070636c69656e743100" + "70617373776f726400" + "00" + "34 00 00" + "00",
		body: &Bind{},
		want: &Bind{SystemID: []byte("smppclient1"), Password: []byte("password"), SystemType: []byte{},
			InterfaceVersion: 0x34, AddressRange: []byte{}},
	},
	{
		name: "bind_transceiver_resp §4.1.6 with sc_interface_version",
		hex:  "0000001c 80000009 00000000 00000001" + "73696d6c616200" + "0210 0001 34" + "",
		body: &BindResp{},
		want: &BindResp{SystemID: []byte("simlab"), TLVs: TLVs{{Tag: TagSCInterfaceVersion, Value: []byte{0x34}}}},
	},
	{
		name: "submit_sm §4.4.1 with receipt and message_payload-free body",
		hex: "00000037 00000004 00000000 00000005" +
			"00" + "05 00 53696d4c616200" + "01 01 393939303030303030303100" +
			"00 00 00" + "00" + "00" + "01 00 00 00" + "05 48656c6c6f",
		body: &SubmitSM{},
		want: &SubmitSM{ServiceType: []byte{}, Source: Addr{TON: 5, Addr: []byte("SimLab")},
			Dest: Addr{TON: 1, NPI: 1, Addr: []byte("99900000001")}, ScheduleDeliveryTime: []byte{},
			ValidityPeriod: []byte{}, RegisteredDelivery: 1, ShortMessage: []byte("Hello"), TLVs: TLVs{}},
	},
	{
		name: "deliver_sm receipt §4.6.1 with receipted_message_id and message_state",
		hex: "0000004a 00000005 00000000 40000001" +
			"00" + "01 01 393939303030303030303100" + "05 00 53696d4c616200" +
			"04 00 00" + "00" + "00" + "00 00 00 00" + "0b 69643a3132332073746174" +
			"001e 0004 31323300" + "0427 0001 02",
		body: &SubmitSM{},
		want: &SubmitSM{ServiceType: []byte{}, Source: Addr{TON: 1, NPI: 1, Addr: []byte("99900000001")},
			Dest: Addr{TON: 5, Addr: []byte("SimLab")}, ESMClass: 4, ScheduleDeliveryTime: []byte{},
			ValidityPeriod: []byte{}, ShortMessage: []byte("id:123 stat"),
			TLVs: TLVs{{TagReceiptedMessageID, []byte("123\x00")}, {TagMessageState, []byte{2}}}},
	},
	{
		name: "submit_sm_resp §4.4.2",
		hex:  "00000015 80000004 00000000 00000005" + "3132333400",
		body: &MessageIDResp{},
		want: &MessageIDResp{MessageID: []byte("1234"), TLVs: TLVs{}},
	},
	{
		name: "query_sm §4.8.1",
		hex:  "0000001e 00000003 00000000 00000007" + "3132333400" + "05 00 53696d4c616200",
		body: &QuerySM{},
		want: &QuerySM{MessageID: []byte("1234"), Source: Addr{TON: 5, Addr: []byte("SimLab")}},
	},
	{
		name: "query_sm_resp §4.8.2",
		hex:  "00000028 80000003 00000000 00000007" + "3132333400" + "3236313132323030333031303030302b00" + "02 00",
		body: &QuerySMResp{},
		want: &QuerySMResp{MessageID: []byte("1234"), FinalDate: []byte("261122003010000+"), MessageState: 2},
	},
	{
		name: "cancel_sm §4.9.1",
		hex:  "0000001c 00000008 00000000 00000009" + "00" + "3100" + "00 00 3100" + "01 01 393900",
		body: &CancelSM{},
		want: &CancelSM{ServiceType: []byte{}, MessageID: []byte("1"), Source: Addr{Addr: []byte("1")}, Dest: Addr{TON: 1, NPI: 1, Addr: []byte("99")}},
	},
	{
		name: "replace_sm §4.10.1",
		hex:  "0000001e 00000007 00000000 0000000a" + "3100" + "00 00 3100" + "00" + "00" + "01 00" + "03 616263",
		body: &ReplaceSM{},
		want: &ReplaceSM{MessageID: []byte("1"), Source: Addr{Addr: []byte("1")}, ScheduleDeliveryTime: []byte{},
			ValidityPeriod: []byte{}, RegisteredDelivery: 1, ShortMessage: []byte("abc")},
	},
	{
		name: "data_sm §4.7.1 with message_payload",
		hex:  "00000025 00000103 00000000 0000000b" + "00" + "00 00 3100" + "01 01 393900" + "00 01 08" + "0424 0004 0048 0069",
		body: &DataSM{},
		want: &DataSM{ServiceType: []byte{}, Source: Addr{Addr: []byte("1")}, Dest: Addr{TON: 1, NPI: 1, Addr: []byte("99")},
			RegisteredDelivery: 1, DataCoding: 8, TLVs: TLVs{{TagMessagePayload, []byte{0, 'H', 0, 'i'}}}},
	},
	{
		name: "submit_multi §4.5.1 with an SME and a distribution list",
		hex: "0000002d 00000021 00000000 0000000c" + "00" + "00 00 3100" + "02" + "01 01 01 393900" + "02 6c69737400" +
			"00 00 00" + "00" + "00" + "00 00 00 00" + "01 78",
		body: &SubmitMulti{},
		want: &SubmitMulti{ServiceType: []byte{}, Source: Addr{Addr: []byte("1")},
			Dests:                []MultiDest{{Flag: 1, Addr: Addr{TON: 1, NPI: 1, Addr: []byte("99")}}, {Flag: 2, DLName: []byte("list")}},
			ScheduleDeliveryTime: []byte{}, ValidityPeriod: []byte{}, ShortMessage: []byte("x"), TLVs: TLVs{}},
	},
	{
		name: "submit_multi_resp §4.5.2 with one unsuccessful SME",
		hex:  "0000001c 80000021 00000000 0000000c" + "3100" + "01" + "01 01 393900" + "0000000b",
		body: &SubmitMultiResp{},
		want: &SubmitMultiResp{MessageID: []byte("1"), Unsuccess: []UnsuccessSME{{Addr: Addr{TON: 1, NPI: 1, Addr: []byte("99")}, Status: StatusInvDstAdr}}},
	},
	{
		name: "alert_notification §4.12.1 with ms_availability_status",
		hex:  "0000001e 00000102 00000000 0000000d" + "01 01 393900" + "00 00 3100" + "0422 0001 00",
		body: &AlertNotification{},
		want: &AlertNotification{Source: Addr{TON: 1, NPI: 1, Addr: []byte("99")}, ESMEAddr: Addr{Addr: []byte("1")},
			TLVs: TLVs{{TagMsAvailabilityStatus, []byte{0}}}},
	},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			raw := unhex(t, v.hex)
			h, err := DecodeHeader(raw)
			if err != nil {
				t.Fatal(err)
			}
			if int(h.Length) != len(raw) {
				t.Fatalf("command_length %d, vector has %d octets", h.Length, len(raw))
			}
			if err := v.body.Unmarshal(raw[HeaderLen:]); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(normalize(v.body), normalize(v.want)) {
				t.Errorf("decoded\n %+v\nwant\n %+v", v.body, v.want)
			}
			got := Append(nil, h.ID, h.Status, h.Seq, v.want.(Body))
			if !bytes.Equal(got, raw) {
				t.Errorf("encoded\n %x\nwant\n %x", got, raw)
			}
		})
	}
}

func TestEmptyBodies(t *testing.T) {
	// enquire_link, SMPP 3.4 §4.11.1: a header alone.
	raw := unhex(t, "00000010 00000015 00000000 00000001")
	if got := Append(nil, CmdEnquireLink, 0, 1, nil); !bytes.Equal(got, raw) {
		t.Errorf("enquire_link = %x", got)
	}
	h, err := DecodeHeader(raw)
	if err != nil || h != (Header{Length: 16, ID: CmdEnquireLink, Seq: 1}) {
		t.Errorf("header %+v %v", h, err)
	}
	if _, err := DecodeHeader(raw[:15]); !errors.Is(err, ErrShort) {
		t.Errorf("short header: %v", err)
	}
}

// TestDecodeErrors checks that failures name the field, its offset and the
// command_status a server answers with.
func TestDecodeErrors(t *testing.T) {
	long := strings.Repeat("9", 21)
	cases := []struct {
		name   string
		body   []byte
		field  string
		off    int
		status Status
		short  bool
	}{
		{"empty", nil, "service_type", 0, StatusInvCmdLen, true},
		{"dest too long", append(append([]byte{0, 0, 0, '1', 0, 1, 1}, long...), 0), "destination_addr", 7, StatusInvDstAdr, false},
		{"source without NUL", []byte{0, 0, 0, '1', '2'}, "source_addr", 5, StatusInvCmdLen, true},
		{"short_message cut", unhex(t, "00 0000 00 0101 3900 000000 00 00 00000000 05 4142"), "short_message", 18, StatusInvCmdLen, true},
		{"TLV past the end", unhex(t, "00 0000 00 0101 3900 000000 00 00 00000000 00 0424 0005 41"), "TLV 0x0424 length", 20, StatusInvOptParStream, true},
		{"TLV wrong fixed length", unhex(t, "00 0000 00 0101 3900 000000 00 00 00000000 00 020c 0001 41"), "TLV 0x020C length", 20, StatusInvParLen, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p SubmitSM
			err := p.Unmarshal(c.body)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DecodeError", err)
			}
			if de.Field != c.field || de.Offset != c.off || de.Status != c.status || errors.Is(err, ErrShort) != c.short {
				t.Errorf("got %+v (%v)", de, err)
			}
			if !strings.HasPrefix(err.Error(), "smpp: ") {
				t.Errorf("error %q lacks the prefix", err)
			}
		})
	}
}

// TestGoSMPPInterop decodes what go-smpp (the interop peer) encodes and
// the other way round.
func TestGoSMPPInterop(t *testing.T) {
	p := gopdu.NewSubmitSM(pdutlv.Fields{pdutlv.TagUserMessageReference: pdutlv.NewTLV(pdutlv.TagUserMessageReference, []byte{0x12, 0x34})})
	f := p.Fields()
	f.Set(pdufield.SourceAddr, "SimLab")
	f.Set(pdufield.SourceAddrTON, uint8(5))
	f.Set(pdufield.DestinationAddr, "99900000001")
	f.Set(pdufield.DataCoding, uint8(8))
	f.Set(pdufield.RegisteredDelivery, uint8(1))
	f.Set(pdufield.ShortMessage, []byte{0, 'O', 0, 'K'})
	var buf bytes.Buffer
	if err := p.SerializeTo(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	h, err := DecodeHeader(raw)
	if err != nil || h.ID != CmdSubmitSM || int(h.Length) != len(raw) {
		t.Fatalf("header %+v %v", h, err)
	}
	var sm SubmitSM
	if err := sm.Unmarshal(raw[HeaderLen:]); err != nil {
		t.Fatalf("decode go-smpp submit_sm: %v", err)
	}
	if string(sm.Source.Addr) != "SimLab" || sm.Source.TON != 5 || string(sm.Dest.Addr) != "99900000001" ||
		sm.DataCoding != 8 || sm.RegisteredDelivery != 1 || string(sm.ShortMessage) != "\x00O\x00K" {
		t.Errorf("decoded %+v", sm)
	}
	if v, ok := sm.TLVs.Uint16(TagUserMessageReference); !ok || v != 0x1234 {
		t.Errorf("user_message_reference %x %v", v, ok)
	}
	// Ours → go-smpp: deliver_sm with a receipt TLV.
	out := Append(nil, CmdDeliverSM, 0, 7, &SubmitSM{Source: Addr{Addr: []byte("1")}, Dest: Addr{Addr: []byte("2")},
		ESMClass: 4, ShortMessage: []byte("id:1 stat:DELIVRD"), TLVs: TLVs{{TagReceiptedMessageID, []byte("1\x00")}}})
	gp, err := gopdu.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("go-smpp decode: %v", err)
	}
	if gp.Header().Seq != 7 || gp.Fields()[pdufield.ShortMessage].String() != "id:1 stat:DELIVRD" {
		t.Errorf("go-smpp read %v %v", gp.Header(), gp.Fields())
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", time.Time{}, false},
		// SMPP 3.4 §7.1.1.1 absolute: 2026-11-22 10:30:00.3, +1h (4 quarters).
		{"261122103000304+", time.Date(2026, 11, 22, 9, 30, 0, 300_000_000, time.UTC), false},
		{"261122103000308-", time.Date(2026, 11, 22, 12, 30, 0, 300_000_000, time.UTC), false},
		// §7.1.1.2 relative: 1 day 2 hours.
		{"000001020000000R", now.Add(26 * time.Hour), false},
		{"261322103000304+", time.Time{}, true},
		{"2611221030003", time.Time{}, true},
		{"26112210300030X+", time.Time{}, true},
		{"261122103000304?", time.Time{}, true},
	}
	for _, c := range cases {
		got, err := ParseTime([]byte(c.in), now)
		if (err != nil) != c.err || !got.Equal(c.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v (err %v)", c.in, got, err, c.want, c.err)
		}
	}
	abs := time.Date(2026, 11, 22, 9, 30, 0, 300_000_000, time.UTC)
	if got := string(AppendTime(nil, abs)); got != "261122093000300+" {
		t.Errorf("AppendTime = %q", got)
	}
	if back, err := ParseTime(AppendTime(nil, abs), now); err != nil || !back.Equal(abs) {
		t.Errorf("round trip %v %v", back, err)
	}
	if got := string(AppendRelativeTime(nil, 26*time.Hour+61*time.Second)); got != "000001020101000R" {
		t.Errorf("AppendRelativeTime = %q", got)
	}
}

func TestStatus(t *testing.T) {
	if StatusThrottled.String() != "ESME_RTHROTTLED" || StatusThrottled.Err().Error() != "smpp: ESME_RTHROTTLED" || StatusOK.Err() != nil {
		t.Errorf("%v", StatusThrottled)
	}
	var se *StatusError
	if err := fmt.Errorf("submit: %w", StatusMsgQFul.Err()); !errors.As(err, &se) || se.Status != StatusMsgQFul {
		t.Errorf("wrapped status: %v", err)
	}
	for _, in := range []string{"ESME_RTHROTTLED", "RTHROTTLED", "0x58", "88"} {
		if st, err := ParseStatus(in); err != nil || st != StatusThrottled {
			t.Errorf("ParseStatus(%q) = %v %v", in, st, err)
		}
	}
	if CmdSubmitSM.Response() != CmdSubmitSMResp || !CmdSubmitSMResp.IsResponse() || CmdSubmitSM.String() != "submit_sm" {
		t.Error("command ids")
	}
	if CommandID(0x99).Known() {
		t.Error("0x99 known")
	}
	if !StatusThrottled.Known() || !StatusInvDCS.Known() || Status(0x09).Known() || Status(0x400).Known() {
		t.Error("Status.Known")
	}
}

// TestLenient checks UnmarshalLenient against Unmarshal: on what the strict
// decoder rejects only for a size limit (SMPP 3.4 §4.4.1, §4.7.1) or a fixed
// TLV length (§5.3.2) it succeeds with every field kept; structural errors
// fail in both.
func TestLenient(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", 40) // 41 octets with the NUL; the limit is 21
	sm := SubmitSM{ServiceType: []byte("WAPPSH"), Source: Addr{TON: 1, NPI: 1, Addr: []byte(long)},
		Dest: Addr{Addr: []byte("12345")}, ESMClass: 0x04, ShortMessage: []byte("id:1 stat:DELIVRD"),
		TLVs: TLVs{{TagMessageState, []byte{0, 2}}, {TagNetworkErrorCode, []byte{3, 0, 1, 0}}}}
	body := sm.AppendBody(nil)
	var strict SubmitSM
	var de *DecodeError
	if err := strict.Unmarshal(body); !errors.As(err, &de) || de.Field != "service_type" || !errors.Is(err, ErrMalformed) {
		t.Fatalf("strict decode of a 7-octet service_type: %v", err)
	}
	var got SubmitSM
	if err := got.UnmarshalLenient(body); err != nil {
		t.Fatalf("lenient: %v", err)
	}
	if !reflect.DeepEqual(normalize(&got), normalize(&sm)) {
		t.Errorf("lenient decode\n got %+v\nwant %+v", got, sm)
	}
	if out := got.AppendBody(nil); !bytes.Equal(out, body) {
		t.Errorf("re-encoded %x, want %x", out, body)
	}
	// The fixed TLV length alone: strict says ESME_RINVPARLEN.
	sm.ServiceType, sm.Source.Addr = nil, []byte("999")
	if err := strict.Unmarshal(sm.AppendBody(nil)); !errors.As(err, &de) || de.Status != StatusInvParLen {
		t.Errorf("strict decode of a 2-octet message_state: %v", err)
	}
	// Structural errors stay errors: no NUL, truncated TLV.
	for _, bad := range [][]byte{[]byte("CMT"), append(sm.AppendBody(nil), 0x04, 0x27, 0x00)} {
		if err := got.UnmarshalLenient(bad); err == nil {
			t.Errorf("lenient decode of %x succeeded", bad)
		}
	}
	// data_sm: a 65-octet address (SMPP 3.4 §4.7.1) decodes leniently.
	ds := DataSM{Source: Addr{Addr: []byte(strings.Repeat("1", 64))}, Dest: Addr{Addr: []byte("2")}, DataCoding: 8,
		TLVs: TLVs{{TagMessagePayload, []byte("hi")}}}
	var gotDS DataSM
	if err := gotDS.Unmarshal(ds.AppendBody(nil)); err == nil {
		t.Error("strict data_sm with a 65-octet source_addr accepted")
	}
	if err := gotDS.UnmarshalLenient(ds.AppendBody(nil)); err != nil || !reflect.DeepEqual(normalize(&gotDS), normalize(&ds)) {
		t.Errorf("lenient data_sm: %v %+v", err, gotDS)
	}
}

// TestZeroAlloc checks that decoding a submit_sm into a reused struct does
// not allocate.
func TestZeroAlloc(t *testing.T) {
	raw := unhex(t, vectors[2].hex)[HeaderLen:]
	var p SubmitSM
	n := testing.AllocsPerRun(100, func() {
		if err := p.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per decode", n)
	}
}

func BenchmarkDecodeSubmitSM(b *testing.B) {
	raw := unhex(b, vectors[2].hex)[HeaderLen:]
	var p SubmitSM
	b.ReportAllocs()
	for b.Loop() {
		p.Unmarshal(raw)
	}
}

// normalize returns a copy of v (a pointer to a struct) with every empty
// slice set to nil, so that comparisons ignore nil versus empty.
func normalize(v any) any {
	rv := reflect.ValueOf(v)
	cp := reflect.New(rv.Elem().Type())
	cp.Elem().Set(rv.Elem())
	normalizeValue(cp.Elem())
	return cp.Interface()
}

func normalizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		if v.Type().Elem().Kind() == reflect.Struct {
			c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(c, v)
			for i := 0; i < c.Len(); i++ {
				normalizeValue(c.Index(i))
			}
			v.Set(c)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			normalizeValue(v.Field(i))
		}
	}
}
