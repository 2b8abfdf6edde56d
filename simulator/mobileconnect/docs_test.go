package mobileconnect_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/internal/needs"
)

// TestDocsWalkthrough runs the curl walkthrough of docs/mobile-connect.md
// as written, against a live server, and compares its output with the
// output the page shows.
func TestDocsWalkthrough(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		needs.Command(t, tool, tool)
	}
	doc, err := os.ReadFile("../../docs/mobile-connect.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(doc)
	sec = sec[strings.Index(sec, "## Walkthrough with curl"):]
	sec = sec[:strings.Index(sec, "\n## ")]
	blocks, outs := fences(sec, "sh"), fences(sec, "")
	if len(blocks) != 2 || len(outs) != 1 {
		t.Fatalf("the walkthrough has %d sh blocks and %d output blocks", len(blocks), len(outs))
	}
	s, _ := server(t, nil)
	script := "set -euo pipefail\n" + blocks[0] + blocks[1]
	script = strings.ReplaceAll(script, "http://127.0.0.1:8775", strings.TrimSuffix(s.Issuer(), "/mc"))
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	// mc_version, the redirect, then the documented output.
	if len(lines) < 3 || lines[0] != `["mc_v1.1","mc_v2.0","mc_di_r2_v2.3","mc_si_r2_v1.0"]` ||
		!strings.HasPrefix(lines[1], "http://127.0.0.1:9/callback?code=") {
		t.Fatalf("walkthrough output:\n%s", out)
	}
	if got, want := strings.Join(lines[2:], "\n"), strings.TrimSpace(outs[0]); got != want {
		t.Fatalf("the walkthrough printed\n%s\nthe page says\n%s", got, want)
	}
}

// fences returns the fenced code blocks of markdown md whose info string
// is lang.
func fences(md, lang string) []string {
	var out []string
	var cur strings.Builder
	inside, keep := false, false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			if inside && keep {
				out = append(out, cur.String())
			}
			if !inside {
				keep = strings.TrimPrefix(line, "```") == lang
				cur.Reset()
			}
			inside = !inside
			continue
		}
		if inside && keep {
			cur.WriteString(line + "\n")
		}
	}
	return out
}

// TestDocsControlExamples runs the control API examples of
// docs/mobile-connect.md (clients, faults) against a live server.
func TestDocsControlExamples(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl"} {
		needs.Command(t, tool, tool)
	}
	doc, err := os.ReadFile("../../docs/mobile-connect.md")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := server(t, nil)
	for _, title := range []string{"### Clients at run time", "## Faults for RP tests"} {
		sec := string(doc)
		sec = sec[strings.Index(sec, title)+len(title):]
		if i := strings.Index(sec, "\n#"); i >= 0 {
			sec = sec[:i]
		}
		blocks := fences(sec, "sh")
		if len(blocks) != 1 {
			t.Fatalf("%s: %d sh blocks", title, len(blocks))
		}
		script := "set -euo pipefail\n" + strings.ReplaceAll(blocks[0], "http://127.0.0.1:8775", s.URL)
		out, err := exec.Command("bash", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", title, err, out)
		}
		if strings.Contains(string(out), "s3cret") {
			t.Fatal("a client secret was shown")
		}
	}
}
