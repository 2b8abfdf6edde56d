package pcsc

import (
	"bytes"
	"context"
	"testing"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/simulator/vpcd/vpcdtest"
)

// TestExchangeTestCard: apdu.Exchange, the terminal's T=0 layer that `card
// apdu` uses over a PC/SC card, against vpcdtest's small card.
func TestExchangeTestCard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name string
		cmd  []byte
		data []byte
		sw   apdu.SW
		sent int // APDUs the card saw
	}{
		{"61xx then GET RESPONSE", []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00}, vpcdtest.MFFCP, apdu.SWOK, 2},
		{"Le present: data + 9000", []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00, 0x00}, vpcdtest.MFFCP, apdu.SWOK, 1},
		{"no data: 9000", []byte{0x80, 0x10, 0x00, 0x00, 0x01, 0xFF}, nil, apdu.SWOK, 1},
		{"error SW passes through", []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x2F, 0xE2}, nil, apdu.SWFileNotFound, 1},
	}
	for _, c := range cases {
		card := &vpcdtest.Card{}
		got, err := apdu.Exchange(ctx, card, c.cmd)
		if err != nil || !bytes.Equal(got.Data, c.data) || got.SW != c.sw {
			t.Errorf("%s: got %X %s, %v; want %X %s", c.name, got.Data, got.SW, err, c.data, c.sw)
		}
		if n := len(card.Commands()); n != c.sent {
			t.Errorf("%s: card saw %d APDUs, want %d", c.name, n, c.sent)
		}
	}
}

// A GET RESPONSE with a short Le gets 61xx again, then a wrong Le gets 6Cxx:
// Exchange follows both.
func TestExchangeTestCardChained(t *testing.T) {
	t.Parallel()
	card := &vpcdtest.Card{}
	ctx := context.Background()
	if r, _ := card.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00}); r[0] != 0x61 {
		t.Fatalf("SELECT = %X", r)
	}
	// Le=04 of 22: data + 61 12, then GET RESPONSE 12 → the rest.
	got, err := apdu.Exchange(ctx, card, []byte{0x00, 0xC0, 0x00, 0x00, 0x04})
	if err != nil || got.SW != apdu.SWOK || !bytes.Equal(got.Data, vpcdtest.MFFCP) {
		t.Fatalf("got %X %s, %v; want %X", got.Data, got.SW, err, vpcdtest.MFFCP)
	}
	// 6Cxx: Le too long is resent with the right Le.
	card.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	got, err = apdu.Exchange(ctx, card, []byte{0x00, 0xC0, 0x00, 0x00, 0x40})
	if err != nil || got.SW != apdu.SWOK || !bytes.Equal(got.Data, vpcdtest.MFFCP) {
		t.Fatalf("6Cxx: got %X %s, %v", got.Data, got.SW, err)
	}
	cmds := card.Commands()
	if last := cmds[len(cmds)-1]; !bytes.Equal(last, []byte{0x00, 0xC0, 0x00, 0x00, byte(len(vpcdtest.MFFCP))}) {
		t.Fatalf("resent %X", last)
	}
}
