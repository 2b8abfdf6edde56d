package authn

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestRawSignature(t *testing.T) {
	r32 := bytes.Repeat([]byte{0x81}, 32)
	cases := []struct {
		name, der string
		want      []byte // nil: must fail
	}{
		{"short r and s padded on the left", "3006020101020102", append(append(make([]byte, 31), 1), append(make([]byte, 31), 2)...)},
		{"high bit needs a 00", "3046022100" + hex.EncodeToString(r32) + "022100" + hex.EncodeToString(r32), append(append([]byte{}, r32...), r32...)},
		{"negative r", "3006020181020102", nil},
		{"33-byte r without 00", "304602210101" + hex.EncodeToString(r32[1:]) + "01" + "022100" + hex.EncodeToString(r32), nil},
		{"trailing bytes", "300602010102010200", nil},
		{"third integer", "3009020101020102020103", nil},
		{"not a sequence", "3106020101020102", nil},
		{"empty integer", "30050200020102", nil},
		{"empty", "", nil},
	}
	for _, c := range cases {
		der, err := hex.DecodeString(c.der)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := rawSignature(der)
		if c.want == nil {
			if err == nil {
				t.Errorf("%s: accepted, got %x", c.name, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: got %x, %v; want %x", c.name, got, err, c.want)
		}
	}
}
