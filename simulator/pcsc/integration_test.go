//go:build cgo && linux

package pcsc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet"
	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/cards"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator/pcsc"
	"github.com/simlab-dev/simlab/simulator/vpcd"
	"github.com/simlab-dev/simlab/simulator/vpcd/vpcdtest"
)

const (
	reader0 = "Virtual PCD 00 00"
	reader1 = "Virtual PCD 00 01"
)

// virtualCards serialises the tests that plug virtual cards into the
// shared pcscd's two slots.
var virtualCards sync.Mutex

// plugCard serves card in the vpcd slot (0 or 1) until the test ends and
// waits until pcscd reports the card present.
func plugCard(t testing.TB, slot int, card applet.Card, noQuickAck bool) {
	t.Helper()
	port := startPCSCD(t)
	name := []string{reader0, reader1}[slot]
	ctx, cancel := context.WithCancel(context.Background())
	v := &vpcd.VirtualCard{
		Card:       card,
		Addr:       fmt.Sprintf("127.0.0.1:%d", port+slot),
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		NoQuickAck: noQuickAck,
	}
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		waitFor(t, pcsc.CardRemoved, name)
	})
	waitFor(t, pcsc.CardInserted, name)
}

// waitFor blocks until Watch reports kind for reader (Watch first reports
// what is already there, so a card already present counts as inserted).
// For CardRemoved, a reader found empty counts: Watch reports nothing for a
// reader that is already empty, so each Watch round is bounded and the state
// is checked again between rounds.
func waitFor(t testing.TB, kind pcsc.EventKind, reader string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if kind == pcsc.CardRemoved && !cardPresent(t, reader) {
			return
		}
		round := 15 * time.Second
		if kind == pcsc.CardRemoved {
			round = time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), round)
		err := pcsc.Watch(ctx, func(e pcsc.Event) {
			if e.Reader == reader && e.Kind == kind {
				cancel()
			}
		})
		cancel()
		if errors.Is(err, context.Canceled) {
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiting for %s on %q: %v", kind, reader, err)
		}
	}
	t.Fatalf("no %s on %q within 15 s", kind, reader)
}

func cardPresent(t testing.TB, reader string) bool {
	t.Helper()
	readers, err := pcsc.ListReaders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readers {
		if r.Name == reader {
			return r.CardPresent
		}
	}
	return false
}

