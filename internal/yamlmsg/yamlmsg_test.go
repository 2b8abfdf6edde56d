package yamlmsg

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestMessageHasNoGoTypes: type errors say what the value should be, in
// words; unknown fields are unknown keys.
func TestMessageHasNoGoTypes(t *testing.T) {
	t.Parallel()
	type doc struct {
		On      bool              `yaml:"on"`
		N       int               `yaml:"n"`
		Wait    time.Duration     `yaml:"wait"`
		List    []string          `yaml:"list"`
		Labels  map[string]string `yaml:"labels"`
		Section struct {
			X float64 `yaml:"x"`
		} `yaml:"section"`
	}
	for _, c := range []struct{ in, want string }{
		{"on: maybe\n", `line 1: "maybe" is not true or false`},
		{"n: many\n", `"many" is not a whole number`},
		{"list: 3\n", `"3" is not a list`},
		{"labels: [a]\n", `a list is not a mapping`},
		{"section: 4\n", `"4" is not a mapping of settings`},
		{"colour: red\n", `unknown key "colour"`},
	} {
		dec := yaml.NewDecoder(bytes.NewReader([]byte(c.in)))
		dec.KnownFields(true)
		var d doc
		err := dec.Decode(&d)
		if err == nil {
			t.Fatalf("%q: no error", c.in)
		}
		got := Message(err)
		if !strings.Contains(got, c.want) || strings.Contains(got, "!!") || strings.Contains(got, "unmarshal") || strings.Contains(got, "yamlmsg.") {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}
