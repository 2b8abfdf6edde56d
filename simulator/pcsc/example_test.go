package pcsc_test

import (
	"encoding/hex"
	"fmt"

	"github.com/simlab-dev/simlab/simulator/pcsc"
)

// ExampleParseATR decodes the ATR captured from a virtual card behind
// pcscd + vpcd (applet/apdu/testdata/vectors.txt).
func ExampleParseATR() {
	b, _ := hex.DecodeString("3B9F96801F878031E073FE211B674A4C753034054BA9")
	atr, err := pcsc.ParseATR(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fi, di, _ := atr.FiDi()
	fmt.Println(atr.Convention, atr.Protocols, fi, di, atr.TCKValid)
	fmt.Printf("%X\n", atr.Historical)
	// Output:
	// direct [0] 512 32 true
	// 8031E073FE211B674A4C753034054B
}
