package smsc

import "testing"

// A destination's delivery fault is seen (and inline delivery so skipped)
// however the submit writes the number, as match finds it.
func TestFaultsHasDeliveryNormalizes(t *testing.T) {
	f := NewFaults(1)
	f.SetDest("+99901000042", Fault{DeliveryError: &DeliveryError{Code: 0x45}})
	for _, dest := range []string{"+99901000042", "99901000042", "0099901000042"} {
		if !f.hasDelivery("acct", dest) {
			t.Errorf("hasDelivery(%q) = false, want true", dest)
		}
		if _, ok := f.delivery("acct", dest); !ok {
			t.Errorf("delivery(%q) found no fault", dest)
		}
	}
	if f.hasDelivery("acct", "99901000043") {
		t.Error("hasDelivery of another number = true")
	}
}
