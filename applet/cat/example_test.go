package cat_test

import (
	"encoding/hex"
	"fmt"

	"github.com/simlab-dev/simlab/applet/cat"
)

// The authenticator applet asks for a hidden 5-digit PIN; the handset
// answers with what the user typed.
func Example() {
	cmd, _ := cat.MarshalCommand(cat.PINPrompt(1, "Enter PIN", 5))
	fmt.Printf("FETCH data: %X\n", cmd)

	parsed, _ := cat.ParseCommand(cmd)
	gi := parsed.(*cat.GetInput)
	prompt, _ := gi.Text.String()
	fmt.Println(prompt, gi.HideInput, gi.Length.Min, gi.Length.Max)

	tr := cat.RespondTo(gi, cat.ResultOK)
	pin := cat.Text("12345")
	tr.Text = &pin
	apdu, _ := tr.APDU()
	fmt.Printf("TERMINAL RESPONSE: %X\n", apdu)
	// Output:
	// FETCH data: D0198103012304820281828D0A04456E7465722050494E91020505
	// Enter PIN true 5 5
	// TERMINAL RESPONSE: 80140000148103012304820282818301008D06043132333435
}

func ExampleParseEnvelope() {
	// ofono SMS-PP download 1.6.2 (TS 31.124 §27.22.5; testdata/vectors.txt).
	b, _ := hex.DecodeString("d12d8202838106099111223344556677f88b1c04049121437ff6891010000000000d53686f7274204d657373616765")
	e, _ := cat.ParseEnvelope(b)
	pp := e.(*cat.SMSPPDownload)
	fmt.Println(pp.Devices.Source, "→", pp.Devices.Destination, pp.Address, len(pp.TPDU))
	// Output: network → UICC +112233445566778 28
}

func ExampleTerminalProfile() {
	p := cat.TerminalProfile(nil).Set(cat.FacDisplayText).Set(cat.FacGetInput).Set(cat.FacSMSPPDownload)
	fmt.Printf("%X %v %v\n", []byte(p), p.Has(cat.FacGetInput), p.Has(cat.FacSetUpMenu))
	for _, f := range p.Facilities() {
		fmt.Println(f)
	}
	// Output:
	// 020005 true false
	// SMS-PP data download
	// DISPLAY TEXT
	// GET INPUT
}
