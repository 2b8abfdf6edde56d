package main

import "github.com/spf13/cobra"

func init() { register(newCardCmd) }

// cardSubcommands holds the `simlab card …` subcommands; each lives in its
// own cmd_card_*.go file and adds itself with registerCard.
var cardSubcommands []func(a *app) *cobra.Command

func registerCard(f func(a *app) *cobra.Command) { cardSubcommands = append(cardSubcommands, f) }

func newCardCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "card",
		Short: "Work with SIM cards: emulated, in PC/SC readers, or served to pcscd",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	for _, f := range cardSubcommands {
		c.AddCommand(f(a))
	}
	return c
}
