package cat_test

import (
	"fmt"

	"github.com/simlab-dev/simlab/applet/cat"
)

// ExamplePINPrompt is docs/cat.md's prompts and TERMINAL RESPONSE
// summary, run: the applet's two prompts, then the handset's answer to
// the PIN prompt and the card's reading of it.
func ExamplePINPrompt() {
	text, highPriority := "Example Bank\nPay 10 EUR", false
	cat.ConfirmPrompt(1, text, highPriority) // DISPLAY TEXT, wait for user to clear (LoA2)
	cat.PINPrompt(1, "Enter PIN", 5)         // GET INPUT, digits only, hidden, 5..5 (LoA3)
	cmd := cat.PINPrompt(1, "Enter PIN", 5)
	b, _ := cat.MarshalCommand(cmd)
	fmt.Printf("%X\n", b)

	tr := cat.RespondTo(cmd, cat.ResultOK) // echoes the command details
	pin := cat.Text("12345")
	tr.Text = &pin       // GET INPUT answer
	apdu, _ := tr.APDU() // 80 14 00 00 Lc …
	body := apdu[5:]
	r, err := cat.ParseTerminalResponse(body)
	s, _ := r.Text.String()
	fmt.Printf("%X\n%v %s\n", apdu, err, s)
	// Output:
	// D0198103012304820281828D0A04456E7465722050494E91020505
	// 80140000148103012304820282818301008D06043132333435
	// <nil> 12345
}
