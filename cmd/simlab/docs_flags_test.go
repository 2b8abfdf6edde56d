package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestEveryFlagDocumented: every flag of every command is named (as
// --flag) somewhere in README.md or docs/, so a flag added to a command
// is added to its page too (sms send's --tls-insecure, modem emulate's
// --imei and mc si's --correlation-id were in --help only).
func TestEveryFlagDocumented(t *testing.T) {
	t.Parallel()
	var docs strings.Builder
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(pages, filepath.Join(repoRoot, "README.md")) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	text := docs.String()
	root := newRoot(&app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}})
	walk(root, nil, func(c *cobra.Command, path []string) {
		if c.Hidden || c.Deprecated != "" || c.Name() == "completion" || (len(path) > 0 && path[0] == "completion") {
			return
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Deprecated != "" || f.Name == "help" {
				return
			}
			if !strings.Contains(text, "--"+f.Name) {
				t.Errorf("simlab %s --%s: in no page of README.md or docs/", strings.Join(path, " "), f.Name)
			}
		})
	})
}
