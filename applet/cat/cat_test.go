package cat

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// roundTrip marshals c, parses it back and checks that the typed value and
// the bytes survive.
func roundTrip(t *testing.T, c Command) []byte {
	t.Helper()
	b, err := MarshalCommand(c)
	if err != nil {
		t.Fatalf("%T: marshal: %v", c, err)
	}
	back, err := ParseCommand(b)
	if err != nil {
		t.Fatalf("%T %X: parse: %v", c, b, err)
	}
	if reflect.TypeOf(back) != reflect.TypeOf(c) {
		t.Fatalf("parsed %T, want %T", back, c)
	}
	if back.Details() != c.Details() {
		t.Fatalf("%T details %+v, want %+v", c, back.Details(), c.Details())
	}
	b2, err := MarshalCommand(back)
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("%T: %X re-encoded %X (%v)", c, b, b2, err)
	}
	return b
}

func TestAllCommandsRoundTrip(t *testing.T) {
	t.Parallel()
	tone := Tone(0x10)
	def := byte(2)
	alpha := Alpha("Menü ε")
	ucs := Text("Ελληνικά")
	packed, err := TextIn("Packed text!", DCSPacked)
	if err != nil {
		t.Fatal(err)
	}
	addr := &Address{Address: tpdu.InternationalAddress("41790000000")}
	cmds := []Command{
		&DisplayText{Header: Header{Number: 3}, HighPriority: true, Text: ucs, Icon: &IconID{true, 4}, ImmediateResponse: true, Duration: &Duration{Seconds, 30}},
		&GetInkey{Header: Header{Number: 4}, YesNo: true, Help: true, Text: packed, Duration: &Duration{Minutes, 2}},
		&GetInput{Header: Header{Number: 5}, Alphabet: true, UCS2: true, Packed: true, Text: Text("Name?"), Length: ResponseLength{1, 20}, Default: &TextString{Null: true}},
		&SelectItem{Header: Header{Number: 6}, PresentationSpecified: true, NavigationOptions: true, Alpha: &alpha,
			Items: []Item{{1, Alpha("Yes")}, {2, Alpha("No")}}, NextAction: []byte{0x21, 0x21}, DefaultItem: &def, ItemIcons: &ItemIconList{false, []byte{1, 2}}},
		&SetUpMenu{Header: Header{Number: 7}, SoftKey: true, Alpha: Alpha("simlab"), Items: []Item{{1, Alpha("Login")}}},
		&SetUpMenu{Header: Header{Number: 8}, Alpha: AlphaID{}, RemoveMenu: true},
		&SendShortMessage{Header: Header{Number: 9}, PackingRequired: true, Address: addr, TPDU: []byte{0x01, 0x00, 0x00, 0x00, 0x00, 0x00}},
		&PlayTone{Header: Header{Number: 10}, Tone: &tone, Duration: &Duration{TenthsOfASeconds, 5}},
		&ProvideLocalInfo{Header: Header{Number: 11}, Kind: LocalInfoIMEI},
		&Refresh{Header: Header{Number: 12}, Mode: RefreshFCN, Files: []byte{1, 0x3F, 0x00, 0x2F, 0xE2}},
		&MoreTime{Header: Header{Number: 13}},
		&PollInterval{Header: Header{Number: 14}, Interval: Duration{Seconds, 20}},
		&PollingOff{Header: Header{Number: 15}},
		&TimerManagement{Header: Header{Number: 16}, Action: TimerStart, TimerID: 1, Value: &TimerValue{1, 2, 59}},
		&SetUpEventList{Header: Header{Number: 17}, Events: []Event{EventUserActivity, EventIdleScreenAvailable, EventLocationStatus}},
		&SetUpEventList{Header: Header{Number: 18}},
		&RawCommand{Header: Header{Number: 19}, Type: CmdLaunchBrowser, Qualifier: 2, Objects: []tlv.CTLV{{Tag: 0x31, CR: true, Value: []byte("https://x")}}},
	}
	for _, c := range cmds {
		roundTrip(t, c)
	}
	b := roundTrip(t, cmds[0])
	back, _ := ParseCommand(b)
	if s, _ := back.(*DisplayText).Text.String(); s != "Ελληνικά" {
		t.Fatalf("UCS2 text %q", s)
	}
	b = roundTrip(t, cmds[1])
	back, _ = ParseCommand(b)
	if s, err := back.(*GetInkey).Text.String(); s != "Packed text!" {
		t.Fatalf("packed text %q %v", s, err)
	}
}

