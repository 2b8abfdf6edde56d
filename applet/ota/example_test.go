package ota_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// A server seals a command packet for the application with TAR B00011,
// the card opens it (checking CC, counter and the TAR's minimum security
// level), stores the new counter and answers with a PoR the server opens.
// Keys from pySim test_ota.py, AES keyset 2 (testdata/vectors.txt [PY]).
func Example() {
	ctx := context.Background()
	ks := soft.NewMemory()
	defer ks.Close()
	kic, _ := hex.DecodeString("200102030405060708090a0b0c0d0e0f")
	kid, _ := hex.DecodeString("201102030405060708090a0b0c0d0e0f")
	must(ks.Import(ctx, "card1/kic2", hsm.AES128, kic))
	must(ks.Import(ctx, "card1/kid2", hsm.AES128, kid))
	keys := ota.Keys{KIc: "card1/kic2", KID: "card1/kid2"}

	// Server side.
	kicByte, _ := ota.NewKIc(2, ota.AlgAES)
	kidByte, _ := ota.NewKID(2, ota.AlgAES)
	h := ota.CommandHeader{
		SPI: ota.SPI{Integrity: ota.IntegrityCC, Ciphered: true, Counter: ota.CounterHigher,
			PoR: ota.PoRRequired, PoRIntegrity: ota.IntegrityCC, PoRCiphered: true, PoRSubmit: true},
		KIc: kicByte, KID: kidByte, TAR: ota.TAR{0xB0, 0x00, 0x11},
	}
	pkt, err := ota.SealCommand(ctx, ks, keys, h, ota.CounterFromUint64(1), []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	must(err)

	// Card side: the resolver knows the TAR, its MSL and the stored counter.
	stored := ota.CounterFromUint64(0)
	resolver := ota.ResolverFunc(func(tar ota.TAR, kic ota.KIc, kid ota.KID) (ota.Keyset, error) {
		if tar != h.TAR {
			return ota.Keyset{}, ota.ErrTARUnknown
		}
		return ota.Keyset{Keys: keys, MSL: ota.ParseMSL(0x06), Counter: stored}, nil
	})
	cmd, err := ota.OpenCommand(ctx, ks, resolver, pkt)
	must(err)
	if cmd.StoreCounter {
		stored = cmd.Counter
	}
	fmt.Printf("card got %x with counter %s\n", cmd.Data, stored)

	// The same packet again is a replay: PoR status 02, nothing changes.
	_, err = ota.OpenCommand(ctx, ks, resolver, pkt)
	fmt.Printf("replay: status %02x (%s)\n", uint8(ota.StatusOf(err)), ota.StatusOf(err))

	por, err := ota.SealResponse(ctx, ks, keys, cmd.CommandHeader, cmd.Counter, ota.StatusOK, []byte{0x01, 0x90, 0x00})
	must(err)

	// Server side again.
	r, err := ota.OpenResponse(ctx, ks, keys, h, por)
	must(err)
	fmt.Printf("PoR from %s: status %02x, counter %s, data %x\n", r.TAR, uint8(r.Status), r.Counter, r.Data)
	// Output:
	// card got 00a40004023f00 with counter 0000000001
	// replay: status 02 (counter low)
	// PoR from b00011: status 00, counter 0000000001, data 019000
}

// SplitSMS cuts a long command packet into concatenated short messages;
// a Reassembler on the card side joins them again.
func ExampleSplitSMS() {
	pkt := make([]byte, 200)
	uds, err := ota.SplitSMS(pkt, 0x2A)
	must(err)
	for _, ud := range uds {
		fmt.Printf("%d bytes, UDH %x\n", len(ud), ud[:1+ud[0]])
	}

	r, err := ota.NewReassembler(ota.ReassemblyLimits{MaxParts: 8, MaxBytes: 1024, MaxAge: time.Minute, MaxPending: 16})
	must(err)
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) // the card's clock, injected
	for _, ud := range uds {
		got, err := r.Add(now, "+99912345", ud)
		must(err)
		if got != nil {
			fmt.Printf("reassembled %d bytes\n", len(got))
		}
	}
	// Output:
	// 140 bytes, UDH 0700032a02017000
	// 74 bytes, UDH 0500032a0202
	// reassembled 200 bytes
}
