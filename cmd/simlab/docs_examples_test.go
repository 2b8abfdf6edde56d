package main

// The examples in README.md and docs/*.md run as written (issue #17): this
// file finds every fenced block of the pages and checks it.
//
//   - A block with "$ " prompts is a shell transcript: its commands run, in
//     order and in one bash, in a directory of their own holding the
//     repository's fixtures, docs and applet (and the files a `$ cat FILE`
//     shows, written as shown), against a real
//     `simlab serve` (a process of its own, on ports the OS chooses; one per
//     page, started when the page's first transcript runs). `simlab` is this
//     test binary (TestMain), its default SMSC and API addresses
//     (127.0.0.1:2775, 127.0.0.1:8775) those of the page's server, and
//     both addresses in a command's text are rewritten too, so curl lines
//     reach it. A `$ simlab serve ARGS &` line starts a server with ARGS
//     for its block alone (before the block's other commands). The lines
//     that follow a command are its output: they must appear in the
//     output, in order, compared as written but for what changes from
//     run to run (norm): clock times, dates, durations, ports and message
//     ids are masked, keeping their form (an id its length); counts,
//     statuses, phone numbers, keys, MACs and APDUs are compared as
//     written, and "…" matches anything (a value that depends on what ran
//     before on the page's server: write "…" or give the block a setup
//     that makes it fresh). A block marked exact compares everything as
//     written, one marked random-hex masks its hex values (and decimal
//     ones of 6 or more digits: an OTP) but for their length.
//   - A yaml block loads with the real loaders: a serve configuration
//     (simulator.ParseConfig, then Validate), a fleet file
//     (fleet.ParsePlan) or a card profile (uicc.ParseProfile), whichever
//     its marker names, else the first that takes it.
//   - A go block is the body of an example or test function that `go test`
//     compiles and runs (or a declaration the package compiles): its
//     marker names the function (or type), and every line of the block
//     must be in it, in order, comments aside, "…" matching anything.
//   - Any other block that holds a command (a line starting "simlab ",
//     "bin/simlab ", "curl " or "go ") is a command list: its lines run
//     like a transcript's commands, each must exit 0.
//
// Markers are HTML comments on the line before the block's opening fence
// (GitHub does not show them):
//
//	<!-- docs-test: skip REASON -->   not run; REASON says why (hardware, a
//	                                   benchmark, Kubernetes, …)
//	<!-- docs-test: exact -->          outputs compared as written
//	<!-- docs-test: random-hex REASON -->  the block's hex values are
//	                                   random (REASON says which: a
//	                                   transaction id, a link token):
//	                                   compared by form and length only;
//	                                   it may stand above another marker
//	<!-- docs-test: example PKG FUNC -->  go block: FUNC in PKG's tests
//	<!-- docs-test: compiled PKG FUNC -->  go block that test FUNC in PKG
//	                                   compiles and runs itself, as
//	                                   written (a fragment it wraps)
//	<!-- docs-test: config|fleet|profile -->  yaml block: the loader
//	<!-- docs-test: output -->         not commands: output or a synopsis
//	<!-- docs-test: modem -->          a transcript against the page's
//	                                   emulated modem (docs_modem_test.go)
//	<!-- docs-test: pkcs11 -->         a transcript that makes a SoftHSM2
//	                                   token in its directory: run when the
//	                                   build has cgo (PKCS#11) and
//	                                   softhsm2-util is installed; outputs
//	                                   compared as written
//	<!-- docs-test: setup CMDS -->     shell commands run first, unshown
//	                                   (what the page did before: a push)
//	<!-- docs-test: serve-config YAML -->  this block runs against a server
//	                                   of its own, started with --config
//	                                   holding YAML (flow style, one line;
//	                                   an api_token in it is also given to
//	                                   the commands as $SIMLAB_API_TOKEN)
//
// A block of lines showing optional flags ("[--…]") is a synopsis, not
// run; nor are docs/benchmarks.md's command lists (benchmark recipes, each
// with the figures it gave). The pages docs/mobile-connect.md and docs/web.md belong to other
// work (othersPages).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/spf13/pflag"
)

