package cat

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func seed(f *testing.F, hexes ...string) {
	for _, h := range hexes {
		b, err := hex.DecodeString(h)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func checkPrefix(t *testing.T, err error) {
	t.Helper()
	if s := err.Error(); !strings.HasPrefix(s, "cat: ") && !strings.HasPrefix(s, "tlv: ") {
		t.Fatalf("error without package prefix: %q", s)
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, v := range commandVectors {
		seed(f, v.hex)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			checkPrefix(t, err)
			return
		}
		out, err := MarshalCommand(c)
		if err != nil {
			t.Fatalf("%X parsed but does not marshal: %v", b, err)
		}
		c2, err := ParseCommand(out)
		if err != nil {
			t.Fatalf("%X re-encoded as %X which does not parse: %v", b, out, err)
		}
		out2, _ := MarshalCommand(c2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("not idempotent: %X -> %X -> %X", b, out, out2)
		}
		if c2.Details() != c.Details() {
			t.Fatalf("details changed: %+v -> %+v", c.Details(), c2.Details())
		}
	})
}

func FuzzParseTerminalResponse(f *testing.F) {
	for _, v := range responseVectors {
		seed(f, v.hex)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseTerminalResponse(b)
		if err != nil {
			checkPrefix(t, err)
			return
		}
		out, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("%X parsed but does not marshal: %v", b, err)
		}
		r2, err := ParseTerminalResponse(out)
		if err != nil {
			t.Fatalf("%X re-encoded as %X which does not parse: %v", b, out, err)
		}
		out2, _ := r2.MarshalBinary()
		if !bytes.Equal(out, out2) {
			t.Fatalf("not idempotent: %X -> %X -> %X", b, out, out2)
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	for _, v := range envelopeVectors {
		seed(f, v.hex)
	}
	seed(f, "D309820201819001039500", "D60799010482028281", "D70C82028281A40102A503000003")
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEnvelope(b)
		if err != nil {
			checkPrefix(t, err)
			return
		}
		out, err := MarshalEnvelope(e)
		if err != nil {
			t.Fatalf("%X parsed but does not marshal: %v", b, err)
		}
		e2, err := ParseEnvelope(out)
		if err != nil {
			t.Fatalf("%X re-encoded as %X which does not parse: %v", b, out, err)
		}
		out2, _ := MarshalEnvelope(e2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("not idempotent: %X -> %X -> %X", b, out, out2)
		}
	})
}

func FuzzExplain(f *testing.F) {
	for _, v := range commandVectors {
		seed(f, v.hex, v.hex+"9000")
	}
	for _, v := range responseVectors {
		seed(f, v.hex)
	}
	for _, v := range envelopeVectors {
		seed(f, v.hex)
	}
	seed(f, "801400000c810301130082028281830100", "8010000014"+strings.Repeat("ff", 20), "801200003f")
	f.Fuzz(func(t *testing.T, b []byte) {
		fld, _, err := Explain(b)
		if err != nil {
			checkPrefix(t, err)
			return
		}
		var sb strings.Builder
		fld.Print(&sb, "")
	})
}
