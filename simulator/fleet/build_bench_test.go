package fleet_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

// BenchmarkPhoneBuild is what a load run pays once per number it reaches:
// Fleet.Phone of a number never used, which builds the phone (person,
// record) and powers it on — its card profile, the emulated UICC with its
// file system, the authenticator applet with its signing key reference,
// the handset's TERMINAL PROFILE. Each iteration is a new number; the
// fleet frees the cards of idle phones beyond MaxCards as in a run. It
// reports the process's CPU per phone (cpu-µs/op, the collector's work
// included) beside the wall time.
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
	var cpu0 time.Duration
	for b.Loop() {
		if i == 0 {
			cpu0 = processCPU()
		}
		if _, err := f.Phone(ctx, fleet.FleetNumber(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is the CPU time (user + system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
