package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// walk calls f for every command of the tree under c, hidden ones included,
// with its path of words after "simlab".
func walk(c *cobra.Command, path []string, f func(c *cobra.Command, path []string)) {
	f(c, path)
	for _, sub := range c.Commands() {
		walk(sub, append(append([]string(nil), path...), sub.Name()), f)
	}
}

// badValues are values each flag type refuses.
var badValues = map[string]string{
	"int": "many", "int8": "many", "int16": "many", "int32": "many", "int64": "many",
	"uint": "-1", "uint8": "-1", "uint16": "-1", "uint32": "-1", "uint64": "-1",
	"float32": "lots", "float64": "lots", "duration": "soon", "bool": "perhaps",
	"ip": "nowhere", "ipMask": "nowhere",
}

// TestExitCodesWholeTree walks the whole command tree, so that no command,
// today's or a new one, escapes docs/cli.md's exit codes: every group
// refuses an unknown subcommand (exit 2, "unknown command", the nearest
// name suggested), every command refuses an unknown flag and a value its
// flag's type cannot hold (exit 2), and --help exits 0.
func TestExitCodesWholeTree(t *testing.T) {
	t.Parallel()
	root := newRoot(&app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}})
	var groups, leaves, values int
	walk(root, nil, func(c *cobra.Command, path []string) {
		name := "simlab " + strings.Join(path, " ")
		if c.HasSubCommands() {
			groups++
			code, _, errb := runCLI(t, append(path, "no-such-command")...)
			if code != exitUsage || !strings.Contains(errb, `unknown command "no-such-command"`) {
				t.Errorf("%s no-such-command: exit %d, want %d with unknown command: %q", name, code, exitUsage, errb)
			}
			// A typo of the first subcommand: two different letters swapped.
			sub := c.Commands()[0].Name()
			if i := strings.IndexFunc(sub[1:], func(r rune) bool { return byte(r) != sub[0] }); len(sub) >= 4 && i >= 0 {
				i++
				typo := sub[:i-1] + sub[i:i+1] + sub[i-1:i] + sub[i+1:]
				code, _, errb := runCLI(t, append(path, typo)...)
				if code != exitUsage || !strings.Contains(errb, "did you mean") || !strings.Contains(errb, `"`+sub+`"`) {
					t.Errorf("%s %s: exit %d, want %d suggesting %q: %q", name, typo, code, exitUsage, sub, errb)
				}
			}
		}
		if code, _, errb := runCLI(t, append(path, "--help")...); code != exitOK {
			t.Errorf("%s --help: exit %d: %s", name, code, errb)
		}
		if c.DisableFlagParsing {
			// It hands its arguments to another command of the tree (smsc
			// serve → serve): that one's flags are checked where it stands.
			code, _, errb := runCLI(t, append(path, "--no-such-flag")...)
			if code != exitUsage {
				t.Errorf("%s --no-such-flag: exit %d, want %d: %q", name, code, exitUsage, errb)
			}
			return
		}
		if !c.HasSubCommands() {
			leaves++
			code, _, errb := runCLI(t, append(path, "--no-such-flag")...)
			if code != exitUsage || !strings.Contains(errb, "unknown flag") {
				t.Errorf("%s --no-such-flag: exit %d, want %d: %q", name, code, exitUsage, errb)
			}
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			bad, ok := badValues[f.Value.Type()]
			if !ok {
				return
			}
			values++
			code, _, errb := runCLI(t, append(path, "--"+f.Name+"="+bad)...)
			if code != exitUsage {
				t.Errorf("%s --%s=%s: exit %d, want %d: %q", name, f.Name, bad, code, exitUsage, errb)
			}
		})
	})
	if groups < 8 || leaves < 40 {
		t.Fatalf("walked %d groups and %d leaves: is the tree built?", groups, leaves)
	}
	t.Logf("%d groups, %d leaves, %d typed flag values", groups, leaves, values)
}

// TestBadValuesAreUsageErrors: values of the right type but wrong — a
// malformed number, an address without a port, a text over the protocol's
// limit — are usage errors (exit 2) in every command that takes them,
// found before anything is dialled (nothing listens on the addresses).
func TestBadValuesAreUsageErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 94)
	for _, args := range [][]string{
		{"push", "--to", "abc", "--loa", "3"},
		{"push", "--to", "+99901000042", "--loa", "3", "--binding-message", long},
		{"push", "--to", "+99901000042", "--loa", "3", "--client-name", strings.Repeat("x", 41)},
		{"push", "--to", "+99901000042", "--loa", "3", "--smpp", "nohostport"},
		{"push", "--to", "+99901000042", "--loa", "3", "--source", "TWELVELETTER"},
		{"push", "--to", "+99901000042", "--url", "--binding-message", "x", "--smpp", "127.0.0.1"},
		{"load", "--to", "abc", "--loa", "3"},
		{"load", "--to", "+99901000000-+99901000009", "--loa", "3", "--binding-message", long},
		{"load", "--to", "+99901000000-+99901000009", "--loa", "3", "--smpp", "nohostport"},
		{"sms", "send", "--to", "abc", "--text", "hi"},
		{"sms", "send", "--to", "+99901000042", "--text", "hi", "--source", "TWELVELETTER"},
		{"sms", "send", "--to", "+99901000042", "--text", "hi", "--from", "TWELVELETTER"},
		{"sms", "send", "--to", "+99901000042", "--text", "hi", "--smpp", "nohostport"},
		{"modem", "send", "--port", "/dev/null", "--to", "abc", "--text", "hi"},
		{"phone", "set", "abc", "--answer", "approve"},
		{"phone", "set", "+99901000042", "--answer", "dance"},
		{"phone", "get", "12a"},
		{"phone", "attach", "--reader", "r", "--msisdn", "abc"},
		{"card", "emulate", "--msisdn", "abc"},
		{"card", "emulate", "--vpcd", "nohostport"},
		{"mc", "login", "--to", "abc", "--client-id", "x"},
		{"serve", "--smpp", "nohostport"},
		{"serve", "--http", "127.0.0.1"},
		{"serve", "--prompt-timeout", "-1s", "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0"},
	} {
		code, _, errb := runCLI(t, args...)
		if code != exitUsage || strings.Contains(errb, "unknown flag") {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, errb)
		}
		t.Logf("%v: %s", args, errb)
	}
}

// TestDecodeHexFirst: hex given where decode's or ota's kind belongs (a
// README reader's `simlab decode 00A4…`) is a usage error that says to name
// the kind first, listing them.
func TestDecodeHexFirst(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"decode", "00A40004023F00"}, "simlab decode apdu|cat|ota|tpdu HEX"},
		{[]string{"decode", "00 a4 00 04"}, "simlab decode apdu|cat|ota|tpdu HEX"},
		{[]string{"ota", "0020150619"}, "simlab ota open|open-por|seal|seal-por HEX"},
	} {
		code, _, errb := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(errb, "looks like hex") || !strings.Contains(errb, c.want) {
			t.Errorf("%q: exit %d: %q, want %d naming %q", c.args, code, errb, exitUsage, c.want)
		}
	}
	if _, _, errb := runCLI(t, "phone", "cafe"); strings.Contains(errb, "hex") {
		t.Errorf("phone cafe: %q: only decode and ota take hex", errb)
	}
}
