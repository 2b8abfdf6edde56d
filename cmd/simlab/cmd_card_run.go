package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/cards"
	"github.com/simlab-dev/simlab/hsm/soft"
)

func init() { registerCard(newCardRunCmd) }

// cardRunResult is the output of `simlab card run --json`.
type cardRunResult struct {
	Profile string            `json:"profile"`
	ATR     string            `json:"atr"`
	Failed  int               `json:"failed"`
	Trace   []uicc.TraceEntry `json:"trace"`
}

func newCardRunCmd(a *app) *cobra.Command {
	var (
		profile, script string
		asJSON          bool
	)
	c := &cobra.Command{
		Use:   "run [--profile FILE] --script FILE [--json]",
		Short: "Run an APDU script against an emulated card and print the decoded trace",
		Long: `Run the APDUs of a script against an emulated UICC made from a card profile
(YAML, see docs/uicc.md); without --profile, the embedded default profile
(fixtures/cards/default.yaml, the template of the default fleet). The
profile's demo OTA keys are loaded into an in-memory key store.

Script format: one hex command APDU per line (spaces allowed); '#' starts a
comment; '=> HEX' after the APDU is the expected response: the whole R-APDU,
or only the status word (4 hex digits); X matches any nibble and one '…' or
'...' any run of bytes. A line 'reset' resets the card. Use '-' to read the
script from standard input.

The trace names each command, its P1/P2 and data, the response data (FCP
templates decoded) and the status word. Exit code 1 when an expectation fails.`,
		Example: `  simlab card run --profile fixtures/cards/default.yaml --script select.apdu
  printf '00A40004023F00 => 61XX\n00C0000000\n' | simlab card run --script -`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCardScript(cmd.Context(), a, profile, script, asJSON)
		},
	}
	c.Flags().StringVar(&profile, "profile", "", "card profile YAML file (default: the embedded default profile)")
	c.Flags().StringVar(&script, "script", "", "APDU script file, or - for standard input (required)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the trace as JSON")
	_ = c.MarkFlagRequired("script")
	return c
}

func runCardScript(ctx context.Context, a *app, profilePath, scriptPath string, asJSON bool) error {
	var (
		p   *uicc.Profile
		err error
	)
	if profilePath == "" {
		p, err = uicc.ParseProfile(cards.Default)
	} else {
		p, err = uicc.LoadProfile(profilePath)
	}
	if err != nil {
		return err
	}
	var steps []uicc.ScriptStep
	if scriptPath == "-" {
		steps, err = uicc.ParseScript(a.stdin)
	} else {
		f, oerr := os.Open(scriptPath)
		if oerr != nil {
			return oerr
		}
		defer f.Close()
		steps, err = uicc.ParseScript(f)
	}
	if err != nil {
		return err
	}
	ks := soft.NewMemory()
	defer ks.Close()
	if err := p.ImportKeys(ctx, ks); err != nil {
		return err
	}
	card, err := uicc.New(p, uicc.Options{Keystore: ks})
	if err != nil {
		return err
	}
	atr, err := card.Reset(ctx, true)
	if err != nil {
		return err
	}
	trace, failed, err := uicc.RunScript(ctx, card, steps)
	if err != nil {
		return err
	}
	if asJSON {
		if err := writeJSON(a.stdout, cardRunResult{Profile: p.Name, ATR: fmt.Sprintf("%X", atr), Failed: failed, Trace: trace}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "card %s  ATR %X\n", p.Name, atr)
		if err := uicc.WriteTrace(a.stdout, trace); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d expectations failed", failed, countExpectations(steps))
	}
	return nil
}

func countExpectations(steps []uicc.ScriptStep) int {
	n := 0
	for _, s := range steps {
		if s.Expect != "" {
			n++
		}
	}
	return n
}
