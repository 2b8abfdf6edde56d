package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

// serveProcess is `simlab serve` running as a process of its own: this
// test binary re-executed as the simlab command (TestMain), as a user runs
// it.
type serveProcess struct {
	smpp, http string
	cmd        *exec.Cmd
}

// startServe runs `simlab serve` with args (listen addresses are added:
// port 0 on loopback) and waits for its ready line; the process is killed
// when the test ends.
func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	args = append([]string{"serve", "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0"}, args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SIMLAB_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sp := &serveProcess{cmd: cmd}
	sc := bufio.NewScanner(stderr)
	var lines []string
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if !strings.Contains(line, "ready") {
			continue
		}
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "smpp":
				sp.smpp = v
			case "http":
				sp.http = strings.TrimPrefix(v, "http://")
			}
		}
		if sp.smpp != "" && sp.http != "" {
			break
		}
	}
	if sp.smpp == "" || sp.http == "" {
		t.Fatalf("simlab %s never said it was ready:\n%s", strings.Join(args, " "), strings.Join(lines, "\n"))
	}
	go io.Copy(io.Discard, stderr) // keep the process from blocking on its logs
	return sp
}

// words splits a command line as a POSIX shell does for the quoting the
// README uses: words separated by spaces, '…' and "…" quoting, a comment
// from a # that starts a word.
func words(line string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '#' && !in:
			i = len(line)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// tryItCommands returns the commands of README.md's "Try it" block.
func tryItCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## Try it\n")
	if !ok {
		t.Fatal(`README.md has no "## Try it" section`)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatal(`README.md's "Try it" has no sh block`)
	}
	block, _, _ := strings.Cut(rest, "```")
	var cmds []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			cmds = append(cmds, l)
		}
	}
	if len(cmds) < 3 {
		t.Fatalf("README.md's Try it block has %d commands", len(cmds))
	}
	return cmds
}

// pushWants is what `simlab push` gives for each kind of number the README
// uses, by the magic outcome of the number (docs/numbers.md) and the LoA.
var pushWants = map[string]string{
	"approve":          "approved",
	"cancel":           "cancelled",
	"ignore":           "timeout",
	"no-pin-support 3": "pin_not_supported",
	"no-pin-support":   "approved", // LoA 2 and "3,2"
	"":                 "approved", // the ordinary fleet
}

