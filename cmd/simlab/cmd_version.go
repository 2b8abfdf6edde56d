package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

// versionInfo is the output of `simlab version --json`.
type versionInfo struct {
	Module    string          `json:"module"`
	Version   string          `json:"version"`
	Commit    string          `json:"commit,omitempty"`
	Modified  bool            `json:"modified,omitempty"`
	GoVersion string          `json:"go_version"`
	Platform  string          `json:"platform"`
	CGO       bool            `json:"cgo"`
	Features  map[string]bool `json:"features"`
}

func buildVersion() versionInfo {
	v := versionInfo{
		Module:    "github.com/simlab-dev/simlab",
		Version:   "(devel)",
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		CGO:       cgoEnabled,
		Features:  compiledFeatures(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	return v
}

func newVersionCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version and compiled-in features",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := buildVersion()
			if asJSON {
				return writeJSON(a.stdout, v)
			}
			fmt.Fprintf(a.stdout, "simlab %s", v.Version)
			if v.Commit != "" {
				fmt.Fprintf(a.stdout, " (%.12s", v.Commit)
				if v.Modified {
					fmt.Fprint(a.stdout, ", modified")
				}
				fmt.Fprint(a.stdout, ")")
			}
			fmt.Fprintf(a.stdout, " %s %s cgo=%v\n", v.GoVersion, v.Platform, v.CGO)
			for _, name := range sortedKeys(v.Features) {
				state := "not compiled in"
				if v.Features[name] {
					state = "compiled in"
				}
				fmt.Fprintf(a.stdout, "  %-8s %s\n", name, state)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print machine-readable JSON")
	return c
}
