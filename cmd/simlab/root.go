package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, documented in docs/cli.md.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// app carries what every subcommand needs: the streams it writes to. No
// command keeps state in package variables, so run can be called from tests.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// commandFactories is filled by init functions in the cmd_*.go files, one per
// top-level subcommand, so each subcommand lives in its own file.
var commandFactories []func(a *app) *cobra.Command

func register(f func(a *app) *cobra.Command) { commandFactories = append(commandFactories, f) }

// usageError marks an error in how the command was called (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit code 2).
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "simlab",
		Short: "Simulate SIM-applet and SMS authenticators: SMSC, phones, SIM Toolkit, OTA",
		Long: `simlab plays the parts of a mobile network around a push or OTP service:
an SMPP SMSC, emulated phones whose SIM Toolkit applet asks for OK (LoA2) or a
PIN (LoA3), and the people holding them. On a lab bench it drives real modems
and NFC SIM cards in PC/SC readers through the same code.

Exit codes: 0 success, 1 failure, 2 usage error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	for _, f := range commandFactories {
		root.AddCommand(f(a))
	}
	return root
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "simlab: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return exitUsage
	}
	return exitFailure
}

// isCobraUsage recognises the errors cobra itself returns for a bad command
// line (unknown command, wrong number of arguments).
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// smppPasswordEnv names the environment variable that commands binding to
// an SMSC read the bind password from when --password is not given.
const smppPasswordEnv = "SIMLAB_SMPP_PASSWORD"

// smppPassword returns flag, or $SIMLAB_SMPP_PASSWORD when flag is empty.
func smppPassword(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv(smppPasswordEnv)
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// exactArgs is cobra.ExactArgs returning a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
