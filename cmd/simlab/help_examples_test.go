package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator"
)

// example is one command line of a command's Example help.
type example struct {
	owner string   // the command whose help shows it
	line  string   // as shown
	args  []string // the words after "simlab"
}

// helpExamples collects the simlab command lines of every command's
// Example: continuation lines joined, comments dropped (words), an environment
// assignment or a pipe before "simlab" skipped; other lines (sudo pcscd)
// are not simlab's.
func helpExamples(t *testing.T, root *cobra.Command) []example {
	t.Helper()
	var out []example
	walk(root, nil, func(c *cobra.Command, path []string) {
		if c.Example == "" {
			return
		}
		text := strings.ReplaceAll(c.Example, "\\\n", " ")
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			if i := strings.Index(line, "| simlab "); i >= 0 {
				line = line[i+2:]
			}
			ws := words(line) // readme_test.go: sh's quoting, # comments
			for len(ws) > 0 && strings.Contains(ws[0], "=") && ws[0] != "simlab" {
				ws = ws[1:]
			}
			if len(ws) == 0 || ws[0] != "simlab" {
				continue
			}
			out = append(out, example{owner: strings.Join(path, " "), line: line, args: ws[1:]})
		}
	})
	return out
}

// TestHelpExamplesParse: every example in every command's help names a
// command of the real tree, with flags it has, values they hold and the
// arguments it takes.
func TestHelpExamplesParse(t *testing.T) {
	t.Parallel()
	root := newRoot(&app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}})
	exs := helpExamples(t, root)
	if len(exs) < 40 {
		t.Fatalf("only %d examples found", len(exs))
	}
	for _, ex := range exs {
		fresh := newRoot(&app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}})
		c, rest, err := fresh.Find(ex.args)
		if err != nil || c == fresh {
			t.Errorf("simlab %s help: %q: no such command (%v)", ex.owner, ex.line, err)
			continue
		}
		if err := c.ParseFlags(rest); err != nil {
			t.Errorf("simlab %s help: %q: %v", ex.owner, ex.line, err)
			continue
		}
		if err := c.ValidateArgs(c.Flags().Args()); err != nil {
			t.Errorf("simlab %s help: %q: %v", ex.owner, ex.line, err)
		}
	}
}

// runnableExample says whether an example can run here, against a simlab
// serve in this process: the offline decoders and sealers, and what talks
// to the default server. Card readers, modems, an HSM store, other SMSCs,
// a fleet file's numbers, the shards load merge reads and elided hex (…)
// cannot.
var runnableExample = regexp.MustCompile(`^(decode |ota |phone set |phone send |push |sms send |load --)`)

// TestHelpExamplesRun runs the examples that can run against an
// in-process simlab serve, its addresses put for the defaults (loads with
// a shorter schedule): each must exit 0.
func TestHelpExamplesRun(t *testing.T) {
	t.Parallel()
	s, err := simulator.Start(simulator.Config{SMPPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	api := "http://" + s.Addrs().HTTP
	root := newRoot(&app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}})
	ran := 0
	for _, ex := range helpExamples(t, root) {
		joined := strings.Join(ex.args, " ")
		if !runnableExample.MatchString(joined+" ") || strings.Contains(ex.line, "…") || strings.Contains(ex.line, "--hsm") ||
			strings.Contains(ex.line, "smsc.example") || strings.Contains(ex.line, "--fleet") {
			continue
		}
		fresh := newRoot(&app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}})
		c, _, err := fresh.Find(ex.args)
		if err != nil {
			t.Fatal(err)
		}
		args := make([]string, 0, len(ex.args)+4)
		for i := 0; i < len(ex.args); i++ {
			a := strings.ReplaceAll(ex.args[i], "http://127.0.0.1:8775", api)
			switch {
			case c.Name() == "load" && a == "--duration":
				args, i = append(args, a, "1s"), i+1 // shortened: the schedule, not the command, is what varies
				continue
			case c.Name() == "load" && a == "--rate":
				args, i = append(args, a, "20"), i+1
				continue
			case a == "--out":
				args, i = append(args, a, filepath.Join(t.TempDir(), "run")), i+1
				continue
			}
			args = append(args, a)
		}
		if f := c.Flags().Lookup("smpp"); f != nil && !strings.Contains(joined, "--smpp") {
			args = append(args, "--smpp", s.Addrs().SMPP)
		}
		if f := c.Flags().Lookup("api"); f != nil && !strings.Contains(joined, "--api") && (c.Name() != "push" || strings.Contains(joined, "--otp")) {
			args = append(args, "--api", api)
		}
		if c.Name() == "push" {
			args = append(args, binding()...)
		}
		ran++
		if code, out, errb := runCLI(t, args...); code != exitOK {
			t.Errorf("simlab %s help: %q: exit %d\n%s%s", ex.owner, ex.line, code, out, errb)
		}
		if c.Name() == "set" { // what the example scripted must not answer the next ones
			if code, _, errb := runCLI(t, "phone", "reset", ex.args[2], "--api", api); code != exitOK {
				t.Fatalf("phone reset %s: %s", ex.args[2], errb)
			}
		}
	}
	if ran < 20 {
		t.Errorf("only %d examples ran", ran)
	}
}
