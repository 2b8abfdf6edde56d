package simtest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsGoSnippetsRun: every Go snippet in the guides that show the API
// client and simtest is cut from an example test that runs (a line "…"
// skips lines), so the docs cannot show code that does not work.
func TestDocsGoSnippetsRun(t *testing.T) {
	t.Parallel()
	var examples []string
	for _, f := range []string{"example_test.go", "../apiclient/example_test.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, strings.Join(normalise(string(b)), "\n"))
	}
	n := 0
	for _, doc := range []string{"../../docs/api.md", "../../docs/capture-api.md", "../../README.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, block := range strings.Split(string(b), "```go\n")[1:] {
			code, _, _ := strings.Cut(block, "```")
			for _, chunk := range strings.Split(code, "…\n") {
				lines := normalise(chunk)
				if len(lines) == 0 {
					continue
				}
				n++
				want := strings.Join(lines, "\n")
				found := false
				for _, ex := range examples {
					found = found || strings.Contains(ex, want)
				}
				if !found {
					t.Errorf("%s, Go block %d: not in an example test:\n%s", filepath.Base(doc), i+1, want)
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("found %d Go snippets in the docs, expected the From Go sections", n)
	}
}

// normalise trims every line and drops blank ones.
func normalise(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