func TestListReadersFindsVirtualCard(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	plugCard(t, 0, &vpcdtest.Card{}, false)
	readers, err := pcsc.ListReaders(testContext(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var found *pcsc.Reader
	for i := range readers {
		if readers[i].Name == reader0 {
			found = &readers[i]
		}
	}
	if found == nil {
		t.Fatalf("ListReaders = %+v, want %q", readers, reader0)
	}
	if !found.CardPresent || !bytes.Equal(found.ATR, vpcdtest.ATR) {
		t.Fatalf("reader = %+v, want card present with ATR %X", found, vpcdtest.ATR)
	}
	if _, err := pcsc.ParseATR(found.ATR); err != nil {
		t.Fatal(err)
	}
}

func TestTransmitThroughPCSCD(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	card := &vpcdtest.Card{}
	plugCard(t, 0, card, false)
	ctx := testContext(t, 10*time.Second)
	c, err := pcsc.Open(ctx, reader0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !bytes.Equal(c.ATR(), vpcdtest.ATR) {
		t.Fatalf("ATR = %X", c.ATR())
	}
	if p := c.Protocol(); p != "T=0" && p != "T=1" {
		t.Fatalf("protocol = %q", p)
	}
	// Raw: the Card returns 61xx as is.
	r, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r, []byte{0x61, byte(len(vpcdtest.MFFCP))}) {
		t.Fatalf("SELECT MF = %X, want 61%02X", r, len(vpcdtest.MFFCP))
	}
	// With the terminal's T=0 layer: the FCP and 9000.
	x, err := apdu.Exchange(ctx, c, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	if err != nil {
		t.Fatal(err)
	}
	if x.SW != apdu.SWOK || !bytes.Equal(x.Data, vpcdtest.MFFCP) {
		t.Fatalf("SELECT MF + GET RESPONSE = %X %s, want %X", x.Data, x.SW, vpcdtest.MFFCP)
	}
	// TERMINAL PROFILE (applet/cat/testdata/vectors.txt, pySim's "reasonable default").
	tp := []byte{0x80, 0x10, 0x00, 0x00, 0x04, 0x7F, 0xE1, 0xE1, 0x0E}
	if r, err = c.Transmit(ctx, tp); err != nil || !bytes.Equal(r, []byte{0x90, 0x00}) {
		t.Fatalf("TERMINAL PROFILE = %X, %v", r, err)
	}
	if got := card.TerminalProfile(); !bytes.Equal(got, tp[5:]) {
		t.Fatalf("card saw profile %X", got)
	}
	resets := card.Resets()
	atr, err := c.Reset(ctx, false)
	if err != nil || !bytes.Equal(atr, vpcdtest.ATR) {
		t.Fatalf("Reset = %X, %v", atr, err)
	}
	if card.Resets() <= resets {
		t.Fatal("the warm reset did not reach the virtual card")
	}
}

func TestOpenUnknownReader(t *testing.T) {
	startPCSCD(t)
	_, err := pcsc.Open(testContext(t, 10*time.Second), "No Such Reader 00 00")
	if !errors.Is(err, pcsc.ErrNoReader) {
		t.Fatalf("Open = %v, want ErrNoReader", err)
	}
}

func TestWatchSeesInsertAndRemove(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	startPCSCD(t)
	var mu sync.Mutex
	var events []pcsc.Event
	ctx, cancel := context.WithCancel(context.Background())
	inserted := make(chan struct{})
	removed := make(chan struct{})
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- pcsc.Watch(ctx, func(e pcsc.Event) {
			if e.Reader != reader1 {
				return
			}
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
			switch e.Kind {
			case pcsc.CardInserted:
				close(inserted)
			case pcsc.CardRemoved:
				close(removed)
			}
		})
	}()
	card := &vpcdtest.Card{}
	cardCtx, stopCard := context.WithCancel(context.Background())
	port := lab.port
	v := &vpcd.VirtualCard{Card: card, Addr: fmt.Sprintf("127.0.0.1:%d", port+1), MinBackoff: 20 * time.Millisecond}
	cardDone := make(chan struct{})
	go func() { v.Run(cardCtx); close(cardDone) }()
	select {
	case <-inserted:
	case <-time.After(15 * time.Second):
		t.Fatal("no CardInserted event")
	}
	stopCard()
	<-cardDone
	select {
	case <-removed:
	case <-time.After(15 * time.Second):
		t.Fatal("no CardRemoved event")
	}
	cancel()
	if err := <-watchDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch = %v, want context.Canceled (SCardCancel)", err)
	}
	mu.Lock()
	defer mu.Unlock()
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, string(e.Kind))
	}
	if got := strings.Join(kinds, ","); !strings.HasSuffix(got, "card-inserted,card-removed") {
		t.Fatalf("events for %s = %s", reader1, got)
	}
	if !bytes.Equal(events[len(events)-2].ATR, vpcdtest.ATR) {
		t.Fatalf("CardInserted ATR = %X", events[len(events)-2].ATR)
	}
}

// TestScriptor runs pcsc-tools' scriptor against the virtual card.
func TestScriptor(t *testing.T) {
	scriptor := needs.Command(t, "scriptor", "pcsc-tools")
	virtualCards.Lock()
	defer virtualCards.Unlock()
	plugCard(t, 0, &vpcdtest.Card{}, false)
	ctx := testContext(t, 30*time.Second)
	cmd := exec.CommandContext(ctx, scriptor, "-r", reader0)
	cmd.Stdin = strings.NewReader("reset\n00 A4 00 04 02 3F 00\n00 C0 00 00 16\n80 10 00 00 04 7F E1 E1 0E\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scriptor: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{
		"> 00 A4 00 04 02 3F 00",
		"< 61 16",
		"< 62 12 82 02 78 21",
		"90 00 : Normal processing",
		"> 80 10 00 00 04 7F E1 E1 0E",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("scriptor output lacks %q:\n%s", want, s)
		}
	}
}

