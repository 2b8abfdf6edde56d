package cat

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/internal/testvectors"
)

func mustHexT(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vec holds the public vectors of testdata/vectors.txt, each with its
// source.
var vec = testvectors.MustLoad("testdata/vectors.txt")

// Proactive commands: ofono unit/stk-test-data.h (TS 31.124 §27.22.4
// expected sequences), onomondo-uicc tests/envelope/envelope_test.ok.
var commandVectors = []struct {
	name string
	hex  string
	typ  CommandType
}{
	{"OF DISPLAY TEXT 1.1.1", vec.Hex("OF/display-text-1.1.1"), CmdDisplayText},
	{"OF DISPLAY TEXT 1.3.1", vec.Hex("OF/display-text-1.3.1"), CmdDisplayText},
	{"OF GET INPUT 1.1.1", vec.Hex("OF/get-input-1.1.1"), CmdGetInput},
	{"OF GET INPUT 1.4.1", vec.Hex("OF/get-input-1.4.1"), CmdGetInput},
	{"OF SEND SHORT MESSAGE 1.1.1", vec.Hex("OF/send-sm-1.1.1"), CmdSendShortMessage},
	{"derived GET INPUT PIN", vec.Hex("derived/get-input-pin"), CmdGetInput},
	{"ON FETCH SEND SHORT MESSAGE", vec.Hex("ON/fetch-send-sm"), CmdSendShortMessage},
}

// TERMINAL RESPONSE bodies: ofono stk-test-data.h, onomondo envelope_test.
var responseVectors = []struct {
	name   string
	hex    string
	result GeneralResult
}{
	{"OF DISPLAY TEXT OK", vec.Hex("OF/tr-display-text-ok"), ResultOK},
	{"OF resp_181 session terminated", vec.Hex("OF/tr-resp-181-session-terminated"), ResultSessionTerminated},
	{"OF resp_211 no response", vec.Hex("OF/tr-resp-211-no-response"), ResultNoResponse},
	{"OF resp_121 screen busy", vec.Hex("OF/tr-resp-121-screen-busy"), ResultTerminalUnable},
	{"OF GET INPUT 1.1.1 OK 12345", vec.Hex("OF/tr-get-input-1.1.1-12345"), ResultOK},
	{"OF GET INPUT 1.4.1 OK 2345678", vec.Hex("OF/tr-get-input-1.4.1-2345678"), ResultOK},
	{"OF resp_161 backward move", vec.Hex("OF/tr-resp-161-backward-move"), ResultBackwardMove},
	{"OF SEND SM OK", vec.Hex("OF/tr-send-sm-ok"), ResultOK},
}

// ENVELOPE data: ofono (TS 31.124 §27.22.5), onomondo, pySim (derived).
var envelopeVectors = []struct {
	name string
	hex  string
}{
	{"OF SMS-PP 1.6.2", vec.Hex("OF/envelope-sms-pp-1.6.2")},
	{"OF SMS-PP 1.8.2", vec.Hex("OF/envelope-sms-pp-1.8.2")},
	{"ON SMS-PP download", vec.Hex("ON/envelope-sms-pp")},
	{"derived PY 3DES", vec.Hex("derived/envelope-pysim-3des")},
}

func TestCommandVectors(t *testing.T) {
	t.Parallel()
	for _, v := range commandVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			b := mustHexT(t, v.hex)
			c, err := ParseCommand(b)
			if err != nil {
				t.Fatalf("ParseCommand: %v", err)
			}
			if c.Details().Type != v.typ {
				t.Fatalf("type %v, want %v", c.Details().Type, v.typ)
			}
			out, err := MarshalCommand(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, b) {
				t.Fatalf("re-encoded\n got %X\nwant %X", out, b)
			}
		})
	}
}

func TestCommandFields(t *testing.T) {
	t.Parallel()
	c, _ := ParseCommand(mustHexT(t, commandVectors[0].hex))
	dt := c.(*DisplayText)
	if s, _ := dt.Text.String(); s != "Toolkit Test 1" || !dt.WaitForUser || dt.HighPriority || dt.Text.DCS != DCSGSM8 || dt.Number != 1 {
		t.Fatalf("DISPLAY TEXT 1.1.1: %+v %q", dt, s)
	}
	if d := dt.Header.Devices; d.Source != DeviceUICC || d.Destination != DeviceDisplay {
		t.Fatalf("devices %v", d)
	}
	c, _ = ParseCommand(mustHexT(t, commandVectors[1].hex))
	if dt := c.(*DisplayText); !dt.HighPriority || !dt.WaitForUser {
		t.Fatalf("DISPLAY TEXT 1.3.1 qualifier: %+v", dt)
	}
	c, _ = ParseCommand(mustHexT(t, commandVectors[3].hex))
	gi := c.(*GetInput)
	if s, _ := gi.Text.String(); s != "Password 1<SEND>2345678" || !gi.HideInput || gi.Alphabet || gi.Length != (ResponseLength{4, 8}) {
		t.Fatalf("GET INPUT 1.4.1: %+v %q", gi, s)
	}
	c, _ = ParseCommand(mustHexT(t, commandVectors[4].hex))
	sm := c.(*SendShortMessage)
	alpha, _ := sm.Alpha.String()
	if alpha != "Send SM" || sm.Address == nil || sm.Address.Number != "112233445566778" || len(sm.TPDU) != 0x18 {
		t.Fatalf("SEND SM: %+v %q", sm, alpha)
	}
}

