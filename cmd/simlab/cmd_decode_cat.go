package main

import (
	"encoding/hex"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/applet/cat"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

func init() { registerDecode(newDecodeCATCmd) }

// catDecoded is the output of `simlab decode cat --json`.
type catDecoded struct {
	Kind string     `json:"kind"`
	Tree tpdu.Field `json:"tree"`
}

// hexArg decodes a hex argument of the decode and ota commands; white
// space, colons and a 0x prefix are allowed.
func hexArg(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	s = strings.NewReplacer(" ", "", ":", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, usagef("not hex: %v", err)
	}
	return b, nil
}

func newDecodeCATCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "cat [--json] HEX",
		Short: "Decode SIM Toolkit data: proactive commands, envelopes, terminal responses (TS 102 223)",
		Long: `Decode a SIM Toolkit (CAT, ETSI TS 102 223 / 3GPP TS 31.111) message given
as hex. What it is is recognised from its first bytes:

  D0 …              proactive command (FETCH response data); with a trailing
                    status word (… 90 00 / 91 xx) a whole FETCH response
  D1 … DF …         ENVELOPE data: SMS-PP download, menu selection, event
                    download, timer expiration, others as raw objects
  81 03 …           TERMINAL RESPONSE data
  80 14 / 80 C2 /   whole command APDUs: TERMINAL RESPONSE, ENVELOPE,
  80 10 / 80 12     TERMINAL PROFILE, FETCH (class A0 too)

The tree names every object and qualifier bit as the specification does,
decodes texts (GSM 7-bit packed, GSM 8-bit, UCS2), results with their
additional information, and SMS TPDUs inside (as 'simlab decode tpdu').`,
		Example: `  simlab decode cat D01A8103012180820281028D0F04546F6F6C6B697420546573742031
  simlab decode cat --json 810301218082028281830100
  simlab decode cat 80c200003ed13c820283818b36400881…`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := hexArg(args[0])
			if err != nil {
				return err
			}
			tree, kind, err := cat.Explain(b)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, catDecoded{Kind: string(kind), Tree: tree})
			}
			var sb strings.Builder
			tree.Print(&sb, "")
			_, err = a.stdout.Write([]byte(sb.String()))
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the decoded tree as JSON")
	return c
}