func TestUnknownObjectsKept(t *testing.T) {
	t.Parallel()
	// DISPLAY TEXT with a text attribute (D0 ... 50 04 00 0E 00 B4) and a
	// frame identifier, both kept as Extra and re-encoded.
	b := []byte{0xD0, 0x00}
	b = append(b, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02, 0x81, 0x02, 0x8D, 0x03, 0x04, 'H', 'i', 0xD0, 0x04, 0x00, 0x0E, 0x00, 0xB4, 0x68, 0x01, 0x01)
	b[1] = byte(len(b) - 2)
	c, err := ParseCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	dt := c.(*DisplayText)
	if len(dt.Extra) != 2 || dt.Extra[0].Tag != TagTextAttribute || dt.Extra[1].CR {
		t.Fatalf("extra %+v", dt.Extra)
	}
	out, _ := MarshalCommand(c)
	if !bytes.Equal(out, b) {
		t.Fatalf("got %X want %X", out, b)
	}
}

func TestTextCodings(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "A", "ABCDEFG", "ABCDEFGH", "Hello {world} €", "1234567"} {
		for _, dcs := range []tpdu.DCS{DCSPacked, DCSGSM8, DCSUCS2} {
			ts, err := TextIn(s, dcs)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ts.String()
			if err != nil || got != s {
				t.Errorf("DCS %02X %q: got %q (%v)", byte(dcs), s, got, err)
			}
		}
	}
	if _, err := TextIn("Ж", DCSGSM8); !errors.Is(err, ErrText) {
		t.Fatalf("non-GSM text: %v", err)
	}
	// Alpha identifier forms of TS 102 221 annex A.
	for _, c := range []struct {
		hex, want string
	}{
		{"53656E6420534DFFFF", "Send SM"},
		{"80041004110412FFFF", "АБВ"},
		{"82020400A441", "ФA"}, // base 0x0400, Ф = 0x0424
	} {
		s, err := AlphaID(mustHexT(t, c.hex)).String()
		if err != nil || s != c.want {
			t.Errorf("alpha %s: %q (%v), want %q", c.hex, s, err, c.want)
		}
	}
	// 81 form: 3 characters, base 0x0400 = 0x08 << 7, then 0x80|offset.
	a := AlphaID{0x81, 0x03, 0x08, 0x80 | 0x24, 0x80 | 0x26, 'A'}
	if s, err := a.String(); err != nil || s != "ФЦA" {
		t.Errorf("81 form: %q %v", s, err)
	}
	if s, _ := Alpha("Żółw").String(); s != "Żółw" {
		t.Errorf("UCS2 alpha round trip %q", s)
	}
}

func TestTerminalProfile(t *testing.T) {
	t.Parallel()
	// pySim's default OTA profile (testdata/vectors.txt PY/terminal-profile-ota).
	if !bytes.Equal(PySimOTAProfile(), vec.Bytes("PY/terminal-profile-ota")) {
		t.Errorf("PySimOTAProfile %X", []byte(PySimOTAProfile()))
	}
	if !bytes.Equal(HandsetProfile(), vec.Bytes("ON/terminal-profile-apdu")[5:]) {
		t.Errorf("HandsetProfile %X", []byte(HandsetProfile()))
	}
	p := PySimOTAProfile()
	for _, f := range []Facility{FacProfileDownload, FacSMSPPDownload, FacDisplayText, FacPollInterval, FacRefresh, FacSendShortMessage, FacOpenChannel} {
		if !p.Has(f) {
			t.Errorf("pySim profile lacks %v", f)
		}
	}
	if p.Has(FacGetInput) || p.Has(FacSetUpMenu) || p.Channels() != 2 {
		t.Errorf("pySim profile: GET INPUT %v, SET UP MENU %v, channels %d", p.Has(FacGetInput), p.Has(FacSetUpMenu), p.Channels())
	}
	h := HandsetProfile()
	for _, f := range []Facility{FacDisplayText, FacGetInput, FacSendShortMessage, FacSMSPPDownload, FacUCS2Display, FacSetUpEventList} {
		if !h.Has(f) {
			t.Errorf("handset profile lacks %v", f)
		}
	}
	var q TerminalProfile
	q = q.Set(FacGetInput).Set(FacDisplayText)
	if len(q) != 3 || q[2] != 0x05 {
		t.Fatalf("set: %X", []byte(q))
	}
	q = q.Clear(FacDisplayText)
	if q.Has(FacDisplayText) || !q.Has(FacGetInput) {
		t.Fatal("clear")
	}
	f, ok := FacilityByName("get input")
	if !ok || f != FacGetInput || f.Byte() != 3 || f.Bit() != 3 {
		t.Fatalf("by name: %v %v", f, ok)
	}
	if got := len(TerminalProfile(mustHexT(t, strings.Repeat("ff", 20))).Facilities()); got < 100 {
		t.Fatalf("ff×20 names %d facilities", got)
	}
}

