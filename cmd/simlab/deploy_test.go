package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/simlab-dev/simlab/deploy/kubernetes"
	"github.com/simlab-dev/simlab/simulator/load"
)

// manifestContainer is what this test needs of a container in the
// Kubernetes manifests (deploy/kubernetes decodes them strictly).
type manifestContainer struct {
	where       string
	image       string
	args        []string
	completions int // of an Indexed Job; 0 otherwise
}

// manifestContainers reads every container of the manifests, and the
// data of the ConfigMap simlab-load (the load's parameters).
func manifestContainers(t *testing.T) ([]manifestContainer, map[string]string) {
	t.Helper()
	type container struct {
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
	}
	type podSpec struct {
		Containers []container `yaml:"containers"`
	}
	type object struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Data map[string]string `yaml:"data"`
		Spec struct {
			podSpec        `yaml:",inline"`
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Template       struct {
				Spec podSpec `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	var out []manifestContainer
	vars := map[string]string{}
	err := fs.WalkDir(kubernetes.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(kubernetes.Files, path)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o object
			if err := dec.Decode(&o); err == io.EOF {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if o.Kind == "ConfigMap" && o.Metadata.Name == "simlab-load" {
				vars = o.Data
			}
			n := 0
			if o.Spec.CompletionMode == "Indexed" {
				n = o.Spec.Completions
			}
			for _, c := range append(o.Spec.Containers, o.Spec.Template.Spec.Containers...) {
				out = append(out, manifestContainer{where: path + ": " + o.Kind + "/" + o.Metadata.Name, image: c.Image, args: c.Args, completions: n})
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, vars
}

var manifestVar = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// TestManifestArgsParse: the arguments of every simlab container in
// deploy/kubernetes, with the load's ConfigMap values and each shard's
// JOB_COMPLETION_INDEX put in as Kubernetes does, are a command line the
// real command tree accepts: a subcommand, known flags, values of the
// right kind; the shards' --shard values are I/N for I = 0…N-1, N the
// Job's completions.
func TestManifestArgsParse(t *testing.T) {
	t.Parallel()
	cs, vars := manifestContainers(t)
	if len(vars) == 0 {
		t.Fatal("no ConfigMap simlab-load")
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if !strings.HasPrefix(c.image, "simlab:") {
			continue
		}
		indexes := []int{0}
		if c.completions > 0 {
			indexes = indexes[:0]
			for i := 0; i < c.completions; i++ {
				indexes = append(indexes, i)
			}
		}
		for _, i := range indexes {
			env := map[string]string{"JOB_UID": "0b0e4e7a-uid", "JOB_COMPLETION_INDEX": fmt.Sprint(i)}
			for k, v := range vars {
				env[k] = v
			}
			args := make([]string, len(c.args))
			for j, a := range c.args {
				args[j] = manifestVar.ReplaceAllStringFunc(a, func(m string) string {
					v, ok := env[m[2:len(m)-1]]
					if !ok {
						t.Errorf("%s: %s is not defined", c.where, m)
					}
					return v
				})
			}
			root := newRoot(&app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == root {
				t.Errorf("%s: %v is no simlab command: %v", c.where, args, err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("%s: %s: %v", c.where, cmd.CommandPath(), err)
				continue
			}
			if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
				t.Errorf("%s: %s: %v", c.where, cmd.CommandPath(), err)
			}
			seen[cmd.CommandPath()] = true
			fl := cmd.Flags()
			if cmd.CommandPath() == "simlab load" {
				s, _ := fl.GetString("shard")
				sh, err := load.ParseShard(s)
				if err != nil || sh != (load.Shard{Index: i, Count: c.completions}) {
					t.Errorf("%s: --shard %q for index %d of %d: %v", c.where, s, i, c.completions, err)
				}
				to, _ := fl.GetString("to")
				if _, err := load.ParseRange(to); err != nil {
					t.Errorf("%s: --to %q: %v", c.where, to, err)
				}
				if d, _ := fl.GetDuration("duration"); d <= 0 || d > time.Hour {
					t.Errorf("%s: --duration %v", c.where, d)
				}
			}
		}
	}
	for _, want := range []string{"simlab serve", "simlab load", "simlab load merge"} {
		if !seen[want] {
			t.Errorf("no container runs %q", want)
		}
	}
}

// TestDockerfile: the image the manifests run builds this command
// without cgo, from the Go release go.mod names, runs it as its
// entrypoint, and its default command parses.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	df := string(b)
	for _, want := range []string{
		"FROM golang:" + string(goLine[1]) + "-",
		"RUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /out/simlab ./cmd/simlab",
		"COPY --from=build /out/simlab /simlab",
		`ENTRYPOINT ["/simlab"]`,
		"USER 65532:65532",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("deploy/Dockerfile lacks %q", want)
		}
	}
	m := regexp.MustCompile(`(?m)^CMD (\[.*\])$`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal("deploy/Dockerfile has no CMD")
	}
	var args []string
	if err := json.Unmarshal([]byte(m[1]), &args); err != nil {
		t.Fatal(err)
	}
	root := newRoot(&app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	cmd, rest, err := root.Find(args)
	if err != nil || cmd.Name() != "serve" || cmd.ParseFlags(rest) != nil {
		t.Errorf("CMD %v does not parse as simlab serve: %v", args, err)
	}
}
