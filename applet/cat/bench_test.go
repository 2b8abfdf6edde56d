package cat

import (
	"encoding/hex"
	"testing"
)

func benchHex(b *testing.B, s string) []byte {
	v, err := hex.DecodeString(s)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func BenchmarkMarshalDisplayText(b *testing.B) {
	c := ConfirmPrompt(1, "Approve login to Example Bank? Code 1234", true)
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = c.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDisplayText(b *testing.B) {
	v := benchHex(b, "D01A8103012180820281028D0F04546F6F6C6B697420546573742031")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCommand(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalGetInput(b *testing.B) {
	c := PINPrompt(1, "Enter PIN", 5)
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = c.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseGetInput(b *testing.B) {
	v := benchHex(b, "D0198103012304820281828D0A04456E7465722050494E91020505")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCommand(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalTerminalResponse(b *testing.B) {
	txt := Text("12345")
	r := &TerminalResponse{Details: CommandDetails{1, CmdGetInput, 0x04}, Result: Result{General: ResultOK}, Text: &txt}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = r.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTerminalResponse(b *testing.B) {
	v := benchHex(b, "8103012300820282818301008D06043132333435")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTerminalResponse(v); err != nil {
			b.Fatal(err)
		}
	}
}