// docsAddrsEnv carries, to a re-executed simlab, the addresses that stand
// for the documented defaults: "127.0.0.1:2775=HOST:PORT,127.0.0.1:8775=HOST:PORT".
const docsAddrsEnv = "SIMLAB_DOCS_ADDRS"

// runDocsCommand runs the command line of this process through run, as
// simlab does, with every flag whose default names a documented address
// given the test server's instead (docsAddrsEnv), unless the command line
// sets it.
func runDocsCommand() int {
	var pairs []string
	for _, kv := range strings.Split(os.Getenv(docsAddrsEnv), ",") {
		if from, to, ok := strings.Cut(kv, "="); ok {
			pairs = append(pairs, from, to)
		}
	}
	rep := strings.NewReplacer(pairs...)
	args := os.Args[1:]
	if c, _, err := newRoot(&app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}).Find(args); err == nil {
		otp := strings.Contains(" "+strings.Join(args, " ")+" ", " --otp ") || strings.Contains(strings.Join(args, " "), "--loa otp")
		c.Flags().VisitAll(func(f *pflag.Flag) {
			v := rep.Replace(f.DefValue)
			if v == f.DefValue {
				return
			}
			if f.Name == "api" && (c.Name() == "push" || c.Name() == "load") && !otp {
				return // push and load refuse --api without OTPs
			}
			for _, a := range args {
				if a == "--"+f.Name || strings.HasPrefix(a, "--"+f.Name+"=") {
					return
				}
			}
			args = append(args, "--"+f.Name+"="+v)
		})
	}
	return run(context.Background(), args, os.Stdin, os.Stdout, os.Stderr)
}

// docBlock is one fenced block of a page.
type docBlock struct {
	file   string
	line   int // of the opening fence
	lang   string
	marker string // the docs-test marker before it, if any
	// randomHex is the reason of a "random-hex" marker: the block's hex
	// outputs are random (nonces, keys made at run time), compared by
	// length only.
	randomHex string
	body      string
}

func (b docBlock) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var markerRE = regexp.MustCompile(`^<!--\s*docs-test:\s*(.*?)\s*-->\s*$`)

// docBlocks returns the fenced blocks of a markdown file.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []docBlock
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "```") {
			continue
		}
		blk := docBlock{file: path, line: i + 1, lang: strings.TrimSpace(strings.TrimPrefix(l, "```"))}
		// The markers on the lines just before the fence (a blank line
		// between allowed): one saying what the block is, and perhaps a
		// random-hex one.
		for j, blank := i-1, 0; j >= 0 && blank < 2; j-- {
			m := markerRE.FindStringSubmatch(lines[j])
			if m == nil {
				if strings.TrimSpace(lines[j]) != "" {
					break
				}
				blank++
				continue
			}
			if kind, reason, _ := strings.Cut(m[1], " "); kind == "random-hex" {
				blk.randomHex = strings.TrimSpace(reason)
				if blk.randomHex == "" {
					blk.randomHex = "?" // checkPage reports it
				}
			} else if blk.marker == "" {
				blk.marker = m[1]
			}
		}
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body = append(body, lines[i])
		}
		blk.body = strings.Join(body, "\n")
		out = append(out, blk)
	}
	return out
}

// docPages returns README.md and docs/*.md, from the repository's root.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(repoRoot, "README.md")}, pages...)
}

const repoRoot = "../.."

// command is one command of a transcript with the output shown after it.
type command struct {
	line int // in the page
	text string
	want []string
}

