package main

import (
	"bytes"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.bug.st/serial/enumerator"

	"github.com/simlab-dev/simlab/simulator/doctor"
)

func init() { register(newDoctorCmd) }

func newDoctorCmd(a *app) *cobra.Command {
	var asJSON, strict bool
	var module string
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check what the lab features need on this machine and how to fix what is missing",
		Long: `doctor prints a table of what simlab's lab features need (PC/SC, USB, serial
ports, a PKCS#11 module, third-party lab tools) and whether this machine has
it, with the exact fix for anything missing.

Exit status: 0 when the core works (the lab features are optional);
with --strict, 1 when any lab feature is missing.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if module == "" {
				module = os.Getenv("SIMLAB_PKCS11_MODULE")
			}
			rep := doctor.Run(cmd.Context(), doctor.Options{Probes: doctorProbes(), PKCS11Module: module})
			if asJSON {
				if err := writeJSON(a.stdout, rep); err != nil {
					return err
				}
			} else {
				var table bytes.Buffer
				tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "AREA\tCHECK\tSTATUS\tDETAIL / FIX")
				for _, ch := range rep.Checks {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ch.Area, ch.Name, ch.Status, ch.Detail)
					if ch.Fix != "" {
						fmt.Fprintf(tw, "\t\t\tfix: %s\n", ch.Fix)
					}
				}
				tw.Flush()
				pal := paletteFor(a.stdout)
				if _, err := a.stdout.Write(pal.column(table.Bytes(), "STATUS", func(w string) string { return pal.status(doctor.Status(w)) })); err != nil {
					return err
				}
			}
			if !rep.CoreOK {
				return fmt.Errorf("doctor: the core is not usable on this machine")
			}
			if strict && !rep.LabOK {
				return fmt.Errorf("doctor: some lab features are missing (--strict)")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print machine-readable JSON")
	c.Flags().BoolVar(&strict, "strict", false, "exit 1 when any lab feature is missing")
	c.Flags().StringVar(&module, "pkcs11-module", "", "PKCS#11 module to check (default: $SIMLAB_PKCS11_MODULE, then SoftHSM2's paths)")
	return c
}

// serialProbe lists serial ports with go.bug.st/serial's pure-Go enumerator.
func serialProbe() ([]doctor.SerialPort, error) {
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, err
	}
	out := make([]doctor.SerialPort, 0, len(ports))
	for _, p := range ports {
		out = append(out, doctor.SerialPort{Name: p.Name, USB: p.IsUSB, VID: p.VID, PID: p.PID, Serial: p.SerialNumber})
	}
	return out, nil
}
