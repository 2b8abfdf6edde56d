package main

import "github.com/spf13/cobra"

func init() { register(newDecodeCmd) }

// decodeSubcommands holds the `simlab decode …` subcommands (apdu, cat, tpdu,
// ota); each lives in its own cmd_decode_*.go file and adds itself with
// registerDecode.
var decodeSubcommands []func(a *app) *cobra.Command

func registerDecode(f func(a *app) *cobra.Command) { decodeSubcommands = append(decodeSubcommands, f) }

func newDecodeCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "decode",
		Short: "Decode APDUs, CAT TLVs, SMS TPDUs and OTA packets given as hex",
		Long: `Decode prints a readable tree with the spec's names for tags, fields and
results, or JSON with --json. Malformed input gives an error naming the offset
and what was expected, and exit code 1.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	for _, f := range decodeSubcommands {
		c.AddCommand(f(a))
	}
	return c
}
