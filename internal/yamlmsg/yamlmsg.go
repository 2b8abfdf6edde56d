// Package yamlmsg words the errors of gopkg.in/yaml.v3 for the people who
// write simlab's YAML files (configuration, fleet files, card profiles)
// rather than for Go programmers.
package yamlmsg

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	fieldRe = regexp.MustCompile(`field (.*?) not found in type \S+`)
	// A tag is !!str and the like, or a local one such as !0.
	typeRe   = regexp.MustCompile("cannot unmarshal !!?(\\S*) `([^`]*)` into (\\S+)")
	kindRe   = regexp.MustCompile(`cannot unmarshal !!?(\S*) into (\S+)`)
	friendly = []struct {
		re  *regexp.Regexp
		say string
	}{
		{regexp.MustCompile(`^time\.Duration$`), "a duration such as 30s"},
		{regexp.MustCompile(`^u?int\d*$`), "a whole number"},
		{regexp.MustCompile(`^float\d*$`), "a number"},
		{regexp.MustCompile(`^bool$`), "true or false"},
		{regexp.MustCompile(`^\[\]`), "a list"},
		{regexp.MustCompile(`^map\[`), "a mapping"},
		{regexp.MustCompile(`^string$`), "a string"},
	}
)

// Message rewrites a YAML error for people: the names of Go types that
// yaml.v3 puts in its messages ("cannot unmarshal !!str `maybe` into
// bool") mean nothing to someone writing a config, fleet file or card
// profile: it says "\"maybe\" is not true or false", and an unknown
// field is an unknown key.
func Message(err error) string {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	for i, m := range msgs {
		m = fieldRe.ReplaceAllString(m, `unknown key "$1"`)
		m = typeRe.ReplaceAllStringFunc(m, func(s string) string {
			g := typeRe.FindStringSubmatch(s)
			return fmt.Sprintf("%q is not %s", g[2], kindOf(g[3]))
		})
		m = kindRe.ReplaceAllStringFunc(m, func(s string) string {
			g := kindRe.FindStringSubmatch(s)
			return fmt.Sprintf("a %s is not %s", yamlKind(g[1]), kindOf(g[2]))
		})
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}

func kindOf(goType string) string {
	for _, f := range friendly {
		if f.re.MatchString(goType) {
			return f.say
		}
	}
	return "a mapping of settings"
}

func yamlKind(tag string) string {
	switch tag {
	case "seq":
		return "list"
	case "map":
		return "mapping"
	}
	return "value"
}
