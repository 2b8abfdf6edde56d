package atmodem_test

import (
	"context"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/atmodem"
	"github.com/simlab-dev/simlab/simulator/modem"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/smsctest"
)

// smppBench starts simlab's SMSC on loopback and an emulated modem bound
// to it as +999001234567, served on a pty linked in a temp dir.
func smppBench(t *testing.T, ctx context.Context) (*smsctest.Server, *atmodem.SMPPBackend, string) {
	t.Helper()
	srv := smsctest.NewServer(t)
	b := &atmodem.SMPPBackend{Addr: srv.Addr, SystemID: "modem", Password: "secret", MSISDN: "+999001234567", Log: t.Logf}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return srv, b, emulate(t, b)
}

// TestSMPPGammu: what gammu sends through the emulated modem arrives at the
// SMSC as submit_sm from the modem's MSISDN (the acceptance path).
func TestSMPPGammu(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, _, link := smppBench(t, ctx)
	if _, err := gammu(t, ctx, link, "sendsms", "TEXT", "+4412345678", "-text", "Hello SMSC"); err != nil {
		t.Fatal(err)
	}
	m, err := srv.AwaitMessage(ctx, smsc.Filter{AllNamespaces: true, To: "4412345678"})
	if err != nil {
		t.Fatal(err)
	}
	text, ok := smsc.DecodeText(m.DCS, m.Body)
	if !ok || text != "Hello SMSC" || m.Source.Addr != "999001234567" || m.Account != "modem" {
		t.Errorf("SMSC got %q (%v) from %s account %s", text, ok, m.Source.Addr, m.Account)
	}
}

// TestSMPPDriver: the modem driver sends through the emulator to the SMSC
// and receives what a SUT submits to the modem's MSISDN, as +CMT, and the
// status report of its own message as +CDS.
func TestSMPPDriver(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv, _, link := smppBench(t, ctx)
	m, events := listenDriver(t, ctx, link)

	// MT: a SUT submits to the modem's number.
	sut := srv.Dial(t, client.Config{SystemID: "sut"})
	if _, err := sut.Submit(ctx, &client.Message{Source: client.Address{Addr: "12345"},
		Dest: client.Address{TON: 1, NPI: 1, Addr: "999001234567"}, ShortMessage: []byte("OTP 123456")}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-events:
		if e.Kind != modem.KindDeliver || e.Text != "OTP 123456" || e.From != "12345" {
			t.Errorf("event %+v", e)
		}
	case <-ctx.Done():
		t.Fatal("no +CMT")
	}

	// MO with a status report request.
	mrs, err := m.SendText(ctx, "+4412345678", "hi SUT", modem.SendOptions{StatusReport: true})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := srv.AwaitMessage(ctx, smsc.Filter{AllNamespaces: true, To: "4412345678"})
	if err != nil {
		t.Fatal(err)
	}
	if sent.RegisteredDelivery&3 != 1 {
		t.Errorf("registered_delivery %d", sent.RegisteredDelivery)
	}
	select {
	case e := <-events:
		if e.Kind != modem.KindStatusReport || e.MR != mrs[0] || e.Recipient != "+4412345678" {
			t.Errorf("status report %+v (mr %v)", e, mrs)
		}
	case <-ctx.Done():
		t.Fatal("no +CDS status report")
	}
}
