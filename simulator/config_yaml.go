package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/simlab-dev/simlab/internal/secretfile"
	"github.com/simlab-dev/simlab/internal/yamlmsg"
)

// deprecatedKeys are the keys of `simlab smsc serve`'s old configuration
// that load under their new names, with a warning.
var deprecatedKeys = map[string]string{
	"accounts":   "smpp_accounts",
	"fault_seed": "seed",
	"tls":        "smpp_tls",
}

// movedKeys are keys of a section that moved to another section: the
// Mobile Connect gateway's TLS settings became the HTTP listener's
// (section.key → section.key).
var movedKeys = []struct{ from, fromKey, to, toKey string }{
	{"mobile_connect", "tls_cert", "https", "cert"},
	{"mobile_connect", "tls_key", "https", "key"},
	{"mobile_connect", "tls_self_signed", "https", "self_signed"},
	{"mobile_connect", "tls_self_signed_out", "https", "self_signed_out"},
}

// moveNestedKeys moves the movedKeys found in root to their new section
// (made when missing), with a warning naming the new key; a key set under
// both names is an error.
func moveNestedKeys(root *yaml.Node) (warnings []string, err error) {
	section := func(name string) *yaml.Node {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == name && root.Content[i+1].Kind == yaml.MappingNode {
				return root.Content[i+1]
			}
		}
		return nil
	}
	for _, m := range movedKeys {
		from := section(m.from)
		if from == nil {
			continue
		}
		for i := 0; i+1 < len(from.Content); i += 2 {
			k := from.Content[i]
			if k.Value != m.fromKey {
				continue
			}
			v := from.Content[i+1]
			from.Content = append(from.Content[:i:i], from.Content[i+2:]...)
			warnings = append(warnings, fmt.Sprintf("line %d: %q is deprecated, use %q", k.Line, m.from+"."+m.fromKey, m.to+"."+m.toKey))
			to := section(m.to)
			if to == nil {
				to = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: k.Line, Column: k.Column}
				root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: m.to, Line: k.Line, Column: k.Column}, to)
			}
			for j := 0; j+1 < len(to.Content); j += 2 {
				if to.Content[j].Value == m.toKey {
					return warnings, fmt.Errorf("line %d: %q is set twice (also line %d, under its old name %q)",
						to.Content[j].Line, m.to+"."+m.toKey, k.Line, m.from+"."+m.fromKey)
				}
			}
			nk := *k
			nk.Value = m.toKey
			to.Content = append(to.Content, &nk, v)
			break
		}
	}
	return warnings, nil
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
	moved, err := moveNestedKeys(root)
	warnings = append(warnings, moved...)
	if err != nil {
		return cfg, warnings, err
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
	if err := explicitTimeouts(root, &cfg); err != nil {
		return Config{}, warnings, err
	}
	return cfg, warnings, nil
}

// explicitTimeouts refuses an http_limits timeout written as 0 or below:
// net/http takes it as "no timeout", which would silently turn the
// slowloris protection off; left out, a timeout takes its default.
func explicitTimeouts(root *yaml.Node, cfg *Config) error {
	timeouts := map[string]time.Duration{
		"read_header_timeout": cfg.HTTPLimits.ReadHeaderTimeout,
		"read_timeout":        cfg.HTTPLimits.ReadTimeout,
		"idle_timeout":        cfg.HTTPLimits.IdleTimeout,
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "http_limits" || root.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := root.Content[i+1]
		for j := 0; j+1 < len(m.Content); j += 2 {
			if d, ok := timeouts[m.Content[j].Value]; ok && d <= 0 {
				return fmt.Errorf("line %d: http_limits.%s: want a duration above 0 (leave it out for the default)", m.Content[j].Line, m.Content[j].Value)
			}
		}
	}
	return nil
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
//
// A file that group or others may read (beyond what secretfile.Private
// allows: a root-owned file its group may read) is refused when it holds
// the API token (as a token file is, ReadTokenFile: the token guards the API
// beyond loopback), and warned about when it holds other secrets (SMPP
// account passwords, the gateway's client secrets and SMPP password,
// attached cards' PINs): those are often a CI's test credentials in a
// config file checked out of git, which git writes 0644.
func LoadConfig(path string) (Config, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Config{}, nil, err
	}
	b, err := io.ReadAll(f)
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
	if perm := fi.Mode().Perm(); !secretfile.Private(fi) {
		if cfg.APIToken != "" {
			return Config{}, warn, fmt.Errorf("config %s: it holds api_token and is accessible to group or others (mode %04o): %s, or move the token to --api-token-file", path, perm, secretfile.Advice)
		}
		if what := otherSecrets(&cfg); what != "" {
			warn = append(warn, fmt.Sprintf("config %s: it holds %s and is accessible to group or others (mode %04o): %s unless these are test credentials", path, what, perm, secretfile.Advice))
		}
	}
	return cfg, warn, nil
}

// otherSecrets names the secrets other than the API token that cfg holds,
// "" if none.
func otherSecrets(cfg *Config) string {
	var what []string
	for _, a := range cfg.Accounts {
		if a.Password != "" {
			what = append(what, "smpp_accounts passwords")
			break
		}
	}
	for _, c := range cfg.MobileConnect.Clients {
		if c.Secret != "" {
			what = append(what, "mobile_connect client secrets")
			break
		}
	}
	if cfg.MobileConnect.SMPPPassword != "" {
		what = append(what, "mobile_connect.smpp_password")
	}
	for _, a := range cfg.Lab.Attach {
		if a.PIN != "" {
			what = append(what, "attach PINs")
			break
		}
	}
	return strings.Join(what, ", ")
}
