package uicc

import (
	"context"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/applet/ota"
)

func benchTx(b *testing.B, c *Card, capdus [][]byte, sws []string) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for i, a := range capdus {
			r, err := c.Transmit(ctx, a)
			if err != nil {
				b.Fatal(err)
			}
			if sws != nil && sws[i] != "" {
				if got := strings.ToUpper(string(bytesToHex(r[len(r)-2:]))); got != sws[i] {
					b.Fatalf("APDU %d: SW %s, want %s", i, got, sws[i])
				}
			}
		}
	}
}

// BenchmarkSelectReadBinary: SELECT EF_ICCID (no data) + READ BINARY.
func BenchmarkSelectReadBinary(b *testing.B) {
	c := newCard(b, testProfile)
	benchTx(b, c, [][]byte{unhex(b, "00A4000C022FE2"), unhex(b, "00B000000A")}, []string{"9000", "9000"})
}

// BenchmarkProactiveRoundTrip: ENVELOPE(menu selection) → 91xx, FETCH,
// TERMINAL RESPONSE → 9000, with a one-command applet.
func BenchmarkProactiveRoundTrip(b *testing.B) {
	c := newCard(b, testProfile)
	a := &promptApplet{cmds: [][]byte{unhex(b, displayText111)}, envelopes: []byte{0xD3}}
	if err := c.Install("prompt", a); err != nil {
		b.Fatal(err)
	}
	benchTx(b, c, [][]byte{
		unhex(b, "80C2000006D30482020181"),
		unhex(b, "801200001C"),
		unhex(b, "801400000C"+trDisplayOK),
	}, []string{"911C", "9000", "9000"})
}

// BenchmarkOTASession is the card's part of a LoA3 challenge: ENVELOPE
// (SMS-PP download, AES CC + ciphering, PoR by SMS-SUBMIT) → DISPLAY TEXT →
// GET INPUT → SEND SHORT MESSAGE with the sealed PoR, T=1 style.
func BenchmarkOTASession(b *testing.B) {
	prof := strings.Replace(onomondoProfile, "  - name: rfm\n", "  - name: prompt\n    tars: [{tar: \"534C41\", msl: \"0E\"}]\n  - name: rfm\n", 1)
	c := newCard(b, prof)
	a := &promptApplet{cmds: [][]byte{unhex(b, displayText111), unhex(b, getInput141)}, result: make([]byte, 64)}
	if err := c.Install("prompt", a); err != nil {
		b.Fatal(err)
	}
	keys := ota.Keys{KIc: "kic", KID: "kid"}
	// SPI 0E 39: CC, ciphered, counter without check; PoR required, CC, ciphered, by SMS-SUBMIT.
	h := ota.CommandHeader{SPI: ota.ParseSPI(0x0E, 0x39), KIc: 0x32, KID: 0x32, TAR: ota.TAR{0x53, 0x4C, 0x41}}
	pkt, err := ota.SealCommand(context.Background(), c.ks, keys, h, ota.CounterFromUint64(1), make([]byte, 80))
	if err != nil {
		b.Fatal(err)
	}
	env := envelopeFor(b, pkt) + "00"
	benchTx(b, c, [][]byte{
		unhex(b, env),
		unhex(b, "801200001C"),
		unhex(b, "801400000C"+trDisplayOK),
		unhex(b, "8012000029"),
		unhex(b, "8014000016"+trGetInput141),
		unhex(b, "8012000000"),
		unhex(b, "801400000C810301130082028281830100"),
	}, []string{"911C", "9000", "9129", "9000", "", "9000", "9000"})
}

// BenchmarkNew measures making a card from a profile (file system, PINs,
// keysets): the memory per built phone of a fleet.
func BenchmarkNew(b *testing.B) {
	p := loadProfile(b, testProfile)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(p, Options{Clock: fixedClock}); err != nil {
			b.Fatal(err)
		}
	}
}
