package smsctest_test

import (
	"net/http"
	"testing"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/smsctest"
)

// TestDocsClient runs docs/smsc-client-store.md's SMPP client example
// (cmd/simlab's TestDocsExamples checks that the page shows these lines).
func TestDocsClient(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := smsctest.NewServer(t)
	addr, pw := srv.Addr, "secret"

	parts, err := client.SplitText("Your code is 482913", 0) // one Part per SMS
	if err != nil {
		t.Fatal(err)
	}
	p := parts[0]
	cl, err := client.Dial(ctx, client.Config{
		Addr: addr, SystemID: "sut", Password: pw, Mode: client.Transceiver, // addr "127.0.0.1:2775" for simlab serve
		Window: 50, OnDeliver: func(d *client.Deliver) uint32 { /* MO or d.Receipt */ return client.StatusOK },
	})
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.Submit(ctx, &client.Message{Dest: client.Address{TON: 1, NPI: 1, Addr: "99901000201"},
		DataCoding: p.DataCoding, ESMClass: p.ESMClass, ShortMessage: p.ShortMessage, RegisteredDelivery: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := cl.AwaitReceipt(ctx, id) // r.ID == id, r.Stat == "DELIVRD"
	if err != nil || r.ID != id || r.Stat != "DELIVRD" {
		t.Fatalf("receipt %+v, %v", r, err)
	}
	cl.Close(ctx) // unbind
}

// TestDocsTestServer runs docs/smsc-client-store.md's smsctest example.
func TestDocsTestServer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := smsctest.NewServer(t)                      // real server on 127.0.0.1:0, closed by t.Cleanup
	cl := srv.Dial(t, client.Config{SystemID: "sut"}) // bound client, closed by t.Cleanup
	// ... the code under test submits ...
	if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{TON: 1, NPI: 1, Addr: "99901000201"}, ShortMessage: []byte("Your code is 482913")}); err != nil {
		t.Fatal(err)
	}
	m, err := srv.AwaitMessage(ctx, smsc.Filter{AllNamespaces: true, To: "99901000201"})
	if err != nil || m.Dest.Addr != "99901000201" {
		t.Fatalf("%v %v", m, err)
	}
	resp, _ := http.Get(srv.URL + "/api/v1/otp?to=99901000201")
	if resp == nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET otp: %v", resp)
	}
	resp.Body.Close()
}
