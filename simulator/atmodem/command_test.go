package atmodem

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		line string
		want []Command
	}{
		{"AT", nil},
		{"at", nil},
		{"ATE0", []Command{{Name: "E", Args: "0"}}},
		{"ATE0V1Q0", []Command{{Name: "E", Args: "0"}, {Name: "V", Args: "1"}, {Name: "Q", Args: "0"}}},
		{"ATZ", []Command{{Name: "Z"}}},
		{"AT&F", []Command{{Name: "&F"}}},
		{"AT&F0E1", []Command{{Name: "&F", Args: "0"}, {Name: "E", Args: "1"}}},
		{"ATI", []Command{{Name: "I"}}},
		{"ATS3?", []Command{{Name: "S3", Op: OpRead}}},
		{"ATS7=60", []Command{{Name: "S7", Op: OpSet, Args: "60"}}},
		{"ATD+441234;", []Command{{Name: "D", Args: "+441234;"}}},
		{"AT+CMGF=0", []Command{{Name: "+CMGF", Op: OpSet, Args: "0"}}},
		{"at+cmgf?", []Command{{Name: "+CMGF", Op: OpRead}}},
		{"AT+CMGF=?", []Command{{Name: "+CMGF", Op: OpTest}}},
		{"AT+CGSN", []Command{{Name: "+CGSN"}}},
		{"AT+CMGF=0;+CNMI=2,1,0,1,0", []Command{{Name: "+CMGF", Op: OpSet, Args: "0"},
			{Name: "+CNMI", Op: OpSet, Args: "2,1,0,1,0"}}},
		{`AT+CSIM=14,"00A40004023F00"`, []Command{{Name: "+CSIM", Op: OpSet, Args: `14,"00A40004023F00"`}}},
		{`AT+CMGS="+44;1",145`, []Command{{Name: "+CMGS", Op: OpSet, Args: `"+44;1",145`}}},
		{"ATE1;+CMEE=2;Z", []Command{{Name: "E", Args: "1"}, {Name: "+CMEE", Op: OpSet, Args: "2"}, {Name: "Z"}}},
		{"AT^SYSINFO", []Command{{Name: "^SYSINFO"}}},
		{"AT$TSSPCSW=?", []Command{{Name: "$TSSPCSW", Op: OpTest}}},
		{"AT+CMGF=1 ", []Command{{Name: "+CMGF", Op: OpSet, Args: "1"}}},
		{"AT+CSQ ;+CREG?", []Command{{Name: "+CSQ"}, {Name: "+CREG", Op: OpRead}}},
	}
	for _, c := range cases {
		got, err := ParseLine(c.line)
		if err != nil {
			t.Errorf("ParseLine(%q): %v", c.line, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseLine(%q) = %+v, want %+v", c.line, got, c.want)
		}
		// And back: the formatted line parses to the same commands.
		again, err := ParseLine(FormatLine(got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("FormatLine(%q) = %q parses to %+v, %v", c.line, FormatLine(got), again, err)
		}
	}
}

func TestParseLineErrors(t *testing.T) {
	t.Parallel()
	for _, line := range []string{"", "A", "XT", "AT+", "AT+CMGF?X", `AT+CSIM=4,"00A4`, "ATS", "ATS3", "AT&", "AT1", "AT+CMGF=?1"} {
		_, err := ParseLine(line)
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseLine(%q) = %v, want ErrSyntax", line, err)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []string
	}{
		{"0", []string{"0"}},
		{"2,1,0,1,0", []string{"2", "1", "0", "1", "0"}},
		{`14,"00A4,0004"`, []string{"14", "00A4,0004"}},
		{`"SM","SM","SM"`, []string{"SM", "SM", "SM"}},
		{`3,,1`, []string{"3", "", "1"}},
		{` 1 , 2 `, []string{"1", "2"}},
		{``, []string{""}},
	}
	for _, c := range cases {
		got, err := SplitArgs(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := SplitArgs(`"open`); !errors.Is(err, ErrSyntax) {
		t.Errorf("unterminated string: %v", err)
	}
}

// FuzzParseLine checks that ParseLine never panics and that what it
// accepts formats back to a line with the same commands.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"AT", "ATE0V1", "AT+CMGF=0;+CNMI=2,1,0,1,0", `AT+CSIM=14,"00A40004023F00"`,
		"ATS3=13", "ATD123;", "AT+CUSATT=\"810301218082028281830100\"", "AT+CMGL=?", "AT&FE1Q0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmds, err := ParseLine(line)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error without ErrSyntax: %v", err)
			}
			return
		}
		again, err := ParseLine(FormatLine(cmds))
		if err != nil {
			t.Fatalf("FormatLine(%+v) = %q: %v", cmds, FormatLine(cmds), err)
		}
		if !reflect.DeepEqual(again, cmds) && !(len(again) == 0 && len(cmds) == 0) {
			t.Fatalf("round trip of %q: %+v != %+v", line, again, cmds)
		}
		for _, c := range cmds {
			if c.Op == OpSet && c.Name[0] != 'S' {
				if _, err := SplitArgs(c.Args); err != nil {
					t.Fatalf("SplitArgs(%q) of an accepted line: %v", c.Args, err)
				}
			}
		}
	})
}

func BenchmarkParseLine(b *testing.B) {
	line := `AT+CMGF=0;+CNMI=2,1,0,1,0;+CSIM=14,"00A40004023F00"`
	for i := 0; i < b.N; i++ {
		if _, err := ParseLine(line); err != nil {
			b.Fatal(err)
		}
	}
}
