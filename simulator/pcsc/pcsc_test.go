package pcsc

import (
	"bytes"
	"context"
	"testing"

	"github.com/simlab-dev/simlab/simulator/vpcd/vpcdtest"
)

func TestTransmitWithResponse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fcp9000 := append(append([]byte{}, vpcdtest.MFFCP...), 0x90, 0x00)
	cases := []struct {
		name string
		cmd  []byte
		want []byte
		sent int // APDUs the card saw
	}{
		{"61xx then GET RESPONSE", []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00}, fcp9000, 2},
		{"Le present: data + 9000", []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00, 0x00}, fcp9000, 1},
		{"no data: 9000", []byte{0x80, 0x10, 0x00, 0x00, 0x01, 0xFF}, []byte{0x90, 0x00}, 1},
		{"error SW passes through", []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x2F, 0xE2}, []byte{0x6A, 0x82}, 1},
	}
	for _, c := range cases {
		card := &vpcdtest.Card{}
		got, err := TransmitWithResponse(ctx, card, c.cmd)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: got %X, %v; want %X", c.name, got, err, c.want)
		}
		if n := len(card.Commands()); n != c.sent {
			t.Errorf("%s: card saw %d APDUs, want %d", c.name, n, c.sent)
		}
	}
}

// A GET RESPONSE with a short Le gets 61xx again, then a wrong Le gets 6Cxx:
// the helper must follow both.
func TestTransmitWithResponseChained(t *testing.T) {
	t.Parallel()
	card := &vpcdtest.Card{}
	ctx := context.Background()
	if r, _ := card.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00}); r[0] != 0x61 {
		t.Fatalf("SELECT = %X", r)
	}
	// Le=04 of 22: data + 61 12, then GET RESPONSE 12 → the rest.
	got, err := TransmitWithResponse(ctx, card, []byte{0x00, 0xC0, 0x00, 0x00, 0x04})
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte{}, vpcdtest.MFFCP...), 0x90, 0x00)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %X, want %X", got, want)
	}
	// 6Cxx: Le too long is resent with the right Le.
	card.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	got, err = TransmitWithResponse(ctx, card, []byte{0x00, 0xC0, 0x00, 0x00, 0x40})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("6Cxx: got %X, %v", got, err)
	}
	cmds := card.Commands()
	if last := cmds[len(cmds)-1]; !bytes.Equal(last, []byte{0x00, 0xC0, 0x00, 0x00, byte(len(vpcdtest.MFFCP))}) {
		t.Fatalf("resent %X", last)
	}
}

func TestWithLe(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want []byte }{
		{[]byte{0, 0xB0, 0, 0}, []byte{0, 0xB0, 0, 0, 9}},
		{[]byte{0, 0xB0, 0, 0, 0}, []byte{0, 0xB0, 0, 0, 9}},
		{[]byte{0, 0xA4, 0, 4, 2, 0x3F, 0}, []byte{0, 0xA4, 0, 4, 2, 0x3F, 0, 9}},
		{[]byte{0, 0xA4, 0, 4, 2, 0x3F, 0, 0}, []byte{0, 0xA4, 0, 4, 2, 0x3F, 0, 9}},
	}
	for _, c := range cases {
		if got := withLe(c.in, 9); !bytes.Equal(got, c.want) {
			t.Errorf("withLe(%X) = %X, want %X", c.in, got, c.want)
		}
	}
}

func TestTransmitWithResponseShortCommand(t *testing.T) {
	t.Parallel()
	if _, err := TransmitWithResponse(context.Background(), &vpcdtest.Card{}, []byte{0, 1}); err == nil {
		t.Fatal("want an error for a 2-byte command")
	}
}
