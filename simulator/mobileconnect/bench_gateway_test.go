//go:build linux

package mobileconnect_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

// The gateway's own CPU per login, without the relying party and without
// the SIM challenge (docs/benchmarks.md (n)): the handlers are driven
// with requests built before the timer starts, and the challenge is a
// replay of one real LoA3 answer (signed by a card of the fleet, so the
// id_token carries real dts and upk claims). Run beside the ES256
// signature alone:
//
//	go test -run '^$' -bench 'GatewayLogin$|ES256' -benchtime 20000x ./simulator/mobileconnect/

// replayChallenger answers every challenge with one recorded result.
type replayChallenger struct{ res push.Result }

func (c replayChallenger) Push(_ context.Context, r push.Request) (push.Result, error) {
	res := c.res
	res.MSISDN = r.MSISDN
	return res, nil
}

func (replayChallenger) SendText(context.Context, string, string, time.Duration) ([]string, error) {
	return nil, fmt.Errorf("replay: no SMS")
}

func (replayChallenger) AwaitReceipt(context.Context, string) (*client.Receipt, error) {
	return nil, fmt.Errorf("replay: no receipts")
}

// recordLoA3 runs one real LoA3 challenge through a simlab server and
// returns its result, signed answer included.
func recordLoA3(tb testing.TB) push.Result {
	tb.Helper()
	s := simtest.NewServer(tb)
	p, err := push.New(context.Background(), push.Config{SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "record", AddressRange: "99955516"},
		Source: "99955516"})
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Close(context.Background())
	res, err := p.Push(context.Background(), push.Request{MSISDN: "99901000777", LoA: authn.LoA3, ClientName: "demo", Timeout: time.Minute})
	if err != nil || res.Outcome != "approved" || res.Answer == nil || !res.SignatureValid {
		tb.Fatalf("recording a LoA3 challenge: %+v %v", res, err)
	}
	return res
}

// replayGateway is a gateway whose challenges are replays of rec.
func replayGateway(tb testing.TB, rec push.Result, issuer string) *mobileconnect.Gateway {
	tb.Helper()
	dir := mobileconnect.DirectoryFunc(func(_ context.Context, n string) (mobileconnect.Subscriber, error) {
		return mobileconnect.Subscriber{MSISDN: n, Known: true, Applet: true}, nil
	})
	gw, err := mobileconnect.New(context.Background(), mobileconnect.Config{}, issuer, mobileconnect.Deps{Challenger: replayChallenger{rec}, Directory: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { gw.Close() })
	return gw
}

// sinkWriter is the cheapest http.ResponseWriter that keeps the status and
// headers, so the benchmark measures the handlers, not a recorder.
type sinkWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *sinkWriter) Header() http.Header { return w.h }
func (w *sinkWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}

func (w *sinkWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.n += len(b)
	return len(b), nil
}

// loginRequests are one login's requests, built before the timer starts.
type loginRequests struct {
	state, nonce string
	authorize    *http.Request // sent twice: the waiting page, then the redirect
	again        *http.Request
	tokenForm    url.Values
}

func buildLoginRequests(n int) []loginRequests {
	out := make([]loginRequests, n)
	for i := range out {
		u, nonce, _ := benchAuthorizeURL("/mc", "3", int64(i%100000), int64(i))
		st := "s" + strconv.Itoa(i)
		a1, _ := http.NewRequest(http.MethodGet, u, nil)
		a2, _ := http.NewRequest(http.MethodGet, u, nil)
		out[i] = loginRequests{state: st, nonce: nonce, authorize: a1, again: a2,
			tokenForm: url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {benchRedirect}}}
	}
	return out
}

func httptestGet(u string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return req
}

func tokenRequest(form url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, "/mc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(mobileconnect.DemoClientID, mobileconnect.DemoClientSecret)
	return req
}

// BenchmarkGatewayLogin: the gateway's handlers for one LoA3 login — the
// first GET /authorize (hint resolved, login started; the redirect, or the
// waiting page and a second GET for it), the login's background work with
// the challenge replayed (the code), and the token exchange (PCR, claims, ES256
// signature) — in process, without HTTP transport, relying party or SIM.
// cpu-µs/op is the whole process's CPU time per login.
func BenchmarkGatewayLogin(b *testing.B) {
	gw := replayGateway(b, recordLoA3(b), "http://127.0.0.1:8775/mc")
	h := gw.Handler()
	// The JWKS waits for the RSA keys the gateway makes on first need
	// at start: their generation stays out of the measurement.
	jw := &sinkWriter{h: http.Header{}}
	h.ServeHTTP(jw, httptestGet("/mc/jwks"))
	reqs := buildLoginRequests(b.N)
	var bad, gets atomic.Int64
	defer func() { b.ReportMetric(1+float64(gets.Load())/float64(b.N), "authorize-gets/login") }()
	runParallel(b, func(i int64) error {
		r := &reqs[i-1]
		w := &sinkWriter{h: http.Header{}}
		h.ServeHTTP(w, r.authorize)
		if w.status != http.StatusOK && w.status != http.StatusFound {
			return fmt.Errorf("authorize: %d", w.status)
		}
		// A gateway that answered the waiting page is asked again once the
		// login has ended (a gateway holding the first GET rarely needs it).
		if w.status == http.StatusOK {
			if err := gw.AwaitLogin(context.Background(), mobileconnect.DemoClientID, r.state, r.nonce); err != nil {
				return err
			}
			w = &sinkWriter{h: http.Header{}}
			h.ServeHTTP(w, r.again)
			gets.Add(1)
			if w.status != http.StatusFound {
				return fmt.Errorf("authorize again: %d", w.status)
			}
		}
		loc, err := url.Parse(w.h.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			bad.Add(1)
			return fmt.Errorf("no code in %q", w.h.Get("Location"))
		}
		r.tokenForm.Set("code", loc.Query().Get("code"))
		w = &sinkWriter{h: http.Header{}}
		h.ServeHTTP(w, tokenRequest(r.tokenForm))
		if w.status != http.StatusOK || w.n < 500 {
			return fmt.Errorf("token: %d (%d bytes)", w.status, w.n)
		}
		return nil
	}, 0)
}

// BenchmarkES256Sign: crypto/ecdsa signing SHA-256 of an id_token-sized
// payload, in the same run as BenchmarkGatewayLogin: the one signature
// per login OpenID Connect requires, as a floor for the gateway's CPU.
// The constant-time ways Go 1.26 offers, side by side: SignASN1 (hedged:
// the nonce from an HMAC-DRBG over SHA-512 seeded by fresh randomness),
// the crypto.Signer method with a Reader (the same), with nil (RFC 6979
// deterministic: an HMAC-DRBG over the digest's SHA-256), and Sign's
// big.Int pair.
func BenchmarkES256Sign(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]string{"claims": strings.Repeat("x", 1100)})
	ways := []struct {
		name string
		sign func(h []byte) error
	}{
		{"SignASN1", func(h []byte) error { _, err := ecdsa.SignASN1(rand.Reader, key, h); return err }},
		{"Signer-rand", func(h []byte) error { _, err := key.Sign(rand.Reader, h, crypto.SHA256); return err }},
		{"Signer-RFC6979", func(h []byte) error { _, err := key.Sign(nil, h, crypto.SHA256); return err }},
		{"Sign-bigint", func(h []byte) error { _, _, err := ecdsa.Sign(rand.Reader, key, h); return err }},
	}
	for _, w := range ways {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuNow()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h := sha256.Sum256(payload)
				if err := w.sign(h[:]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuNow()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
