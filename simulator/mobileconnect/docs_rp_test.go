package mobileconnect_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// docsRPMain wraps the Go block of docs/mobile-connect.md's "With a Go
// relying party" in a program: the block's free names (ctx, id, secret,
// state, nonce) are set before it, its "// … the browser comes back …"
// line becomes a headless browser that follows the authorization URL to
// the callback (code), and the claims the block decodes are printed after
// it. BLOCK1 and BLOCK2 are the block's lines before and after that line,
// as written but for the documented address.
const docsRPMain = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"os"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func main() {
	ctx := context.Background()
	id, secret := os.Getenv("DOCS_CLIENT_ID"), os.Getenv("DOCS_CLIENT_SECRET")
	state, nonce := "docs-rp-state", "docs-rp-nonce"
BLOCK1
	code := browse(url, state)
BLOCK2
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(c)
	fmt.Println(string(out))
}

// browse plays a headless browser (no text/html in Accept, as the GSMA
// SDKs): it GETs the authorization URL until the gateway redirects, and
// returns the code of the callback.
func browse(authURL, state string) string {
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 30 { // each GET is held by the gateway while the phone answers
		resp, err := hc.Get(authURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "authorize:", err)
			os.Exit(1)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			continue
		}
		loc, err := neturl.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
			fmt.Fprintln(os.Stderr, "authorize:", resp.Status, resp.Header.Get("Location"))
			os.Exit(1)
		}
		if !strings.HasPrefix(loc.String(), "http://127.0.0.1:3000/callback?") {
			fmt.Fprintln(os.Stderr, "redirected to", loc)
			os.Exit(1)
		}
		return loc.Query().Get("code")
	}
	fmt.Fprintln(os.Stderr, "authorize: no redirect")
	os.Exit(1)
	return ""
}
`

// requireLine matches a require line of go.mod (in a block or alone).
var requireLine = regexp.MustCompile(`(?m)^(?:require\s+)?\t?([A-Za-z0-9._~\-/]+) (v[^\s]+)`)

// TestDocsGoRP compiles the Go relying-party block of docs/mobile-connect.md
// as written (in a module of its own, with the versions this repository
// pins, from the module cache: no network) and runs it against a live
// gateway: the claims it decodes must be the login's.
func TestDocsGoRP(t *testing.T) {
	t.Parallel()
	goTool := needs.Command(t, "go", "golang-go") // go test puts its own first in PATH
	doc, err := os.ReadFile("../../docs/mobile-connect.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(doc)
	sec = sec[strings.Index(sec, "## With a Go relying party"):]
	sec = sec[:strings.Index(sec, "\n## ")]
	blocks := fences(sec, "go")
	if len(blocks) != 1 {
		t.Fatalf("the section has %d go blocks", len(blocks))
	}
	s, _ := server(t, nil)
	block := strings.ReplaceAll(blocks[0], "http://127.0.0.1:8775", strings.TrimSuffix(s.Issuer(), "/mc"))
	const cut = "// … the browser comes back to the callback with code and state …\n"
	before, after, ok := strings.Cut(block, cut)
	if !ok {
		t.Fatalf("the block has no line %q", cut)
	}
	src := strings.Replace(strings.Replace(docsRPMain, "BLOCK1\n", before, 1), "BLOCK2\n", after, 1)

	dir := t.TempDir()
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	gosum, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	// The module requires what this repository requires (same versions,
	// so go.sum and the module cache have them).
	var mod strings.Builder
	mod.WriteString("module docsrp\n\ngo 1.26.0\n\nrequire (\n")
	for _, m := range requireLine.FindAllStringSubmatch(string(gomod), -1) {
		if m[1] == "go" || m[1] == "module" {
			continue
		}
		mod.WriteString("\t" + m[1] + " " + m[2] + "\n")
	}
	mod.WriteString(")\n")
	for name, data := range map[string][]byte{"go.mod": []byte(mod.String()), "go.sum": gosum, "main.go": []byte(src)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "rp")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the block does not compile: %v\n%s\n%s", err, out, src)
	}
	run := exec.Command(bin)
	run.Env = append(os.Environ(), "DOCS_CLIENT_ID="+mobileconnect.DemoClientID, "DOCS_CLIENT_SECRET="+mobileconnect.DemoClientSecret)
	out, err := run.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("the block failed: %v\n%s%s", err, out, stderr)
	}
	var c struct {
		Nonce           string `json:"nonce"`
		ACR             string `json:"acr"`
		HashedLoginHint string `json:"hashed_login_hint"`
	}
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("the block printed %q: %v", out, err)
	}
	if c.Nonce != "docs-rp-nonce" || c.ACR != "3" || c.HashedLoginHint != mobileconnect.HashLoginHint("MSISDN:99901000123") {
		t.Fatalf("the block decoded %+v", c)
	}
}