// TestReadmeTryIt runs the README's "Try it" sequence, read from README.md,
// against `simlab serve` running as a process, then the `simlab load` of
// issue #12 on the same server: every command must do what the README
// says, and the load must complete every challenge (exit status 0).
func TestReadmeTryIt(t *testing.T) {
	t.Parallel()
	srv := startServe(t)
	for _, line := range tryItCommands(t) {
		w := words(line)
		switch {
		case len(w) >= 2 && w[0] == "bin/simlab" && w[1] == "push":
			args := append([]string{"push", "--smpp", srv.smpp}, w[2:]...)
			code, out, errb := runCLI(t, args...)
			if code != exitOK {
				t.Errorf("%s: exit %d: %s", line, code, errb)
				continue
			}
			to, loa, asJSON := "", "", false
			for i, a := range w {
				switch {
				case a == "--to" && i+1 < len(w):
					to = w[i+1]
				case a == "--loa" && i+1 < len(w):
					loa = w[i+1]
				case a == "--json":
					asJSON = true
				}
			}
			_, magic := fleet.Classify(strings.TrimPrefix(to, "+"))
			want, ok := pushWants[magic.Name+" "+loa]
			if !ok {
				want, ok = pushWants[magic.Name]
			}
			// A comment may say what to expect: "# outcome wrong_pin, …".
			if _, c, found := strings.Cut(line, "# outcome "); found {
				want, _, _ = strings.Cut(c, ",")
				want, ok = strings.TrimSpace(want), true
				if _, tries, found := strings.Cut(c, "pin tries left "); found && !strings.Contains(out, "pin tries left  "+strings.TrimSpace(tries)) {
					t.Errorf("%s: the output does not say pin tries left %s:\n%s", line, tries, out)
				}
			}
			if !ok {
				t.Errorf("%s: the test does not know what a %q number gives", line, magic.Name)
				continue
			}
			got := ""
			if asJSON {
				var res struct{ Outcome string }
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Errorf("%s: not JSON: %v\n%s", line, err, out)
				}
				got = res.Outcome
			} else if f := strings.Fields(strings.SplitN(out, "\n", 2)[0]); len(f) == 2 && f[0] == "outcome" {
				got = f[1]
			}
			if got != want {
				t.Errorf("%s: outcome %q, want %q:\n%s", line, got, want, out)
			}
		case len(w) >= 2 && w[0] == "bin/simlab" && w[1] == "phone":
			args := append(append([]string{}, w[1:3]...), "--api", "http://"+srv.http)
			args = append(args, w[3:]...)
			if code, out, errb := runCLI(t, args...); code != exitOK {
				t.Errorf("%s: exit %d: %s%s", line, code, out, errb)
			}
		case len(w) >= 2 && w[0] == "curl":
			u := w[len(w)-1]
			u = strings.Replace(u, "127.0.0.1:8775", srv.http, 1)
			resp, err := http.Get(u)
			if err != nil {
				t.Errorf("%s: %v", line, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var v map[string]any
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil {
				t.Errorf("%s: %s %s", line, resp.Status, body)
			}
			// It shows something: each list it answers has entries.
			for k, x := range v {
				if l, isList := x.([]any); isList && len(l) == 0 {
					t.Errorf("%s: %q is empty: the README shows nothing there\n%s", line, k, body)
				}
			}
		default:
			t.Errorf("README.md's Try it runs %q, which this test does not know how to run: teach it", line)
		}
	}

	// Issue #12's first report: this load, after the pushes above, saw
	// every challenge time out and still exited 0.
	code, out, errb := runCLI(t, "load", "--smpp", srv.smpp, "--to", "+99901010000-+99901010999", "--loa", "3",
		"--rate", "100", "--duration", "2s", "--timeout", "5s")
	if code != exitOK || !strings.Contains(out, "challenges sent 200 = completed 200 + failed 0 + timed out 0") {
		t.Errorf("simlab load after the README: exit %d\n%s%s", code, out, errb)
	}
}

// TestServeAccountsPushLoad: `simlab serve` with accounts configured (an
// account with neither mo_ranges nor default_mo), `simlab push` and
// `simlab load` work with its credentials; an account that cannot take the
// answers is refused at once, saying why.
func TestServeAccountsPushLoad(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "simlab.yaml")
	if err := os.WriteFile(cfg, []byte("smpp_accounts:\n"+
		"  - {system_id: ci, password: secret}\n"+
		"  - {system_id: sender, password: secret, bind_types: transmitter}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, "--config", cfg)
	code, out, errb := runCLI(t, "push", "--smpp", srv.smpp, "--system-id", "ci", "--password", "secret",
		"--to", "+99901000042", "--loa", "3", "--timeout", "10s")
	if code != exitOK || !strings.HasPrefix(out, "outcome         approved") {
		t.Errorf("push with account ci: exit %d\n%s%s", code, out, errb)
	}
	code, out, errb = runCLI(t, "load", "--smpp", srv.smpp, "--system-id", "ci", "--password", "secret", "--to", "+99901011000-+99901011049",
		"--loa", "2", "--rate", "50", "--duration", "1s", "--timeout", "5s")
	if code != exitOK || !strings.Contains(out, "completed 50 + failed 0 + timed out 0") {
		t.Errorf("load with account ci: exit %d\n%s%s", code, out, errb)
	}
	for _, cmd := range [][]string{
		{"push", "--smpp", srv.smpp, "--system-id", "sender", "--password", "secret", "--to", "+99901000043", "--loa", "2"},
		{"load", "--smpp", srv.smpp, "--system-id", "sender", "--password", "secret", "--to", "+99901011100", "--loa", "2", "--duration", "1s"},
	} {
		code, _, errb := runCLI(t, cmd...)
		if code != exitFailure || !strings.Contains(errb, "ESME_RBINDFAIL") || !strings.Contains(errb, "bind_types transceiver") {
			t.Errorf("%s with a transmitter-only account: exit %d: %s", cmd[0], code, errb)
		}
	}
}

// TestServeFleetPushLoad: against `simlab serve --fleet FILE`, `simlab push`
// and `simlab load` work when given the plan (--fleet FILE or --fleet URL),
// and without it fail at once, saying what to give.
func TestServeFleetPushLoad(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "fixtures", "fleets", "lab.yaml")
	srv := startServe(t, "--fleet", file)
	api := "http://" + srv.http
	for _, ref := range []string{file, api} {
		code, out, errb := runCLI(t, "push", "--smpp", srv.smpp, "--fleet", ref, "--to", "+447700900042", "--loa", "3", "--json")
		if code != exitOK || !strings.Contains(out, `"outcome": "approved"`) || !strings.Contains(out, `"signature_valid": true`) {
			t.Errorf("push --fleet %s: exit %d\n%s%s", ref, code, out, errb)
		}
	}
	code, out, errb := runCLI(t, "load", "--smpp", srv.smpp, "--fleet", api, "--to", "+447700900100-+447700900149",
		"--loa", "3", "--rate", "50", "--duration", "1s", "--timeout", "5s")
	if code != exitOK || !strings.Contains(out, "completed 50 + failed 0 + timed out 0") {
		t.Errorf("load --fleet: exit %d\n%s%s", code, out, errb)
	}
	for _, cmd := range [][]string{
		{"push", "--smpp", srv.smpp, "--to", "+447700900042", "--loa", "3"},
		{"load", "--smpp", srv.smpp, "--to", "+447700900100-+447700900149", "--loa", "3", "--duration", "1s"},
	} {
		code, _, errb := runCLI(t, cmd...)
		if code != exitFailure || !strings.Contains(errb, "not in the fleet's plan") || !strings.Contains(errb, "--fleet") {
			t.Errorf("%s without --fleet: exit %d: %s", cmd[0], code, errb)
		}
	}
}
