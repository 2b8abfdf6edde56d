// Package devices takes the lab inventory behind `simlab devices`: USB
// devices with their interface classes (CCID card readers, CDC-ACM and
// vendor-specific modem interfaces), serial ports with their USB ids, and the
// PC/SC readers pcscd offers, with hints when permissions are missing.
//
// Each source sits behind a small interface so tests use fixtures: the USB
// bus is read with libusb through github.com/google/gousb (enumeration only:
// devices are never opened or claimed, pcscd owns readers and cdc_acm owns
// modems), serial ports with go.bug.st/serial/enumerator (pure Go).
package devices

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/simlab-dev/simlab/simulator/pcsc"
)

// ErrNoUSBSupport is returned by LibUSB in a binary built without cgo.
var ErrNoUSBSupport = errors.New("devices: simlab was built without USB support (cgo disabled); rebuild with CGO_ENABLED=1 and libusb-1.0-0-dev")

// USB interface classes (usb.org "Defined Class Codes").
const (
	ClassCDC       = 0x02 // Communications and CDC Control
	ClassCDCData   = 0x0A
	ClassSmartCard = 0x0B // CCID
	ClassVendor    = 0xFF
	SubclassACM    = 0x02 // CDC Abstract Control Model (USB CDC PSTN §3.6.2)
	SubclassMBIM   = 0x0E
)

// Kind classifies a USB device for the lab.
type Kind string

// Kinds of USB devices.
const (
	KindCCIDReader Kind = "ccid-reader" // has an interface of class 0x0B
	KindModem      Kind = "modem"       // a known modem, or a modem vendor's vendor-specific interfaces
	KindCDCACM     Kind = "cdc-acm"     // a CDC-ACM serial function: maybe a modem, maybe a board
	KindOther      Kind = "other"
)

// USBInterface is one interface (alternate setting 0) of a USB device.
type USBInterface struct {
	Number   int   `json:"number"`
	Class    uint8 `json:"class"`
	SubClass uint8 `json:"subclass"`
	Protocol uint8 `json:"protocol"`
}

// ClassName names the interface class for humans.
func (i USBInterface) ClassName() string {
	switch {
	case i.Class == ClassSmartCard:
		return "smart card (CCID)"
	case i.Class == ClassCDC && i.SubClass == SubclassACM:
		return "CDC-ACM (serial/AT)"
	case i.Class == ClassCDC && i.SubClass == SubclassMBIM:
		return "CDC-MBIM"
	case i.Class == ClassCDC:
		return fmt.Sprintf("CDC subclass 0x%02X", i.SubClass)
	case i.Class == ClassCDCData:
		return "CDC data"
	case i.Class == ClassVendor:
		return "vendor specific"
	case i.Class == 0x08:
		return "mass storage"
	case i.Class == 0x03:
		return "HID"
	case i.Class == 0x09:
		return "hub"
	case i.Class == 0xE0:
		return "wireless controller"
	}
	return fmt.Sprintf("class 0x%02X", i.Class)
}

// USBDevice is one device on a USB bus as enumerated, without opening it.
type USBDevice struct {
	Bus       int    `json:"bus"`
	Address   int    `json:"address"`
	Path      []int  `json:"path,omitempty"` // port numbers from the root hub
	VendorID  uint16 `json:"vendor_id"`
	ProductID uint16 `json:"product_id"`
	Class     uint8  `json:"class"`
	// Manufacturer, Product and Serial come from sysfs on Linux (reading
	// them through libusb would need to open the device).
	Manufacturer string         `json:"manufacturer,omitempty"`
	Product      string         `json:"product,omitempty"`
	Serial       string         `json:"serial,omitempty"`
	Interfaces   []USBInterface `json:"interfaces"`
}

// SysfsName is the device's directory name under /sys/bus/usb/devices
// ("1-1.4" for bus 1, port path 1.4).
func (d USBDevice) SysfsName() string {
	if len(d.Path) == 0 {
		return fmt.Sprintf("usb%d", d.Bus)
	}
	ps := make([]string, len(d.Path))
	for i, p := range d.Path {
		ps[i] = strconv.Itoa(p)
	}
	return fmt.Sprintf("%d-%s", d.Bus, strings.Join(ps, "."))
}

// USBEnumerator lists the devices on the USB buses.
type USBEnumerator interface {
	USBDevices() ([]USBDevice, error)
}

// SerialPort is a serial port with its USB ids when it is a USB function.
type SerialPort struct {
	Name      string `json:"name"`
	IsUSB     bool   `json:"is_usb"`
	VendorID  uint16 `json:"vendor_id,omitempty"`
	ProductID uint16 `json:"product_id,omitempty"`
	Serial    string `json:"serial,omitempty"`
	Product   string `json:"product,omitempty"`
}

// SerialEnumerator lists serial ports.
type SerialEnumerator interface {
	SerialPorts() ([]SerialPort, error)
}

