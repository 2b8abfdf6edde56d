package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestSimtestAgainstServe: simtest's namespaced helpers drive a `simlab
// serve` process the way a CI job's tests drive its shared service: ten
// parallel tests, each scripting its own phones (one through `simlab phone
// set`), pushing, texting a code and waiting for it, each seeing only its
// own messages.
func TestSimtestAgainstServe(t *testing.T) {
	t.Parallel()
	sp := startServe(t)
	apiURL := "http://" + sp.http
	s := simtest.Connect(t, simtest.Remote{URL: apiURL, SMPPAddr: sp.smpp})
	var (
		mu    sync.Mutex
		owner = map[string]string{} // message id → namespace
	)
	t.Run("group", func(t *testing.T) {
		for i := range 10 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				ns := s.NS(t)
				ctx := t.Context()
				p := ns.Pusher()
				cancelled, texted := ns.Number(""), ns.Number("approve")
				if code, _, errb := runCLI(t, "phone", "set", "--api", apiURL, cancelled, "--answer", "cancel"); code != exitOK {
					t.Fatalf("phone set: exit %d: %s", code, errb)
				}
				res, err := p.Push(ctx, push.Request{MSISDN: cancelled, LoA: authn.LoA2, Timeout: 20 * time.Second})
				if err != nil || res.Outcome != "cancelled" || !res.SignatureValid {
					t.Fatalf("push: %+v %v", res, err)
				}
				code := fmt.Sprintf("%06d", 314159+i)
				if _, err := p.SendText(ctx, texted, "Your code is "+code, time.Minute); err != nil {
					t.Fatal(err)
				}
				if got := ns.WaitOTP(ctx, texted); got != code {
					t.Errorf("code %s, want %s", got, code)
				}
				msgs := ns.Messages(apiclient.Filter{})
				if len(msgs) != 3 { // the challenge, its answer, the code
					t.Errorf("%d messages in the namespace, want 3", len(msgs))
				}
				mu.Lock()
				defer mu.Unlock()
				for _, m := range msgs {
					if m.Namespace != ns.Name || (m.To != cancelled && m.To != texted && m.To != ns.Source) {
						t.Errorf("message %s %s→%s of namespace %s in %s", m.ID, m.From, m.To, m.Namespace, ns.Name)
					}
					owner[m.ID] = ns.Name
				}
			})
		}
	})
	list, err := s.API().Messages(t.Context(), apiclient.ListRequest{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Messages) != 30 || len(owner) != 30 {
		t.Errorf("the server holds %d messages, the tests saw %d; want 30", len(list.Messages), len(owner))
	}
}

// TestDocsNamespaceShell runs the shell script of docs/api.md ("Test
// namespaces") as written, against a `simlab serve` process: only the
// server's address differs, and `simlab` on PATH is this binary.
func TestDocsNamespaceShell(t *testing.T) {
	t.Parallel()
	sh, script, rest := apiShellScript(t, "## Test namespaces")
	_, rest, _ = strings.Cut(rest, "```\n")
	want, _, _ := strings.Cut(rest, "```")
	if !strings.Contains(script, "API=http://127.0.0.1:8775\n") {
		t.Fatalf("the script no longer starts from the default address:\n%s", script)
	}
	sp := startServe(t)
	script = strings.Replace(script, "API=http://127.0.0.1:8775\n", "API=http://"+sp.http+"\n", 1)
	bin := t.TempDir()
	shim := "#!/bin/sh\nSIMLAB_TEST_MAIN=1 exec " + os.Args[0] + " \"$@\" --smpp " + sp.smpp + "\n"
	if err := os.WriteFile(filepath.Join(bin, "simlab"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-e", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the script failed: %v\n%s", err, out)
	}
	// The output has the documented lines, with this run's names.
	got, wantLines := strings.Split(strings.TrimSpace(string(out)), "\n"), strings.Split(strings.TrimSpace(want), "\n")
	if len(got) != len(wantLines) {
		t.Fatalf("output:\n%s\nwant lines like:\n%s", out, want)
	}
	for i, w := range wantLines {
		g := got[i]
		switch {
		case strings.HasPrefix(w, "{"):
			if !strings.Contains(g, `"released":1}`) {
				t.Errorf("line %d: %q, want %q", i+1, g, w)
			}
		case strings.Fields(g)[0] != strings.Fields(w)[0] || strings.Contains(w, "approved") != strings.Contains(g, "approved"):
			t.Errorf("line %d: %q, want %q", i+1, g, w)
		}
	}
}

// TestDocsCIJob runs docs/api.md's CI job script as written, `simlab` on
// PATH being this binary, with its `go test` line replaced by a check
// that what it exported reaches the server it started.
func TestDocsCIJob(t *testing.T) {
	t.Parallel()
	sh, script, _ := apiShellScript(t, "In a CI job, start `simlab serve`")
	if !strings.HasSuffix(script, "go test ./...\n") {
		t.Fatalf("the script no longer ends with go test:\n%s", script)
	}
	// serve (the only background job) is stopped however the script ends.
	first, others, _ := strings.Cut(strings.TrimSuffix(script, "go test ./...\n"), "\n")
	script = first + "\ntrap 'kill $! 2>/dev/null' EXIT\n" + others +
		`curl -sf "$SIMLAB_API/healthz" >/dev/null && echo "api ok"` + "\n" +
		`simlab push --smpp "$SIMLAB_SMPP" --to +99900000001 --loa 2 | head -1` + "\n"
	dir, bin := t.TempDir(), t.TempDir()
	shim := "#!/bin/sh\nSIMLAB_TEST_MAIN=1 exec " + os.Args[0] + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "simlab"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "api ok") || !strings.Contains(string(out), "approved") {
		log, _ := os.ReadFile(filepath.Join(dir, "simlab.log"))
		t.Fatalf("the script: %v\n%s\nserve's log:\n%s", err, out, log)
	}
}

// apiShellScript returns the sh (with curl and jq, or skips) and the first
// sh block of docs/api.md after the text after, and the page after it.
func apiShellScript(t *testing.T, after string) (sh, script, rest string) {
	t.Helper()
	sh = needs.Command(t, "sh", "dash")
	needs.Command(t, "curl", "curl")
	needs.Command(t, "jq", "jq")
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), after)
	if !ok {
		t.Fatalf("docs/api.md no longer has %q", after)
	}
	_, rest, _ = strings.Cut(rest, "```sh\n")
	script, rest, _ = strings.Cut(rest, "```")
	return sh, script, rest
}
