package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newSMSCCmd) }

// smsc serve is kept as an alias of `serve --no-fleet` so that scripts
// written for it go on working: one server, one configuration schema
// (its old keys load with a warning, docs/cli.md).
func newSMSCCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:    "smsc",
		Short:  "Deprecated: use simlab serve --no-fleet",
		Hidden: true,
		Args:   exactArgs(0),
		RunE:   func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	c.AddCommand(newSMSCServeCmd(a))
	return c
}

func newSMSCServeCmd(a *app) *cobra.Command {
	serve := newServeCmd(a)
	serve.SilenceUsage, serve.SilenceErrors = true, true
	serve.SetOut(a.stdout)
	serve.SetErr(a.stderr)
	serve.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	c := &cobra.Command{
		Use:   "serve",
		Short: "Deprecated alias of simlab serve --no-fleet",
		Long: `smsc serve is simlab serve --no-fleet: the SMSC and the HTTP API without
emulated phones. It takes serve's flags; its old configuration keys
(accounts, fault_seed, tls) load with a warning naming the new ones.`,
		Args:               cobra.ArbitraryArgs, // serve checks them
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(a.stderr, "simlab: warning: `simlab smsc serve` is deprecated: use `simlab serve --no-fleet`")
			serve.SetArgs(append([]string{"--no-fleet"}, oldHTTPOff(args)...))
			serve.SetContext(cmd.Context())
			return serve.ExecuteContext(cmd.Context())
		},
	}
	return c
}

// oldHTTPOff maps smsc serve's `--http ""` (no HTTP listener) to "off".
func oldHTTPOff(args []string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == "--http=" {
			out[i] = "--http=off"
		} else if a == "--http" && i+1 < len(out) && out[i+1] == "" {
			out[i+1] = "off"
		}
	}
	return out
}
