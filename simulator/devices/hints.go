package devices

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/simlab-dev/simlab/simulator/pcsc"
)

// hints looks at the inventory and the sources' failures and says what the
// user can do about them.
func hints(inv *Inventory, s Sources, errs sourceErrors) []string {
	var h []string
	add := func(format string, args ...any) {
		m := fmt.Sprintf(format, args...)
		for _, x := range h {
			if x == m {
				return
			}
		}
		h = append(h, m)
	}
	switch {
	case errors.Is(errs.readers, pcsc.ErrNoService):
		add("pcscd is not running: start it with `sudo systemctl start pcscd.socket` (or `sudo pcscd -f` in a terminal)")
	case errors.Is(errs.readers, pcsc.ErrNotSupported):
		add("this simlab binary has no PC/SC support: rebuild with CGO_ENABLED=1 after `apt-get install libpcsclite-dev`")
	}
	switch {
	case errors.Is(errs.usb, ErrNoUSBSupport):
		add("this simlab binary has no USB support: rebuild with CGO_ENABLED=1 after `apt-get install libusb-1.0-0-dev`")
	case errors.Is(errs.usb, fs.ErrPermission):
		add("libusb was denied access to the USB bus: join group plugdev and add a udev rule (see docs/lab.md)")
	}
	if s.FS != nil && s.USB != nil && errs.usb == nil && len(inv.USB) == 0 {
		if _, err := fs.Stat(s.FS, "dev/bus/usb"); errors.Is(err, fs.ErrNotExist) {
			add("no USB bus is visible here (/dev/bus/usb is missing): in a container, pass the bus through (docker run --device /dev/bus/usb -v /run/udev:/run/udev:ro)")
		}
	}
	ccid := 0
	for _, d := range inv.USB {
		vp := fmt.Sprintf("%04x:%04x", d.VendorID, d.ProductID)
		switch d.Kind {
		case KindCCIDReader:
			ccid++
		case KindModem, KindCDCACM:
			if len(d.Ports) == 0 && d.Kind == KindModem {
				add("modem %s has no serial port: the option/qcserial driver is not bound; try `sudo modprobe option && echo %04x %04x | sudo tee /sys/bus/usb-serial/drivers/option1/new_id`", vp, d.VendorID, d.ProductID)
			}
			if len(d.Ports) > 0 {
				add("ModemManager may hold %s's ports (%s): stop it (`sudo systemctl stop ModemManager`) or add a udev rule: ATTRS{idVendor}==\"%04x\", ATTRS{idProduct}==\"%04x\", ENV{ID_MM_DEVICE_IGNORE}=\"1\"", vp, strings.Join(d.Ports, ", "), d.VendorID, d.ProductID)
			}
		}
		if s.Access != nil && (d.Kind != KindOther) {
			node := fmt.Sprintf("/dev/bus/usb/%03d/%03d", d.Bus, d.Address)
			if err := s.Access(node); errors.Is(err, fs.ErrPermission) {
				add("no access to %s (%s): add a udev rule /etc/udev/rules.d/50-simlab.rules with SUBSYSTEM==\"usb\", ATTR{idVendor}==\"%04x\", ATTR{idProduct}==\"%04x\", MODE=\"0660\", GROUP=\"plugdev\"; then `sudo udevadm control --reload && sudo udevadm trigger` and join group plugdev", node, vp, d.VendorID, d.ProductID)
			}
		}
	}
	if ccid > 0 && len(inv.Readers) == 0 {
		add("a CCID reader is plugged in but pcscd lists no reader: install libccid (`apt-get install libccid`), replug the reader, check `pcsc_scan`")
	}
	if s.Access != nil {
		for _, p := range inv.SerialPorts {
			if err := s.Access(p.Name); errors.Is(err, fs.ErrPermission) {
				add("no access to %s: add yourself to group dialout (`sudo usermod -aG dialout $USER`, then log in again)", p.Name)
			}
		}
	}
	return h
}
