package client

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// Receipt texts in the format of SMPP v3.4 Appendix B (Table B-2), plus the
// variants real SMSCs send (Kannel and others: capitalised "Text:", 12-digit
// dates, missing fields).
var receiptCases = []struct {
	name, in string
	want     Receipt
	err      bool
}{
	{name: "appendix B", in: "id:0123456789 sub:001 dlvrd:001 submit date:0610191018 done date:0610191018 stat:DELIVRD err:000 text:Hello",
		want: Receipt{ID: "0123456789", TextID: "0123456789", Sub: 1, Dlvrd: 1, SubmitDate: time.Date(2006, 10, 19, 10, 18, 0, 0, time.UTC),
			DoneDate: time.Date(2006, 10, 19, 10, 18, 0, 0, time.UTC), Stat: "DELIVRD", Err: "000", Text: "Hello"}},
	{name: "capital Text, seconds, undeliv", in: "id:1f sub:001 dlvrd:000 submit date:261122001500 done date:261122001502 stat:UNDELIV err:027 Text:your code is 1234 id:x",
		want: Receipt{ID: "1f", TextID: "1f", Sub: 1, SubmitDate: time.Date(2026, 11, 22, 0, 15, 0, 0, time.UTC),
			DoneDate: time.Date(2026, 11, 22, 0, 15, 2, 0, time.UTC), Stat: "UNDELIV", Err: "027", Text: "your code is 1234 id:x"}},
	{name: "id only", in: "id:42", want: Receipt{ID: "42", TextID: "42"}},
	{name: "not a receipt", in: "hello there", err: true},
	{name: "id inside a word", in: "paid:12 stat:DELIVRD", err: true},
}

