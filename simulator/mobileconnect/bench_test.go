//go:build linux

package mobileconnect_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/internal/testlog"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// The benchmarks of docs/benchmarks.md (k): full LoA3 Mobile Connect
// logins through the phones beside npm oidc-provider's plain code flows,
// and the CPU a login costs beside the SIM challenge alone. Run them in
// one go:
//
//	go test -run '^$' -bench 'LoA3|Peer|GatewayLogin|ES256' -benchtime 2000x ./simulator/mobileconnect/

// benchParallelism is goroutines per GOMAXPROCS: logins wait on the phone,
// so many are in flight at once, as many SPs' users would be.
const benchParallelism = 32

// cpuNow is the process's user+system CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is another process's user+system CPU time (/proc/PID/stat).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
}

func benchClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 512
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// rpVerifier is the RP's id_token check, with the JWKS fetched once (as
// RPs cache it): signature, iss, aud, exp, nonce, at_hash, and for Mobile
// Connect acr and hashed_login_hint.
type rpVerifier struct {
	iss, aud string
	keys     jose.JSONWebKeySet
}

func newRPVerifier(hc *http.Client, iss, jwksURI, aud string) (*rpVerifier, error) {
	resp, err := hc.Get(jwksURI)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	v := &rpVerifier{iss: iss, aud: aud}
	return v, json.NewDecoder(resp.Body).Decode(&v.keys)
}

func (v *rpVerifier) verify(idt, at, nonce, acr, hint string) error {
	tok, err := jwt.ParseSigned(idt, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return err
	}
	keys := v.keys.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		return errors.New("kid not in the JWKS")
	}
	var std jwt.Claims
	var c map[string]any
	if err := tok.Claims(keys[0].Key, &std, &c); err != nil {
		return err
	}
	if err := std.Validate(jwt.Expected{Issuer: v.iss, AnyAudience: jwt.Audience{v.aud}, Time: time.Now()}); err != nil {
		return err
	}
	if c["nonce"] != nonce {
		return errors.New("nonce")
	}
	if ah, ok := c["at_hash"].(string); ok {
		h := sha256.Sum256([]byte(at))
		if ah != base64.RawURLEncoding.EncodeToString(h[:16]) {
			return errors.New("at_hash")
		}
	}
	if acr != "" && c["acr"] != acr {
		return fmt.Errorf("acr %v", c["acr"])
	}
	if hint != "" && c["hashed_login_hint"] != mobileconnect.HashLoginHint(hint) {
		return errors.New("hashed_login_hint")
	}
	return nil
}

// postToken redeems a code with client_secret_basic.
func postToken(hc *http.Client, endpoint, id, secret, code, redirect string) (idt, at string, err error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var tr struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != 200 {
		return "", "", fmt.Errorf("token: %d %v", resp.StatusCode, err)
	}
	return tr.IDToken, tr.AccessToken, nil
}

// runParallel runs op b.N times over benchParallelism×GOMAXPROCS
// goroutines and reports ops/s, CPU per op (this process, plus extraPID's
// when set) and how many were lost.
func runParallel(b *testing.B, op func(i int64) error, extraPID int) {
	var next, lost atomic.Int64
	var firstErr sync.Once
	b.SetParallelism(benchParallelism)
	cpu0, extra0, t0 := cpuNow(), procCPU(extraPID), time.Now()
	if extraPID == 0 {
		extra0 = 0
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(next.Add(1)); err != nil {
				lost.Add(1)
				firstErr.Do(func() { b.Logf("first failure: %v", err) })
			}
		}
	})
	b.StopTimer()
	el := time.Since(t0)
	cpu := cpuNow() - cpu0
	if extraPID != 0 {
		cpu += procCPU(extraPID) - extra0
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "logins/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	if extraPID != 0 {
		b.ReportMetric(float64((procCPU(extraPID)-extra0).Microseconds())/float64(b.N), "server-cpu-µs/op")
	}
	b.ReportMetric(float64(lost.Load()), "lost")
	if lost.Load() > 0 {
		b.Errorf("%d of %d lost", lost.Load(), b.N)
	}
}

// BenchmarkLoA3Login: full LoA3 logins — authorize with a login_hint, the
// SIM challenge through SMPP, handset, card and person (PIN), token
// exchange, the RP's id_token verification — each on a phone of its own.
// The server (gateway, SMSC, fleet) runs in a child process (this test
// binary running TestMCBenchServer), the relying party here, so
// server-cpu-µs/op is the server's CPU per login alone.
func BenchmarkLoA3Login(b *testing.B) { benchLogins(b, "full", "3") }

