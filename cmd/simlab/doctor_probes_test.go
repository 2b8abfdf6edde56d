package main

import (
	"encoding/json"
	"net"
	"testing"

	"github.com/simlab-dev/simlab/hsm/pkcs11"
	"github.com/simlab-dev/simlab/simulator/devices"
	"github.com/simlab-dev/simlab/simulator/doctor"
	"github.com/simlab-dev/simlab/simulator/pcsc"
)

// TestDoctorReportsCompiledFeatures checks `simlab doctor --json` against
// what this build has: with cgo the PC/SC, USB and PKCS#11 probes are
// connected and pcscd's status is what its socket says; without cgo
// (CGO_ENABLED=0 go test) each says "not compiled in". The pcscd-running
// case with a virtual card is in simulator/pcsc (TestCardPushCLIAcceptance).
func TestDoctorReportsCompiledFeatures(t *testing.T) {
	t.Parallel()
	// pcscd may be started or stopped by simulator/pcsc's tests running
	// beside this one: only judge its status when it held still.
	before := pcscdUp()
	code, stdout, stderr := runCLI(t, "doctor", "--json")
	after := pcscdUp()
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var rep doctor.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, stdout)
	}
	status := map[string]doctor.Status{}
	for _, c := range rep.Checks {
		status[c.Name] = c.Status
	}
	compiled := func(name string, on bool) {
		t.Helper()
		want := doctor.Missing
		if on {
			want = doctor.OK
		}
		if status[name] != want {
			t.Errorf("%q = %q, want %q", name, status[name], want)
		}
	}
	compiled("PC/SC support compiled in", pcsc.Supported)
	compiled("USB support compiled in", devices.USBSupported)
	if !pkcs11.Supported && status["PKCS#11 module loadable"] != doctor.Missing {
		t.Errorf("PKCS#11 without cgo = %q, want missing", status["PKCS#11 module loadable"])
	}
	st, seen := status["pcscd reachable"]
	if !pcsc.Supported {
		if seen {
			t.Errorf("pcscd reachable checked in a build without PC/SC: %q", st)
		}
		return
	}
	if before == after && before != (st == doctor.OK) {
		t.Errorf("pcscd reachable = %q, but the socket is up: %v", st, before)
	}
}

func pcscdUp() bool {
	c, err := net.Dial("unix", "/run/pcscd/pcscd.comm")
	if err != nil {
		return false
	}
	c.Close()
	return true
}
