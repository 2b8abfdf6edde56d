package pdu

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary PDUs to the decoder. Seeds: the SMPP 3.4
// vectors of pdu_test.go and PDUs captured from go-smpp (testdata/fuzz).
// Properties: no panic; a body that decodes encodes back to the same octets
// (the codec keeps every field, TLVs in wire order) and decodes again.
func FuzzDecode(f *testing.F) {
	for _, v := range vectors {
		f.Add(unhex(f, v.hex))
	}
	f.Add(unhex(f, "00000010 00000015 00000000 00000001"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := DecodeHeader(raw)
		if err != nil {
			return
		}
		body := raw[HeaderLen:]
		if int(h.Length) >= HeaderLen && int(h.Length) <= len(raw) {
			body = raw[HeaderLen:h.Length]
		}
		c := BodyFor(h.ID)
		if c == nil {
			return
		}
		checkLenient(t, h.ID, body)
		if err := c.Unmarshal(body); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		out := c.AppendBody(nil)
		if len(body) > 0 && !bytes.Equal(out, body) {
			t.Fatalf("%v: re-encoded\n %x\nfrom\n %x", h.ID, out, body)
		}
		c2 := BodyFor(h.ID)
		if err := c2.Unmarshal(out); err != nil {
			t.Fatalf("%v: re-encoded body does not decode: %v", h.ID, err)
		}
		if out2 := c2.AppendBody(nil); !bytes.Equal(out, out2) {
			t.Fatalf("%v: second encoding differs", h.ID)
		}
	})
}

// checkLenient holds UnmarshalLenient to its contract: whatever the strict
// decoder accepts, the lenient one decodes to the same fields, and what the
// lenient one accepts encodes back to the same octets.
func checkLenient(t *testing.T, id CommandID, body []byte) {
	var strict, lenient Codec
	switch id {
	case CmdSubmitSM, CmdDeliverSM:
		var s, l SubmitSM
		if err := l.UnmarshalLenient(body); err != nil {
			if s.Unmarshal(body) == nil {
				t.Fatalf("%v: strict decode succeeds, lenient fails: %v", id, err)
			}
			return
		}
		strict, lenient = &s, &l
	case CmdDataSM:
		var s, l DataSM
		if err := l.UnmarshalLenient(body); err != nil {
			if s.Unmarshal(body) == nil {
				t.Fatalf("%v: strict decode succeeds, lenient fails: %v", id, err)
			}
			return
		}
		strict, lenient = &s, &l
	default:
		return
	}
	if out := lenient.AppendBody(nil); !bytes.Equal(out, body) {
		t.Fatalf("%v: lenient decode re-encoded\n %x\nfrom\n %x", id, out, body)
	}
	if strict.Unmarshal(body) == nil && !bytes.Equal(strict.AppendBody(nil), lenient.AppendBody(nil)) {
		t.Fatalf("%v: strict and lenient decodes differ", id)
	}
}
