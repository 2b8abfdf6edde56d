package modem_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/cards"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/internal/testlog"
	"github.com/simlab-dev/simlab/simulator/atmodem"
	"github.com/simlab-dev/simlab/simulator/modem"
)

func defaultUICC(t *testing.T) *uicc.Card {
	t.Helper()
	p, err := uicc.ParseProfile(cards.Default)
	if err != nil {
		t.Fatal(err)
	}
	ks := soft.NewMemory()
	t.Cleanup(func() { ks.Close() })
	c, err := uicc.New(p, uicc.Options{Keystore: ks})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestInfoFromUICC: with simlab's emulated UICC in the emulated modem,
// simlab's modem driver sees the card's identity (issue 16 items 10 and
// 12): +CCID is the card's ICCID, +CPIN? says SIM PIN while PIN1 is
// enabled and not verified (TS 27.007 §8.3) and READY after +CPIN, +CIMI
// is the card's IMSI once the PIN is in, and AT+CRSM (TS 27.007 §8.18)
// reads EF_ICCID, EF_AD and EF_SPN as ModemManager asks for them.
func TestInfoFromUICC(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	card := defaultUICC(t)
	b := startEmulatorWith(t, card)
	m := openModem(t, ctx, b)
	prof := card.Profile()

	info, err := m.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.ICCID != prof.ICCID || info.SIM != "SIM PIN" || info.IMSI != "" {
		t.Errorf("before the PIN: ICCID %q, SIM %q, IMSI %q; want %s, SIM PIN, none", info.ICCID, info.SIM, info.IMSI, prof.ICCID)
	}
	// Item 5 through AT+CSIM: VERIFY PIN1 in T=0 case 1 form (P3 = 00) is
	// the retry counter query.
	if r, err := m.Card().Transmit(ctx, []byte{0x00, 0x20, 0x00, 0x01, 0x00}); err != nil || len(r) != 2 || r[0] != 0x63 || r[1] != 0xC3 {
		t.Errorf("AT+CSIM VERIFY status: %X, %v; want 63C3", r, err)
	}
	if _, err := m.Command(ctx, "+CPIN=4321"); err == nil || !strings.Contains(err.Error(), "incorrect password") {
		t.Errorf("wrong PIN: %v", err)
	}
	if _, err := m.Command(ctx, "+CPIN="+prof.PIN1.Value); err != nil {
		t.Fatalf("+CPIN with the right PIN: %v", err)
	}
	if _, err := m.Command(ctx, "+CPIN="+prof.PIN1.Value); err == nil {
		t.Error("+CPIN with nothing pending succeeded")
	}
	if r, err := m.Card().Transmit(ctx, []byte{0x00, 0x20, 0x00, 0x01, 0x00}); err != nil || len(r) != 2 || r[0] != 0x90 {
		t.Errorf("AT+CSIM VERIFY status after +CPIN: %X, %v; want 9000", r, err)
	}
	if info, err = m.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if info.SIM != "READY" || info.IMSI != prof.IMSI || info.ICCID != prof.ICCID || info.Errors != nil {
		t.Errorf("after the PIN: %+v", info)
	}

	// +CRSM as the driver's ICCID fallback and ModemManager use it.
	for _, c := range []struct{ cmd, want string }{
		{"+CRSM=176,12258,0,0,10", `+CRSM: 144,0,"` + iccidHex(prof.ICCID) + `"`},
		{"+CRSM=176,28589,0,0,4", `+CRSM: 144,0,"00000002"`},                                                  // EF_AD, DF_GSM
		{"+CRSM=176,28589,0,0,4,,3F007FFF", `+CRSM: 106,130`},                                                 // 7FFF without a current ADF: 6A82
		{"+CRSM=176,28486,0,0,17", `+CRSM: 144,0,"0173696D6C6162FFFFFFFFFFFFFFFFFFFF"`},                       // EF_SPN "simlab"
		{"+CRSM=178,28480,1,4,28", `+CRSM: 144,0,"FFFFFFFFFFFFFFFFFFFFFFFFFFFF0791991900000010FFFFFFFFFFFF"`}, // EF_MSISDN in DF_TELECOM
		{"+CRSM=192,28423", `+CRSM: 144,0,"621A8202412183026F07`},                                             // GET RESPONSE: the FCP of EF_IMSI
		{"+CRSM=176,28423,0,0,9,,7F20", `+CRSM: 144,0,"089999990000000010"`},                                  // <pathid>
		{"+CRSM=176,12258,0,0,10,,3F00", `+CRSM: 144,0,"` + iccidHex(prof.ICCID) + `"`},                       // pathid with the MF
		{"+CRSM=214,12258,0,0,1,\"00\"", `+CRSM: 105,130`},                                                    // EF_ICCID is never updatable: 6982
		{"+CRSM=176,24576,0,0,1", `+CRSM: 106,130`},                                                           // 6000: no such file
		{"+CRSM=242", `+CRSM: 144,0,"62`},                                                                     // STATUS: FCP of the current DF
	} {
		lines, err := m.Command(ctx, c.cmd)
		if err != nil {
			t.Errorf("%s: %v", c.cmd, err)
			continue
		}
		if got := strings.Join(lines, "|"); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %q, want %q", c.cmd, got, c.want)
		}
	}
	if _, err := m.Command(ctx, "+CRSM=999,12258"); err == nil {
		t.Error("+CRSM with an unknown command succeeded")
	}
	var me interface{ Error() string }
	if _, err := m.Command(ctx, "+CRSM=176,,0,0,10"); !errors.As(err, &me) {
		t.Errorf("+CRSM without a file: %v", err)
	}
}

