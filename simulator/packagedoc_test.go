package simulator

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPackageDocNamesEveryFile: the package doc lists every file, so that
// a reader sees the package at a glance (review 1, L7: it named neither
// namespaces.go, serve_mc.go, control_attach.go nor config_yaml.go).
func TestPackageDocNamesEveryFile(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "serve.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		if b, err := os.ReadFile(name); err == nil && strings.HasPrefix(string(b), "//go:build ignore") {
			continue
		}
		// The whole name: attach.go is not named by control_attach.go.
		if !regexp.MustCompile(`(^|[^\w])` + regexp.QuoteMeta(name)).MatchString(doc) {
			t.Errorf("the package doc (serve.go) does not name %s", name)
		}
	}
}
