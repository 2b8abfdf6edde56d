package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/testlog"
)

// startSMSC runs `simlab serve --no-fleet --json` (what `smsc serve` was)
// on free loopback ports and returns the addresses it printed; the command
// stops with the test.
func startSMSC(t *testing.T, extra ...string) readyLine {
	t.Helper()
	return startServeJSON(t, append([]string{"serve", "--no-fleet"}, extra...)...)
}

// startServeJSON runs the command line args (serve or its alias) with
// --json on free loopback ports and returns its ready line.
func startServeJSON(t *testing.T, args ...string) readyLine {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr testlog.Buffer
	args = append(args, "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--json")
	go func() { done <- run(ctx, args, strings.NewReader(""), pw, &stderr); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("smsc serve exited %d: %s", code, stderr.String())
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("smsc serve printed nothing: %v (%s)", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var ready readyLine
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	return ready
}

func TestSMSCServeAndSMSSend(t *testing.T) {
	ready := startSMSC(t, "--data", t.TempDir())
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"sms", "send", "--smpp", ready.SMPP, "--system-id", "cli", "--password", "pw",
		"--to", "+999000301", "--text", "Your code is 246810", "--dlr", "--json", "--timeout", "10s"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("sms send exited %d: %s", code, errb.String())
	}
	var res smsSendResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(res.IDs) != 1 || len(res.Receipts) != 1 || res.Receipts[0].ID != res.IDs[0] || res.Receipts[0].Stat != "DELIVRD" {
		t.Fatalf("result %+v", res)
	}
	resp, err := http.Get(ready.HTTP + "/api/v1/otp?to=999000301")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var otp struct {
		OTP string `json:"otp"`
	}
	json.NewDecoder(resp.Body).Decode(&otp)
	if otp.OTP != "246810" {
		t.Fatalf("otp %+v", otp)
	}

	// A long UCS2 text goes as parts; plain output is one id per line.
	out.Reset()
	long := strings.Repeat("Ж", 100)
	if code := run(context.Background(), []string{"sms", "send", "--smpp", ready.SMPP, "--to", "999000302", "--text", long}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if n := len(strings.Fields(out.String())); n != 2 {
		t.Fatalf("want 2 ids, got %q", out.String())
	}
}

func TestSMSSendUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sms", "send", "--text", "x"},                             // no --to
		{"sms", "send", "--to", "1"},                               // neither --text nor --hex
		{"sms", "send", "--to", "1", "--text", "a", "--hex", "00"}, // both
		{"sms", "send", "--to", "1", "--hex", "zz"},
		{"sms", "send", "--to", "1", "--hex", "00", "--pid", "300"},
		{"sms", "send", "--to", "1", "--hex", "00", "--udh", "0570"}, // UDH length mismatch
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errb.String())
		}
	}
}

func TestSMSSendRefused(t *testing.T) {
	t.Parallel()
	// Nothing listens on a just-closed port: a clear failure, exit 1.
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"sms", "send", "--smpp", "127.0.0.1:1", "--to", "1", "--text", "x", "--timeout", "2s"}, nil, &out, &errb)
	if code != exitFailure || !strings.Contains(errb.String(), "dial") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

