//go:build linux

package mobileconnect_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/sys/unix"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
)

// The floor under the gateway's own CPU per login (issue #13,
// docs/benchmarks.md (ab)): the least any server must spend here to answer
// one headless login — two HTTP/1.1 exchanges over loopback TCP with
// keep-alive and one ES256 signature — measured as
// BenchmarkGatewayLoginHTTP measures the gateway: the server in a child
// process, its CPU from /proc, the relying party in this one.
//
// The child first records one real login against a gateway (the same
// replayed LoA3 answer as BenchmarkGatewayLoginHTTP's): the answers' bytes
// as the gateway wrote them (the 302 with its Location, the token answer
// with its id_token). It then serves those bytes to every login, looking
// at a request only to find its end (Content-Length for the POST) and to
// tell the two apart, and signs each id_token afresh through the key
// store's constant-time signer as the gateway does (hsm/soft, crypto/ecdsa,
// RFC 6979), its claims the recorded ones with a per-login jti. The relying
// party sends the requests benchLogins sends (the same client and
// request-building), 64 in flight, and checks every answer: status, code,
// the id_token's length and its signature under the child's key; the
// child counts what it answered and what it refused.
//
//	go test -run '^$' -bench 'LoginFloor' -benchtime 3000x ./simulator/mobileconnect/

// floorModes are the floor's sub-benchmarks: the server (raw TCP or
// net/http) and whether it signs each id_token ("nosign": the two
// exchanges alone, the answer's signature made once at start).
var floorModes = []string{"raw", "raw-nosign", "nethttp", "nethttp-nosign"}

// BenchmarkLoginFloor: the floor's server in a child process, per mode.
// server-cpu-µs/op is its CPU per login; sign-cpu-µs/op the signature's
// alone in that loaded server (the thread's CPU clock around each
// signature).
func BenchmarkLoginFloor(b *testing.B) {
	for _, mode := range floorModes {
		b.Run(mode, func(b *testing.B) { benchFloor(b, mode) })
	}
}

func benchFloor(b *testing.B, mode string) {
	fs := startFloorServer(b, mode)
	hc := benchClient()
	before, err := fs.stats()
	if err != nil {
		b.Fatal(err)
	}
	runParallel(b, func(i int64) error {
		idt, err := floorLogin(hc, fs.iss, i)
		if err != nil {
			return err
		}
		return fs.check(idt)
	}, fs.pid)
	after, err := fs.stats()
	if err != nil {
		b.Fatal(err)
	}
	// The child's getrusage: finer than /proc's ticks, counted from
	// just before runParallel's start to just after its end.
	b.ReportMetric(float64(after.cpuNs-before.cpuNs)/1e3/float64(b.N), "server-rusage-µs/op")
	// Of which in the kernel (system time): the loopback TCP exchanges'
	// system calls, which any server over TCP makes.
	b.ReportMetric(float64(after.sysNs-before.sysNs)/1e3/float64(b.N), "server-sys-µs/op")
	logins, bad := after.logins-before.logins, after.bad-before.bad
	if logins != int64(b.N) || bad != 0 {
		b.Errorf("the floor's server answered %d token requests for %d logins and refused %d requests", logins, b.N, bad)
	}
	if signs := after.signs - before.signs; signs > 0 {
		b.ReportMetric(float64(after.signNs-before.signNs)/1e3/float64(signs), "sign-cpu-µs/op")
		b.ReportMetric(float64(after.migrated-before.migrated), "sign-migrated")
	}
}

// floorLogin is one headless login as benchLogins makes it, against a
// server that redirects at once: GET /authorize, then POST /token with
// client_secret_basic. It returns the id_token.
func floorLogin(hc *http.Client, iss string, i int64) (string, error) {
	u, _, _ := benchAuthorizeURL(iss, "3", i%500000, i)
	st, loc, err := benchGet(hc, u)
	if err != nil || st != http.StatusFound {
		return "", fmt.Errorf("authorize: %d %v", st, err)
	}
	idt, _, err := benchRedeem(hc, iss, loc)
	return idt, err
}

// floorServer is the parent's end of a floor child.
type floorServer struct {
	*benchChild
	iss    string
	pub    *ecdsa.PublicKey
	idtLen int
	lines  chan string // its STATS lines
}

