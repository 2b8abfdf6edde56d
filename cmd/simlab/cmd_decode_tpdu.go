package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

func init() { registerDecode(newDecodeTPDUCmd) }

// tpduDecoded is the output of `simlab decode tpdu --json`.
type tpduDecoded struct {
	Type      string     `json:"type"`
	Direction string     `json:"direction"`
	Tree      tpdu.Field `json:"tree"`
}

func newDecodeTPDUCmd(a *app) *cobra.Command {
	var asJSON bool
	var direction string
	c := &cobra.Command{
		Use:   "tpdu [--json] [--direction mt|mo] HEX",
		Short: "Decode an SMS TPDU: DELIVER, SUBMIT, STATUS-REPORT, reports, COMMAND (3GPP TS 23.040)",
		Long: `Decode an SMS transfer-layer PDU (3GPP TS 23.040 §9.2) given as hex, without
an SMSC address in front (strip the PDU-mode SCA first).

The message type indicator reads differently in each direction: MT (to the
phone: SMS-DELIVER, SMS-SUBMIT-REPORT, SMS-STATUS-REPORT) or MO (from the
phone: SMS-SUBMIT, SMS-DELIVER-REPORT, SMS-COMMAND). Without --direction
the TPDU is tried as MT, then as MO.

The tree names the first-octet bits, addresses (TON/NPI), PID (7F = (U)SIM
data download), DCS (alphabet, class, compression), time stamps and validity
periods, user data header elements (concatenation, ports, the TS 31.115
command/response packet headers 70/71) and the text (GSM 7-bit with fill
bits after a header, UCS2) or the data in hex.`,
		Example: `  simlab decode tpdu 04049121437ff6891010000000000d53686f7274204d657373616765
  simlab decode tpdu --direction mo --json 0100099110325476F840F40C54657374204D657373616765`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var dirs []tpdu.Direction
			switch strings.ToLower(direction) {
			case "", "auto":
				dirs = []tpdu.Direction{tpdu.MT, tpdu.MO}
			case "mt":
				dirs = []tpdu.Direction{tpdu.MT}
			case "mo":
				dirs = []tpdu.Direction{tpdu.MO}
			default:
				return usagef("--direction must be mt or mo, got %q", direction)
			}
			b, err := hexArg(args[0])
			if err != nil {
				return err
			}
			var m tpdu.Message
			var dir tpdu.Direction
			var errs []error
			for _, d := range dirs {
				if m, err = tpdu.Parse(b, d); err == nil {
					dir = d
					break
				}
				errs = append(errs, err)
			}
			if m == nil {
				if len(errs) == 2 {
					return errors.New("not a valid TPDU in either direction:\n  as MT: " + errs[0].Error() + "\n  as MO: " + errs[1].Error())
				}
				return errs[0]
			}
			tree := tpdu.ExplainMessage(m)
			if asJSON {
				return writeJSON(a.stdout, tpduDecoded{Type: m.Type(), Direction: dir.String(), Tree: tree})
			}
			var sb strings.Builder
			sb.WriteString(dir.String() + " ")
			tree.Print(&sb, "")
			_, err = a.stdout.Write([]byte(sb.String()))
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the decoded tree as JSON")
	c.Flags().StringVar(&direction, "direction", "", "mt (to the phone) or mo (from the phone); default: try mt, then mo")
	return c
}