// BenchmarkGatewayLoginHTTP: the same logins against a gateway in a
// child process whose challenges are a replay of one real LoA3 answer:
// server-cpu-µs/op is the gateway's own CPU per login with net/http's
// server, without the SIM challenge and without the relying party.
func BenchmarkGatewayLoginHTTP(b *testing.B) { benchLogins(b, "replay", "3") }

// benchRedirect is the benchmarks' relying party's redirect_uri.
const benchRedirect = "http://127.0.0.1:9/callback"

// benchAuthorizeURL is login i's authorize request to iss, as the
// benchmarks' relying party sends it: Mobile Connect's code flow at acr
// for number 99901000000+phone (login_hint MSISDN:…), state "s<i>", nonce
// "n<i>". It returns the URL, the nonce and the login_hint.
func benchAuthorizeURL(iss, acr string, phone, i int64) (u, nonce, hint string) {
	nonce = "n" + strconv.FormatInt(i, 10)
	hint = "MSISDN:" + strconv.FormatInt(99901000000+phone, 10)
	q := url.Values{"client_id": {mobileconnect.DemoClientID}, "redirect_uri": {benchRedirect}, "response_type": {"code"},
		"scope": {"openid mc_authn"}, "version": {"mc_di_r2_v2.3"}, "acr_values": {acr}, "state": {"s" + strconv.FormatInt(i, 10)},
		"nonce": {nonce}, "login_hint": {hint}}
	return iss + "/authorize?" + q.Encode(), nonce, hint
}

// benchRedeem redeems the code of the authorize redirect to loc at iss's
// token endpoint as the demo client (postToken).
func benchRedeem(hc *http.Client, iss, loc string) (idt, at string, err error) {
	cb, err := url.Parse(loc)
	if err != nil || cb.Query().Get("code") == "" {
		return "", "", fmt.Errorf("no code: %s", loc)
	}
	return postToken(hc, iss+"/token", mobileconnect.DemoClientID, mobileconnect.DemoClientSecret, cb.Query().Get("code"), benchRedirect)
}

