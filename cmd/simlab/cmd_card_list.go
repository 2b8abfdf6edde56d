package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator/pcsc"
)

func init() { registerCard(newCardListCmd) }

// cardListReader is one reader in `simlab card list --json`.
type cardListReader struct {
	pcsc.Reader
	ATRHex         string    `json:"atr,omitempty"`
	ATRDecoded     *pcsc.ATR `json:"atr_decoded,omitempty"`
	ATRDescription []string  `json:"atr_description,omitempty"`
	ATRError       string    `json:"atr_error,omitempty"`
}

func newCardListCmd(a *app) *cobra.Command {
	var asJSON, watch bool
	c := &cobra.Command{
		Use:   "list [--json] [--watch]",
		Short: "List PC/SC readers, whether a card is present, and its ATR decoded",
		Long: `List the readers pcscd offers (real readers and vpcd's "Virtual PCD 00 00"),
whether each holds a card, and the card's Answer To Reset decoded per
ISO/IEC 7816-3 (convention, Fi/Di, protocols, historical bytes, TCK).

With --watch it then reports readers and cards as they come and go (PC/SC
SCardGetStatusChange) until interrupted, one line (or JSON object) per event.

Needs pcscd running and a simlab built with cgo (PC/SC support).`,
		Example: `  simlab card list
  simlab card list --json
  simlab card list --watch`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if watch {
				return watchReaders(cmd.Context(), a, asJSON)
			}
			readers, err := pcsc.ListReaders(cmd.Context())
			if err != nil {
				return err
			}
			out := make([]cardListReader, len(readers))
			for i, r := range readers {
				out[i].Reader = r
				if len(r.ATR) == 0 {
					continue
				}
				out[i].ATRHex = strings.ToUpper(hex.EncodeToString(r.ATR))
				atr, err := pcsc.ParseATR(r.ATR)
				if err != nil {
					out[i].ATRError = err.Error()
					continue
				}
				out[i].ATRDecoded = atr
				out[i].ATRDescription = atr.Describe()
			}
			if asJSON {
				return writeJSON(a.stdout, map[string]any{"readers": out})
			}
			if len(out) == 0 {
				fmt.Fprintln(a.stdout, "no PC/SC readers (plug one in, or start `simlab card emulate` with pcscd's vpcd driver)")
				return nil
			}
			for _, r := range out {
				state := "no card"
				if r.CardPresent {
					state = "card present"
				}
				if r.InUse {
					state += ", in use"
				}
				if r.Mute {
					state += ", mute (no answer to reset)"
				}
				fmt.Fprintf(a.stdout, "%s: %s\n", r.Name, state)
				if r.ATRHex == "" {
					continue
				}
				fmt.Fprintf(a.stdout, "  ATR %s\n", r.ATRHex)
				if r.ATRError != "" {
					fmt.Fprintf(a.stdout, "    %s\n", r.ATRError)
				}
				for _, l := range r.ATRDescription {
					fmt.Fprintf(a.stdout, "    %s\n", l)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&watch, "watch", false, "report reader and card changes until interrupted")
	return c
}

// watchReaders prints pcsc.Watch events until ctx ends (exit 0).
func watchReaders(ctx context.Context, a *app, asJSON bool) error {
	err := pcsc.Watch(ctx, func(e pcsc.Event) {
		if asJSON {
			_ = json.NewEncoder(a.stdout).Encode(struct {
				Kind   pcsc.EventKind `json:"kind"`
				Reader string         `json:"reader"`
				ATR    string         `json:"atr,omitempty"`
			}{e.Kind, e.Reader, strings.ToUpper(hex.EncodeToString(e.ATR))})
			return
		}
		line := fmt.Sprintf("%s: %s", e.Kind, e.Reader)
		if len(e.ATR) > 0 {
			line += ", ATR " + strings.ToUpper(hex.EncodeToString(e.ATR))
		}
		fmt.Fprintln(a.stdout, line)
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
