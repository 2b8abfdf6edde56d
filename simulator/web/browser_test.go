package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

var screenshots = flag.String("screenshots", "", "directory to write the page's screenshots to (docs/img)")

// TestBrowser runs the page in a real browser: e2e/run.mjs (playwright-core,
// pinned in e2e/package-lock.json) drives Debian's chromium, headless,
// against a `simlab serve` started here on loopback ports chosen by the
// system, and another behind an API token. Through a control server of
// this test the script pushes challenges and submits SMS over real SMPP
// binds while the page is open. Outside CI it skips when node, chromium or
// the npm packages are missing (scripts/deps.sh test installs them).
func TestBrowser(t *testing.T) {
	node := needs.Command(t, "node", "nodejs")
	chromium := needs.File(t, "/usr/bin/chromium", "chromium")
	if _, err := os.Stat("e2e/node_modules/playwright-core/package.json"); err != nil {
		needs.Missing(t, "playwright-core in simulator/web/e2e", "scripts/deps.sh test (it runs npm ci in simulator/web/e2e)")
	}
	const token = "e2e-token-3f9c2a"
	main := start(t, simulator.Config{PromptTimeout: 60 * time.Second})
	locked := start(t, simulator.Config{APIToken: token})
	c := &control{t: t, servers: map[string]*simulator.Server{"": main, "token": locked}}
	ctl := httptest.NewServer(c)
	defer ctl.Close()
	if mc := main.MobileConnect(); mc != nil {
		c.rp = &relyingParty{base: ctl.URL, iss: mc.Gateway.Issuer()}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = "e2e"
	cmd.Env = append(os.Environ(),
		"SIMLAB_URL=http://"+main.Addrs().HTTP,
		"SIMLAB_TOKEN_URL=http://"+locked.Addrs().HTTP,
		"SIMLAB_TOKEN="+token,
		"SIMLAB_CONTROL="+ctl.URL,
		"CHROMIUM="+chromium,
		"PROFILE_DIR="+t.TempDir())
	if *screenshots != "" {
		dir, err := filepath.Abs(*screenshots)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "SIMLAB_SCREENSHOTS="+dir)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	passed, failed := 0, 0
	sc := bufio.NewScanner(out)
	var last string
	for sc.Scan() {
		line := sc.Text()
		t.Log(line)
		switch {
		case strings.HasPrefix(line, "ok - "):
			passed++
		case strings.HasPrefix(line, "not ok - "):
			failed++
			last = line
		}
	}
	err = cmd.Wait()
	if failed > 0 || err != nil {
		t.Fatalf("browser scenarios: %d passed, %d failed (%v); last failure: %s", passed, failed, err, last)
	}
	if passed < 10 {
		t.Fatalf("only %d scenarios reported ok", passed)
	}
}

func start(t *testing.T, cfg simulator.Config) *simulator.Server {
	t.Helper()
	cfg.SMPPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	s, err := simulator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// control is the test's side channel for run.mjs: POST /push pushes a
// challenge (push.Pusher, a real SMPP bind) and answers with its result
// once the phone has answered; POST /sms submits a text over SMPP. Under
// /rp/ it is a relying party of the main server's Mobile Connect gateway
// (rp_test.go).
type control struct {
	t       *testing.T
	servers map[string]*simulator.Server
	rp      *relyingParty

	mu      sync.Mutex
	pushers map[string]*push.Pusher
	clients map[string]*client.Client
}

type controlRequest struct {
	Server string `json:"server"`
	MSISDN string `json:"msisdn"`
	LoA    int    `json:"loa"`
	To     string `json:"to"`
	Text   string `json:"text"`
	N      int    `json:"n"`
}

// burst submits n texts "TEXT i" (i from 1) asynchronously and waits for
// every answer.
func burst(ctx context.Context, cl *client.Client, to, text string, n int) error {
	errs := make(chan error, n)
	for i := 1; i <= n; i++ {
		m := &client.Message{Source: client.Address{TON: 5, Addr: "Burst"}, Dest: client.Address{TON: 1, NPI: 1, Addr: to},
			ShortMessage: []byte(fmt.Sprintf("%s %d", text, i))}
		if err := cl.SubmitAsync(ctx, m, func(_ string, err error) { errs <- err }); err != nil {
			return err
		}
	}
	for range n {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func (c *control) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/rp/") && c.rp != nil {
		c.rp.ServeHTTP(w, r)
		return
	}
	var req controlRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	s := c.servers[req.Server]
	if s == nil {
		http.Error(w, "no server "+req.Server, 400)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 90*time.Second)
	defer cancel()
	var res any
	var err error
	switch r.URL.Path {
	case "/push":
		var p *push.Pusher
		if p, err = c.pusher(req.Server, s); err == nil {
			loa := authn.LoA2
			if req.LoA == 3 {
				loa = authn.LoA3
			}
			res, err = p.Push(ctx, push.Request{MSISDN: req.MSISDN, LoA: loa, ClientName: "Example Bank", BindingMessage: "Login 4F2A", Timeout: 60 * time.Second})
		}
	case "/sms":
		var cl *client.Client
		if cl, err = c.client(req.Server, s); err == nil {
			var id string
			id, err = cl.Submit(ctx, &client.Message{Source: client.Address{TON: 5, Addr: "ExampleBank"},
				Dest: client.Address{TON: 1, NPI: 1, Addr: req.To}, ShortMessage: []byte(req.Text)})
			res = map[string]string{"id": id}
		}
	case "/burst":
		// N texts as fast as the bind takes them: more than a page's
		// stream buffer, so the page must catch up from the API.
		var cl *client.Client
		if cl, err = c.client(req.Server, s); err == nil {
			err = burst(ctx, cl, req.To, req.Text, req.N)
			res = map[string]int{"sent": req.N}
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

func (c *control) pusher(name string, s *simulator.Server) (*push.Pusher, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pushers[name]; p != nil {
		return p, nil
	}
	p, err := push.New(context.Background(), push.Config{SMPP: client.Config{Addr: s.Addrs().SMPP, SystemID: "e2e-push", Password: "x", NoReconnect: true}})
	if err != nil {
		return nil, fmt.Errorf("pusher: %w", err)
	}
	if c.pushers == nil {
		c.pushers = map[string]*push.Pusher{}
	}
	c.pushers[name] = p
	c.t.Cleanup(func() { p.Close(context.Background()) })
	return p, nil
}

func (c *control) client(name string, s *simulator.Server) (*client.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.clients[name]; cl != nil {
		return cl, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, client.Config{Addr: s.Addrs().SMPP, SystemID: "e2e-sms", Password: "x", Mode: client.Transmitter, NoReconnect: true})
	if err != nil {
		return nil, fmt.Errorf("SMPP client: %w", err)
	}
	if c.clients == nil {
		c.clients = map[string]*client.Client{}
	}
	c.clients[name] = cl
	c.t.Cleanup(func() { cl.Close(context.Background()) })
	return cl, nil
}
