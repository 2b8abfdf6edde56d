package devices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/simlab-dev/simlab/simulator/pcsc"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixtureUSB and fixtureSerial read testdata/*.json: a hub, a Quectel EC25
// with its four ttyUSB ports, an Omnikey 3121 (CCID), an Arduino Uno
// (CDC-ACM), a Sierra EM7455 whose driver is not bound, and an unknown
// u-blox product with vendor-specific interfaces.
type fixtureUSB struct{ path string }

func (f fixtureUSB) USBDevices() ([]USBDevice, error) {
	var d []USBDevice
	b, err := os.ReadFile(f.path)
	if err != nil {
		return nil, err
	}
	return d, json.Unmarshal(b, &d)
}

type fixtureSerial struct{ path string }

func (f fixtureSerial) SerialPorts() ([]SerialPort, error) {
	var p []SerialPort
	b, err := os.ReadFile(f.path)
	if err != nil {
		return nil, err
	}
	return p, json.Unmarshal(b, &p)
}

func fixtureSources() Sources {
	return Sources{
		USB:    fixtureUSB{"testdata/usb.json"},
		Serial: fixtureSerial{"testdata/serial.json"},
		Readers: func(ctx context.Context) ([]pcsc.Reader, error) {
			return []pcsc.Reader{}, nil
		},
		FS: fstest.MapFS{
			"dev/bus/usb/001/004":                    {},
			"sys/bus/usb/devices/1-1.2/manufacturer": {Data: []byte("Quectel\n")},
			"sys/bus/usb/devices/1-1.2/product":      {Data: []byte("EC25-E\n")},
			"sys/bus/usb/devices/1-1.3/product":      {Data: []byte("Smart Card Reader USB\n")},
			"sys/bus/usb/devices/2-4/serial":         {Data: []byte("95032303536351F0A1C1\n")},
		},
		Access: func(path string) error {
			switch path {
			case "/dev/ttyUSB2", "/dev/bus/usb/001/004":
				return fs.ErrPermission
			}
			return nil
		},
	}
}

func TestDiscoverFixtures(t *testing.T) {
	t.Parallel()
	inv := Discover(context.Background(), fixtureSources())
	got, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "inventory.golden.json")
	if *update {
		os.WriteFile(golden, append(got, '\n'), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(got, '\n'), want) {
		t.Fatalf("inventory differs from %s (run with -update to accept):\n%s", golden, got)
	}
	// Spot checks so the golden file cannot silently drift.
	kinds := map[string]Kind{}
	for _, d := range inv.USB {
		kinds[d.SysfsName()] = d.Kind
	}
	want2 := map[string]Kind{"usb1": KindOther, "1-1.2": KindModem, "1-1.3": KindCCIDReader, "2-4": KindCDCACM, "2-5": KindModem, "2-6": KindModem}
	for k, v := range want2 {
		if kinds[k] != v {
			t.Errorf("%s: kind %q, want %q", k, kinds[k], v)
		}
	}
	if d := inv.USB[1]; strings.Join(d.Ports, ",") != "/dev/ttyUSB0,/dev/ttyUSB1,/dev/ttyUSB2,/dev/ttyUSB3" || d.Known == nil || d.Known.Model != "EC25/EG25" || d.Product != "EC25-E" {
		t.Errorf("EC25 = %+v", d)
	}
	hints := strings.Join(inv.Hints, "\n")
	for _, want := range []string{"group dialout", "ENV{ID_MM_DEVICE_IGNORE}", "modem 1199:9079 has no serial port", "install libccid", `ATTR{idVendor}=="2c7c"`} {
		if !strings.Contains(hints, want) {
			t.Errorf("hints lack %q:\n%s", want, hints)
		}
	}
}

func TestDiscoverReportsFailingSources(t *testing.T) {
	t.Parallel()
	s := Sources{
		USB:     fixtureUSB{"testdata/missing.json"},
		Serial:  fixtureSerial{"testdata/missing.json"},
		Readers: func(ctx context.Context) ([]pcsc.Reader, error) { return nil, pcsc.ErrNoService },
		FS:      fstest.MapFS{},
	}
	inv := Discover(context.Background(), s)
	if len(inv.Problems) != 3 {
		t.Fatalf("problems = %q", inv.Problems)
	}
	h := strings.Join(inv.Hints, "\n")
	if !strings.Contains(h, "pcscd is not running") || strings.Contains(h, "/dev/bus/usb is missing") {
		t.Fatalf("hints = %s", h)
	}
	// An empty bus without an error, and no /dev/bus/usb: a container.
	inv = Discover(context.Background(), Sources{USB: errUSB{nil}, FS: fstest.MapFS{}})
	if h := strings.Join(inv.Hints, "\n"); !strings.Contains(h, "/dev/bus/usb is missing") {
		t.Fatalf("hints = %s", h)
	}
	inv = Discover(context.Background(), Sources{USB: errUSB{ErrNoUSBSupport}, Readers: func(context.Context) ([]pcsc.Reader, error) { return nil, pcsc.ErrNotSupported }})
	h = strings.Join(inv.Hints, "\n")
	if !strings.Contains(h, "libusb-1.0-0-dev") || !strings.Contains(h, "libpcsclite-dev") {
		t.Fatalf("hints = %s", h)
	}
}

type errUSB struct{ err error }

func (e errUSB) USBDevices() ([]USBDevice, error) { return nil, e.err }

func TestClassify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d    USBDevice
		want Kind
	}{
		{USBDevice{VendorID: 0x1234, Interfaces: []USBInterface{{Class: ClassSmartCard}}}, KindCCIDReader},
		{USBDevice{VendorID: 0x2C7C, ProductID: 0x0296}, KindModem},                                                   // BG96 by id
		{USBDevice{VendorID: 0x1E0E, ProductID: 0x7777, Interfaces: []USBInterface{{Class: ClassVendor}}}, KindModem}, // SIMCom vendor interfaces
		{USBDevice{VendorID: 0x1234, Interfaces: []USBInterface{{Class: ClassCDC, SubClass: SubclassACM}}}, KindCDCACM},
		{USBDevice{VendorID: 0x1234, Interfaces: []USBInterface{{Class: ClassVendor}}}, KindOther},
		{USBDevice{VendorID: 0x072F, ProductID: 0x2200}, KindCCIDReader}, // ACR122U by id
	}
	for _, c := range cases {
		if got, _ := Classify(c.d); got != c.want {
			t.Errorf("Classify(%04x:%04x) = %s, want %s", c.d.VendorID, c.d.ProductID, got, c.want)
		}
	}
}

// TestLibUSBFindsWhatIsThere runs the real gousb path. Where no USB bus
// exists (containers, CI) it must return nothing and not crash.
func TestLibUSBFindsWhatIsThere(t *testing.T) {
	devs, err := LibUSB{}.USBDevices()
	if errors.Is(err, ErrNoUSBSupport) {
		t.Skip("built without cgo")
	}
	if _, serr := os.Stat("/dev/bus/usb"); serr != nil {
		if len(devs) != 0 {
			t.Fatalf("no /dev/bus/usb but %d devices", len(devs))
		}
		return
	}
	if err != nil {
		t.Fatalf("libusb: %v", err)
	}
	for _, d := range devs {
		Classify(d)
	}
}

func TestSystemSerialDoesNotFail(t *testing.T) {
	ports, err := SystemSerial{}.SerialPorts()
	if err != nil {
		t.Fatalf("serial enumeration failed: %v", err)
	}
	for _, p := range ports {
		if p.Name == "" {
			t.Fatalf("port without a name: %+v", p)
		}
	}
}