// TestPCSCScan runs pcsc_scan for a bounded time against the virtual card.
func TestPCSCScan(t *testing.T) {
	pcscScan := needs.Command(t, "pcsc_scan", "pcsc-tools")
	virtualCards.Lock()
	defer virtualCards.Unlock()
	plugCard(t, 0, &vpcdtest.Card{}, false)
	ctx := testContext(t, 30*time.Second)
	// -n: no ATR analysis (it needs a smartcard_list.txt download); -t 2:
	// quit after 2 seconds.
	out, err := exec.CommandContext(ctx, pcscScan, "-n", "-t", "2").CombinedOutput()
	if err != nil {
		t.Fatalf("pcsc_scan: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, reader0) || !strings.Contains(s, "3B 9F 96 80 1F 87 80 31 E0 73 FE 21 1B 67 4A 4C 75 30 34 05 4B A9") {
		t.Fatalf("pcsc_scan output lacks the reader or the ATR:\n%s", s)
	}
}

// BenchmarkRoundTrip measures one APDU (SELECT MF, T=0 style answer)
// through pcscd + vpcd, with TCP_QUICKACK (slot 00) and without (slot 01).
func BenchmarkRoundTrip(b *testing.B) {
	for _, bc := range []struct {
		name       string
		slot       int
		noQuickAck bool
	}{{"quickack", 0, false}, {"no-quickack", 1, true}} {
		b.Run(bc.name, func(b *testing.B) {
			virtualCards.Lock()
			defer virtualCards.Unlock()
			plugCard(b, bc.slot, &vpcdtest.Card{}, bc.noQuickAck)
			ctx := context.Background()
			c, err := pcsc.Open(ctx, []string{reader0, reader1}[bc.slot])
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			cmd := []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Transmit(ctx, cmd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// newUICC returns the emulated UICC of the default card profile.
func newUICC(t testing.TB) *uicc.Card {
	t.Helper()
	p, err := uicc.ParseProfile(cards.Default)
	if err != nil {
		t.Fatal(err)
	}
	ks := soft.NewMemory()
	t.Cleanup(func() { ks.Close() })
	if err := p.ImportKeys(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	c, err := uicc.New(p, uicc.Options{Keystore: ks})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEmulatedUICCThroughPCSCD drives the emulated UICC through pcscd and
// vpcd with the PC/SC terminal: SELECT MF both ways, TERMINAL PROFILE,
// SELECT + READ BINARY of EF_ICCID.
func TestEmulatedUICCThroughPCSCD(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	card := newUICC(t)
	plugCard(t, 0, card, false)
	ctx := testContext(t, 10*time.Second)
	c, err := pcsc.Open(ctx, reader0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !bytes.Equal(c.ATR(), card.ATR()) {
		t.Fatalf("ATR through pcscd %X, card's %X", c.ATR(), card.ATR())
	}
	r, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	if err != nil || len(r) != 2 || r[0] != 0x61 {
		t.Fatalf("SELECT MF (T=0 style) = %X, %v; want 61xx", r, err)
	}
	x, err := apdu.Exchange(ctx, c, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00})
	if err != nil || len(x.Data) < 2 || x.Data[0] != 0x62 || x.SW != apdu.SWOK {
		t.Fatalf("SELECT MF + GET RESPONSE = %X %s, %v; want an FCP (62…) and 9000", x.Data, x.SW, err)
	}
	r2, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00, 0x00})
	if err != nil || !bytes.Equal(r2, x.Append(nil)) {
		t.Fatalf("SELECT MF with Le = %X, %v; want %X", r2, err, x.Append(nil))
	}
	// TERMINAL PROFILE: SRLabs' AutoTerminalProfile (applet/cat/testdata/vectors.txt).
	tp := []byte{0x80, 0x10, 0x00, 0x00, 0x11, 0xFF, 0x9F, 0xFF, 0xFF, 0xFF, 0x0F, 0x1F, 0xFF, 0x7F, 0x03, 0x00, 0x00, 0x20, 0x08, 0x20, 0x00, 0x00}
	r, err = c.Transmit(ctx, tp)
	if err != nil || len(r) != 2 || (r[0] != 0x90 && r[0] != 0x91) {
		t.Fatalf("TERMINAL PROFILE = %X, %v; want 9000 or 91xx", r, err)
	}
	// EF_ICCID (2FE2) holds the profile's ICCID in swapped BCD.
	if x, err = apdu.Exchange(ctx, c, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x2F, 0xE2}); err != nil || x.SW != apdu.SWOK {
		t.Fatalf("SELECT EF_ICCID = %s, %v", x.SW, err)
	}
	x, err = apdu.Exchange(ctx, c, []byte{0x00, 0xB0, 0x00, 0x00, 0x0A})
	if err != nil || len(x.Data) != 10 || x.SW != apdu.SWOK {
		t.Fatalf("READ BINARY EF_ICCID = %X %s, %v", x.Data, x.SW, err)
	}
	if got := swappedBCD(x.Data); got != card.Profile().ICCID {
		t.Fatalf("ICCID read through PC/SC %s, profile %s", got, card.Profile().ICCID)
	}
}

func swappedBCD(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		for _, n := range []byte{c & 0x0F, c >> 4} {
			if n <= 9 {
				sb.WriteByte('0' + n)
			}
		}
	}
	return sb.String()
}

// TestScriptorWithEmulatedUICC runs scriptor against the emulated UICC.
func TestScriptorWithEmulatedUICC(t *testing.T) {
	scriptor := needs.Command(t, "scriptor", "pcsc-tools")
	virtualCards.Lock()
	defer virtualCards.Unlock()
	plugCard(t, 0, newUICC(t), false)
	ctx := testContext(t, 30*time.Second)
	cmd := exec.CommandContext(ctx, scriptor, "-r", reader0)
	cmd.Stdin = strings.NewReader("reset\n00 A4 00 04 02 3F 00\n00 C0 00 00 00\n80 10 00 00 11 FF 9F FF FF FF 0F 1F FF 7F 03 00 00 20 08 20 00 00\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scriptor: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{"< 61 ", "< 62 ", "3F 00", "> 80 10 00 00 11"} {
		if !strings.Contains(s, want) {
			t.Errorf("scriptor output lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "Normal processing") < 2 {
		t.Errorf("want GET RESPONSE and TERMINAL PROFILE to end normally:\n%s", s)
	}
}

// TestResetByAnotherApplication: two shared connections to one card; when
// one resets the card the other gets ErrCardReset once, then works again.
func TestResetByAnotherApplication(t *testing.T) {
	virtualCards.Lock()
	defer virtualCards.Unlock()
	plugCard(t, 0, &vpcdtest.Card{}, false)
	ctx := testContext(t, 10*time.Second)
	c1, err := pcsc.Open(ctx, reader0)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := pcsc.Open(ctx, reader0)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	status := []byte{0x80, 0xF2, 0x00, 0x00, 0x00}
	if _, err := c2.Reset(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Transmit(ctx, status); !errors.Is(err, pcsc.ErrCardReset) {
		t.Fatalf("Transmit after another application's reset = %v, want ErrCardReset", err)
	}
	if r, err := c1.Transmit(ctx, status); err != nil || !bytes.Equal(r, []byte{0x90, 0x00}) {
		t.Fatalf("Transmit after reconnecting = %X, %v", r, err)
	}
}
