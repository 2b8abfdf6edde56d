package atmodem_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/atmodem"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/modem"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/smsctest"
)

// logLines collects a modem's log. The modem logs a refusal before it
// answers the SMSC, so once the SMSC has recorded an outcome its line is
// there.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func newLogLines() *logLines { return &logLines{} }

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// count returns how many lines contain s.
func (l *logLines) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// TestSMPPDownloadOutcomes: an emulated modem holding the default fleet's
// emulated UICC, bound to simlab's SMSC, receives three SIM data
// downloads from a SUT (issue 16 item 9). The card refuses one sealed with
// a replayed counter (PoR "counter low", 6200): the modem answers RP-ERROR
// TP-FCS D5 and the SMSC records the message undeliverable at once. It
// takes a fresh challenge (its applet raises a prompt the terminal never
// answers, so the proactive session stays open): delivered. A second
// challenge finds the toolkit busy (9300): RP-ERROR D4, which the SMSC
// retries, until its tries run out: never delivered. And a text from a
// sender given as "+4412345678" (item 8) reaches the terminal with that
// number and is recorded delivered.
func TestSMPPDownloadOutcomes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := smsctest.NewServer(t, smsctest.WithSMSC(func(s *smsc.Server) { s.RetryMin, s.RetryMax = 5*time.Millisecond, 5*time.Millisecond }))
	msisdn := fleet.FleetNumber(0)
	ks := soft.NewMemory()
	t.Cleanup(func() { ks.Close() })
	card, _, err := fleet.NewCard(ctx, ks, nil, msisdn, fleet.CardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	log := newLogLines()
	b := &atmodem.SMPPBackend{Addr: srv.Addr, SystemID: "modem", Password: "secret", MSISDN: "+" + msisdn, Log: log.logf}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	link := emulateWith(t, atmodem.Config{Backend: b, MSISDN: "+" + msisdn, Card: card, Log: log.logf})

	_, events := listenDriver(t, ctx, link)

	sut := srv.Dial(t, client.Config{SystemID: "sut"})
	keys, err := push.CardByICCID(ctx, ks, card.Profile().ICCID, false)
	if err != nil {
		t.Fatal(err)
	}
	download := func(cntr uint64) string {
		t.Helper()
		sealed, err := push.Seal(ctx, ks, keys, nil, ota.TAR{}, ota.CounterFromUint64(cntr), push.Request{MSISDN: msisdn, LoA: authn.LoA2, BindingMessage: "interop"})
		if err != nil {
			t.Fatalf("seal: %v", err)
		}
		if len(sealed.Parts) != 1 {
			t.Fatalf("seal: %d parts", len(sealed.Parts))
		}
		id, err := sut.Submit(ctx, &client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "99955500"},
			Dest: client.Address{TON: 1, NPI: 1, Addr: msisdn}, ESMClass: 0x40, ProtocolID: 0x7F, DataCoding: 0xF6,
			ShortMessage: sealed.Parts[0]})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}

	// The keyset's counter starts at 0 and must go up: 0 is a replay.
	replay := download(0)
	if got, err := srv.AwaitState(ctx, replay, smsc.Undeliverable); err != nil {
		t.Fatalf("replayed download: %v (state %v)", err, got.State)
	}
	if n := log.count("TP-FCS D5"); n != 1 {
		t.Errorf("%d D5 refusals in the modem log, want 1 (a permanent error is not retried)", n)
	}

	first := download(1)
	if _, err := srv.AwaitState(ctx, first, smsc.Delivered); err != nil {
		t.Fatalf("first challenge: %v", err)
	}

	second := download(2)
	got, err := srv.AwaitState(ctx, second, 0)
	if err != nil {
		t.Fatalf("second challenge: %v", err)
	}
	if got.State == smsc.Delivered || log.count("TP-FCS D4") < 2 {
		t.Errorf("busy download ended %v after %d D4 refusals, want undeliverable after retries", got.State, log.count("TP-FCS D4"))
	}

	// Item 8: a sender with a leading "+".
	id, err := sut.Submit(ctx, &client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "+4412345678"},
		Dest: client.Address{TON: 1, NPI: 1, Addr: msisdn}, ShortMessage: []byte("OTP 654321")})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-events:
		if e.Kind != modem.KindDeliver || e.Text != "OTP 654321" || e.From != "+4412345678" {
			t.Errorf("event %+v", e)
		}
	case <-ctx.Done():
		t.Fatal("no +CMT for the message from +4412345678")
	}
	if _, err := srv.AwaitState(ctx, id, smsc.Delivered); err != nil {
		t.Fatalf("message from +4412345678: %v", err)
	}
}

// listenDriver opens simlab's modem driver on link and listens for what
// the modem reports until the test ends.
func listenDriver(t *testing.T, ctx context.Context, link string) (*modem.Modem, <-chan modem.Event) {
	t.Helper()
	m, err := modem.Open(ctx, link, modem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan modem.Event, 8)
	ready := make(chan struct{})
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Listen(lctx, modem.ListenOptions{Ready: func() { close(ready) }}, func(e modem.Event) { events <- e })
	}()
	t.Cleanup(func() { stop(); <-done; m.Close() })
	<-ready
	return m, events
}
