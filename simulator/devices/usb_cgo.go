//go:build cgo

package devices

import (
	"fmt"
	"slices"

	"github.com/google/gousb"
)

// USBSupported reports whether this binary can enumerate USB (cgo + libusb).
const USBSupported = true

// LibUSB enumerates the USB buses with libusb (github.com/google/gousb). It
// reads descriptors only: no device is opened or claimed.
type LibUSB struct{}

// USBDevices lists the devices. libusb failing to initialise (gousb
// panics then) is returned as an error.
func (LibUSB) USBDevices() (devs []USBDevice, err error) {
	defer func() {
		if r := recover(); r != nil {
			devs, err = nil, fmt.Errorf("devices: libusb failed to initialise: %v", r)
		}
	}()
	ctx := gousb.NewContext()
	defer ctx.Close()
	opened, err := ctx.OpenDevices(func(d *gousb.DeviceDesc) bool {
		devs = append(devs, fromDesc(d))
		return false // enumerate only
	})
	for _, o := range opened {
		o.Close()
	}
	if err != nil {
		return devs, fmt.Errorf("devices: libusb enumeration: %w", err)
	}
	return devs, nil
}

func fromDesc(d *gousb.DeviceDesc) USBDevice {
	u := USBDevice{
		Bus: d.Bus, Address: d.Address, Path: slices.Clone(d.Path),
		VendorID: uint16(d.Vendor), ProductID: uint16(d.Product), Class: uint8(d.Class),
		Interfaces: []USBInterface{},
	}
	// Configuration numbers are not always 1: take them in order.
	nums := make([]int, 0, len(d.Configs))
	for n := range d.Configs {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
		for _, itf := range d.Configs[n].Interfaces {
			if len(itf.AltSettings) == 0 {
				continue
			}
			a := itf.AltSettings[0]
			u.Interfaces = append(u.Interfaces, USBInterface{Number: itf.Number, Class: uint8(a.Class), SubClass: uint8(a.SubClass), Protocol: uint8(a.Protocol)})
		}
		break // the first configuration is the one Linux selects by default
	}
	return u
}
