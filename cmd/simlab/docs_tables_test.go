package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// tableDelimiter is a Markdown table's delimiter row: | --- | :-: | …
var tableDelimiter = regexp.MustCompile(`^\|[\s:|-]+\|?\s*$`)

// TestDocsTablesHaveHeaders: a Markdown table starts with a header row and
// its delimiter row; rows after a blank line inside a table start a new
// "table" without them, which GitHub shows as a paragraph of pipes (load.md's
// report fields lost their last rows that way).
func TestDocsTablesHaveHeaders(t *testing.T) {
	t.Parallel()
	for _, page := range docPages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		fence := false
		for i, l := range lines {
			if strings.HasPrefix(l, "```") {
				fence = !fence
			}
			if fence || !strings.HasPrefix(l, "|") || (i > 0 && strings.HasPrefix(lines[i-1], "|")) {
				continue
			}
			if i+1 >= len(lines) || !tableDelimiter.MatchString(lines[i+1]) {
				t.Errorf("%s:%d: a table row with no header and delimiter row above it: %.60s", page, i+1, l)
			}
		}
	}
}
