package simulator

import (
	"os"
	"regexp"
	"testing"
)

// TestDocsConfigExamples: the serve configuration examples in the docs
// load as written, without warnings, and pass Validate.
func TestDocsConfigExamples(t *testing.T) {
	t.Parallel()
	block := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	for _, f := range []string{"../docs/cli.md", "../docs/smsc-client-store.md", "../docs/smsc.md", "../docs/load-distributed.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks := block.FindAllSubmatch(b, -1)
		if len(blocks) == 0 {
			t.Errorf("%s: no yaml example", f)
		}
		for i, m := range blocks {
			cfg, warn, err := ParseConfig(m[1])
			if err != nil || len(warn) > 0 {
				t.Errorf("%s example %d: %v %q", f, i+1, err, warn)
				continue
			}
			if err := cfg.WithDefaults().Validate(); err != nil {
				t.Errorf("%s example %d: %v", f, i+1, err)
			}
		}
	}
}
