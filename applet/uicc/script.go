package uicc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/simlab-dev/simlab/applet"
	"github.com/simlab-dev/simlab/applet/apdu"
)

// ErrScript is wrapped by script syntax errors.
var ErrScript = errors.New("uicc: script")

// ScriptStep is one line of an APDU script: a command APDU with an optional
// expected response, or a card reset.
type ScriptStep struct {
	Line    int
	Reset   bool
	Command []byte
	// Expect is the expected response in upper-case hex: a whole R-APDU,
	// only the status word (4 digits), with X for any nibble and one "…"
	// (or "...") for any run of bytes. Empty: no check.
	Expect string
}

// ParseScript reads an APDU script: one hex command APDU per line (spaces
// allowed), "#" starts a comment, "=> HEX" after the APDU is the expected
// response, and a line "reset" resets the card.
//
//	# select the MF, T=0 style
//	00A4 0004 02 3F00      => 61XX
//	00C0000000             => 62…9000
//	reset
func ParseScript(r io.Reader) ([]ScriptStep, error) {
	var steps []ScriptStep
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.EqualFold(line, "reset") {
			steps = append(steps, ScriptStep{Line: n, Reset: true})
			continue
		}
		cmd, exp, _ := strings.Cut(line, "=>")
		b, err := hex.DecodeString(strings.Join(strings.Fields(cmd), ""))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: command is not hex: %v", ErrScript, n, err)
		}
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: line %d: a command APDU has at least 4 bytes, got %d", ErrScript, n, len(b))
		}
		exp = strings.ToUpper(strings.ReplaceAll(strings.Join(strings.Fields(exp), ""), "...", "…"))
		if err := checkPattern(exp); err != nil {
			return nil, fmt.Errorf("%w: line %d: expected response: %v", ErrScript, n, err)
		}
		steps = append(steps, ScriptStep{Line: n, Command: b, Expect: exp})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrScript, err)
	}
	return steps, nil
}

func checkPattern(p string) error {
	if strings.Count(p, "…") > 1 {
		return errors.New("at most one … wildcard")
	}
	n := 0
	for _, c := range strings.ReplaceAll(p, "…", "") {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c == 'X') {
			return fmt.Errorf("%q is not a hex digit or X", c)
		}
		n++
	}
	if n%2 != 0 {
		return errors.New("odd number of hex digits")
	}
	if p != "" && !strings.Contains(p, "…") && n < 4 {
		return errors.New("want at least the 2-byte status word")
	}
	return nil
}

// matchResponse reports whether the R-APDU (hex, upper case) fits pattern.
func matchResponse(got, pattern string) bool {
	if pattern == "" {
		return true
	}
	if !strings.Contains(pattern, "…") && len(pattern) == 4 && len(got) >= 4 {
		return nibbles(got[len(got)-4:], pattern)
	}
	pre, post, wild := strings.Cut(pattern, "…")
	if !wild {
		return nibbles(got, pattern)
	}
	return len(got) >= len(pre)+len(post) && nibbles(got[:len(pre)], pre) && nibbles(got[len(got)-len(post):], post)
}

func nibbles(s, p string) bool {
	if len(s) != len(p) {
		return false
	}
	for i := range len(p) {
		if p[i] != 'X' && p[i] != s[i] {
			return false
		}
	}
	return true
}

// TraceEntry is one executed script step.
type TraceEntry struct {
	Line  int    `json:"line"`
	Reset bool   `json:"reset,omitempty"`
	ATR   string `json:"atr,omitempty"`
	// Command is the C-APDU in hex; PIN data is replaced by asterisks.
	Command   string     `json:"command,omitempty"`
	Name      string     `json:"name,omitempty"`
	Decoded   *apdu.Node `json:"decoded,omitempty"`
	Response  string     `json:"response,omitempty"` // R-APDU data field, hex
	SW        string     `json:"sw,omitempty"`
	SWName    string     `json:"sw_name,omitempty"`
	Answer    *apdu.Node `json:"answer,omitempty"`
	Expected  string     `json:"expected,omitempty"`
	Failed    bool       `json:"failed,omitempty"`
	Error     string     `json:"error,omitempty"`
	rapduFull string
}