func TestEnvelopesRoundTrip(t *testing.T) {
	t.Parallel()
	ls := LocationStatus(0)
	envs := []Envelope{
		&MenuSelection{ItemID: 3, HelpRequest: true},
		&EventDownload{Event: EventUserActivity},
		&EventDownload{Event: EventIdleScreenAvailable},
		&EventDownload{Event: EventLocationStatus, LocationStatus: &ls, EnvelopeHeader: EnvelopeHeader{Extra: []tlv.CTLV{{Tag: TagLocationInfo, CR: true, Value: []byte{0x42, 0xF6, 0x10, 0x00, 0x01, 0x00, 0x02}}}}},
		&TimerExpiration{TimerID: 2, Value: TimerValue{0, 0, 30}},
		&SMSPPDownload{Address: &Address{Address: tpdu.InternationalAddress("123")}, TPDU: []byte{4, 0}},
		&RawEnvelope{EnvelopeTag: 0xD4, Objects: []tlv.CTLV{{Tag: TagDeviceIdentities, CR: true, Value: []byte{0x82, 0x81}}, {Tag: TagAddress, CR: true, Value: []byte{0x91, 0x21, 0xF3}}}},
	}
	want := []string{"D309820201819001039500", "D60799010482028281", "D60799010582020281", "", "D70C82028281A40102A503000003", "", ""}
	for i, e := range envs {
		b, err := MarshalEnvelope(e)
		if err != nil {
			t.Fatal(err)
		}
		if want[i] != "" && !strings.HasPrefix(strings.ToUpper(hexString(b)), want[i]) {
			t.Errorf("%T: %X, want prefix %s", e, b, want[i])
		}
		back, err := ParseEnvelope(b)
		if err != nil {
			t.Fatalf("%T %X: %v", e, b, err)
		}
		b2, err := MarshalEnvelope(back)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("%T: %X re-encoded %X", e, b, b2)
		}
	}
}

func hexString(b []byte) string { return strings.ToUpper(string(appendHex(nil, b))) }

func appendHex(dst, b []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range b {
		dst = append(dst, digits[c>>4], digits[c&15])
	}
	return dst
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		hex  string
		fn   func([]byte) error
		want error
	}{
		{"empty command", "", cmdErr, ErrTemplate},
		{"not D0", "D1028100", cmdErr, ErrTemplate},
		{"trailing bytes", "D01A8103012180820281028D0F04546F6F6C6B69742054657374203100", cmdErr, ErrTemplate},
		{"truncated", "D01A8103012180820281028D0F04546F6F6C6B6974205465737420", cmdErr, tlv.ErrBERTruncated},
		{"no details", "D00482028102", cmdErr, ErrMissing},
		{"short details", "D00781020121820100", cmdErr, ErrObject},
		{"bad tag 00", "D00A81030121808202810200", cmdErr, tlv.ErrCTLVTag},
		{"object truncated", "D00A81030121808202810283", cmdErr, tlv.ErrCTLVTruncated},
		{"display text missing", "D00B810301218082028102AB00", cmdErr, ErrMissing},
		{"get input no length", "D0118103012300820281828D0604456E746572", cmdErr, ErrMissing},
		{"bad length form", "D00C8103012180820281028D8105", cmdErr, tlv.ErrCTLVLength},
		{"bad icon", "D00E8103012180820281028D009E0100", cmdErr, ErrObject},
		{"TR no result", "81030121808202828100", trErr, ErrMissing},
		{"TR empty result", "8103012180820282818300", trErr, ErrObject},
		{"envelope empty", "", envErr, ErrTemplate},
		{"envelope D0", "D0028100", envErr, ErrTemplate},
		{"SMS-PP no TPDU", "D1048202838 1", envErr, ErrMissing},
		{"SMS-PP no devices", "D1038B0100", envErr, ErrMissing},
		{"timer no value", "D707820282812401 01", envErr, ErrMissing},
	}
	for _, c := range cases {
		err := c.fn(mustHexT(t, c.hex))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), "cat: ") && !strings.HasPrefix(err.Error(), "tlv: ") {
			t.Errorf("%s: %q lacks a package prefix", c.name, err)
		}
		if !strings.Contains(err.Error(), "offset") {
			t.Errorf("%s: %q names no offset", c.name, err)
		}
	}
}

