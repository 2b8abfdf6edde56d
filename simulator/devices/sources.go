package devices

import (
	"os"
	"strconv"

	"go.bug.st/serial/enumerator"

	"github.com/simlab-dev/simlab/simulator/pcsc"
)

// SystemSerial enumerates the host's serial ports with go.bug.st/serial
// (sysfs on Linux, IOKit on macOS, SetupAPI on Windows). It never probes
// the ports actively.
type SystemSerial struct{}

// SerialPorts lists the serial ports.
func (SystemSerial) SerialPorts() ([]SerialPort, error) {
	ps, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, err
	}
	out := make([]SerialPort, 0, len(ps))
	for _, p := range ps {
		sp := SerialPort{Name: p.Name, IsUSB: p.IsUSB, Serial: p.SerialNumber, Product: p.Product}
		if v, err := strconv.ParseUint(p.VID, 16, 16); err == nil {
			sp.VendorID = uint16(v)
		}
		if v, err := strconv.ParseUint(p.PID, 16, 16); err == nil {
			sp.ProductID = uint16(v)
		}
		out = append(out, sp)
	}
	return out, nil
}

// SystemSources are the host's real sources: libusb (when built with cgo),
// the serial enumerator, pcscd, and the root file system.
func SystemSources() Sources {
	return Sources{
		USB:     LibUSB{},
		Serial:  SystemSerial{},
		Readers: pcsc.ListReaders,
		FS:      os.DirFS("/"),
		Access:  accessRW,
	}
}
