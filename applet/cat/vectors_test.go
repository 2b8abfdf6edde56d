package cat

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func mustHexT(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Proactive commands of /work/shared/VECTORS.md: §6 from ofono
// unit/stk-test-data.h (TS 31.124 §27.22.4 expected sequences), §4 from
// onomondo-uicc tests/envelope/envelope_test.ok.
var commandVectors = []struct {
	name string
	hex  string
	typ  CommandType
}{
	{"OF DISPLAY TEXT 1.1.1", "D01A8103012180820281028D0F04546F6F6C6B697420546573742031", CmdDisplayText},
	{"OF DISPLAY TEXT 1.3.1", "D01A8103012181820281028D0F04546F6F6C6B697420546573742032", CmdDisplayText},
	{"OF GET INPUT 1.1.1", "D01B8103012300820281828D0C04456E74657220313233343591020505", CmdGetInput},
	{"OF GET INPUT 1.4.1", "D0278103012304820281828D180450617373776F726420313C53454E443E3233343536373891020408", CmdGetInput},
	{"OF SEND SHORT MESSAGE 1.1.1", "D037810301130082028183850753656E6420534D86099111223344556677F88B180100099110325476F840F40C54657374204D657373616765", CmdSendShortMessage},
	{"VECTORS §6 derived GET INPUT PIN", "D0198103012304820281828D0A04456E7465722050494E91020505", CmdGetInput},
	{"ON FETCH SEND SHORT MESSAGE", "d03d8103011300820281838b324100049121437ff629027100002412b000118bd0716adbf216d5dad4612ec54d64bceaf7d9228b8254d857f8d42394be9f66", CmdSendShortMessage},
}

// TERMINAL RESPONSE bodies of VECTORS.md §6 (ofono stk-test-data.h) and §4
// (onomondo envelope_test).
var responseVectors = []struct {
	name   string
	hex    string
	result GeneralResult
}{
	{"OF DISPLAY TEXT OK", "810301218082028281830100", ResultOK},
	{"OF resp_181 session terminated", "810301218082028281830110", ResultSessionTerminated},
	{"OF resp_211 no response", "810301218082028281830112", ResultNoResponse},
	{"OF resp_121 screen busy", "81030121808202828183022001", ResultTerminalUnable},
	{"OF GET INPUT 1.1.1 OK 12345", "8103012300820282818301008D06043132333435", ResultOK},
	{"OF GET INPUT 1.4.1 OK 2345678", "8103012304820282818301008D080432333435363738", ResultOK},
	{"OF resp_161 backward move", "810301230082028281830111", ResultBackwardMove},
	{"OF SEND SM OK", "810301130082028281830100", ResultOK},
}

// ENVELOPE data of VECTORS.md §7 (ofono, TS 31.124 §27.22.5) and §4
// (onomondo).
var envelopeVectors = []struct {
	name string
	hex  string
}{
	{"OF SMS-PP 1.6.2", "d12d8202838106099111223344556677f88b1c04049121437ff6891010000000000d53686f7274204d657373616765"},
	{"OF SMS-PP 1.8.2", "d13e8202838106099111223344556677f88b2d44049121437ff6891010000000001e0270000019000d00000000bfff00000000000100dcdcdcdcdcdcdcdcdcdc"},
	{"ON SMS-PP download", "d15982028381860510426587f98b4c60039121437ff6624080119342803d02700000381516393232b00011d5cbcbd7ad00edcae5fb251618e04ed8502924dbad65b15be802a9d9e28267110d433c06103268db6a2a9d618fe8ab74"},
	{"VECTORS §7 derived PY 3DES", "d13c820283818b36400881214365877ff6227052000000002502700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f"},
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
	if err != nil || !bytes.Equal(b, mustHexT(t, "8103012300820282818301008D06043132333435")) {
		t.Fatalf("TR %X (%v)", b, err)
	}
	// Screen busy: 20 01.
	dt, _ := ParseCommand(mustHexT(t, commandVectors[0].hex))
	b, _ = RespondTo(dt, ResultTerminalUnable, CauseScreenBusy).MarshalBinary()
	if !bytes.Equal(b, mustHexT(t, "81030121808202828183022001")) {
		t.Fatalf("screen busy TR %X", b)
	}
	// VECTORS §4, ON: TERMINAL RESPONSE APDU for SEND SHORT MESSAGE.
	sm, _ := ParseCommand(mustHexT(t, commandVectors[6].hex))
	apdu, err := RespondTo(sm, ResultOK).APDU()
	if err != nil || !bytes.Equal(apdu, mustHexT(t, "801400000c810301130082028281830100")) {
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
	// VECTORS §7 derived: the spec-correct PY TPDU wrapped in an ENVELOPE
	// without address, built from scratch.
	tp := mustHexT(t, "400881214365877ff6227052000000002502700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f")
	apdu, err := EnvelopeAPDU(&SMSPPDownload{TPDU: tp})
	want := mustHexT(t, "80c200003ed13c820283818b36400881214365877ff6227052000000002502700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f")
	if err != nil || !bytes.Equal(apdu, want) {
		t.Fatalf("got  %X\nwant %X (%v)", apdu, want, err)
	}
	// VECTORS §7: OF uses address tag 06 (CR clear); it is kept.
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
		// VECTORS §6 derived PIN prompt.
		{PINPrompt(1, "Enter PIN", 5), "D0198103012304820281828D0A04456E7465722050494E91020505"},
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