// benchGet GETs u and returns the status and the Location header.
func benchGet(hc *http.Client, u string) (int, string, error) {
	resp, err := hc.Get(u)
	if err != nil {
		return 0, "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// benchLogins runs full code flows against a server in a child process,
// as the headless SDKs do: GET /authorize (the redirect when the phone
// answers within the first GET's hold, else the waiting page and GET
// again, held until the login ends: the redirect), POST /token.
func benchLogins(b *testing.B, mode, acr string) {
	srv := startBenchServer(b, "TestMCBenchServer", "SIMLAB_MC_BENCH_SERVER="+mode, nil)
	iss := srv.ready
	hc := benchClient()
	v, err := newRPVerifier(hc, iss, iss+"/jwks", mobileconnect.DemoClientID)
	if err != nil {
		b.Fatal(err)
	}
	get := func(u string) (int, string, error) { return benchGet(hc, u) }
	base := int64(300000)
	if mode == "replay" {
		base = 0
	}
	var gets atomic.Int64
	defer func() { b.ReportMetric(float64(gets.Load())/float64(b.N), "authorize-gets/login") }()
	runParallel(b, func(i int64) error {
		u, nonce, hint := benchAuthorizeURL(iss, acr, base+i%500000, i)
		st, loc, err := get(u)
		gets.Add(1)
		if err != nil || (st != 200 && st != 302) {
			return fmt.Errorf("authorize: %d %v", st, err)
		}
		// The headless SDKs' polling: a repeated GET is held by the
		// gateway until the login ends (Config.AuthorizeHold), so the
		// second brings the redirect; a gateway without the hold is
		// polled at once again (authorize-gets/login counts the GETs).
		for tries := 0; st == 200; tries++ {
			st, loc, err = get(u)
			gets.Add(1)
			if err != nil || (st != 302 && st != 200) || tries > 1000 {
				return fmt.Errorf("authorize again: %d %v", st, err)
			}
		}
		idt, at, err := benchRedeem(hc, iss, loc)
		if err != nil {
			return err
		}
		return v.verify(idt, at, nonce, acr, hint)
	}, srv.pid)
}

// benchChild is the benchmark's end of a server in a child process.
type benchChild struct {
	// ready is the child's READY line after "READY ": its issuer, then
	// whatever else the child tells.
	ready string
	pid   int
	// in is the child's standard input: it reads requests there, and
	// ends when it closes (at the benchmark's end).
	in io.Writer
	// done is closed when the child's standard output ends.
	done chan struct{}
}

// startBenchServer runs this test binary as the test named test (the
// child: TestMCBenchServer, TestMCFloorServer) with env ("NAME=mode")
// added to its environment, and waits for the "READY …" line it prints
// once it serves. The lines it prints after READY go to onLine (nil:
// dropped), one at a time. SIMLAB_MC_BENCH_SERVER_PROFILE names a file
// for the child's CPU profile, written when it ends (docs/benchmarks.md
// (v)).
func startBenchServer(b testing.TB, test, env string, onLine func(string)) *benchChild {
	args := []string{"-test.run", "^" + test + "$", "-test.v"}
	if f := flag.Lookup("test.timeout"); f != nil {
		// The child's life bounded as this test binary's: a child stuck
		// before READY (so before it reads its standard input) does not
		// outlive the benchmark timing out, as it would with none.
		args = append(args, "-test.timeout", f.Value.String())
	}
	if prof := os.Getenv("SIMLAB_MC_BENCH_SERVER_PROFILE"); prof != "" {
		args = append(args, "-test.cpuprofile", prof)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env)
	stderr := &testlog.Buffer{}
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &benchChild{pid: cmd.Process.Pid, in: in, done: make(chan struct{})}
	b.Cleanup(func() {
		in.Close() // the child ends when its standard input does
		// Wait closes out: only once the goroutine below read it to its
		// end, handing onLine the child's last lines, and ended.
		<-c.done
		if err := cmd.Wait(); err != nil {
			b.Logf("%s: %v\n%s", test, err, stderr.String())
		}
	})
	ready := make(chan string, 1)
	// The goroutine drops its own copy of ready once READY came: nil-ing
	// the variable this function receives from would be a data race.
	go func(ready chan<- string) {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if ready != nil {
				if r, ok := strings.CutPrefix(line, "READY "); ok {
					ready <- r
					ready = nil
				}
			} else if onLine != nil {
				onLine(line)
			}
		}
		if ready != nil {
			close(ready)
		}
		io.Copy(io.Discard, out) // a line too long for the scanner: the child must not block on it
	}(ready)
	r, ok := <-ready
	if !ok {
		b.Fatalf("%s ended before READY\n%s", test, stderr.String())
	}
	c.ready = r
	return c
}

// TestMCBenchServer is the child of benchLogins: skipped unless
// SIMLAB_MC_BENCH_SERVER names a mode. It prints "READY <issuer>" and
// serves until its standard input closes.
func TestMCBenchServer(t *testing.T) {
	mode := os.Getenv("SIMLAB_MC_BENCH_SERVER")
	if mode == "" {
		t.Skip("the benchmarks' server process (SIMLAB_MC_BENCH_SERVER)")
	}
	var iss string
	switch mode {
	case "full":
		iss = simtest.NewServer(t).Issuer()
	case "replay":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		iss = "http://" + ln.Addr().String() + "/mc"
		srv := &http.Server{Handler: replayGateway(t, recordLoA3(t), iss).Handler()}
		go srv.Serve(ln)
		defer srv.Close()
	default:
		t.Fatalf("mode %q", mode)
	}
	// The JWKS makes and waits for the RSA keys: the parent measures
	// from READY on, without their generation.
	if resp, err := http.Get(iss + "/jwks"); err == nil {
		resp.Body.Close()
	}
	fmt.Printf("READY %s\n", iss)
	io.Copy(io.Discard, os.Stdin)
}

// BenchmarkLoA3LoginInProcess: BenchmarkLoA3Login with the relying party
// in the server's process and waiting with Gateway.AwaitLogin, as the
// first measurement of docs/benchmarks.md (k) did: its cpu-µs/op is the
// server's and the RP's together, kept to compare with that run.
func BenchmarkLoA3LoginInProcess(b *testing.B) {
	s := simtest.NewServer(b)
	gw := s.Gateway()
	hc := benchClient()
	iss := s.Issuer()
	v, err := newRPVerifier(hc, iss, iss+"/jwks", mobileconnect.DemoClientID)
	if err != nil {
		b.Fatal(err)
	}
	get := func(u string) (int, string, error) { return benchGet(hc, u) }
	runParallel(b, func(i int64) error {
		u, nonce, hint := benchAuthorizeURL(iss, "3", 300000+i, i)
		st, loc, err := get(u)
		if err != nil || (st != 200 && st != 302) {
			return fmt.Errorf("authorize: %d %v", st, err)
		}
		if st == 200 {
			if err := gw.AwaitLogin(context.Background(), mobileconnect.DemoClientID, "s"+strconv.FormatInt(i, 10), nonce); err != nil {
				return err
			}
			st, loc, err = get(u)
			if err != nil || st != 302 {
				return fmt.Errorf("authorize again: %d %v", st, err)
			}
		}
		idt, at, err := benchRedeem(hc, iss, loc)
		if err != nil {
			return err
		}
		return v.verify(idt, at, nonce, "3", hint)
	}, 0)
}

// BenchmarkLoA3Challenge: the SIM challenge alone at LoA3, as an OTA push
// server sends it (push.Pusher, signature verified), on the same kind of
// server: the denominator of the gateway's overhead.
func BenchmarkLoA3Challenge(b *testing.B) {
	s := simtest.NewServer(b)
	p, err := push.New(context.Background(), push.Config{SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "bench", Window: 50, AddressRange: "99955515"},
		Binds: 2, Source: "99955515"})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	runParallel(b, func(i int64) error {
		res, err := p.Push(context.Background(), push.Request{MSISDN: strconv.FormatInt(99901000000+600000+i, 10), LoA: authn.LoA3,
			ClientName: "demo", Timeout: 60 * time.Second})
		if err != nil {
			return err
		}
		if res.Outcome != "approved" || !res.SignatureValid {
			return fmt.Errorf("%s (signature valid %v)", res.Outcome, res.SignatureValid)
		}
		return nil
	}, 0)
}