// floorStats are the child's counters.
type floorStats struct{ logins, bad, signs, signNs, migrated, cpuNs, sysNs int64 }

// check holds an id_token to the recorded length and to a valid ES256
// signature by the child's key over its first two parts.
func (fs *floorServer) check(idt string) error {
	if len(idt) != fs.idtLen {
		return fmt.Errorf("id_token of %d bytes, not %d", len(idt), fs.idtLen)
	}
	dot := strings.LastIndexByte(idt, '.')
	sig, err := base64.RawURLEncoding.DecodeString(idt[dot+1:])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("id_token signature: %d bytes, %v", len(sig), err)
	}
	d := sha256.Sum256([]byte(idt[:dot]))
	if !ecdsa.Verify(fs.pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("id_token signature does not verify")
	}
	return nil
}

// stats asks the child for its counters.
func (fs *floorServer) stats() (floorStats, error) {
	var s floorStats
	if _, err := io.WriteString(fs.in, "STATS\n"); err != nil {
		return s, err
	}
	select {
	case line := <-fs.lines:
		_, err := fmt.Sscanf(line, "STATS %d %d %d %d %d %d %d", &s.logins, &s.bad, &s.signs, &s.signNs, &s.migrated, &s.cpuNs, &s.sysNs)
		return s, err
	case <-fs.done:
		return s, errors.New("floor server: ended")
	case <-time.After(time.Minute):
		return s, errors.New("floor server: no answer to STATS")
	}
}

// startFloorServer runs this test binary as TestMCFloorServer in mode
// (startBenchServer) and reads its READY line.
func startFloorServer(b *testing.B, mode string) *floorServer {
	fs := &floorServer{lines: make(chan string, 4)}
	fs.benchChild = startBenchServer(b, "TestMCFloorServer", "SIMLAB_MC_FLOOR_SERVER="+mode, func(line string) {
		if strings.HasPrefix(line, "STATS ") {
			fs.lines <- line
		}
	})
	var pubHex string
	if _, err := fmt.Sscanf(fs.ready, "%s %s %d", &fs.iss, &pubHex, &fs.idtLen); err != nil {
		b.Fatalf("floor server: %q: %v", fs.ready, err)
	}
	pb, err := hex.DecodeString(pubHex)
	if err == nil {
		fs.pub, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pb)
	}
	if err != nil {
		b.Fatalf("floor server key: %v", err)
	}
	return fs
}

// floorAnswers are a real gateway's answers to one login, as it wrote them.
type floorAnswers struct {
	redirect []byte // the whole 302 answer: status line, headers, body
	token    []byte // the whole token answer
	// The id_token inside token: its header.payload and signature's
	// offsets, and the payload's JSON.
	signedFrom, signedTo, sigTo int
	claims                      []byte
	// The header lines and bodies apart, for net/http.
	redirectHeader, tokenHeader http.Header
	redirectBody, tokenBody     []byte
}

// teeListener keeps a copy of every byte its connections read and write.
type teeListener struct {
	net.Listener
	mu    sync.Mutex
	read  bytes.Buffer
	wrote bytes.Buffer
}

type teeConn struct {
	net.Conn
	l *teeListener
}

func (l *teeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return teeConn{c, l}, nil
}

func (c teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.mu.Lock()
	c.l.read.Write(p[:n])
	c.l.mu.Unlock()
	return n, err
}

func (c teeConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.mu.Lock()
	c.l.wrote.Write(p[:n])
	c.l.mu.Unlock()
	return n, err
}

// all copies what was read and written.
func (l *teeListener) all() (read, wrote []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.read.Bytes()), bytes.Clone(l.wrote.Bytes())
}

// answerEnd is where the first HTTP answer in a ends (its header and its
// Content-Length's body).
func answerEnd(a []byte) (int, error) {
	head, _, ok := bytes.Cut(a, crlf2)
	if !ok {
		return 0, errors.New("no end of header")
	}
	i := bytes.Index(head, contentLength)
	if i < 0 {
		return 0, errors.New("no Content-Length")
	}
	v, _, _ := bytes.Cut(head[i+len(contentLength):], []byte("\r\n"))
	n, err := strconv.Atoi(string(v))
	if err != nil || len(head)+len(crlf2)+n > len(a) {
		return 0, fmt.Errorf("Content-Length %q", v)
	}
	return len(head) + len(crlf2) + n, nil
}

