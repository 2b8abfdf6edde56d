package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/simlab-dev/simlab/internal/yamlmsg"
)

// deprecatedKeys are the keys of `simlab smsc serve`'s old configuration
// that load under their new names, with a warning.
var deprecatedKeys = map[string]string{
	"accounts":   "smpp_accounts",
	"fault_seed": "seed",
	"tls":        "smpp_tls",
}

// ParseConfig reads a YAML configuration (docs/cli.md). Old key names load
// under their new ones and are reported in warnings; an unknown key, a
// value of the wrong kind or invalid YAML is an error naming the line. An
// empty document sets nothing.
func ParseConfig(b []byte) (Config, []string, error) {
	cfg, warnings, err := parseConfig(b)
	if err != nil {
		err = fmt.Errorf("config: %w", err)
	}
	return cfg, warnings, err
}

func parseConfig(b []byte) (cfg Config, warnings []string, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return cfg, nil, errors.New(yamlMessage(err))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return cfg, nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cfg, nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return cfg, nil, fmt.Errorf("line %d: want a mapping of settings (key: value)", root.Line)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if nk, ok := deprecatedKeys[k.Value]; ok {
			warnings = append(warnings, fmt.Sprintf("line %d: %q is deprecated, use %q", k.Line, k.Value, nk))
			k.Value = nk
		}
		if l, dup := seen[k.Value]; dup {
			return cfg, warnings, fmt.Errorf("line %d: %q is set twice (also line %d, perhaps under its old name)", k.Line, k.Value, l)
		}
		seen[k.Value] = k.Line
	}
	if err := decodeStrict(root, &cfg); err != nil {
		return Config{}, warnings, errors.New(yamlMessage(err))
	}
	return cfg, warnings, nil
}

// decodeStrict decodes node into v refusing unknown keys. yaml.v3 checks
// known fields only when decoding from text, so the node is written out and
// read back; its keys and values keep their lines because the node is
// encoded with the same structure (errors name lines of the original
// document through a line map).
func decodeStrict(node *yaml.Node, v any) error {
	lines := map[int]int{} // line in the re-encoded text → original line
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return err
	}
	var back yaml.Node
	if err := yaml.Unmarshal(buf.Bytes(), &back); err != nil {
		return err
	}
	mapLines(node, &back, lines)
	dec := yaml.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for i, e := range te.Errors {
			te.Errors[i] = lineRe.ReplaceAllStringFunc(e, func(s string) string {
				var n int
				fmt.Sscanf(s, "line %d", &n)
				if o, ok := lines[n]; ok {
					n = o
				}
				return fmt.Sprintf("line %d", n)
			})
		}
	}
	return err
}

var lineRe = regexp.MustCompile(`line \d+`)

// mapLines records, for each node of b (re-encoded), the line of the same
// node in a (original).
func mapLines(a, b *yaml.Node, lines map[int]int) {
	if a == nil || b == nil {
		return
	}
	if _, ok := lines[b.Line]; !ok {
		lines[b.Line] = a.Line
	}
	if len(a.Content) != len(b.Content) {
		return
	}
	for i := range a.Content {
		mapLines(a.Content[i], b.Content[i], lines)
	}
}

// yamlMessage rewrites a YAML error for people (yamlmsg.Message).
func yamlMessage(err error) string { return yamlmsg.Message(err) }

// LoadConfig reads the YAML configuration file at path (ParseConfig);
// errors and warnings name the file.
func LoadConfig(path string) (Config, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, err
	}
	cfg, warn, err := parseConfig(b)
	for i, w := range warn {
		warn[i] = "config " + path + ": " + w
	}
	if err != nil {
		return Config{}, warn, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, warn, nil
}
