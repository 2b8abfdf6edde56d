//go:build !cgo

package devices

// USBSupported reports whether this binary can enumerate USB (cgo + libusb).
const USBSupported = false

// LibUSB would enumerate USB with libusb; this build has no cgo.
type LibUSB struct{}

// USBDevices returns an error saying USB support is missing.
func (LibUSB) USBDevices() ([]USBDevice, error) {
	return nil, ErrNoUSBSupport
}