// RunScript executes steps against any card (the emulated UICC, a PC/SC
// card, a modem's SIM) and returns the trace and the number of failed
// expectations. It stops early only when ctx is done or the card fails.
func RunScript(ctx context.Context, card applet.Card, steps []ScriptStep) ([]TraceEntry, int, error) {
	var (
		trace  []TraceEntry
		failed int
	)
	for _, s := range steps {
		e := TraceEntry{Line: s.Line}
		if s.Reset {
			atr, err := card.Reset(ctx, false)
			if err != nil {
				return trace, failed, fmt.Errorf("uicc: line %d: reset: %w", s.Line, err)
			}
			e.Reset, e.ATR = true, strings.ToUpper(hex.EncodeToString(atr))
			trace = append(trace, e)
			continue
		}
		cmd, perr := apdu.Parse(s.Command)
		e.Command = strings.ToUpper(hex.EncodeToString(s.Command))
		if secrets := apdu.AppendSecrets(nil, s.Command); len(secrets) > 0 {
			e.Command = maskHex(s.Command, secrets)
		}
		if perr == nil {
			e.Name = cmd.Name()
			d := apdu.DescribeCommand(cmd)
			e.Decoded = &d
		} else {
			e.Name = "malformed: " + perr.Error()
		}
		r, err := card.Transmit(ctx, s.Command)
		if err != nil {
			return trace, failed, fmt.Errorf("uicc: line %d: transmit: %w", s.Line, err)
		}
		e.rapduFull = strings.ToUpper(hex.EncodeToString(r))
		if resp, err := apdu.ParseResponse(r); err == nil {
			e.Response = strings.ToUpper(hex.EncodeToString(resp.Data))
			e.SW = fmt.Sprintf("%04X", uint16(resp.SW))
			e.SWName = resp.SW.Name()
			a := apdu.DescribeResponse(resp)
			e.Answer = &a
		} else {
			e.Error = err.Error()
		}
		if s.Expect != "" {
			e.Expected = s.Expect
			if !matchResponse(e.rapduFull, s.Expect) {
				e.Failed = true
				failed++
			}
		}
		trace = append(trace, e)
	}
	return trace, failed, nil
}

// maskHex shows raw in hex with the secret bytes (apdu.AppendSecrets: PIN
// blocks, a hidden GET INPUT answer) as asterisks.
func maskHex(raw []byte, secrets []apdu.Secret) string {
	h := []byte(strings.ToUpper(hex.EncodeToString(raw)))
	for _, s := range secrets {
		for i := 2 * s.Start; i < 2*s.End; i++ {
			h[i] = '*'
		}
	}
	return string(h)
}

// WriteTrace writes a readable trace: each command with its decoded name,
// parameters and data, then the response data and status word name.
func WriteTrace(w io.Writer, trace []TraceEntry) error {
	var b bytes.Buffer
	for _, e := range trace {
		if e.Reset {
			fmt.Fprintf(&b, "%4d  reset  ATR %s\n", e.Line, e.ATR)
			continue
		}
		fmt.Fprintf(&b, "%4d  > %s  %s\n", e.Line, e.Command, e.Name)
		if e.Decoded != nil {
			for _, ch := range e.Decoded.Children[2:] { // CLA and INS are in the name
				writeNode(&b, ch)
			}
		}
		if e.Response != "" {
			fmt.Fprintf(&b, "      < %s\n", e.Response)
			if e.Answer != nil && len(e.Answer.Children) > 0 {
				for _, ch := range e.Answer.Children[0].Children {
					writeNode(&b, ch)
				}
			}
		}
		fmt.Fprintf(&b, "      < %s %s\n", e.SW, e.SWName)
		if e.Failed {
			fmt.Fprintf(&b, "      FAILED: expected %s, got %s\n", e.Expected, e.rapduFull)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeNode(b *bytes.Buffer, n apdu.Node) {
	b.WriteString("          ")
	b.WriteString(n.Name)
	if n.Value != "" {
		b.WriteString(" " + n.Value)
	}
	if n.Meaning != "" {
		b.WriteString(": " + n.Meaning)
	}
	b.WriteString("\n")
}
