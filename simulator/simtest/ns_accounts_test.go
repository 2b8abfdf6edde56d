package simtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/internal/testlog"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

const ciToken = "ci-token-0123456789abcdef"

// sharedCIServer starts simlab as a CI service container runs it: SMPP
// accounts configured (as they must be beyond loopback), an API token,
// logs at debug level and a pcap trace kept for the secrets check; the
// tests reach it as an external server (Connect), over HTTP and SMPP.
func sharedCIServer(t *testing.T) (srv *simulator.Server, remote *simtest.Server, logs *testlog.Buffer, pcap string) {
	t.Helper()
	logs = &testlog.Buffer{}
	pcap = filepath.Join(t.TempDir(), "trace.pcap")
	srv, err := simulator.Start(simulator.Config{
		SMPPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", APIToken: ciToken, PromptTimeout: 10 * time.Second,
		Accounts: []smsc.Account{{SystemID: "bank", Password: "bankpw1"}},
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Trace:    simulator.TraceConfig{PCAP: pcap},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	a := srv.Addrs()
	remote = simtest.Connect(t, simtest.Remote{URL: "http://" + a.HTTP, SMPPAddr: a.SMPP, Token: ciToken})
	return srv, remote, logs, pcap
}

// bindStatus binds once with these credentials and returns the refusal's
// command_status, 0 if the bind was taken.
func bindStatus(t *testing.T, addr, systemID, password string) pdu.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{Addr: addr, SystemID: systemID, Password: password, NoReconnect: true, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		c.Close(ctx)
		return 0
	}
	var se *client.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("bind as %s: %v", systemID, err)
	}
	return pdu.Status(se.Status)
}

