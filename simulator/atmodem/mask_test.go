package atmodem

import (
	"strings"
	"testing"
)

// TestMaskLine: secrets leave AT lines, the rest stays readable.
func TestMaskLine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`AT+CPIN="1234"`, `AT+CPIN=…`},
		{`at+cpin=12345678,1234`, `at+cpin=…`},
		{`AT+CPIN?`, `AT+CPIN?`},
		{`AT+CLCK="SC",1,"1234";+CSQ`, `AT+CLCK=…;+CSQ`},
		{`AT+CPWD="SC","1234","4321"`, `AT+CPWD=…`},
		{`w: AT+CSIM=26,"002000010831323334FFFFFFFF"` + "\r", `w: AT+CSIM=26,"00200001085858585858585858"` + "\r"},
		{`AT+CSIM=14,"00A40004023F00"`, `AT+CSIM=14,"00A40004023F00"`},
		{`AT+CSIM=10,"0020000100"`, `AT+CSIM=10,"0020000100"`},
		{`AT+CSIM=4,"zz"`, `AT+CSIM=…`},
		// TS 31.124 GET INPUT 1.4.1's answer (hidden input, "2345678").
		{`AT+CUSATT="8103012304820282818301008D080432333435363738"`, `AT+CUSATT="8103012304820282818301008D080458585858585858"`},
		{`AT+CUSATT="810301218082028281830100"`, `AT+CUSATT="810301218082028281830100"`},
		{`AT+CMGF=1;+CPIN=1234;+CSQ`, `AT+CMGF=1;+CPIN=…;+CSQ`},
		{`r: \r\n+CPIN: SIM PIN\r\n`, `r: \r\n+CPIN: SIM PIN\r\n`},
		{`AT+CPIN=`, `AT+CPIN=`},
	} {
		if got := MaskLine(c.in); got != c.want {
			t.Errorf("MaskLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzMaskLine: never panics, and a PIN given to +CPIN never survives.
func FuzzMaskLine(f *testing.F) {
	for _, s := range []string{`AT+CPIN="1234"`, `AT+CSIM=26,"002000010831323334FFFFFFFF"`, `AT+CUSATT="8103012304820282818301008D080432333435363738"`, `AT+CLCK="SC",1,"1234";+CSQ`, "+CPIN=\"", "+CSIM=\"\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line := "AT+CPIN=" + s + "9731"
		if strings.ContainsAny(s, ";\r\n") {
			return
		}
		if got := MaskLine(line); strings.Contains(got, "9731") {
			t.Fatalf("MaskLine(%q) = %q keeps the PIN", line, got)
		}
		_ = MaskLine(s)
	})
}