// recordFloorAnswers runs one login by floorLogin against a gateway whose
// challenge is a replayed LoA3 answer, and keeps its two answers' bytes.
func recordFloorAnswers(t *testing.T) *floorAnswers {
	var fa *floorAnswers
	// A subtest, so the recording's server and gateway are gone before the
	// floor serves.
	t.Run("record", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tl := &teeListener{Listener: ln}
		iss := "http://" + ln.Addr().String() + "/mc"
		srv := &http.Server{Handler: replayGateway(t, recordLoA3(t), iss).Handler()}
		go srv.Serve(tl)
		defer srv.Close()
		hc := benchClient()
		defer hc.CloseIdleConnections()
		// The first login warms the connection; the second is kept.
		for i := range int64(2) {
			if _, err := floorLogin(hc, iss, i+1); err != nil {
				t.Fatal(err)
			}
		}
		// Shutdown returns once every connection is idle: the answers'
		// writes (and their copies) are done.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		reqs, answers := tl.all()
		var ends []int
		for at := 0; at < len(answers); {
			n, err := answerEnd(answers[at:])
			if err != nil {
				t.Fatalf("recorded answers %q: %v", answers, err)
			}
			at += n
			ends = append(ends, at)
		}
		get := bytes.LastIndex(reqs, []byte("GET /mc/authorize?"))
		post := bytes.LastIndex(reqs, []byte("POST /mc/token "))
		if len(ends) != 4 || get < 0 || post < get {
			t.Fatalf("recorded %d answers to %q", len(ends), reqs)
		}
		getReq, postReq := reqs[get:post], reqs[post:]
		redirect, token := answers[ends[1]:ends[2]], answers[ends[2]:]
		if !bytes.HasPrefix(getReq, []byte("GET /mc/authorize?")) || !bytes.HasPrefix(postReq, []byte("POST /mc/token HTTP/1.1\r\n")) {
			t.Fatalf("recorded requests:\n%q\n%q", getReq, postReq)
		}
		t.Logf("recorded: GET %d bytes, its answer %d; POST %d bytes, its answer %d", len(getReq), len(redirect), len(postReq), len(token))
		if fa, err = parseFloorAnswers(redirect, token); err != nil {
			t.Fatal(err)
		}
	})
	if fa == nil {
		t.FailNow()
	}
	return fa
}

// parseFloorAnswers finds the id_token in the recorded answers.
func parseFloorAnswers(redirect, token []byte) (*floorAnswers, error) {
	fa := &floorAnswers{redirect: redirect, token: token}
	var err error
	if fa.redirectHeader, fa.redirectBody, err = splitAnswer(redirect, "HTTP/1.1 302 Found\r\n"); err != nil {
		return nil, err
	}
	if fa.tokenHeader, fa.tokenBody, err = splitAnswer(token, "HTTP/1.1 200 OK\r\n"); err != nil {
		return nil, err
	}
	const key = `"id_token":"`
	i := bytes.Index(token, []byte(key))
	if i < 0 {
		return nil, errors.New("no id_token in the token answer")
	}
	fa.signedFrom = i + len(key)
	end := bytes.IndexByte(token[fa.signedFrom:], '"')
	if end < 0 {
		return nil, errors.New("unterminated id_token")
	}
	fa.sigTo = fa.signedFrom + end
	fa.signedTo = fa.signedFrom + bytes.LastIndexByte(token[fa.signedFrom:fa.sigTo], '.')
	if fa.sigTo-fa.signedTo-1 != base64.RawURLEncoding.EncodedLen(64) {
		return nil, fmt.Errorf("id_token signature of %d characters: not ES256", fa.sigTo-fa.signedTo-1)
	}
	payload := token[fa.signedFrom:fa.signedTo]
	payload = payload[bytes.IndexByte(payload, '.')+1:]
	if fa.claims, err = base64.RawURLEncoding.DecodeString(string(payload)); err != nil {
		return nil, err
	}
	if jti := bytes.Index(fa.claims, []byte(`"jti":"`)); jti < 0 || len(fa.claims) < jti+7+16 {
		return nil, errors.New("no 16-character jti in the claims")
	}
	return fa, nil
}

