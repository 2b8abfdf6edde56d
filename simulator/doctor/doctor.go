// Package doctor checks what simlab's lab features need on this machine and
// says, for each missing piece, exactly how to fix it. The core (serve, the
// emulated fleet, the CLI codecs) needs nothing beyond the binary; the lab
// features need PC/SC, libusb, serial ports and a PKCS#11 module.
package doctor

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"time"
)

// Status of one check.
type Status string

// Statuses. Warn means usable but worth a look (no devices attached, say).
const (
	OK      Status = "ok"
	Warn    Status = "warn"
	Missing Status = "missing"
)

// Check is one line of the doctor's table.
type Check struct {
	Area   string `json:"area"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Fix is the exact remedy when Status is not OK.
	Fix string `json:"fix,omitempty"`
	// Core is true for checks the core depends on; their failure makes
	// `simlab doctor` exit non-zero even without --strict.
	Core bool `json:"core,omitempty"`
}

// Report is the doctor's result.
type Report struct {
	Checks []Check `json:"checks"`
	// CoreOK is false when a core check failed.
	CoreOK bool `json:"core_ok"`
	// LabOK is false when any lab feature is missing.
	LabOK bool `json:"lab_ok"`
}

// Reader is a PC/SC reader as a probe sees it.
type Reader struct {
	Name    string
	Present bool
	ATR     []byte
}

// USBDevice is a USB device as a probe sees it.
type USBDevice struct {
	VID, PID    uint16
	Description string
}

// SerialPort is a serial port as a probe sees it.
type SerialPort struct {
	Name     string
	USB      bool
	VID, PID string
	Serial   string
}

// Probes are the hooks into the device packages. A nil probe means the
// feature is not compiled into this binary.
type Probes struct {
	// PCSC lists readers through pcscd.
	PCSC func(ctx context.Context) ([]Reader, error)
	// USB lists USB devices through libusb.
	USB func(ctx context.Context) ([]USBDevice, error)
	// Serial lists serial ports (pure Go, always present).
	Serial func() ([]SerialPort, error)
	// PKCS11 loads the module at path and returns a description (the
	// library and its slots/tokens).
	PKCS11 func(ctx context.Context, path string) (string, error)
}

// Options tune what Run looks at.
type Options struct {
	Probes Probes
	// PKCS11Module is the module to try first (SIMLAB_PKCS11_MODULE); the
	// SoftHSM2 default paths are tried after it.
	PKCS11Module string
	// PCSCSocket is pcscd's socket (default /run/pcscd/pcscd.comm).
	PCSCSocket string
	// Timeout bounds each probe (default 3 s).
	Timeout time.Duration
}

// SoftHSM2Paths are the usual locations of SoftHSM2's PKCS#11 module.
var SoftHSM2Paths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

// Run performs every check.
func Run(ctx context.Context, o Options) Report {
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Second
	}
	if o.PCSCSocket == "" {
		o.PCSCSocket = "/run/pcscd/pcscd.comm"
	}
	var cs []Check
	cs = append(cs, checkCore()...)
	cs = append(cs, checkPCSC(ctx, o)...)
	cs = append(cs, checkUSB(ctx, o)...)
	cs = append(cs, checkSerial(o)...)
	cs = append(cs, checkPKCS11(ctx, o)...)
	cs = append(cs, checkTools()...)
	r := Report{Checks: cs, CoreOK: true, LabOK: true}
	for _, c := range cs {
		if c.Status == Missing {
			r.LabOK = false
			if c.Core {
				r.CoreOK = false
			}
		}
	}
	return r
}

func checkCore() []Check {
	c := Check{Area: "core", Name: "loopback networking", Core: true}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.Status, c.Detail, c.Fix = Missing, err.Error(), "bring up the loopback interface: ip link set lo up"
	} else {
		ln.Close()
		c.Status, c.Detail = OK, "can listen on 127.0.0.1"
	}
	return []Check{c}
}

func checkPCSC(ctx context.Context, o Options) []Check {
	comp := Check{Area: "pcsc", Name: "PC/SC support compiled in"}
	if o.Probes.PCSC == nil {
		comp.Status = Missing
		comp.Detail = "this binary was built without cgo"
		comp.Fix = "apt-get install libpcsclite-dev pkg-config (macOS: built in), then rebuild with CGO_ENABLED=1: make build"
		return []Check{comp}
	}
	comp.Status = OK
	daemon := Check{Area: "pcsc", Name: "pcscd reachable"}
	conn, err := net.DialTimeout("unix", o.PCSCSocket, o.Timeout)
	if err != nil {
		daemon.Status = Missing
		daemon.Detail = fmt.Sprintf("no pcscd at %s", o.PCSCSocket)
		daemon.Fix = "apt-get install pcscd && systemctl start pcscd.socket (or run: pcscd -f) — macOS: built in"
		return []Check{comp, daemon}
	}
	conn.Close()
	daemon.Status, daemon.Detail = OK, o.PCSCSocket
	readers := Check{Area: "pcsc", Name: "readers and cards"}
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	rs, err := o.Probes.PCSC(pctx)
	switch {
	case err != nil:
		readers.Status, readers.Detail = Warn, err.Error()
		readers.Fix = "plug in a CCID reader, or start a virtual one: apt-get install vsmartcard-vpcd, restart pcscd, then simlab card emulate"
	case len(rs) == 0:
		readers.Status, readers.Detail = Warn, "no readers"
		readers.Fix = "plug in a CCID reader, or apt-get install vsmartcard-vpcd and run simlab card emulate"
	default:
		readers.Status = OK
		var parts []string
		for _, r := range rs {
			s := r.Name
			if r.Present {
				s += fmt.Sprintf(" (card, ATR %X)", r.ATR)
			} else {
				s += " (empty)"
			}
			parts = append(parts, s)
		}
		readers.Detail = strings.Join(parts, "; ")
	}
	return []Check{comp, daemon, readers}
}

func checkUSB(ctx context.Context, o Options) []Check {
	comp := Check{Area: "usb", Name: "USB support compiled in"}
	if o.Probes.USB == nil {
		comp.Status = Missing
		comp.Detail = "this binary was built without cgo"
		comp.Fix = "apt-get install libusb-1.0-0-dev pkg-config (macOS: brew install libusb), then rebuild with CGO_ENABLED=1: make build"
		return []Check{comp}
	}
	comp.Status = OK
	lib := Check{Area: "usb", Name: "libusb usable, devices seen"}
	uctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	devs, err := o.Probes.USB(uctx)
	switch {
	case err != nil:
		lib.Status, lib.Detail = Missing, err.Error()
		lib.Fix = "apt-get install libusb-1.0-0; for access without root add a udev rule (docs/lab.md) and join the plugdev group: usermod -aG plugdev $USER"
	case len(devs) == 0:
		lib.Status, lib.Detail = Warn, "libusb works; no USB devices visible (none attached, or no USB bus in this machine)"
	default:
		lib.Status, lib.Detail = OK, fmt.Sprintf("%d device(s)", len(devs))
	}
	return []Check{comp, lib}
}

func checkSerial(o Options) []Check {
	c := Check{Area: "serial", Name: "serial ports"}
	if o.Probes.Serial == nil {
		c.Status, c.Detail = Warn, "no serial enumerator in this build"
		return []Check{c}
	}
	ports, err := o.Probes.Serial()
	switch {
	case err != nil:
		c.Status, c.Detail = Warn, err.Error()
	case len(ports) == 0:
		c.Status, c.Detail = Warn, "no serial ports (attach a modem to use simlab modem …)"
	default:
		c.Status = OK
		var parts []string
		for _, p := range ports {
			s := p.Name
			if p.USB {
				s += fmt.Sprintf(" (USB %s:%s", p.VID, p.PID)
				if p.Serial != "" {
					s += " serial " + p.Serial
				}
				s += ")"
			}
			parts = append(parts, s)
		}
		c.Detail = strings.Join(parts, "; ")
	}
	cs := []Check{c}
	if g := groupCheck("dialout", "serial"); g != nil {
		cs = append(cs, *g)
	}
	return cs
}

// groupCheck warns when a non-root user is not in group (needed for device
// access without root).
func groupCheck(group, area string) *Check {
	if os.Geteuid() == 0 {
		return nil
	}
	u, err := user.Current()
	if err != nil {
		return nil
	}
	c := Check{Area: area, Name: "member of group " + group, Status: OK}
	gids, _ := u.GroupIds()
	g, err := user.LookupGroup(group)
	if err != nil {
		return nil
	}
	for _, id := range gids {
		if id == g.Gid {
			return &c
		}
	}
	c.Status, c.Fix = Warn, fmt.Sprintf("usermod -aG %s %s (then log in again)", group, u.Username)
	return &c
}

func checkPKCS11(ctx context.Context, o Options) []Check {
	c := Check{Area: "pkcs11", Name: "PKCS#11 module loadable"}
	if o.Probes.PKCS11 == nil {
		c.Status = Missing
		c.Detail = "this binary was built without cgo"
		c.Fix = "rebuild with CGO_ENABLED=1: make build"
		return []Check{c}
	}
	candidates := SoftHSM2Paths
	if o.PKCS11Module != "" {
		candidates = append([]string{o.PKCS11Module}, candidates...)
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, o.Timeout)
		desc, err := o.Probes.PKCS11(pctx, p)
		cancel()
		if err != nil {
			c.Status, c.Detail = Missing, fmt.Sprintf("%s: %v", p, err)
			c.Fix = "check the module's configuration (SoftHSM2: SOFTHSM2_CONF and its tokendir permissions)"
			return []Check{c}
		}
		c.Status, c.Detail = OK, desc
		return []Check{c}
	}
	c.Status = Missing
	c.Detail = "no module found at " + strings.Join(candidates, ", ")
	c.Fix = "apt-get install softhsm2 (macOS: brew install softhsm), or set SIMLAB_PKCS11_MODULE to your HSM's module"
	return []Check{c}
}

// labTools are third-party programs the lab guide and the integration tests
// use, with the Debian package that provides each.
var labTools = []struct{ prog, pkg, use string }{
	{"pcsc_scan", "pcsc-tools", "watch readers and cards"},
	{"scriptor", "pcsc-tools", "send APDU scripts through PC/SC"},
	{"softhsm2-util", "softhsm2", "create test HSM tokens"},
	{"gammu", "gammu", "talk to AT modems"},
	{"bearerbox", "kannel", "a real ESME/SMS gateway peer"},
	{"tshark", "tshark", "decode simlab's traces"},
}

func checkTools() []Check {
	var cs []Check
	for _, t := range labTools {
		c := Check{Area: "tools", Name: t.prog}
		if p, err := exec.LookPath(t.prog); err == nil {
			c.Status, c.Detail = OK, p
		} else {
			c.Status, c.Detail = Warn, "not installed (optional: "+t.use+")"
			c.Fix = "apt-get install " + t.pkg
		}
		cs = append(cs, c)
	}
	return cs
}
