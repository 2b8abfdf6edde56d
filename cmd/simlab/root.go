package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
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
	root.SetHelpCommand(newHelpCmd(root))
	root.InitDefaultCompletionCmd()
	strictGroups(root)
	return root
}

// strictGroups makes every command that has subcommands (the root, phone,
// hsm, card …) refuse what is not one of them: `simlab phone lsit` is a
// usage error saying "unknown command … did you mean list?" instead of
// printing help and exiting 0, so a typo in a CI script fails. Alone, a
// group prints its help (exit 0).
func strictGroups(c *cobra.Command) {
	if c.HasSubCommands() {
		c.Args = unknownSubcommand
		c.SuggestionsMinimumDistance = 2
		if !c.Runnable() {
			c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
		}
	}
	for _, sub := range c.Commands() {
		strictGroups(sub)
	}
}

// unknownSubcommand is the Args check of a group: any argument is a
// subcommand it does not have.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return usageError{errors.New(unknownCommandMessage(cmd, args[0]))}
}

// unknownCommandMessage says that name is not a subcommand of cmd, with
// the nearest names (cobra's Levenshtein suggestions and prefixes).
func unknownCommandMessage(cmd *cobra.Command, name string) string {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %s?", orList(s))
	} else if (cmd.Name() == "decode" || cmd.Name() == "ota") && looksHex(name) {
		// `simlab decode 00A40004…`: the hex came before what it is.
		var subs []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() && c.Name() != "help" {
				subs = append(subs, c.Name())
			}
		}
		msg += fmt.Sprintf("; that looks like hex: say what it is first, %s %s HEX", cmd.CommandPath(), strings.Join(subs, "|"))
	}
	return msg + fmt.Sprintf(" (%s --help lists the commands)", cmd.CommandPath())
}

// looksHex reports whether s is hex digits (spaces allowed), at least
// two of them.
func looksHex(s string) bool {
	n := 0
	for _, r := range s {
		switch {
		case r == ' ':
		case strings.ContainsRune("0123456789abcdefABCDEF", r):
			n++
		default:
			return false
		}
	}
	return n >= 2
}

// orList quotes names and joins them with commas and a final "or".
func orList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// newHelpCmd is `simlab help [command]`, cobra's own but with an unknown
// topic a usage error (exit 2) like an unknown command.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "help prints the help of any command: simlab help phone set.",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil {
				return usageError{err}
			}
			if len(rest) > 0 {
				return usageError{errors.New(unknownCommandMessage(cmd, rest[0]))}
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
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
	fmt.Fprintf(stderr, "simlab: %v\n", hint(err))
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