// BenchmarkRPVerify: the RP's id_token verification alone (ES256), to
// take out of the login's CPU when computing the gateway's overhead.
func BenchmarkRPVerify(b *testing.B) {
	s := simtest.NewServer(b)
	res := s.Login(b, "99901000299", "3")
	hc := benchClient()
	v, err := newRPVerifier(hc, s.Issuer(), s.Issuer()+"/jwks", mobileconnect.DemoClientID)
	if err != nil {
		b.Fatal(err)
	}
	nonce, _ := res.Claims["nonce"].(string)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.verify(res.IDToken, res.AccessToken, nonce, "3", "MSISDN:99901000299"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeerOIDCProvider: npm oidc-provider (testdata/peer) doing plain
// code flows with an interaction that logs in and consents at once — no
// phone — driven and verified by the same Go client code.
func BenchmarkPeerOIDCProvider(b *testing.B) {
	node := needs.Command(b, "node", "nodejs")
	if _, err := os.Stat("testdata/peer/node_modules/oidc-provider"); err != nil {
		needs.Missing(b, "npm packages in simulator/mobileconnect/testdata/peer", "scripts/deps.sh test (npm ci)")
	}
	cmd := exec.Command(node, "peer.mjs")
	cmd.Dir = "testdata/peer"
	peerErr := &testlog.Buffer{}
	cmd.Stderr = peerErr
	defer func() {
		if b.Failed() {
			b.Logf("peer stderr:\n%s", peerErr.String())
		}
	}()
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	iss, ok := strings.CutPrefix(strings.TrimSpace(line), "READY ")
	if err != nil || !ok {
		b.Fatalf("peer: %q %v", line, err)
	}
	hc := benchClient()
	v, err := newRPVerifier(hc, iss, iss+"/jwks", "peer")
	if err != nil {
		b.Fatal(err)
	}
	const redirect = "http://127.0.0.1:9/callback"
	runParallel(b, func(i int64) error {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Transport: hc.Transport, Jar: jar, Timeout: time.Minute,
			CheckRedirect: func(r *http.Request, _ []*http.Request) error {
				if strings.HasPrefix(r.URL.String(), redirect) {
					return http.ErrUseLastResponse
				}
				return nil
			}}
		nonce := "n" + strconv.FormatInt(i, 10)
		q := url.Values{"client_id": {"peer"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"s" + strconv.FormatInt(i, 10)}, "nonce": {nonce}}
		resp, err := c.Get(iss + "/auth?" + q.Encode())
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cb, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || cb.Query().Get("code") == "" {
			return fmt.Errorf("peer flow ended at %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		idt, at, err := postToken(hc, iss+"/token", "peer", "peer-secret-peer-secret-peer-secret", cb.Query().Get("code"), redirect)
		if err != nil {
			return err
		}
		return v.verify(idt, at, nonce, "", "")
	}, cmd.Process.Pid)
}
