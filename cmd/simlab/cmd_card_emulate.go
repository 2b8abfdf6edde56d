package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/vpcd"
)

func init() { registerCard(newCardEmulateCmd) }

// emulatedCard builds the default emulated SIM: emulatedCardFor the first
// subscriber of the fleet plan (99901000000).
func emulatedCard(ctx context.Context, path, pin string) (*uicc.Card, io.Closer, error) {
	return emulatedCardFor(ctx, path, fleet.FleetNumber(0), pin)
}

// emulatedCardFor builds the SIM of msisdn exactly as the default fleet does
// (fleet.NewCard): the card profile template (the embedded default, or
// path), identities of that subscriber, OTA keysets and signing key derived
// from the demo masters for its ICCID (fixtures/keys, TEST-ONLY), the
// authenticator applet with pin. `simlab card push` finds the same keys
// from the ICCID it reads from the card.
func emulatedCardFor(ctx context.Context, path, msisdn, pin string) (*uicc.Card, io.Closer, error) {
	var tmpl *uicc.Profile
	if path != "" {
		p, err := uicc.LoadProfile(path)
		if err != nil {
			return nil, nil, err
		}
		tmpl = p
	}
	ks := soft.NewMemory()
	// The profile's pin_supported option is the fleet's to read.
	card, _, err := fleet.NewCard(ctx, ks, tmpl, msisdn, fleet.CardOptions{PIN: pin})
	if err != nil {
		ks.Close()
		return nil, nil, err
	}
	return card, ks, nil
}

func newCardEmulateCmd(a *app) *cobra.Command {
	var (
		addr, profile, pcapPath, gsmtap, pin, msisdn string
		noQuickAck                                   bool
	)
	c := &cobra.Command{
		Use:   "emulate [--vpcd ADDR] [--profile FILE]",
		Short: "Serve the emulated UICC to pcscd through vsmartcard's vpcd, as a virtual card",
		Long: `Serve an emulated UICC (the default fleet's card, or --profile FILE) to
pcscd through Debian's vsmartcard-vpcd driver, so that every PC/SC
application sees it in the reader "Virtual PCD 00 00": simlab card list and
card apdu, pcsc-tools' scriptor and pcsc_scan, pySim.

The card connects to vpcd (127.0.0.1:35963 by default, the port of "Virtual
PCD 00 00"; 35964 is "Virtual PCD 00 01") and reconnects with backoff when
pcscd is not up yet or restarts. The card is the SIM of --msisdn in the
default fleet (default the first subscriber, 99901000000): ICCID and IMSI
from the profile template, OTA keys and signing key derived from simlab's demo
masters for that ICCID, exactly as ` + "`simlab serve`" + `'s fleet builds it, so
` + "`simlab card push`" + ` finds its keys from the ICCID alone. It runs until interrupted (Ctrl-C). The
card's volatile state is reset on every power-on and reset from pcscd.

Keys in the default profile are public DEMO keys: test use only.`,
		Example: `  sudo pcscd -f &
  simlab card emulate
  simlab card emulate --vpcd 127.0.0.1:35964 --profile fixtures/cards/default.yaml --pcap card.pcap`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, err := numberFlag("msisdn", msisdn)
			if err != nil {
				return err
			}
			if err := addrFlag("vpcd", addr); err != nil {
				return err
			}
			card, closer, err := emulatedCardFor(ctx, profile, n, pin)
			if err != nil {
				return err
			}
			defer closer.Close()
			served, stopTrace, err := tracedCard(card, pcapPath, gsmtap, a.stderr)
			if err != nil {
				return err
			}
			defer stopTrace()
			v := &vpcd.VirtualCard{
				Card:       served,
				Addr:       addr,
				NoQuickAck: noQuickAck,
				Logf:       func(f string, args ...any) { fmt.Fprintf(a.stderr, f+"\n", args...) },
			}
			p := card.Profile()
			fmt.Fprintf(a.stdout, "serving card %s (ICCID %s, IMSI %s, MSISDN %s) to vpcd at %s; Ctrl-C to stop\n",
				p.Name, p.ICCID, p.IMSI, e164(p.MSISDN), addr)
			err = v.Run(ctx)
			if errors.Is(err, context.Canceled) {
				fmt.Fprintf(a.stdout, "stopped after %d APDUs\n", v.APDUs())
				return nil
			}
			return err
		},
	}
	c.Flags().StringVar(&addr, "vpcd", vpcd.DefaultAddr, "vpcd's address (host:port)")
	c.Flags().StringVar(&profile, "profile", "", "card profile YAML (default: the default fleet's card)")
	c.Flags().StringVar(&pcapPath, "pcap", "", "write every APDU exchange to this pcap file (GSMTAP SIM)")
	c.Flags().StringVar(&gsmtap, "gsmtap", "", "send every APDU exchange live as GSMTAP to this UDP address, e.g. 127.0.0.1:4729")
	c.Flags().StringVar(&msisdn, "msisdn", fleet.FleetNumber(0), "the subscriber of the fleet plan whose SIM to serve (its ICCID, IMSI and derived keys)")
	c.Flags().StringVar(&pin, "pin", fleet.DefaultPIN, "the authenticator applet's PIN (5 digits)")
	c.Flags().BoolVar(&noQuickAck, "no-quickack", false, "do not set TCP_QUICKACK (for measurements: each APDU then costs ~40 ms)")
	return c
}
