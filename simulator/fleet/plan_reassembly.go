package fleet

import (
	"time"

	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// ReassemblyLimits is the fleet file's `reassembly:` section: how every
// phone of the fleet holds the parts of concatenated text messages (TS
// 23.040 §9.2.3.24.1) while it waits for the rest. Each field left out
// keeps handset.DefaultReassemblyLimits's value.
type ReassemblyLimits struct {
	// MaxAge: a text still missing parts this long after its first part
	// goes to the inbox as it is, its missing parts named (default 2m).
	MaxAge *Duration `yaml:"max_age,omitempty"`
	// MaxParts is the most parts one text may have (default 255, at most
	// 255).
	MaxParts *int `yaml:"max_parts,omitempty"`
	// MaxBytes is the most octets of user data the parts of one text may
	// hold together (default 16384).
	MaxBytes *int `yaml:"max_bytes,omitempty"`
	// MaxPending is the most texts a phone reassembles at once; beyond
	// it the oldest goes to the inbox as it is (default 8).
	MaxPending *int `yaml:"max_pending,omitempty"`
	// MaxPendingBytes is the most octets a phone holds across them
	// (default 32768; not below max_bytes).
	MaxPendingBytes *int `yaml:"max_pending_bytes,omitempty"`
}

// reassemblyLimits returns the plan's reassembly limits merged with the
// defaults, checked.
func (p *Plan) reassemblyLimits() (tpdu.ReassemblyLimits, error) {
	l := handset.DefaultReassemblyLimits
	r := p.Reassembly
	if r == nil {
		return l, nil
	}
	if r.MaxAge != nil {
		if l.MaxAge = time.Duration(*r.MaxAge); l.MaxAge <= 0 {
			return l, planErr("reassembly.max_age", "want a duration above 0, got %v", l.MaxAge)
		}
	}
	for _, f := range []struct {
		name string
		v    *int
		dst  *int
	}{{"max_parts", r.MaxParts, &l.MaxParts}, {"max_bytes", r.MaxBytes, &l.MaxBytes},
		{"max_pending", r.MaxPending, &l.MaxPending}, {"max_pending_bytes", r.MaxPendingBytes, &l.MaxPendingBytes}} {
		if f.v == nil {
			continue
		}
		if *f.v <= 0 {
			return l, planErr("reassembly."+f.name, "want a number above 0, got %d", *f.v)
		}
		*f.dst = *f.v
	}
	if l.MaxParts > 255 {
		return l, planErr("reassembly.max_parts", "at most 255 (the concatenation header's count is one octet), got %d", l.MaxParts)
	}
	if l.MaxPendingBytes < l.MaxBytes {
		return l, planErr("reassembly.max_pending_bytes", "%d is below max_bytes %d: one text could never be held", l.MaxPendingBytes, l.MaxBytes)
	}
	if _, err := tpdu.NewReassembler[struct{}](l); err != nil {
		return l, planErr("reassembly", "%v", err)
	}
	return l, nil
}