// splitAnswer checks an answer's status line and Content-Length, and
// returns its header (without Date and Content-Length, which net/http
// writes) and body.
func splitAnswer(a []byte, status string) (http.Header, []byte, error) {
	if !bytes.HasPrefix(a, []byte(status)) {
		return nil, nil, fmt.Errorf("answer %q, not %q", a[:min(len(a), 40)], status)
	}
	head, body, ok := bytes.Cut(a[len(status):], []byte("\r\n\r\n"))
	if !ok {
		return nil, nil, errors.New("answer without the end of its header")
	}
	h := http.Header{}
	for line := range strings.SplitSeq(string(head), "\r\n") {
		k, v, _ := strings.Cut(line, ": ")
		h[http.CanonicalHeaderKey(k)] = append(h[http.CanonicalHeaderKey(k)], v)
	}
	if h.Get("Content-Length") != strconv.Itoa(len(body)) {
		return nil, nil, fmt.Errorf("answer's Content-Length %q for %d bytes", h.Get("Content-Length"), len(body))
	}
	h.Del("Content-Length")
	h.Del("Date")
	return h, body, nil
}

// floorSigner signs id_tokens as the gateway does: the key store's
// constant-time crypto.Signer, no Reader (RFC 6979), ASN.1 to r ‖ s.
type floorSigner struct {
	key      crypto.Signer
	sign     bool
	signs    atomic.Int64
	signNs   atomic.Int64
	migrated atomic.Int64
	logins   atomic.Int64
	bad      atomic.Int64
	jti      atomic.Uint64
}

func newFloorSigner(sign bool) (*floorSigner, error) {
	ks := soft.NewMemory()
	ctx := context.Background()
	if err := ks.Generate(ctx, "floor", hsm.ECP256); err != nil {
		return nil, err
	}
	s, err := ks.Signer(ctx, "floor")
	if err != nil {
		return nil, err
	}
	ct, ok := s.(interface{ ConstantTime() crypto.Signer })
	if !ok {
		return nil, errors.New("hsm/soft's signer has no constant-time variant")
	}
	return &floorSigner{key: ct.ConstantTime(), sign: sign}, nil
}

// threadCPU is the calling thread's CPU time in nanoseconds.
func threadCPU() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
}

// fill writes into tok (a copy of fa.token) the id_token of one login:
// the recorded claims with a fresh jti, encoded, hashed and signed.
// Without signing (nosign) it only counts the login: tok already holds a
// signed token.
func (s *floorSigner) fill(fa *floorAnswers, tok, claims []byte) error {
	s.logins.Add(1)
	if !s.sign {
		return nil
	}
	jti := bytes.Index(claims, []byte(`"jti":"`)) + 7
	hex.Encode(claims[jti:jti+16], binary8(s.jti.Add(1)))
	enc := base64.RawURLEncoding
	hdrEnd := fa.signedFrom + bytes.IndexByte(tok[fa.signedFrom:fa.signedTo], '.') + 1
	enc.Encode(tok[hdrEnd:fa.signedTo], claims)
	return s.signInto(fa, tok)
}

func binary8(v uint64) []byte {
	var b [8]byte
	for i := range b {
		b[7-i] = byte(v >> (8 * i))
	}
	return b[:]
}

// signInto signs tok's header.payload and writes the signature in place.
func (s *floorSigner) signInto(fa *floorAnswers, tok []byte) error {
	digest := sha256.Sum256(tok[fa.signedFrom:fa.signedTo])
	t0 := threadCPU()
	der, err := s.key.Sign(nil, digest[:], crypto.SHA256)
	t1 := threadCPU()
	if d := t1 - t0; d >= 0 && d < int64(10*time.Millisecond) {
		s.signs.Add(1)
		s.signNs.Add(d)
	} else {
		// Moved to another thread while signing: the two clocks differ.
		s.migrated.Add(1)
	}
	if err != nil {
		return err
	}
	var raw [64]byte
	in := cryptobyte.String(der)
	var seq, r, sv cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !seq.ReadASN1(&r, asn1.INTEGER) || !seq.ReadASN1(&sv, asn1.INTEGER) ||
		!rightAlign(raw[:32], r) || !rightAlign(raw[32:], sv) {
		return errors.New("floor: malformed ECDSA signature")
	}
	base64.RawURLEncoding.Encode(tok[fa.signedTo+1:fa.sigTo], raw[:])
	return nil
}