func TestSMSCServeConfig(t *testing.T) {
	cfg := t.TempDir() + "/smsc.yaml"
	os.WriteFile(cfg, []byte("id_format: hex\naccounts:\n  - system_id: sut\n    password: secret\n"), 0o600)
	ready := startSMSC(t, "--config", cfg)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"sms", "send", "--smpp", ready.SMPP, "--system-id", "sut", "--password", "wrong", "--to", "1", "--text", "x"}, nil, &out, &errb); code != exitFailure {
		t.Fatalf("wrong password: exit %d %s", code, errb.String())
	}
	if strings.Contains(errb.String(), "wrong") {
		t.Fatalf("the password leaked into the error: %s", errb.String())
	}
	out.Reset()
	t.Setenv("SIMLAB_SMPP_PASSWORD", "secret")
	if code := run(context.Background(), []string{"sms", "send", "--smpp", ready.SMPP, "--system-id", "sut", "--to", "1", "--text", "x"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d %s", code, errb.String())
	}
	id := strings.TrimSpace(out.String())
	if _, err := strconv.ParseUint(id, 16, 64); err != nil {
		t.Fatalf("id %q is not hex", id)
	}

	bad := t.TempDir() + "/bad.yaml"
	os.WriteFile(bad, []byte("acounts: []\n"), 0o600)
	var o2, e2 bytes.Buffer
	if code := run(context.Background(), []string{"smsc", "serve", "--config", bad}, nil, &o2, &e2); code != exitUsage {
		t.Fatalf("unknown key: exit %d %s", code, e2.String())
	}
	if msg := e2.String(); !strings.Contains(msg, `unknown key "acounts"`) || strings.Contains(msg, "main.") || strings.Contains(msg, "simulator.") {
		t.Errorf("unknown key error %q: want the key named and no Go type", msg)
	}
}

// writeSelfSigned writes a certificate and key for 127.0.0.1 in PEM.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "simlab test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = dir+"/smsc.crt", dir+"/smsc.key"
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600)
	return certFile, keyFile
}

func TestSMSCServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSigned(t, dir)
	cfg := dir + "/smsc.yaml"
	os.WriteFile(cfg, []byte("smpp_tls:\n  addr: 127.0.0.1:0\n  cert: "+cert+"\n  key: "+key+"\n"), 0o600)
	ready := startSMSC(t, "--config", cfg)
	if ready.SMPPTLS == "" {
		t.Fatalf("no TLS listener in %+v", ready)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"sms", "send", "--smpp", ready.SMPPTLS, "--tls", "--tls-insecure", "--to", "999000303", "--text", "secure"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// Verification is on by default: a self-signed certificate fails.
	if code := run(context.Background(), []string{"sms", "send", "--smpp", ready.SMPPTLS, "--tls", "--to", "999000303", "--text", "x", "--timeout", "5s"}, nil, &out, &errb); code != exitFailure {
		t.Fatalf("unverified certificate accepted: exit %d", code)
	}
}

func TestServeNeedsCredentialsBeyondLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--no-fleet", "--smpp", "127.0.0.1:0", "--http", "0.0.0.0:0"}, "API token"},
		{[]string{"serve", "--no-fleet", "--smpp", "0.0.0.0:0", "--http", "off"}, "accounts"},
		{[]string{"smsc", "serve", "--smpp", "0.0.0.0:0", "--http", ""}, "accounts"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, nil, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d: %s", tc.args, code, errb.String())
		}
	}
}

// TestSMSCServeAlias: the old command still runs, as serve --no-fleet, says
// it is deprecated, and loads its old configuration keys with a warning
// naming the new ones.
func TestSMSCServeAlias(t *testing.T) {
	cfg := t.TempDir() + "/old.yaml"
	os.WriteFile(cfg, []byte("fault_seed: 7\naccounts:\n  - system_id: sut\n    password: secret\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr testlog.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"smsc", "serve", "--config", cfg, "--smpp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--json"}, nil, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v (%s)", err, stderr.String())
	}
	var ready readyLine
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.SMPP == "" || ready.HTTP == "" {
		t.Fatalf("ready line %q: %v", line, err)
	}
	resp, err := http.Get(ready.HTTP + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Subsystems map[string]bool }
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if _, fleet := h.Subsystems["smsc+fleet"]; fleet || !h.Subsystems["smsc"] {
		t.Errorf("healthz subsystems %v: want the SMSC alone", h.Subsystems)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"deprecated: use `simlab serve --no-fleet`", `"accounts" is deprecated, use "smpp_accounts"`, `"fault_seed" is deprecated, use "seed"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
