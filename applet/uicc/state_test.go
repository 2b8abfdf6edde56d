package uicc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/applet/ota"
)

// TestStateExportImport: a card made again from its profile and given the
// first card's exported state refuses the command packet the first one
// accepted (counter too low, TS 102 225 §5.2.2 status 02) and keeps its
// PIN1 tries and changed PUK; the export holds only what differs from the
// profile and never shows a code in its text form.
func TestStateExportImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newCard(t, onomondoProfile)
	if s := a.Export(); s.Counters != nil || s.PIN1 != nil || s.PUK1 != nil || s.ADM1 != nil {
		t.Fatalf("a new card exports %+v, want the zero state", s)
	}
	keys := ota.Keys{KIc: "kic", KID: "kid"}
	// PoR with CC, ciphered, in the deliver report (SPI2 19).
	h := ota.CommandHeader{SPI: ota.ParseSPI(0x16, 0x19), KIc: 0x32, KID: 0x32, TAR: ota.TAR{0xB0, 0x00, 0x11}}
	pkt, err := ota.SealCommand(ctx, a.ks, keys, h, ota.CounterFromUint64(5), nil)
	if err != nil {
		t.Fatal(err)
	}
	status := func(c *Card) ota.Status {
		t.Helper()
		r := tx(t, c, envelopeFor(t, pkt)+"00")
		resp, err := ota.OpenResponse(ctx, c.ks, keys, h, unhex(t, r[:len(r)-4]))
		if err != nil {
			t.Fatalf("PoR %s: %v", r, err)
		}
		return resp.Status
	}
	if st := status(a); st != ota.StatusOK {
		t.Fatalf("first delivery: PoR status %v", st)
	}
	run(t, a, []step{
		{"0020000108 31313131FFFFFFFF", "63C2"},                  // wrong PIN1: 2 tries left
		{"002C000110 3132333435363738 3837363534333231", "9000"}, // UNBLOCK PIN: new PIN 87654321
		{"0020000108 31313131FFFFFFFF", "63C2"},
	})
	s := a.Export()
	if s.Counters[3] != 5 || len(s.Counters) != 1 {
		t.Errorf("counters %v, want keyset 3 at 5", s.Counters)
	}
	if s.PIN1 == nil || s.PIN1.Retries != 2 || string(s.PIN1.Value) != "87654321" || s.PUK1 != nil || s.ADM1 != nil {
		t.Fatalf("exported PINs %v %v %v", s.PIN1, s.PUK1, s.ADM1)
	}
	for _, text := range []string{fmt.Sprint(s.PIN1), fmt.Sprintf("%+v", *s.PIN1), fmt.Sprintf("%#v", *s.PIN1)} {
		if strings.Contains(text, "87654321") || strings.Contains(text, "56, 53") {
			t.Errorf("the PIN shows in %q", text)
		}
	}

	b := newCard(t, onomondoProfile)
	if err := b.Import(s); err != nil {
		t.Fatal(err)
	}
	if st := status(b); st != ota.StatusCounterLow {
		t.Errorf("replay to the card given the state: PoR status %v, want counter low", st)
	}
	run(t, b, []step{
		{"00200001", "63C2"}, // tries left survive
		{"0020000108 3837363534333231", "9000"},
	})
	// Counters only move up.
	if err := b.Import(State{Counters: map[int]uint64{3: 1}}); err != nil {
		t.Fatal(err)
	}
	if got := b.Export().Counters[3]; got != 5 {
		t.Errorf("counter %d after importing a lower one, want 5", got)
	}
}

func TestStateImportRefused(t *testing.T) {
	t.Parallel()
	good := []byte("1234\xff\xff\xff\xff")
	cases := []struct {
		name string
		s    State
	}{
		{"unknown keyset", State{Counters: map[int]uint64{9: 1}}},
		{"counter too big", State{Counters: map[int]uint64{3: ota.MaxCounter + 1}}},
		{"short value", State{PIN1: &PINState{Value: []byte("1234"), Retries: 1}}},
		{"not digits", State{PUK1: &PINState{Value: []byte("12a4\xff\xff\xff\xff"), Retries: 1}}},
		{"too many retries", State{PIN1: &PINState{Value: good, Retries: 4}}},
		{"negative retries", State{ADM1: &PINState{Value: good, Retries: -1}}},
		{"good counter, bad PIN", State{Counters: map[int]uint64{3: 9}, PIN1: &PINState{Value: good, Retries: 9}}},
	}
	for _, tc := range cases {
		c := newCard(t, onomondoProfile)
		err := c.Import(tc.s)
		if !errors.Is(err, ErrState) {
			t.Errorf("%s: %v, want ErrState", tc.name, err)
			continue
		}
		if strings.Contains(err.Error(), "1234") {
			t.Errorf("%s: the error shows the code: %v", tc.name, err)
		}
		if s := c.Export(); s.Counters != nil || s.PIN1 != nil {
			t.Errorf("%s: a refused state changed the card: %+v", tc.name, s)
		}
	}
}