func TestParseReceiptText(t *testing.T) {
	t.Parallel()
	for _, tc := range receiptCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseReceiptText(tc.in)
			if tc.err {
				if err == nil {
					t.Fatalf("want error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tc.want.ID || got.TextID != tc.want.TextID || got.Sub != tc.want.Sub || got.Dlvrd != tc.want.Dlvrd ||
				!got.SubmitDate.Equal(tc.want.SubmitDate) || !got.DoneDate.Equal(tc.want.DoneDate) ||
				got.Stat != tc.want.Stat || got.Err != tc.want.Err || got.Text != tc.want.Text {
				t.Fatalf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

// TestReceiptTLVs checks that receipted_message_id (§5.3.2.12) wins over
// the text's id and message_state/network_error_code are read.
func TestReceiptTLVs(t *testing.T) {
	t.Parallel()
	m := &Message{ESMClass: 0x04, ShortMessage: []byte("id:0000000255 sub:001 dlvrd:000 submit date:2611220015 done date:2611220015 stat:UNDELIV err:027 text:x"),
		Source: Address{Addr: "999001"}, TLVs: []TLV{{TagReceiptedMessageID, []byte("ff\x00")}, {TagMessageState, []byte{5}}, {TagNetworkErrorCode, []byte{3, 0, 27}}}}
	r := receiptFrom(m)
	if r.ID != "ff" || r.TextID != "0000000255" || r.State != 5 || !bytes.Equal(r.NetworkError, []byte{3, 0, 27}) || r.Delivered() || r.Source != "999001" {
		t.Fatalf("%+v", r)
	}
	// Without text, the TLVs alone make a receipt.
	r = receiptFrom(&Message{TLVs: []TLV{{TagReceiptedMessageID, []byte("7")}, {TagMessageState, []byte{2}}}})
	if r == nil || r.ID != "7" || r.Stat != "DELIVRD" || !r.Delivered() {
		t.Fatalf("%+v", r)
	}
}

// TestReceiptTextCoding: under data_coding 0 the text: field is GSM 7-bit
// septets (simlab's SMSC sends them so: ü 7E, € 1B 65, ¤ 24) and is
// decoded; octets with bit 8 set (an SMSC that sends UTF-8 there) are
// kept as they came; another data_coding is left alone.
func TestReceiptTextCoding(t *testing.T) {
	t.Parallel()
	head := "id:7 sub:001 dlvrd:001 submit date:2611220015 done date:2611220015 stat:DELIVRD err:000 text:"
	for _, c := range []struct {
		dcs  byte
		text []byte
		want string
	}{
		{0, []byte{'G', 'r', 0x7E, 0x1E, 'e', ' ', 0x1B, 0x65, ' ', 0x24, ' ', '?'}, "Grüße € ¤ ?"},
		{0, []byte("Grüße"), "Grüße"},
		{3, []byte{'a', 0x7E}, "a~"},
	} {
		r := receiptFrom(&Message{ESMClass: 0x04, DataCoding: c.dcs, ShortMessage: append([]byte(head), c.text...)})
		if r == nil || r.Text != c.want || r.ID != "7" {
			t.Errorf("dcs %d, text % X: %+v, want text %q", c.dcs, c.text, r, c.want)
		}
	}
}

func FuzzParseReceiptText(f *testing.F) {
	for _, tc := range receiptCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReceiptText(s)
		if err != nil {
			if r != nil {
				t.Fatal("receipt and error")
			}
			return
		}
		if r.ID == "" && r.TextID != "" || r.Sub < 0 || r.Dlvrd < 0 {
			t.Fatalf("inconsistent %+v", r)
		}
	})
}

func TestSplitText(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte("a"), 152)
	long = append(long, []byte("€bcdefghijk")...) // € is ESC 0x65: must not be cut at 153
	cases := []struct {
		name  string
		text  string
		dcs   byte
		parts int
		first int // octets of the first part's short_message
	}{
		{"gsm short", "Your code is 123456", DCSDefault, 1, 19},
		{"gsm 160", string(bytes.Repeat([]byte("x"), 160)), DCSDefault, 1, 160},
		{"gsm 161", string(bytes.Repeat([]byte("x"), 161)), DCSDefault, 2, 6 + 153},
		{"escape kept whole", string(long), DCSDefault, 2, 6 + 152},
		{"ucs2 short", "Код 1234", DCSUCS2, 1, 16},
		{"ucs2 71", string(bytes.Repeat([]byte("Ж"), 71)), DCSUCS2, 2, 6 + 134},
		{"surrogate kept whole", string(bytes.Repeat([]byte("Ж"), 66)) + "😀😀😀😀", DCSUCS2, 2, 6 + 132},
	}
	for _, tc := range cases {
		parts, err := SplitText(tc.text, 7)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(parts) != tc.parts || parts[0].DataCoding != tc.dcs || len(parts[0].ShortMessage) != tc.first {
			t.Fatalf("%s: %d parts dcs %x first %d; want %d parts dcs %x first %d", tc.name, len(parts), parts[0].DataCoding, len(parts[0].ShortMessage), tc.parts, tc.dcs, tc.first)
		}
		if tc.parts > 1 {
			for i, p := range parts {
				if p.ESMClass != ESMUDHI || !bytes.Equal(p.ShortMessage[:6], []byte{5, 0, 3, 7, byte(tc.parts), byte(i + 1)}) {
					t.Fatalf("%s: part %d header % x", tc.name, i, p.ShortMessage[:6])
				}
			}
		}
		if tc.dcs == DCSUCS2 { // reassemble and compare
			var units []uint16
			for _, p := range parts {
				sm := p.ShortMessage
				if p.ESMClass&ESMUDHI != 0 {
					sm = sm[6:]
				}
				for i := 0; i+1 < len(sm); i += 2 {
					units = append(units, uint16(sm[i])<<8|uint16(sm[i+1]))
				}
			}
			if got := string(utf16.Decode(units)); got != tc.text {
				t.Fatalf("%s: reassembled %q", tc.name, got)
			}
		}
	}
	if got, err := SplitBinary(make([]byte, 300), 0xF6, 1); err != nil || len(got) != 3 || len(got[2].ShortMessage) != 6+32 {
		t.Fatalf("binary split: %d parts, %v", len(got), err)
	}
	// 256 parts do not fit an 8-bit part count: an error, not a wrap.
	if _, err := SplitBinary(make([]byte, 256*134), 0x04, 1); err == nil {
		t.Fatal("256 parts accepted")
	}
	if _, err := SplitText(string(bytes.Repeat([]byte("x"), 256*153)), 1); err == nil {
		t.Fatal("a text of 256 parts accepted")
	}
	if _, err := WithUDH([]byte{2, 0x70}, nil, 0xF6); err == nil {
		t.Fatal("bad UDH length accepted")
	}
}

func TestConfigHidesPassword(t *testing.T) {
	t.Parallel()
	c := Config{Addr: "h:1", SystemID: "sut", Password: "s3cret-pw"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c)} {
		if strings.Contains(s, "s3cret") {
			t.Fatalf("password in %q", s)
		}
	}
}