// rightAlign copies a positive ASN.1 INTEGER's bytes to the end of dst.
func rightAlign(dst, v []byte) bool {
	v = bytes.TrimLeft(v, "\x00")
	if len(v) > len(dst) {
		return false
	}
	copy(dst[len(dst)-len(v):], v)
	return true
}

// TestMCFloorServer is the child of BenchmarkLoginFloor: skipped unless
// SIMLAB_MC_FLOOR_SERVER names a mode. It records a gateway's answers,
// prints "READY <issuer> <public key, hex> <id_token length>", answers
// "STATS" lines on its standard input with its counters, and serves until
// its standard input closes.
func TestMCFloorServer(t *testing.T) {
	mode := os.Getenv("SIMLAB_MC_FLOOR_SERVER")
	if mode == "" {
		t.Skip("the floor benchmark's server process (SIMLAB_MC_FLOOR_SERVER)")
	}
	iss, fa, fs := serveFloor(t, mode)
	pub, err := fs.key.Public().(*ecdsa.PublicKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("READY %s %x %d\n", iss, pub, fa.sigTo-fa.signedFrom)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "STATS" {
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			fmt.Printf("STATS %d %d %d %d %d %d %d\n", fs.logins.Load(), fs.bad.Load(), fs.signs.Load(), fs.signNs.Load(), fs.migrated.Load(),
				ru.Utime.Nano()+ru.Stime.Nano(), ru.Stime.Nano())
		}
	}
}

// serveFloor records a gateway's answers and serves them in mode on a
// loopback port until the test ends; it returns the issuer.
func serveFloor(t *testing.T, mode string) (string, *floorAnswers, *floorSigner) {
	fa := recordFloorAnswers(t)
	fs, err := newFloorSigner(!strings.HasSuffix(mode, "-nosign"))
	if err != nil {
		t.Fatal(err)
	}
	// The answer every login gets in nosign mode, and the one whose
	// signature checks at start in both.
	signed := bytes.Clone(fa.token)
	if err := fs.signInto(fa, signed); err != nil {
		t.Fatal(err)
	}
	fs.signs.Store(0)
	fs.signNs.Store(0)
	fs.migrated.Store(0)
	fa.token = signed
	fa.tokenBody = signed[len(signed)-len(fa.tokenBody):]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	switch strings.TrimSuffix(mode, "-nosign") {
	case "raw":
		go serveFloorRaw(ln, fa, fs)
	case "nethttp":
		srv := &http.Server{Handler: floorHandler(fa, fs)}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	default:
		t.Fatalf("mode %q", mode)
	}
	return "http://" + ln.Addr().String() + "/mc", fa, fs
}

// serveFloorRaw answers each connection's requests with the recorded bytes.
// It reads no more of a request than where it ends.
func serveFloorRaw(ln net.Listener, fa *floorAnswers, fs *floorSigner) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if err := floorConn(c, fa, fs); err != nil && !errors.Is(err, io.EOF) {
				fs.bad.Add(1)
			}
		}()
	}
}

var (
	crlf2         = []byte("\r\n\r\n")
	getAuthorize  = []byte("GET /mc/authorize?")
	postToken11   = []byte("POST /mc/token HTTP/1.1\r\n")
	contentLength = []byte("\r\nContent-Length: ")
)

// floorConn serves one keep-alive connection.
func floorConn(c net.Conn, fa *floorAnswers, fs *floorSigner) error {
	buf := make([]byte, 8192)
	tok := bytes.Clone(fa.token)
	claims := bytes.Clone(fa.claims)
	n := 0
	for {
		end := bytes.Index(buf[:n], crlf2)
		for end < 0 {
			if n == len(buf) {
				return errors.New("floor: request header too large")
			}
			m, err := c.Read(buf[n:])
			if m == 0 && err != nil {
				if n == 0 {
					return io.EOF
				}
				return err
			}
			n += m
			end = bytes.Index(buf[:n], crlf2)
		}
		end += len(crlf2)
		var answer []byte
		switch {
		case bytes.HasPrefix(buf, getAuthorize):
			answer = fa.redirect
		case bytes.HasPrefix(buf, postToken11):
			i := bytes.Index(buf[:end], contentLength)
			if i < 0 {
				return errors.New("floor: POST without Content-Length")
			}
			cl, l := 0, buf[i+len(contentLength):end]
			for len(l) > 0 && l[0] >= '0' && l[0] <= '9' {
				cl, l = cl*10+int(l[0]-'0'), l[1:]
			}
			if end+cl > len(buf) {
				return errors.New("floor: request body too large")
			}
			for n < end+cl {
				m, err := c.Read(buf[n:])
				if m == 0 && err != nil {
					return err
				}
				n += m
			}
			end += cl
			if err := fs.fill(fa, tok, claims); err != nil {
				return err
			}
			answer = tok
		default:
			return fmt.Errorf("floor: request %q", buf[:min(n, 30)])
		}
		if _, err := c.Write(answer); err != nil {
			return err
		}
		n = copy(buf, buf[end:n])
	}
}