// transcript splits a block with "$ " prompts into commands; continuation
// lines (after a trailing backslash or pipe) belong to their command.
func transcript(b docBlock) []command {
	var cmds []command
	lines := strings.Split(b.body, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "$ ") {
			if len(cmds) > 0 {
				cmds[len(cmds)-1].want = append(cmds[len(cmds)-1].want, l)
			}
			continue
		}
		c := command{line: b.line + 1 + i, text: strings.TrimPrefix(l, "$ ")}
		for (strings.HasSuffix(c.text, `\`) || strings.HasSuffix(c.text, "|")) && i+1 < len(lines) {
			i++
			c.text += "\n" + lines[i]
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// hasCommand reports whether a block without prompts holds command lines.
func hasCommand(body string) bool {
	for _, l := range strings.Split(body, "\n") {
		l = strings.TrimSpace(l)
		for _, p := range []string{"simlab ", "bin/simlab ", "curl ", "go "} {
			if strings.HasPrefix(l, p) {
				return true
			}
		}
	}
	return false
}

// runnable lists the programs a block may run without a marker: simlab,
// curl and the shell's own. Anything else (go test, make, kubectl, a
// benchmark's /tmp/simlab) needs a marker saying what to do.
var runnable = regexp.MustCompile(`^(?:simlab|bin/simlab|curl|printf|echo|cat|mkdir|export|for|do|done|jq|openssl|xxd|tr|softhsm2-util|gammu|[A-Z_][A-Z0-9_]*=\S*)(?:\s|$)`)

// unknownCommand returns the first command of script lines that runnable
// does not allow, "" if none.
func unknownCommand(lines []string) string {
	for _, l := range lines {
		for _, c := range regexp.MustCompile(`\s*(?:;|&&|\|\|)\s*`).Split(strings.SplitN(l, "\n", 2)[0], -1) {
			c = strings.TrimSpace(c)
			if c != "" && !runnable.MatchString(c) && !strings.HasPrefix(c, "echo") {
				return c
			}
		}
	}
	return ""
}

// synopsis reports a usage synopsis: a block whose lines show optional
// flags ("[--…]"); it is shown, not run.
func synopsis(body string) bool {
	return !strings.Contains("\n"+body, "\n$ ") && strings.Contains(body, " [--")
}

// serveLine matches `simlab serve ARGS &`, the page's own server.
var serveLine = regexp.MustCompile(`^(?:bin/)?simlab serve(.*?)\s*&?\s*(?:#.*)?$`)

// serveArgs drops the listen addresses of a documented serve line (the
// test's server listens on ports the OS chooses) and returns them, to be
// rewritten in the block's commands.
func serveArgs(w []string) (args []string, smpp, http string) {
	for i := 0; i < len(w); i++ {
		switch {
		case (w[i] == "--smpp" || w[i] == "--http") && i+1 < len(w):
			if w[i] == "--smpp" {
				smpp = w[i+1]
			} else {
				http = strings.TrimPrefix(w[i+1], "http://")
			}
			i++
		case w[i] == "--json": // the ready line startServe reads is the text one
		default:
			args = append(args, w[i])
		}
	}
	if len(args) == 0 {
		args = []string{"--log-level", "warn"} // a server of the block's own all the same
	}
	return args, smpp, http
}

// docsEnv returns the environment and PATH directory that make `simlab`
// this test binary talking to srv.
func docsEnv(t *testing.T, srv *serveProcess) []string {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nexec " + shellQuote(self) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "simlab"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "SIMLAB_TEST_MAIN=1", "NO_COLOR=1",
		docsAddrsEnv+"=127.0.0.1:2775="+srv.smpp+",127.0.0.1:8775="+srv.http)
	return env
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// runScript runs shell text in bash from the repository's root and
// returns its combined output.
func runScript(t *testing.T, env []string, text string) (string, error) {
	return runScriptIn(t, repoRoot, env, text)
}

// runScriptIn runs shell text in bash in dir.
func runScriptIn(t *testing.T, dir string, env []string, text string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", text+"\nwait\n")
	cmd.Dir = dir
	cmd.Env = env
	// A command left in the background (a long poll, a stream) is killed
	// with its shell: the whole process group goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// workDir returns the directory a transcript runs in: a fresh one with
// the repository's fixtures, docs and applet (the paths the pages use),
// and the files a `$ cat FILE` of the transcript shows, written as shown.
func workDir(t *testing.T, cmds []command) (string, error) {
	dir := t.TempDir()
	for _, d := range []string{"fixtures", "docs", "applet"} {
		abs, err := filepath.Abs(filepath.Join(repoRoot, d))
		if err != nil {
			return "", err
		}
		if err := os.Symlink(abs, filepath.Join(dir, d)); err != nil {
			return "", err
		}
	}
	for _, c := range cmds {
		if f := strings.Fields(c.text); len(f) == 2 && f[0] == "cat" && !strings.ContainsAny(f[1], "/<>|$") {
			if err := os.WriteFile(filepath.Join(dir, f[1]), []byte(strings.Join(c.want, "\n")+"\n"), 0o644); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}

// rewrite points a command's documented addresses at srv.
func rewrite(s string, srv *serveProcess) string {
	s = strings.ReplaceAll(s, "bin/simlab ", "simlab ")
	// A stream (curl -N) shows what it got in the first seconds.
	s = regexp.MustCompile(`curl (-sN|-N) `).ReplaceAllString(s, "curl $1 --max-time 3 ")
	s = regexp.MustCompile(`127\.0\.0\.1:8775\b`).ReplaceAllLiteralString(s, srv.http)
	return regexp.MustCompile(`127\.0\.0\.1:2775\b`).ReplaceAllLiteralString(s, srv.smpp)
}

var (
	digitToken = regexp.MustCompile(`[0-9A-Za-z_.+-]*[0-9][0-9A-Za-z_.:+µ-]*`)
	// hexToken is a token of hex digits holding a letter (so not a
	// decimal id, time or port): a key, MAC, APDU, ciphertext or hash.
	hexToken = regexp.MustCompile(`^(?:[0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*)$`)
	allHex   = regexp.MustCompile(`^[0-9A-Fa-f]+$`)
)

// norm masks what changes from run to run and leaves the rest to be
// compared as written (normToken): clock times, dates, durations,
// addresses with a port and message ids are masked, keeping their form;
// every other token holding a digit (a count, a status, an SW, a phone
// number, a key or MAC computed from given inputs) stays as it is. In a
// block marked random-hex (randomHex) hex values are random too. Spaces
// are collapsed.
func norm(s string, randomHex bool) string {
	s = digitToken.ReplaceAllStringFunc(s, func(tok string) string { return normToken(tok, randomHex) })
	return strings.Join(strings.Fields(s), " ")
}

var (
	// timeToken is a clock time, a date or an address with a port
	// (12:08:40.985, 2026-12-07T16:50:00Z, 127.0.0.1:41234): a ":"
	// between digits, or a date.
	timeToken = regexp.MustCompile(`[0-9]:[0-9]|^[0-9]{4}-[0-9]{2}-[0-9]{2}`)
	// durationToken is a duration or a latency: a number with a
	// fraction, or one with a unit of time (48.2, 3.1ms, 250µs, 1m30s).
	durationToken = regexp.MustCompile(`^[0-9]+\.[0-9]+|^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`)
	digitRun      = regexp.MustCompile(`[0-9]+`)
)

// minIDLen is the shortest decimal token taken for a message id (ids are
// 16 digits by default), longer than any phone number (E.164: at most 15).
const minIDLen = 16

// normToken masks one token holding a digit if it is a value that changes
// from run to run: a time, date, address:port or duration keeps its form,
// its runs of digits becoming "#" (12:08:40.985 → #:#:#.#); a message id,
// and in a random-hex block a hex value of 6 or more characters, becomes
// "#hexN", N its length (a random value may come out without a letter).
// Any other token is compared as written.
func normToken(tok string, randomHex bool) string {
	switch {
	case timeToken.MatchString(tok) || durationToken.MatchString(tok):
		return digitRun.ReplaceAllLiteralString(tok, "#")
	case allHex.MatchString(tok) && (len(tok) >= minIDLen && !hexToken.MatchString(tok) || randomHex && len(tok) >= 6):
		return fmt.Sprintf("#hex%d", len(tok))
	}
	return tok
}

// lineMatch reports whether a line matches a documented one, "…" in want
// matching anything (Go blocks: the line's code as written).
func lineMatch(want, got string, exact bool) bool {
	if !exact {
		want, got = norm(want, false), norm(got, false)
	}
	return wantRE(want, true).MatchString(strings.Join(strings.Fields(got), ""))
}

// wantRE is a documented text as a pattern: "…" and "..." match
// anything, whitespace is not compared (pages wrap long JSON lines).
func wantRE(want string, anchored bool) *regexp.Regexp {
	want = strings.Join(strings.Fields(want), "")
	var b strings.Builder
	b.WriteString("(?s)")
	if anchored {
		b.WriteString("^")
	}
	for i, p := range regexp.MustCompile(`…|\.\.\.`).Split(want, -1) {
		if i > 0 {
			b.WriteString(".*?")
		}
		b.WriteString(regexp.QuoteMeta(p))
	}
	if anchored {
		b.WriteString("$")
	}
	return regexp.MustCompile(b.String())
}

// matchOutput checks that each command's documented output appears in the
// block's output, in order, what changes from run to run masked unless
// exact (norm; randomHex masks hex tokens too). It returns the first documented
// output not found.
func matchOutput(wants [][]string, got string, exact, randomHex bool) (string, bool) {
	if !exact {
		got = norm(strings.ReplaceAll(got, "\n", " \n "), randomHex)
	}
	got = strings.Join(strings.Fields(got), "")
	for _, want := range wants {
		w := strings.Join(want, "\n")
		if !exact {
			w = norm(w, randomHex)
		}
		if strings.Trim(w, " …\n") == "" {
			continue
		}
		loc := wantRE(w, false).FindStringIndex(got)
		if loc == nil {
			return w, false
		}
		got = got[loc[1]:]
	}
	return "", true
}

// othersPages are left to the work that owns them (issue #17): their
// examples are checked once their blocks are marked; drop them from here
// then.
var othersPages = map[string]bool{"docs/mobile-connect.md": true, "docs/web.md": true}

// TestDocsExamples runs or loads every example block of README.md and
// docs/*.md (see the top of this file), page by page.
func TestDocsExamples(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	for _, page := range docPages(t) {
		name := strings.TrimPrefix(page, repoRoot+"/")
		if othersPages[name] {
			// Their Go blocks all the same: each compiled by some test.
			for _, b := range docBlocks(t, page) {
				if b.lang == "go" {
					kind, arg, _ := strings.Cut(b.marker, " ")
					checkGo(t, b, kind, arg)
				}
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkPage(t, page)
		})
	}
}

func checkPage(t *testing.T, page string) {
	var srv *serveProcess
	var modem *docsModem
	server := func(args ...string) *serveProcess {
		if len(args) > 0 { // the block's own server
			for i, a := range args { // paths in the pages are from the root
				if p := filepath.Join(repoRoot, a); !strings.HasPrefix(a, "-") && !filepath.IsAbs(a) {
					if _, err := os.Stat(p); err == nil {
						args[i] = p
					}
				}
			}
			return startServe(t, args...)
		}
		if srv == nil {
			srv = startServe(t)
		}
		return srv
	}
	for _, b := range docBlocks(t, page) {
		kind, arg, _ := strings.Cut(b.marker, " ")
		if b.randomHex == "?" {
			t.Errorf("%v: random-hex marker without a reason (which values are random)", b)
		}
		switch {
		case kind == "skip":
			if strings.TrimSpace(arg) == "" {
				t.Errorf("%v: skip marker without a reason", b)
			}
		case kind == "output":
		case kind == "modem":
			if modem == nil {
				modem = startDocsModem(t)
			}
			runTranscript(t, modem.block(b), func(...string) *serveProcess { return modem.srv }, false)
		case kind == "pkcs11":
			// Keys in a SoftHSM2 token made in the transcript's own
			// directory: needs a cgo build and softhsm2-util.
			t.Run(fmt.Sprintf("line%d", b.line), func(t *testing.T) {
				if !cgoEnabled {
					t.Skip("a CGO_ENABLED=0 build has no PKCS#11 backend")
				}
				needs.Command(t, "softhsm2-util", "softhsm2")
				runTranscript(t, b, server, true) // the keys are given: outputs as written
			})
		case b.lang == "yaml":
			checkYAML(t, b, kind)
		case b.lang == "go":
			checkGo(t, b, kind, arg)
		case kind == "serve-config":
			// This block alone runs against a server with the
			// configuration in the marker.
			cfg := filepath.Join(t.TempDir(), "simlab.yaml")
			if err := os.WriteFile(cfg, []byte(arg), 0o600); err != nil {
				t.Fatal(err)
			}
			s := startServe(t, "--config", cfg)
			env := []string{}
			if m := regexp.MustCompile(`api_token:\s*"?([^",}\s]+)`).FindStringSubmatch(arg); m != nil {
				env = append(env, "SIMLAB_API_TOKEN="+m[1]) // the commands have the token, as the page says
			}
			runTranscriptEnv(t, b, func(...string) *serveProcess { return s }, false, env, "")
		case kind == "setup":
			// What the page did before (a push, a script), run first,
			// its output not compared.
			runTranscriptEnv(t, b, server, false, nil, arg)
		case strings.Contains("\n"+b.body, "\n$ "):
			runTranscript(t, b, server, kind == "exact")
		case synopsis(b.body):
		case hasCommand(b.body) || b.lang == "sh" || b.lang == "bash":
			runCommandList(t, b, server)
		}
	}
}

func runTranscript(t *testing.T, b docBlock, server func(...string) *serveProcess, exact bool) {
	runTranscriptEnv(t, b, server, exact, nil, "")
}

// runTranscriptEnv runs a transcript with env added to its commands'
// environment.
func runTranscriptEnv(t *testing.T, b docBlock, server func(...string) *serveProcess, exact bool, env []string, setup string) {
	cmds := transcript(b)
	var script []string
	var want [][]string
	var s *serveProcess
	var addrs []string // documented → actual
	for _, c := range cmds {
		if m := serveLine.FindStringSubmatch(c.text); m != nil {
			args, smpp, http := serveArgs(words(m[1]))
			s = server(args...)
			if smpp != "" {
				addrs = append(addrs, smpp, s.smpp)
			}
			if http != "" {
				addrs = append(addrs, http, s.http)
			}
			continue
		}
		script = append(script, c.text)
		want = append(want, c.want)
	}
	if s == nil {
		s = server()
	}
	if len(script) == 0 {
		return
	}
	if c := unknownCommand(script); c != "" {
		t.Errorf("%v: runs %q: mark the block (docs-test: skip REASON) or teach the test", b, c)
		return
	}
	if setup != "" {
		script = append([]string{"{ " + setup + "; } >/dev/null 2>&1"}, script...)
	}
	text := strings.NewReplacer(addrs...).Replace(rewrite(strings.Join(script, "\n"), s))
	dir, err := workDir(t, cmds)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runScriptIn(t, dir, append(docsEnv(t, s), env...), text)
	if miss, ok := matchOutput(want, out, exact, b.randomHex != ""); !ok {
		t.Errorf("%v: the output lacks %q\nran:\n%s\ngot (%v):\n%s", b, miss, text, err, out)
	}
}

func runCommandList(t *testing.T, b docBlock, server func(...string) *serveProcess) {
	if strings.HasSuffix(b.file, "docs/benchmarks.md") {
		return // recipes of benchmark runs, each section with its figures: not run
	}
	var script []string
	s := (*serveProcess)(nil)
	for _, l := range strings.Split(b.body, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if m := serveLine.FindStringSubmatch(l); m != nil {
			s = server(words(m[1])...)
			continue
		}
		script = append(script, l)
	}
	if c := unknownCommand(script); c != "" {
		t.Errorf("%v: runs %q: mark the block (docs-test: skip REASON or output) or teach the test", b, c)
		return
	}
	if s == nil {
		s = server()
	}
	text := rewrite(strings.Join(script, "\n"), s)
	out, err := runScript(t, docsEnv(t, s), "set -e\n"+text)
	if err != nil {
		t.Errorf("%v: %v\nran:\n%s\ngot:\n%s", b, err, text, out)
	}
}

func checkYAML(t *testing.T, b docBlock, kind string) {
	src := []byte(b.body)
	config := func() error {
		cfg, warn, err := simulator.ParseConfig(src)
		if err != nil {
			return err
		}
		if len(warn) > 0 {
			return fmt.Errorf("warnings %q", warn)
		}
		return cfg.WithDefaults().Validate()
	}
	plan := func() error { _, err := fleet.ParsePlan(src); return err }
	profile := func() error { _, err := uicc.ParseProfile(src); return err }
	loaders := map[string]func() error{"config": config, "fleet": plan, "profile": profile}
	if f, ok := loaders[kind]; ok {
		if err := f(); err != nil {
			t.Errorf("%v: as a %s: %v", b, kind, err)
		}
		return
	}
	var errs []string
	for _, k := range []string{"config", "fleet", "profile"} {
		err := loaders[k]()
		if err == nil {
			return
		}
		errs = append(errs, k+": "+err.Error())
	}
	t.Errorf("%v: no loader takes it (mark it docs-test: config, fleet or profile):\n%s", b, strings.Join(errs, "\n"))
}

// checkGo finds the block's lines, in order, in function fn of package
// dir's tests (go test compiles and runs it).
func checkGo(t *testing.T, b docBlock, kind, arg string) {
	dir, fn, _ := strings.Cut(strings.TrimSpace(arg), " ")
	if (kind != "example" && kind != "compiled") || dir == "" || fn == "" {
		t.Errorf("%v: a Go block no test compiles: mark it docs-test: example PKGDIR FUNC (the example or test holding it)", b)
		return
	}
	body, err := funcSource(filepath.Join(repoRoot, dir), fn)
	if err != nil {
		t.Errorf("%v: %v", b, err)
		return
	}
	if kind == "compiled" {
		// The test extracts the block from the page itself; it must say
		// so (name the page).
		if !strings.Contains(body, filepath.Base(b.file)) {
			t.Errorf("%v: %s in %s does not read %s", b, fn, dir, filepath.Base(b.file))
		}
		return
	}
	src := strings.Split(body, "\n")
	j := 0
	for _, l := range strings.Split(b.body, "\n") {
		l = goLine(l)
		if l == "" || l == "…" || l == "..." {
			continue
		}
		found := false
		for ; j < len(src); j++ {
			if lineMatch(l, goLine(src[j]), true) {
				found = true
				j++
				break
			}
		}
		if !found {
			t.Errorf("%v: %s in %s lacks (in order) %q", b, fn, dir, l)
			return
		}
	}
}

// goLine is a line of Go without its indentation and trailing comment (a
// "//" outside a string literal).
func goLine(l string) string {
	for i := 0; i+1 < len(l); i++ {
		if l[i] == '/' && l[i+1] == '/' && strings.Count(l[:i], "\"")%2 == 0 && strings.Count(l[:i], "`")%2 == 0 {
			l = l[:i]
			break
		}
	}
	return strings.TrimSpace(l)
}

// funcSource returns the source of function (or type) fn in the Go files
// of dir, tests first.
func funcSource(dir, fn string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return "", err
	}
	all, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	for _, f := range append(files, all...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		s := string(b)
		i := strings.Index(s, "\nfunc "+fn+"(")
		if i < 0 {
			i = strings.Index(s, "\ntype "+fn+" ")
		}
		if i < 0 {
			continue
		}
		s = s[i+1:]
		if k := strings.Index(s, "\n}\n"); k >= 0 {
			s = s[:k+2]
		}
		return s, nil
	}
	return "", fmt.Errorf("no func %s in %s/*_test.go", fn, dir)
}
