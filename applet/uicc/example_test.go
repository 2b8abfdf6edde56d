package uicc_test

import (
	"context"
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/cards"
)

func Example() {
	p, err := uicc.ParseProfile(cards.Default)
	if err != nil {
		panic(err)
	}
	card, err := uicc.New(p, uicc.Options{Clock: func() time.Time { return time.Unix(0, 0) }})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, capdu := range [][]byte{
		{0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0xE2}, // SELECT EF_ICCID, no data
		{0x00, 0xB0, 0x00, 0x00, 0x0A},             // READ BINARY 10 bytes
		{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00}, // SELECT MF, FCP, T=0 style
	} {
		r, _ := card.Transmit(ctx, capdu)
		fmt.Printf("%X\n", r)
	}
	// Output:
	// 9000
	// 989909010000000000F59000
	// 6132
}