// floorHandler answers the same bytes through net/http.
func floorHandler(fa *floorAnswers, fs *floorSigner) http.Handler {
	type tokenBuf struct{ tok, claims []byte }
	pool := sync.Pool{New: func() any { return &tokenBuf{bytes.Clone(fa.token), bytes.Clone(fa.claims)} }}
	rlen := strconv.Itoa(len(fa.redirectBody))
	tlen := strconv.Itoa(len(fa.tokenBody))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /mc/authorize", func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		for k, v := range fa.redirectHeader {
			h[k] = v
		}
		h["Content-Length"] = []string{rlen}
		w.WriteHeader(http.StatusFound)
		w.Write(fa.redirectBody)
	})
	mux.HandleFunc("POST /mc/token", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			fs.bad.Add(1)
			return
		}
		tb := pool.Get().(*tokenBuf)
		defer pool.Put(tb)
		if err := fs.fill(fa, tb.tok, tb.claims); err != nil {
			fs.bad.Add(1)
			http.Error(w, "floor", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		for k, v := range fa.tokenHeader {
			h[k] = v
		}
		h["Content-Length"] = []string{tlen}
		w.WriteHeader(http.StatusOK)
		w.Write(tb.tok[len(tb.tok)-len(fa.tokenBody):])
	})
	return mux
}

// TestLoginFloorChecks: the floor's servers answer floorLogin's requests
// with the recorded sizes and valid signatures, count every login, sign
// once a login (or never, in nosign mode), and the relying party's check
// refuses a token that is not so; the raw server refuses what is neither
// of the two requests.
func TestLoginFloorChecks(t *testing.T) {
	for _, mode := range floorModes {
		t.Run(mode, func(t *testing.T) {
			iss, fa, fs := serveFloor(t, mode)
			fsv := &floorServer{iss: iss, pub: fs.key.Public().(*ecdsa.PublicKey), idtLen: fa.sigTo - fa.signedFrom}
			hc := benchClient()
			defer hc.CloseIdleConnections()
			const n = 5
			seen := map[string]bool{}
			var idt string
			for i := range int64(n) {
				var err error
				if idt, err = floorLogin(hc, iss, i); err != nil {
					t.Fatal(err)
				}
				if err := fsv.check(idt); err != nil {
					t.Fatal(err)
				}
				seen[idt] = true
			}
			if fs.logins.Load() != n || fs.bad.Load() != 0 {
				t.Fatalf("%d logins counted, %d refused; want %d and 0", fs.logins.Load(), fs.bad.Load(), n)
			}
			signed := fs.signs.Load() + fs.migrated.Load()
			wantTokens, wantSigns := n, int64(n)
			if !fs.sign {
				wantTokens, wantSigns = 1, 0
			}
			if len(seen) != wantTokens || signed != wantSigns {
				t.Fatalf("%d distinct id_tokens and %d signatures for %d logins (signing %v)", len(seen), signed, n, fs.sign)
			}
			dot := strings.LastIndexByte(idt, '.')
			flip := func(i int) string {
				b := []byte(idt)
				b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
				return string(b)
			}
			for what, bad := range map[string]string{"signature": flip(dot + 1), "payload": flip(dot - 5), "length": idt[:len(idt)-1]} {
				if fsv.check(bad) == nil {
					t.Errorf("a token with its %s changed passes the check", what)
				}
			}
			if !strings.HasPrefix(mode, "raw") {
				return
			}
			c, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(iss, "/mc"), "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, "PUT /mc/token HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			if got, _ := io.ReadAll(c); len(got) != 0 || fs.bad.Load() != 1 {
				t.Fatalf("a PUT got %q, %d refused", got, fs.bad.Load())
			}
		})
	}
}
