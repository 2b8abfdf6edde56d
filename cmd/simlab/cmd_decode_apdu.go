package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/applet/apdu"
)

func init() { registerDecode(newDecodeAPDUCmd) }

// apduDecoded is the output of `simlab decode apdu --json`.
type apduDecoded struct {
	Kind string    `json:"kind"` // "command" or "response"
	Tree apdu.Node `json:"tree"`
}

func newDecodeAPDUCmd(a *app) *cobra.Command {
	var asJSON, response bool
	c := &cobra.Command{
		Use:   "apdu [--json] [--response] HEX",
		Short: "Decode a command or response APDU (ISO/IEC 7816-4, ETSI TS 102 221)",
		Long: `Decode a command APDU (cases 1 to 4, short or extended length) given as hex:
class byte (interindustry, TS 102 221 proprietary, GSM; logical channel,
secure messaging), instruction name (SELECT, READ BINARY, VERIFY PIN,
TERMINAL PROFILE, ENVELOPE, FETCH, TERMINAL RESPONSE …), P1/P2 as the
instruction defines them, Lc, data and Le. PIN values are never shown.

With --response, decode a response APDU instead: the data (an FCP template
broken down per TS 102 221 §11.1.1.3) and the status word with its name.`,
		Example: `  simlab decode apdu 00A40004023F00
  simlab decode apdu --json 801000000CFFFFFFFFFFFFFFFFFFFFFFFF
  simlab decode apdu --response 6132`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := hexArg(args[0])
			if err != nil {
				return err
			}
			out := apduDecoded{Kind: "command"}
			if response {
				r, err := apdu.ParseResponse(b)
				if err != nil {
					return err
				}
				out.Kind, out.Tree = "response", apdu.DescribeResponse(r)
			} else {
				c, err := apdu.Parse(b)
				if err != nil {
					return err
				}
				out.Tree = apdu.DescribeCommand(c)
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			_, err = io.WriteString(a.stdout, out.Tree.String())
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the decoded tree as JSON")
	c.Flags().BoolVar(&response, "response", false, "decode a response APDU (data + SW1 SW2)")
	return c
}
