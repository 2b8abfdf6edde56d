package main

import "github.com/simlab-dev/simlab/simulator/doctor"

// doctorProbes connects the doctor to the device packages compiled into this
// binary. A nil probe reports the feature as not compiled in.
func doctorProbes() doctor.Probes {
	return doctor.Probes{Serial: serialProbe}
}
