//go:build linux

package simulator

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/atmodem"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// TestModemBearer: `--bearer modem:PORT` with simlab's emulated AT modem on
// a pty standing in for a USB modem. A message for a number outside the
// plan leaves as AT+CMGS; an SMS the modem receives (+CMT) comes out of the
// SMSC to the ESME as MO.
func TestModemBearer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	backend := atmodem.NewMemoryBackend()
	em, err := atmodem.New(atmodem.Config{Backend: backend, MSISDN: "+4915100000001"})
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "modem")
	ready := make(chan struct{})
	emCtx, stopEm := context.WithCancel(context.Background())
	emDone := make(chan error, 1)
	go func() { emDone <- atmodem.Emulate(emCtx, em, link, func(*atmodem.PTY) { close(ready) }) }()
	defer func() { stopEm(); <-emDone }()
	select {
	case <-ready:
	case err := <-emDone:
		t.Fatalf("emulated modem: %v", err)
	}

	s := startTest(t, Config{HTTPAddr: "off"})
	listening := make(chan struct{})
	b, err := s.Core().AddBearer(ctx, "modem:"+link, BearerOptions{MODest: "99955500", OnListening: func() { close(listening) }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	<-listening

	mos := make(chan *client.Deliver, 4)
	esme, err := client.Dial(ctx, client.Config{Addr: s.Addrs().SMPP, SystemID: "sut", Password: "pw",
		OnDeliver: func(d *client.Deliver) uint32 {
			if d.Receipt == nil {
				mos <- d
			}
			return client.StatusOK
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer esme.Close(context.Background())
	const far = "4917600000002"
	id, err := esme.Submit(ctx, &client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "99955500"},
		Dest: client.Address{TON: 1, NPI: 1, Addr: far}, RegisteredDelivery: 1, ShortMessage: []byte("over the air")})
	if err != nil {
		t.Fatal(err)
	}
	subs, err := backend.AwaitSubmitted(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tpdu.Parse(subs[0].TPDU, tpdu.MO)
	if err != nil {
		t.Fatal(err)
	}
	sub, ok := m.(*tpdu.Submit)
	if !ok || sub.DA.Number != far {
		t.Fatalf("modem sent %+v, want an SMS-SUBMIT to %s", m, far)
	}
	if text, _, _ := sub.UD.Text(sub.DCS); text != "over the air" {
		t.Fatalf("modem sent text %q", text)
	}
	if rc, err := esme.AwaitReceipt(ctx, id); err != nil || !rc.Delivered() {
		t.Fatalf("receipt %+v, %v: want DELIVRD once the modem's network took it", rc, err)
	}

	// An SMS to the modem's SIM from a real handset: MO to the ESME.
	sept, err := tpdu.EncodeGSM7("reply over the air")
	if err != nil {
		t.Fatal(err)
	}
	dl, err := tpdu.Marshal(&tpdu.Deliver{OA: tpdu.InternationalAddress(far), DCS: tpdu.DCSGSM7, SCTS: time.Now(), UD: tpdu.UserData{Data: sept}})
	if err != nil {
		t.Fatal(err)
	}
	if err := backend.Deliver(ctx, dl); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-mos:
		if d.Source.Addr != far || d.Dest.Addr != "99955500" || string(d.ShortMessage) != "reply over the air" {
			t.Fatalf("MO %+v", d.Message)
		}
	case <-ctx.Done():
		t.Fatal("the modem's MO did not reach the ESME")
	}
}
