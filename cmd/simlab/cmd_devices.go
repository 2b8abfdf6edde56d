package main

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator/devices"
)

func init() { register(newDevicesCmd) }

func newDevicesCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "devices",
		Short: "List lab hardware: USB modems and card readers, serial ports, PC/SC readers",
		Long: `Take one inventory of the lab hardware simlab can drive:

  USB devices with their interface classes (CCID smart-card readers, CDC-ACM
  and vendor-specific modem interfaces) and a name for known modems
  (Quectel, Sierra Wireless, Telit, SIMCom, u-blox, Huawei, ZTE) and readers,
  with the serial ports that belong to them;
  serial ports with their USB vendor/product ids and serial numbers;
  the readers pcscd offers, with card presence.

Devices are only enumerated, never opened. When something stands in the way
(pcscd not running, no permission on a port or device, a modem without its
serial driver, ModemManager) a hint says how to fix it. USB enumeration needs
a simlab built with cgo (libusb).`,
		Example: `  simlab devices
  simlab devices --json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			inv := devices.Discover(cmd.Context(), devices.SystemSources())
			if asJSON {
				return writeJSON(a.stdout, inv)
			}
			w := a.stdout
			fmt.Fprintln(w, "USB devices:")
			if len(inv.USB) == 0 {
				fmt.Fprintln(w, "  none")
			}
			for _, d := range inv.USB {
				name := strings.TrimSpace(d.Manufacturer + " " + d.Product)
				if d.Known != nil {
					name = d.Known.Vendor + " " + d.Known.Model
				}
				fmt.Fprintf(w, "  %03d/%03d %04x:%04x %-12s %s\n", d.Bus, d.Address, d.VendorID, d.ProductID, d.Kind, name)
				for _, i := range d.Interfaces {
					fmt.Fprintf(w, "      interface %d: %s (%02x/%02x/%02x)\n", i.Number, i.ClassName(), i.Class, i.SubClass, i.Protocol)
				}
				if len(d.Ports) > 0 {
					fmt.Fprintf(w, "      ports: %s\n", strings.Join(d.Ports, " "))
				}
			}
			fmt.Fprintln(w, "Serial ports:")
			if len(inv.SerialPorts) == 0 {
				fmt.Fprintln(w, "  none")
			}
			for _, p := range inv.SerialPorts {
				if p.IsUSB {
					fmt.Fprintf(w, "  %s  USB %04x:%04x serial %q %s\n", p.Name, p.VendorID, p.ProductID, p.Serial, p.Product)
				} else {
					fmt.Fprintf(w, "  %s\n", p.Name)
				}
			}
			fmt.Fprintln(w, "PC/SC readers:")
			if len(inv.Readers) == 0 {
				fmt.Fprintln(w, "  none")
			}
			for _, r := range inv.Readers {
				state := "no card"
				if r.CardPresent {
					state = "card, ATR " + strings.ToUpper(hex.EncodeToString(r.ATR))
				}
				fmt.Fprintf(w, "  %s: %s\n", r.Name, state)
			}
			for _, p := range inv.Problems {
				fmt.Fprintf(w, "problem: %s\n", p)
			}
			for _, h := range inv.Hints {
				fmt.Fprintf(w, "hint: %s\n", h)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