func iccidHex(iccid string) string {
	var b strings.Builder
	for i := 0; i < 20; i += 2 {
		d := func(j int) byte {
			if j < len(iccid) {
				return iccid[j]
			}
			return 'F'
		}
		b.WriteByte(d(i + 1))
		b.WriteByte(d(i))
	}
	return b.String()
}

// TestWireTraceMasksPINs: the driver's wire trace (simlab modem -v) and
// the emulated modem's log (modem emulate -v) hold neither the PIN given
// with +CPIN nor a VERIFY PIN block sent through +CSIM, yet still show the
// commands (issue 16: they were recorded as is).
func TestWireTraceMasksPINs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	card := defaultUICC(t)
	var emuLog testlog.Buffer
	em, err := atmodem.New(atmodem.Config{Backend: atmodem.NewMemoryBackend(), Card: card, MSISDN: "+999001234567",
		Log: func(format string, args ...any) { fmt.Fprintf(&emuLog, format+"\n", args...) }})
	if err != nil {
		t.Fatal(err)
	}
	var wire testlog.Buffer
	m, err := modem.Open(ctx, servePTY(t, em), modem.Options{Trace: &wire})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	pin := card.Profile().PIN1.Value // "1234": ASCII 31 32 33 34 in a PIN block
	if _, err := m.Command(ctx, "+CPIN="+pin); err != nil {
		t.Fatal(err)
	}
	block := append([]byte{0x00, 0x20, 0x00, 0x01, 0x08}, []byte(pin)...)
	block = append(block, 0xFF, 0xFF, 0xFF, 0xFF)
	if r, err := m.Card().Transmit(ctx, block); err != nil || len(r) != 2 || r[0] != 0x90 {
		t.Fatalf("VERIFY through +CSIM: %X, %v", r, err)
	}
	for name, log := range map[string]string{"driver wire trace": wire.String(), "emulator log": emuLog.String()} {
		if strings.Contains(log, "+CPIN="+pin) || strings.Contains(log, "31323334") {
			t.Errorf("%s holds the PIN:\n%s", name, log)
		}
		if !strings.Contains(log, "+CPIN=…") || !strings.Contains(log, `+CSIM=26,"00200001085858585858585858"`) {
			t.Errorf("%s lacks the masked commands:\n%s", name, log)
		}
	}
}

// TestCommandErrorMasksPINs: a command the modem refuses comes back as an
// error naming the command, masked as the wire trace is: neither a PIN
// given with +CPIN nor a VERIFY PIN block in +CSIM (review 1, M3).
func TestCommandErrorMasksPINs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	em, err := atmodem.New(atmodem.Config{Backend: atmodem.NewMemoryBackend(), Card: defaultUICC(t), MSISDN: "+999001234567"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := modem.Open(ctx, servePTY(t, em), modem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, c := range []struct{ cmd, secret, masked string }{
		{"+CPIN=9876", "9876", "+CPIN=…"},
		// The length says 10 hex digits: the modem answers ERROR.
		{`+CSIM=10,"00200001083938373635FFFFFF"`, "3938373635", `+CSIM=10,"00200001085858585858585858"`},
	} {
		_, err := m.Command(ctx, c.cmd)
		if err == nil {
			t.Fatalf("AT%s succeeded", c.cmd)
		}
		if strings.Contains(err.Error(), c.secret) || !strings.Contains(err.Error(), c.masked) {
			t.Errorf("AT%s: error %q: want the command masked (%s)", c.cmd, err, c.masked)
		}
	}
}

// servePTY serves the emulated modem em on a fresh pseudo-terminal until
// the test ends and returns the terminal's path.
func servePTY(t *testing.T, em *atmodem.Modem) string {
	t.Helper()
	p, err := atmodem.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- em.Serve(ctx, p.Master()) }()
	t.Cleanup(func() { cancel(); <-done; p.Close() })
	return p.Path
}
