package fleet_test

import (
	"context"
	"testing"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

// BenchmarkPhoneBuild is what a load run pays once per number it reaches:
// Fleet.Phone of a number never used, which builds the phone (person,
// record) and powers it on — its card profile, the emulated UICC with its
// file system, the authenticator applet with its signing key reference,
// the handset's TERMINAL PROFILE. Each iteration is a new number; the
// fleet frees the cards of idle phones beyond MaxCards as in a run.
//
//	go test ./simulator/fleet -run '^$' -bench PhoneBuild -benchtime 20000x
func BenchmarkPhoneBuild(b *testing.B) {
	ctx := context.Background()
	f, err := fleet.New(fleet.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := f.Phone(ctx, fleet.FleetNumber(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
