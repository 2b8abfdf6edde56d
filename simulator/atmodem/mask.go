package atmodem

import (
	"encoding/hex"
	"strings"

	"github.com/simlab-dev/simlab/applet/apdu"
)

// MaskLine returns an AT command line (or a log line holding one, such as
// a driver's wire trace "w: AT+CSIM=…\r") with its secrets masked, for
// logs and traces: the passwords of +CPIN, +CLCK and +CPWD become "…",
// and the APDU of +CSIM and the terminal response of +CUSATT keep what
// they say with apdu.MaskSecrets's masking (a VERIFY PIN block, a hidden
// GET INPUT answer: 'X' bytes, hex 58). Everything else is kept. Both the
// emulated modem's log and simlab's modem driver (-v) use it.
func MaskLine(line string) string {
	upper := strings.ToUpper(line)
	var out strings.Builder
	last := 0
	for i := 0; i < len(line); i++ {
		if line[i] != '+' {
			continue
		}
		for _, k := range []string{"+CPIN=", "+CLCK=", "+CPWD=", "+CSIM=", "+CUSATT="} {
			if !strings.HasPrefix(upper[i:], k) {
				continue
			}
			start := i + len(k)
			end := start
			quoted := false
			for end < len(line) && (quoted || !strings.ContainsRune(";\r\n", rune(line[end]))) {
				if line[end] == '"' {
					quoted = !quoted
				}
				end++
			}
			out.WriteString(line[last:start])
			out.WriteString(maskArgs(k, line[start:end]))
			last, i = end, end-1
			break
		}
	}
	if last == 0 {
		return line
	}
	out.WriteString(line[last:])
	return out.String()
}

// maskArgs masks the arguments args of command k.
func maskArgs(k, args string) string {
	switch k {
	case "+CSIM=": // <length>,"<command>"
		n, h, ok := strings.Cut(args, ",")
		if ok {
			if b, err := hex.DecodeString(strings.Trim(h, `"`)); err == nil {
				return n + `,"` + strings.ToUpper(hex.EncodeToString(apdu.MaskSecrets(b))) + `"`
			}
		}
	case "+CUSATT=": // "<terminal_response>"
		if b, err := hex.DecodeString(strings.Trim(args, `"`)); err == nil && len(b) < 256 {
			c := apdu.MaskSecrets(append([]byte{0x80, apdu.INSTerminalResponse, 0x00, 0x00, byte(len(b))}, b...))
			return `"` + strings.ToUpper(hex.EncodeToString(c[5:])) + `"`
		}
	}
	if args == "" {
		return ""
	}
	return "…"
}
