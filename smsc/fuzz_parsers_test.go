package smsc_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/simlab-dev/simlab/smsc"
)

// FuzzDecodeText: any body under any data_coding decodes without a panic
// to valid UTF-8 (or is reported as not text), and text EncodeText
// produces decodes back to itself. Seeds: the TS 23.038 cases of
// text_test.go (GSM 7-bit with the extension table, UCS2 surrogates).
func FuzzDecodeText(f *testing.F) {
	for _, s := range []string{"Your code is 123456", "€uro [x] {y} ~ ^ | \\", "Код 4711", "😀 emoji", "@£$¥èéùìòÇ"} {
		dcs, body := smsc.EncodeText(s)
		f.Add(dcs, body, s)
	}
	f.Add(uint8(0), []byte{0x1b, 0x1b, 0x80, 0x00}, "")
	f.Add(uint8(8), []byte{0xd8, 0x3d}, "")
	f.Add(uint8(3), []byte{0xe9, 0x41}, "")
	f.Fuzz(func(t *testing.T, dcs uint8, body []byte, text string) {
		if s, ok := smsc.DecodeText(dcs, body); ok && !utf8.ValidString(s) {
			t.Fatalf("dcs %d %x decodes to invalid UTF-8 %q", dcs, body, s)
		}
		if !utf8.ValidString(text) {
			return
		}
		d, b := smsc.EncodeText(text)
		if s, ok := smsc.DecodeText(d, b); !ok || s != text {
			t.Fatalf("%q encoded as dcs %d %x decodes to %q (ok %v)", text, d, b, s, ok)
		}
	})
}

// FuzzReassemble: parts built from arbitrary UDHs and bodies reassemble
// without a panic; a complete message has every part, in order.
func FuzzReassemble(f *testing.F) {
	f.Add([]byte{0x05, 0x00, 0x03, 0x2a, 0x02, 0x01}, []byte("Hello "), []byte{0x05, 0x00, 0x03, 0x2a, 0x02, 0x02}, []byte("world"), uint8(0))
	f.Add([]byte{0x06, 0x08, 0x04, 0x01, 0x02, 0x02, 0x02}, []byte{0xd8, 0x3d}, []byte{0x06, 0x08, 0x04, 0x01, 0x02, 0x02, 0x01}, []byte{0xde, 0x00}, uint8(8))
	f.Add([]byte{0x03, 0x00, 0x03}, []byte{}, []byte{0xff}, []byte{1}, uint8(4))
	f.Fuzz(func(t *testing.T, udh1, body1, udh2, body2 []byte, dcs uint8) {
		var parts []*smsc.Message
		for i, p := range [][2][]byte{{udh1, body1}, {udh2, body2}} {
			m := &smsc.Message{ID: string(rune('a' + i)), DCS: dcs, UDH: p[0], Body: p[1]}
			if c, ok := smsc.ConcatFromUDH(p[0]); ok {
				if c.Total == 0 || c.Seq == 0 || c.Seq > c.Total {
					t.Fatalf("ConcatFromUDH(%x) = %+v, accepted", p[0], c)
				}
				m.Concat = &c
			}
			parts = append(parts, m)
		}
		k1, ok1 := smsc.KeyOf(parts[0])
		k2, ok2 := smsc.KeyOf(parts[1])
		if !ok1 || !ok2 || k1 != k2 {
			smsc.Reassemble(parts[:1])
			return
		}
		r := smsc.Reassemble(parts)
		if len(r.Parts) != int(parts[0].Concat.Total) {
			t.Fatalf("%d parts for a total of %d", len(r.Parts), parts[0].Concat.Total)
		}
		if r.Complete {
			var want []byte
			for _, p := range r.Parts {
				if p == nil {
					t.Fatal("complete with a part missing")
				}
				want = append(want, p.Body...)
			}
			if string(want) != string(r.Body) {
				t.Fatalf("body %x, want %x", r.Body, want)
			}
		}
	})
}

// FuzzParseRange: MO ranges from configuration. A range that parses
// contains its ends and nothing of another length.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"99900000000-99900009999", "+4179..+4180", "12345", "4242*", "9-1", "", "*", "1-12"} {
		f.Add(s, "99900000001")
	}
	f.Fuzz(func(t *testing.T, s, addr string) {
		r, prefix, err := smsc.ParseRange(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "smsc: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if prefix != "" || r.Lo == "" {
			return
		}
		if !r.Contains(r.Lo) || !r.Contains(r.Hi) || r.Lo > r.Hi {
			t.Fatalf("%q: %+v does not contain its ends", s, r)
		}
		if r.Contains(addr) && len(strings.TrimPrefix(addr, "+")) != len(r.Lo) {
			t.Fatalf("%q: %+v contains %q of another length", s, r, addr)
		}
	})
}

// FuzzParseReceipt: receipt texts from ESMEs and upstream SMSCs.
func FuzzParseReceipt(f *testing.F) {
	f.Add("id:1234567890 sub:001 dlvrd:001 submit date:2611221000 done date:2611221001 stat:DELIVRD err:000 text:Your code")
	f.Add("ID:abc STAT:undeliv ERR:027")
	f.Add("id: stat:")
	f.Add("text:id:1")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := smsc.ParseReceipt(s)
		if err != nil {
			return
		}
		if r == nil || r.State != 0 && r.State.String() == "" {
			t.Fatalf("%q: %+v", s, r)
		}
	})
}

// FuzzAccountYAML: the accounts of a config file. An account that loads
// passes Validate; errors never show the password.
func FuzzAccountYAML(f *testing.F) {
	f.Add("- system_id: sut\n  password: s3cret\n  bind_types: tx,rx\n  throughput: 500\n  mo_ranges: ['12345', '4242*']\n")
	f.Add("- system_id: sut\n  password: much-too-long\n")
	f.Add("- {system_id: a, pasword: x}\n")
	f.Add("- system_id: [a]\n")
	f.Add("- bind_types: sideways\n")
	f.Fuzz(func(t *testing.T, src string) {
		var accs []smsc.Account
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		if err := dec.Decode(&accs); err != nil {
			return
		}
		for _, a := range accs {
			if err := a.Validate(); err != nil {
				t.Fatalf("%q loaded an invalid account %q: %v", src, a.SystemID, err)
			}
		}
	})
}