func cmdErr(b []byte) error { _, err := ParseCommand(b); return err }
func trErr(b []byte) error  { _, err := ParseTerminalResponse(b); return err }
func envErr(b []byte) error { _, err := ParseEnvelope(b); return err }

func TestExplain(t *testing.T) {
	t.Parallel()
	cases := []struct {
		hex   string
		kind  Kind
		wants []string
	}{
		{commandVectors[3].hex, KindCommand, []string{"GET INPUT", "user input shall not be revealed", `"Password 1<SEND>2345678"`, "4..8 characters", "UICC → terminal"}},
		{commandVectors[0].hex + "9000", KindFetchResponse, []string{"DISPLAY TEXT", "wait for user to clear message", "normal priority", "SW1 SW2"}},
		{commandVectors[4].hex, KindCommand, []string{"SEND SHORT MESSAGE", `"Send SM"`, "SMS-SUBMIT", `"Test Message"`, "+112233445566778"}},
		{envelopeVectors[0].hex, KindEnvelope, []string{"SMS-PP download", "network → UICC", "SMS-DELIVER", "(U)SIM data download", "comprehension not required"}},
		{"81030121808202828183022001", KindTerminalResponse, []string{"screen is busy", "terminal → UICC"}},
		{"801400000c810301130082028281830100", KindAPDU, []string{"TERMINAL RESPONSE", "command performed successfully"}},
		{"8010000014" + strings.Repeat("ff", 20), KindAPDU, []string{"TERMINAL PROFILE", "GET INPUT", "SMS-PP data download"}},
		{"80c200003ed13c820283818b36400881214365877ff6227052000000002502700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f", KindAPDU, []string{"ENVELOPE", "IE 70", "secured command packet"}},
		{"801200003f", KindAPDU, []string{"FETCH", "63 bytes expected"}},
	}
	for _, c := range cases {
		f, kind, err := Explain(mustHexT(t, c.hex))
		if err != nil {
			t.Fatalf("%s: %v", c.hex, err)
		}
		if kind != c.kind {
			t.Errorf("%s: kind %q, want %q", c.hex, kind, c.kind)
		}
		var sb strings.Builder
		f.Print(&sb, "")
		for _, w := range c.wants {
			if !strings.Contains(sb.String(), w) {
				t.Errorf("%s: tree lacks %q:\n%s", c.hex, w, sb.String())
			}
		}
	}
	if _, _, err := Explain(mustHexT(t, "801400000d810301130082028281830100")); err == nil {
		t.Error("bad Lc accepted")
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{30 * time.Second, 1500 * time.Millisecond, 10 * time.Minute} {
		if got := DurationOf(d).Duration(); got != d {
			t.Errorf("%v -> %v", d, got)
		}
	}
}

func TestLocalInfoObjects(t *testing.T) {
	t.Parallel()
	li := LocationInfo{MCC: "228", MNC: "01", LAC: 0x1234, CellID: []byte{0xAB, 0xCD}}
	o, err := li.Object()
	if err != nil || hexString(o.Value) != "22F8101234ABCD" {
		t.Fatalf("location info %X %v", o.Value, err)
	}
	back, err := ParseLocationInfo(o.Value)
	if err != nil || back.MCC != "228" || back.MNC != "01" || back.LAC != 0x1234 {
		t.Fatalf("parsed %+v %v", back, err)
	}
	li.MNC = "410"
	o, _ = li.Object()
	if back, _ := ParseLocationInfo(o.Value); back.MNC != "410" {
		t.Fatalf("3-digit MNC: %+v", back)
	}
	imei, err := IMEIObject("490154203237518")
	if err != nil || hexString(imei.Value) != "4A09512430325781" {
		t.Fatalf("IMEI %X %v", imei.Value, err)
	}
	dt, err := DateTimeObject(time.Date(2026, 11, 22, 1, 2, 3, 0, time.FixedZone("", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	lang, _ := LanguageObject("en")
	tr := &TerminalResponse{Details: CommandDetails{1, CmdProvideLocalInfo, 0}, Result: Result{General: ResultOK}, Extra: []tlv.CTLV{o, imei, dt, lang}}
	b, _ := tr.MarshalBinary()
	f, _, err := Explain(b)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	f.Print(&sb, "")
	for _, w := range []string{"MCC 228, MNC 410, LAC 1234", "490154203237518", "2026-11-22 01:02:03 +01:00", "language (AD): en"} {
		if !strings.Contains(sb.String(), w) {
			t.Errorf("tree lacks %q:\n%s", w, sb.String())
		}
	}
}