// TestNamespacesOnSMSCWithAccounts: on an SMSC with smpp_accounts (a
// shared CI service), two parallel tests each get a namespace with an SMPP
// account of its own: they bind with its password (simlab's client
// through NS.Pusher, go-smpp through the credentials NS gives), get
// exactly their own answers, codes, receipts and the texts phones send to
// their reply address, and a wrong password is
// refused. The password is answered once, by the POST; after the tests
// (DELETE) the accounts bind no more; no password reaches the logs or the
// trace.
func TestNamespacesOnSMSCWithAccounts(t *testing.T) {
	srv, s, logs, pcap := sharedCIServer(t)
	type cred struct{ name, password string }
	var (
		mu    sync.Mutex
		creds []cred
	)
	t.Run("group", func(t *testing.T) {
		for i := range 2 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				ns := s.NS(t)
				ctx := t.Context()
				if len(ns.Password) != smsc.MaxPasswordLen || ns.Password == "simtest" {
					t.Fatalf("namespace password %d characters, want a fresh one of %d", len(ns.Password), smsc.MaxPasswordLen)
				}
				mu.Lock()
				creds = append(creds, cred{ns.Name, ns.Password})
				mu.Unlock()
				// Answered once: GET and the list do not give it.
				got, err := ns.API.GetNamespace(ctx, ns.Name)
				if err != nil || got.Name != ns.Name || got.SMPPPassword != "" {
					t.Fatalf("GET namespace: %+v %v", got, err)
				}
				list, err := ns.API.Namespaces(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range list {
					if l.SMPPPassword != "" {
						t.Errorf("the list gives %s's password", l.Name)
					}
				}

				approve, texted := ns.Number("approve"), ns.Number("")
				p := ns.Pusher() // binds with ns.Password
				res, err := p.Push(ctx, push.Request{MSISDN: approve, LoA: authn.LoA3, ClientName: "Bank " + ns.Name, BindingMessage: "Login", Timeout: 20 * time.Second})
				if err != nil || res.Outcome != "approved" || !res.SignatureValid {
					t.Fatalf("push to %s: %+v %v", approve, res, err)
				}
				mt := map[string]bool{res.MessageID: true}
				codes := []string{fmt.Sprintf("%06d", 314159+i), fmt.Sprintf("%06d", 271828+i)}
				ids, err := p.SendText(ctx, texted, "Your Example Bank code is "+codes[0], time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				mt[ids[0]] = true
				e := newESMEAuth(t, s, ns.Name, ns.Password) // go-smpp, the namespace's credentials
				id := e.submit(t, texted, "code "+codes[1], time.Minute)
				mt[id] = true
				for _, code := range codes {
					if got := ns.WaitOTP(ctx, texted); got != code {
						t.Errorf("code %s, want %s", got, code)
					}
				}
				if r := e.receipt(t, id, 30*time.Second); r.State != smsc.Delivered {
					t.Errorf("receipt of %s: %s", id, r.State)
				}

				// Exactly this test's MT and the phone's one answer to its
				// reply address, all in its namespace.
				answers := 0
				for _, m := range ns.Messages(apiclient.Filter{}) {
					switch {
					case m.Namespace != ns.Name:
						t.Errorf("message %s of namespace %q listed in %s", m.ID, m.Namespace, ns.Name)
					case m.Direction == "MT" && !mt[m.ID]:
						t.Errorf("MT %s to %s is not this test's", m.ID, m.To)
					case m.Direction == "MO" && (m.To != ns.Source || m.From != approve):
						t.Errorf("MO %s from %s to %s is not an answer to this test", m.ID, m.From, m.To)
					case m.Direction == "MO":
						answers++
					}
				}
				if answers != 1 {
					t.Errorf("%d answers in the namespace, want 1", answers)
				}
				// A phone texting the reply address unasked (nothing was
				// sent to it from there) reaches the namespace too (the
				// account's mo_ranges).
				text, stranger := "STOP "+ns.Name, ns.Number("")
				if _, err := ns.API.SendSMS(ctx, stranger, ns.Source, text); err != nil {
					t.Fatal(err)
				}
				m := ns.WaitMessage(ctx, ns.Source)
				if m.From == approve { // the answer to the push came first
					m = ns.WaitMessage(ctx, ns.Source)
				}
				if m.Body() != text || m.From != stranger || m.Namespace != ns.Name {
					t.Errorf("unasked MO to the reply address: %q from %s in %q", m.Body(), m.From, m.Namespace)
				}

				wrong := []byte(ns.Password)
				wrong[0] ^= 1
				if st := bindStatus(t, s.SMPPAddr, ns.Name, string(wrong)); st != pdu.StatusBindFail {
					t.Errorf("a wrong password: status %v, want ESME_RBINDFAIL", st)
				}
			})
		}
	})
	if len(creds) != 2 || creds[0].password == creds[1].password {
		t.Fatalf("credentials %d, or the same password twice", len(creds))
	}
	// The tests ended and deleted their namespaces: their accounts are
	// gone.
	for _, c := range creds {
		if st := bindStatus(t, s.SMPPAddr, c.name, c.password); st != pdu.StatusBindFail {
			t.Errorf("bind of deleted namespace %s: status %v, want ESME_RBINDFAIL", c.name, st)
		}
	}
	if st := bindStatus(t, s.SMPPAddr, "bank", "bankpw1"); st != 0 {
		t.Errorf("the configured account: status %v", st)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	trace, err := os.ReadFile(pcap)
	if err != nil || len(trace) == 0 {
		t.Fatalf("trace: %d bytes, %v", len(trace), err)
	}
	out := logs.String()
	if !strings.Contains(out, "smpp: bound") {
		t.Fatal("no bind was logged: is the logger wired?")
	}
	for _, c := range append(creds, cred{"bank", "bankpw1"}) {
		if strings.Contains(out, c.password) {
			t.Errorf("the password of %s is in the logs", c.name)
		}
		if bytes.Contains(trace, []byte(c.password)) {
			t.Errorf("the password of %s is in the trace", c.name)
		}
	}
}

// TestNamespaceDeleteUnbinds: deleting a namespace on an SMSC with
// accounts asks its live bind to unbind, and the credentials bind no more.
func TestNamespaceDeleteUnbinds(t *testing.T) {
	t.Parallel()
	_, s, _, _ := sharedCIServer(t)
	api := s.API()
	ctx := t.Context()
	ns, err := api.CreateNamespace(ctx, apiclient.NamespaceRequest{Label: t.Name()})
	if err != nil || len(ns.SMPPPassword) != smsc.MaxPasswordLen {
		t.Fatalf("POST namespace: %+v %v", ns, err)
	}
	lost := make(chan struct{})
	var once sync.Once
	c, err := client.Dial(ctx, client.Config{Addr: s.SMPPAddr, SystemID: ns.Name, Password: ns.SMPPPassword, NoReconnect: true,
		Logger: slog.New(slog.DiscardHandler),
		OnState: func(bound bool, err error) {
			if !bound {
				once.Do(func() { close(lost) })
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := api.DeleteNamespace(ctx, ns.Name); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(20 * time.Second):
		t.Fatal("the bind of a deleted namespace was not ended")
	}
	if st := bindStatus(t, s.SMPPAddr, ns.Name, ns.SMPPPassword); st != pdu.StatusBindFail {
		t.Errorf("bind after DELETE: status %v, want ESME_RBINDFAIL", st)
	}
	if _, err := api.GetNamespace(ctx, ns.Name); apiclient.StatusCode(err) != 404 {
		t.Errorf("GET after DELETE: %v", err)
	}
}
