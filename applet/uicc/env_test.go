package uicc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// envApplet records what its Env tells it.
type envApplet struct {
	got []string
}

func (a *envApplet) Process(ctx context.Context, req *Request) (Step, error) {
	e := req.Env
	v, ok := e.Option("colour")
	_, missing := e.Option("nope")
	_, err := e.SealResponse([]byte{1})
	a.got = append(a.got, e.ICCID(), e.IMSI(), e.MSISDN(), e.Now().Format(time.RFC3339),
		string(bytesToHex(e.TerminalProfile())), v, boolStr(ok), boolStr(missing),
		boolStr(e.BoolOption("pin_supported")), boolStr(e.BoolOption("colour")), boolStr(e.PIN1Verified()),
		boolStr(errors.Is(err, ErrNoOTA)))
	return Step{}, nil
}

func (a *envApplet) Resume(ctx context.Context, env *Env, tr []byte) (Step, error) {
	return Step{}, nil
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestEnv(t *testing.T) {
	t.Parallel()
	prof := strings.Replace(testProfile, `    aid: "F073696D6C616201"`, `    aid: "F073696D6C616201"
    options: {colour: blue, pin_supported: "yes"}`, 1)
	c := newCard(t, prof)
	a := &envApplet{}
	if err := c.Install("prompt", a); err != nil {
		t.Fatal(err)
	}
	run(t, c, []step{
		{"8010000002ABCD", "9000"},
		{"00A4040C08F073696D6C616201", "9000"},
		{"00A4000C023F00", "9000"},
		{"0020000108" + "31323334FFFFFFFF", "9000"},
		{"00A4040C08F073696D6C616201", "9000"},
	})
	want := "8999901000000000005 999990000000001 +999100000001 2026-11-22T00:00:00Z ABCD blue true false true false false true"
	if got := strings.Join(a.got[:12], " "); got != want {
		t.Errorf("env: %s\nwant %s", got, want)
	}
	if a.got[12+10] != "true" {
		t.Errorf("PIN1Verified after VERIFY = %s", a.got[12+10])
	}
	if c.Profile().Name != "test" || len(c.ATR()) != len(DefaultATR) {
		t.Error("Profile/ATR accessors")
	}
}

// TestEFFCP checks the FCP of transparent and linear fixed EFs (TS 102 221
// §11.1.1.4.3): file descriptor, size, SFI, security attributes.
func TestEFFCP(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	run(t, c, []step{
		{"00A40004022FE200", "621B8202412183022FE28A01058C0303FF0080020 00A81020 02A88011 09000"},
		{"00A40004022F0000", "621E820542210020018302 2F008A01058C03039A0080020020810200408801F09000"},
		{"00A4040407A000000087100200", "…9000"},
		{"00A40004026F4200", "621D82054221002801830 26F428A01058C03039090800200288102004888009000"},
	})
}
