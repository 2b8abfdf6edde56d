package main

import (
	"context"
	"fmt"

	"github.com/simlab-dev/simlab/hsm/pkcs11"
	"github.com/simlab-dev/simlab/simulator/devices"
	"github.com/simlab-dev/simlab/simulator/doctor"
	"github.com/simlab-dev/simlab/simulator/pcsc"
)

// doctorProbes connects the doctor to the device packages compiled into this
// binary. A nil probe reports the feature as not compiled in: PC/SC, USB and
// PKCS#11 need cgo (their packages' Supported constants say whether this
// build has them); serial ports are pure Go.
func doctorProbes() doctor.Probes {
	p := doctor.Probes{Serial: serialProbe}
	if pcsc.Supported {
		p.PCSC = pcscProbe
	}
	if devices.USBSupported {
		p.USB = usbProbe
	}
	if pkcs11.Supported {
		p.PKCS11 = pkcs11Probe
	}
	return p
}

// pcscProbe lists the readers pcscd offers (simulator/pcsc).
func pcscProbe(ctx context.Context) ([]doctor.Reader, error) {
	rs, err := pcsc.ListReaders(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]doctor.Reader, 0, len(rs))
	for _, r := range rs {
		out = append(out, doctor.Reader{Name: r.Name, Present: r.CardPresent, ATR: r.ATR})
	}
	return out, nil
}

// usbProbe enumerates the USB buses with libusb (simulator/devices),
// describing each device by what it is for the lab (CCID reader, modem).
func usbProbe(ctx context.Context) ([]doctor.USBDevice, error) {
	type result struct {
		devs []devices.USBDevice
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		d, err := devices.LibUSB{}.USBDevices()
		ch <- result{d, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		return nil, fmt.Errorf("libusb enumeration: %w", ctx.Err())
	}
	if r.err != nil {
		return nil, r.err
	}
	out := make([]doctor.USBDevice, 0, len(r.devs))
	for _, d := range r.devs {
		kind, known := devices.Classify(d)
		desc := d.Product
		if known != nil && desc == "" {
			desc = known.Vendor + " " + known.Model
		}
		if kind != "" {
			desc = fmt.Sprintf("%s [%s]", desc, kind)
		}
		out = append(out, doctor.USBDevice{VID: d.VendorID, PID: d.ProductID, Description: desc})
	}
	return out, nil
}