// Sources are where Discover looks. A nil source is skipped.
type Sources struct {
	USB     USBEnumerator
	Serial  SerialEnumerator
	Readers func(ctx context.Context) ([]pcsc.Reader, error)
	// FS is the root file system, for sysfs strings and permission checks
	// (paths without the leading slash, as io/fs wants); nil skips both.
	FS fs.FS
	// Access reports whether the current user may open path for reading
	// and writing; nil skips permission hints.
	Access func(path string) error
}

// Device is a USB device with what simlab makes of it.
type Device struct {
	USBDevice
	Kind  Kind   `json:"kind"`
	Known *Known `json:"known,omitempty"`
	// Ports are the serial ports whose USB ids (and serial, when both
	// have one) match this device.
	Ports []string `json:"ports,omitempty"`
}

// Inventory is the result of Discover.
type Inventory struct {
	USB         []Device      `json:"usb"`
	SerialPorts []SerialPort  `json:"serial_ports"`
	Readers     []pcsc.Reader `json:"readers"`
	// Problems are failures of one source; the others still report.
	Problems []string `json:"problems,omitempty"`
	// Hints tell the user how to fix what stands in the way.
	Hints []string `json:"hints,omitempty"`
}

// Classify decides the Kind of d and what is known about it.
func Classify(d USBDevice) (Kind, *Known) {
	k, ok := Lookup(d.VendorID, d.ProductID)
	var kp *Known
	if ok {
		kp = &k
	}
	hasCCID, hasACM, hasVendor := false, false, false
	for _, i := range d.Interfaces {
		switch {
		case i.Class == ClassSmartCard:
			hasCCID = true
		case i.Class == ClassCDC && i.SubClass == SubclassACM:
			hasACM = true
		case i.Class == ClassVendor:
			hasVendor = true
		}
	}
	switch {
	case hasCCID:
		return KindCCIDReader, kp
	case ok && k.Kind == KindModem:
		return KindModem, kp
	case hasVendor && modemVendors[d.VendorID] != "":
		return KindModem, kp
	case hasACM:
		return KindCDCACM, kp
	}
	if ok {
		return k.Kind, kp
	}
	return KindOther, nil
}

// Discover takes the inventory. It never fails as a whole: a source that
// fails is reported in Problems (with a hint when the cause is known).
func Discover(ctx context.Context, s Sources) *Inventory {
	inv := &Inventory{USB: []Device{}, SerialPorts: []SerialPort{}, Readers: []pcsc.Reader{}}
	var usb []USBDevice
	var errs sourceErrors
	if s.USB != nil {
		var err error
		usb, err = s.USB.USBDevices()
		errs.usb = err
		if err != nil {
			inv.Problems = append(inv.Problems, fmt.Sprintf("USB: %v", err))
		}
	}
	if s.Serial != nil {
		ports, err := s.Serial.SerialPorts()
		errs.serial = err
		if err != nil {
			inv.Problems = append(inv.Problems, fmt.Sprintf("serial ports: %v", err))
		}
		sort.Slice(ports, func(i, j int) bool { return ports[i].Name < ports[j].Name })
		inv.SerialPorts = append(inv.SerialPorts, ports...)
	}
	if s.Readers != nil {
		rs, err := s.Readers(ctx)
		errs.readers = err
		switch {
		case err == nil:
			inv.Readers = rs
		default:
			inv.Problems = append(inv.Problems, fmt.Sprintf("PC/SC: %v", err))
		}
	}
	sort.Slice(usb, func(i, j int) bool {
		if usb[i].Bus != usb[j].Bus {
			return usb[i].Bus < usb[j].Bus
		}
		return usb[i].Address < usb[j].Address
	})
	for _, u := range usb {
		if s.FS != nil {
			fillSysfs(s.FS, &u)
		}
		kind, known := Classify(u)
		d := Device{USBDevice: u, Kind: kind, Known: known}
		for _, p := range inv.SerialPorts {
			if p.IsUSB && p.VendorID == u.VendorID && p.ProductID == u.ProductID &&
				(p.Serial == "" || u.Serial == "" || p.Serial == u.Serial) {
				d.Ports = append(d.Ports, p.Name)
			}
		}
		inv.USB = append(inv.USB, d)
	}
	inv.Hints = hints(inv, s, errs)
	return inv
}

// sourceErrors keeps each source's failure for hints.
type sourceErrors struct{ usb, serial, readers error }

// fillSysfs reads manufacturer, product and serial from sysfs (Linux).
func fillSysfs(fsys fs.FS, d *USBDevice) {
	dir := "sys/bus/usb/devices/" + d.SysfsName() + "/"
	read := func(name string) string {
		b, err := fs.ReadFile(fsys, dir+name)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if d.Manufacturer == "" {
		d.Manufacturer = read("manufacturer")
	}
	if d.Product == "" {
		d.Product = read("product")
	}
	if d.Serial == "" {
		d.Serial = read("serial")
	}
}
