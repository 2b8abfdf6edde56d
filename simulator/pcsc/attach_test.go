//go:build cgo && linux

package pcsc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/vpcd"
	"github.com/simlab-dev/simlab/smsc/client"
)

// TestAttachReader makes the card in "Virtual PCD 00 00" a phone of a
// running simlab (Core.AttachReader, as `simlab phone attach`): a push
// challenge over SMPP reaches it through pcscd and vpcd and is approved;
// with the card pulled the number is absent; with the card back it works
// again.
func TestAttachReader(t *testing.T) {
	port := startPCSCD(t)
	virtualCards.Lock()
	defer virtualCards.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	srv, err := simulator.Start(simulator.Config{SMPPAddr: "127.0.0.1:0", HTTPAddr: "off"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	ks := soft.NewMemory()
	defer ks.Close()
	card, _, err := fleet.NewCard(ctx, ks, nil, fleet.FleetNumber(0), fleet.CardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const number = "4930555000"
	events := make(chan string, 16)
	attachCtx, stopAttach := context.WithCancel(ctx)
	attached := make(chan error, 1)
	go func() {
		attached <- srv.Core().AttachReader(attachCtx, reader0, number, simulator.AttachOptions{
			Event: func(e handset.Event) {
				if e.Kind == "card_inserted" || e.Kind == "card_removed" {
					events <- e.Kind + " " + e.Detail
				}
			},
		})
	}()
	defer func() {
		stopAttach()
		if err := <-attached; err != nil {
			t.Errorf("AttachReader: %v", err)
		}
	}()
	await := func(want string) {
		t.Helper()
		select {
		case e := <-events:
			if e != want+" +"+number {
				t.Fatalf("event %q, want %s", e, want)
			}
		case <-ctx.Done():
			t.Fatalf("no %s event", want)
		}
	}
	insert := func() (stop func()) {
		cctx, ccancel := context.WithCancel(ctx)
		v := &vpcd.VirtualCard{Card: card, Addr: fmt.Sprintf("127.0.0.1:%d", port), MinBackoff: 20 * time.Millisecond}
		done := make(chan struct{})
		go func() { v.Run(cctx); close(done) }()
		return func() { ccancel(); <-done }
	}

	remove := insert()
	await("card_inserted")
	p, err := push.New(ctx, push.Config{
		SMPP: client.Config{Addr: srv.Addrs().SMPP, SystemID: "sut", Password: "pw"},
		CardFor: func(ctx context.Context, msisdn string) (push.Card, error) {
			return push.CardByICCID(ctx, ks, card.Profile().ICCID, false)
		},
		Keystore: ks,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	res, err := p.Push(ctx, push.Request{MSISDN: number, LoA: authn.LoA3, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "3" || !res.SignatureValid {
		t.Fatalf("through pcscd: %+v, want approved acr 3", res)
	}

	remove()
	await("card_removed")
	res, err = p.Push(ctx, push.Request{MSISDN: number, LoA: authn.LoA2, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != push.NotDelivered && res.Outcome != push.TimedOut {
		t.Fatalf("card pulled: %+v, want not_delivered or timeout", res)
	}

	remove = insert()
	defer func() { remove(); waitFor(t, "card-removed", reader0) }()
	await("card_inserted")
	res, err = p.Push(ctx, push.Request{MSISDN: number, LoA: authn.LoA2, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "2" {
		t.Fatalf("card back: %+v, want approved acr 2", res)
	}
}

// TestAttachAPI drives the attachment API of a running simlab (what
// `simlab phone attach` and `phone detach` call) with the virtual card.
func TestAttachAPI(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	ctx := testContext(t, 60*time.Second)
	srv, err := simulator.Start(simulator.Config{SMPPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	ks := soft.NewMemory()
	defer ks.Close()
	card, _, err := fleet.NewCard(ctx, ks, nil, fleet.FleetNumber(0), fleet.CardOptions{PIN: "13579"})
	if err != nil {
		t.Fatal(err)
	}
	plugCard(t, 0, card, false)
	api := "http://" + srv.Addrs().HTTP + "/api/v1/attached"
	call := func(method, url string, body any) (int, []byte) {
		t.Helper()
		var rd bytes.Buffer
		if body != nil {
			json.NewEncoder(&rd).Encode(body)
		}
		req, _ := http.NewRequestWithContext(ctx, method, url, &rd)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes()
	}
	const number = "4930777000"
	code, body := call(http.MethodPost, api, simulator.AttachRequest{MSISDN: "+" + number, Reader: reader0, PIN: "13579", Answer: "approve"})
	if code != http.StatusCreated || !bytes.Contains(body, []byte(`"present":true`)) {
		t.Fatalf("POST = %d %s", code, body)
	}
	if code, body := call(http.MethodPost, api, simulator.AttachRequest{MSISDN: number, Reader: reader0}); code != http.StatusConflict {
		t.Fatalf("second POST = %d %s, want 409", code, body)
	}
	if code, body := call(http.MethodPost, api, simulator.AttachRequest{MSISDN: "4930777001", Reader: "No Such Reader"}); code != http.StatusNotFound {
		t.Fatalf("POST unknown reader = %d %s, want 404", code, body)
	}
	p, err := push.New(ctx, push.Config{
		SMPP: client.Config{Addr: srv.Addrs().SMPP, SystemID: "sut", Password: "pw"},
		CardFor: func(ctx context.Context, msisdn string) (push.Card, error) {
			return push.CardByICCID(ctx, ks, card.Profile().ICCID, false)
		},
		Keystore: ks,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	res, err := p.Push(ctx, push.Request{MSISDN: number, LoA: authn.LoA3, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "3" {
		t.Fatalf("push to the attached reader: %+v, want approved acr 3 (PIN 13579 given at attach)", res)
	}
	if code, body := call(http.MethodGet, api, nil); code != http.StatusOK || !bytes.Contains(body, []byte(number)) {
		t.Fatalf("GET = %d %s", code, body)
	}
	if code, body := call(http.MethodDelete, api+"/"+number, nil); code != http.StatusOK {
		t.Fatalf("DELETE = %d %s", code, body)
	}
	if code, body := call(http.MethodGet, api, nil); code != http.StatusOK || bytes.Contains(body, []byte(number)) {
		t.Fatalf("GET after DELETE = %d %s", code, body)
	}
	// DetachAll (for shutdown) stops every follower.
	if code, body := call(http.MethodPost, api, simulator.AttachRequest{MSISDN: number, Reader: reader0}); code != http.StatusCreated {
		t.Fatalf("POST again = %d %s", code, body)
	}
	srv.Core().DetachAll()
	if got := srv.Core().Attachments(); len(got) != 0 {
		t.Fatalf("Attachments after DetachAll = %+v", got)
	}
}