func TestResponseVectors(t *testing.T) {
	t.Parallel()
	for _, v := range responseVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			b := mustHexT(t, v.hex)
			r, err := ParseTerminalResponse(b)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if r.Result.General != v.result {
				t.Fatalf("result %v, want %v", r.Result.General, v.result)
			}
			out, err := r.MarshalBinary()
			if err != nil || !bytes.Equal(out, b) {
				t.Fatalf("re-encoded %X, want %X (%v)", out, b, err)
			}
		})
	}
}

func TestResponseBuilt(t *testing.T) {
	t.Parallel()
	// Answer OF GET INPUT 1.1.1 with "12345" and compare with its TR vector.
	c, err := ParseCommand(mustHexT(t, commandVectors[2].hex))
	if err != nil {
		t.Fatal(err)
	}
	tr := RespondTo(c, ResultOK)
	txt := Text("12345")
	tr.Text = &txt
	b, err := tr.MarshalBinary()
	if err != nil || !bytes.Equal(b, mustHexT(t, vec.Hex("OF/tr-get-input-1.1.1-12345"))) {
		t.Fatalf("TR %X (%v)", b, err)
	}
	// Screen busy: 20 01.
	dt, _ := ParseCommand(mustHexT(t, commandVectors[0].hex))
	b, _ = RespondTo(dt, ResultTerminalUnable, CauseScreenBusy).MarshalBinary()
	if !bytes.Equal(b, mustHexT(t, "81030121808202828183022001")) {
		t.Fatalf("screen busy TR %X", b)
	}
	// onomondo: TERMINAL RESPONSE APDU for SEND SHORT MESSAGE.
	sm, _ := ParseCommand(mustHexT(t, commandVectors[6].hex))
	apdu, err := RespondTo(sm, ResultOK).APDU()
	if err != nil || !bytes.Equal(apdu, mustHexT(t, vec.Hex("ON/tr-send-sm-apdu"))) {
		t.Fatalf("TR APDU %X (%v)", apdu, err)
	}
	r, _ := ParseTerminalResponse(mustHexT(t, "81030121808202828183022001"))
	if got := r.Result.String(); got != "terminal currently unable to process command: screen is busy" {
		t.Fatalf("result string %q", got)
	}
}

func TestEnvelopeVectors(t *testing.T) {
	t.Parallel()
	for _, v := range envelopeVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			b := mustHexT(t, v.hex)
			e, err := ParseEnvelope(b)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			pp, ok := e.(*SMSPPDownload)
			if !ok || pp.Devices.Source != DeviceNetwork || pp.Devices.Destination != DeviceUICC || len(pp.TPDU) == 0 {
				t.Fatalf("SMS-PP: %#v", e)
			}
			out, err := MarshalEnvelope(e)
			if err != nil || !bytes.Equal(out, b) {
				t.Fatalf("re-encoded\n got %X\nwant %X (%v)", out, b, err)
			}
		})
	}
}

func TestEnvelopeAPDU(t *testing.T) {
	t.Parallel()
	// Derived: the spec-correct pySim TPDU wrapped in an ENVELOPE without
	// address, built from scratch.
	tp := mustHexT(t, vec.Hex("derived/pysim-sms-deliver"))
	apdu, err := EnvelopeAPDU(&SMSPPDownload{TPDU: tp})
	want := mustHexT(t, vec.Hex("derived/envelope-apdu-pysim-3des"))
	if err != nil || !bytes.Equal(apdu, want) {
		t.Fatalf("got  %X\nwant %X (%v)", apdu, want, err)
	}
	// ofono uses address tag 06 (CR clear); it is kept.
	e, _ := ParseEnvelope(mustHexT(t, envelopeVectors[0].hex))
	if a := e.(*SMSPPDownload).Address; a == nil || a.String() != "+112233445566778" {
		t.Fatalf("address %v", a)
	}
}

func TestPrompts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		c    Command
		want string
	}{
		// The derived PIN prompt.
		{PINPrompt(1, "Enter PIN", 5), vec.Hex("derived/get-input-pin")},
		// OF DISPLAY TEXT 1.1.1 and 1.3.1 are exactly the confirmation prompt.
		{ConfirmPrompt(1, "Toolkit Test 1", false), commandVectors[0].hex},
		{ConfirmPrompt(1, "Toolkit Test 2", true), commandVectors[1].hex},
	}
	for _, c := range cases {
		b, err := MarshalCommand(c.c)
		if err != nil || !bytes.Equal(b, mustHexT(t, c.want)) {
			t.Errorf("%T: got %X, want %s (%v)", c.c, b, c.want, err)
		}
	}
}
