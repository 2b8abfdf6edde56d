// Package atmodem is an emulated AT-command modem (3GPP TS 27.007 and
// TS 27.005, ITU-T V.250) served on a pseudo-terminal, so that modem drivers
// and tools such as gammu can talk to an emulated phone as if it were a USB
// modem. The interpreter splits command lines on CR, honours echo, verbose
// and quiet modes, +CMEE error reporting, SMS in PDU and text mode,
// message storage, new-message routing (+CMT, +CMTI, +CDS), AT+CSIM and the
// USAT commands (+CUSATD, +CUSATA, +CUSATT, +CUSATE, +CUSATP).
//
// What the modem sends and receives is decided by a Backend: an in-memory
// one (MemoryBackend) for tests and a bench without network, and one bound
// to an SMSC over SMPP (SMPPBackend).
package atmodem

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax reports a command line that does not follow the V.250 §5.3
// syntax; the modem answers it with ERROR.
var ErrSyntax = errors.New("atmodem: syntax error")

// Op is the form in which an extended command is issued (V.250 §5.4.2).
type Op int

// The four command forms: AT+X (execute), AT+X=… (set), AT+X? (read) and
// AT+X=? (test). Basic commands (ATE1) use OpExec with their number in Args,
// and S-parameters use OpSet (ATS3=13) or OpRead (ATS3?).
const (
	OpExec Op = iota
	OpSet
	OpRead
	OpTest
)

// Command is one command of a command line: basic (E, Z, &F, I, S3) or
// extended (+CMGF), with the raw text of its arguments.
type Command struct {
	// Name is upper case: "E", "&F", "S3", "+CMGF", "^SYSINFO".
	Name string
	// Op is the form of the command.
	Op Op
	// Args is the raw argument text: the digits after a basic command, the
	// value after '=' for a set or S-parameter, empty otherwise.
	Args string
}

// String formats the command as it would appear after "AT".
func (c Command) String() string {
	switch c.Op {
	case OpSet:
		return c.Name + "=" + c.Args
	case OpRead:
		return c.Name + "?"
	case OpTest:
		return c.Name + "=?"
	}
	return c.Name + c.Args
}

// extendedPrefixes are the characters that start an extended or
// vendor-specific command name (V.250 §5.4.1: '+' for standard commands; the
// others are used by manufacturers).
const extendedPrefixes = "+^$%*#!@"

// ParseLine parses one command line (without its terminating CR) into its
// commands, V.250 §5.2. The line must start with "AT" (any case). An "AT"
// alone yields no commands. Basic commands may follow each other directly
// ("ATE0V1"); extended commands are separated by ';'. Quoted strings in
// arguments are kept as they are, including separators inside them.
func ParseLine(line string) ([]Command, error) {
	if len(line) < 2 || !strings.EqualFold(line[:2], "AT") {
		return nil, fmt.Errorf("%w: offset 0: expected \"AT\" prefix", ErrSyntax)
	}
	var cmds []Command
	i := 2
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == ';':
			i++
		case strings.IndexByte(extendedPrefixes, c) >= 0:
			cmd, n, err := parseExtended(line, i)
			if err != nil {
				return nil, err
			}
			cmds = append(cmds, cmd)
			i = n
		default:
			cmd, n, err := parseBasic(line, i)
			if err != nil {
				return nil, err
			}
			cmds = append(cmds, cmd)
			i = n
		}
	}
	return cmds, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// parseBasic parses a basic command at line[i]: a letter, or '&' and a
// letter, followed by an optional number; 'S' takes a parameter number and
// "=value" or "?"; 'D' takes the rest of the line.
func parseBasic(line string, i int) (Command, int, error) {
	start := i
	var name []byte
	if line[i] == '&' {
		name = append(name, '&')
		i++
	}
	if i >= len(line) || !isLetter(line[i]) {
		return Command{}, 0, fmt.Errorf("%w: offset %d: expected a command letter", ErrSyntax, i)
	}
	letter := upper(line[i])
	name = append(name, letter)
	i++
	if start == i-1 && letter == 'D' {
		// Dial: everything up to the end of the line is the dial string.
		return Command{Name: "D", Op: OpExec, Args: line[i:]}, len(line), nil
	}
	if start == i-1 && letter == 'S' {
		j := i
		for j < len(line) && isDigit(line[j]) {
			j++
		}
		if j == i {
			return Command{}, 0, fmt.Errorf("%w: offset %d: expected an S-parameter number", ErrSyntax, i)
		}
		name = append(name, line[i:j]...)
		switch {
		case j < len(line) && line[j] == '?':
			return Command{Name: string(name), Op: OpRead}, j + 1, nil
		case j < len(line) && line[j] == '=':
			k := j + 1
			for k < len(line) && isDigit(line[k]) {
				k++
			}
			return Command{Name: string(name), Op: OpSet, Args: line[j+1 : k]}, k, nil
		}
		return Command{}, 0, fmt.Errorf("%w: offset %d: expected '?' or '=' after S%s", ErrSyntax, j, line[i:j])
	}
	j := i
	for j < len(line) && isDigit(line[j]) {
		j++
	}
	return Command{Name: string(name), Op: OpExec, Args: line[i:j]}, j, nil
}

// parseExtended parses an extended command at line[i] up to the ';' that
// ends it or the end of the line.
func parseExtended(line string, i int) (Command, int, error) {
	j := i + 1
	for j < len(line) && (isLetter(line[j]) || isDigit(line[j]) || strings.IndexByte("!%-./:_", line[j]) >= 0) {
		j++
	}
	if j == i+1 {
		return Command{}, 0, fmt.Errorf("%w: offset %d: expected a command name after %q", ErrSyntax, j, line[i])
	}
	cmd := Command{Name: strings.ToUpper(line[i:j])}
	for j < len(line) && line[j] == ' ' {
		j++
	}
	switch {
	case j == len(line) || line[j] == ';':
		cmd.Op = OpExec
		return cmd, j, nil
	case line[j] == '?':
		cmd.Op = OpRead
		j++
	case strings.HasPrefix(line[j:], "=?"):
		cmd.Op = OpTest
		j += 2
	case line[j] == '=':
		end, err := argsEnd(line, j+1)
		if err != nil {
			return Command{}, 0, err
		}
		cmd.Op = OpSet
		cmd.Args = strings.TrimRight(line[j+1:end], " ")
		return cmd, end, nil
	default:
		return Command{}, 0, fmt.Errorf("%w: offset %d: unexpected %q after %s", ErrSyntax, j, line[j], cmd.Name)
	}
	for j < len(line) && line[j] == ' ' {
		j++
	}
	if j < len(line) && line[j] != ';' {
		return Command{}, 0, fmt.Errorf("%w: offset %d: expected ';' or end of line after %s", ErrSyntax, j, cmd)
	}
	return cmd, j, nil
}

// argsEnd returns the index of the ';' that ends the arguments starting at
// line[i], or len(line); separators inside double quotes do not count.
func argsEnd(line string, i int) (int, error) {
	quoted := false
	for ; i < len(line); i++ {
		switch line[i] {
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				return i, nil
			}
		}
	}
	if quoted {
		return 0, fmt.Errorf("%w: offset %d: unterminated string", ErrSyntax, i)
	}
	return i, nil
}

// SplitArgs splits the argument text of a set command on commas outside
// double quotes, trims spaces and removes the quotes of string values
// (TS 27.007 §4.1). Omitted values are empty strings.
func SplitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == ' ' && !quoted:
		default:
			cur.WriteByte(c)
		}
	}
	if quoted {
		return nil, fmt.Errorf("%w: offset %d: unterminated string in arguments", ErrSyntax, len(s))
	}
	out = append(out, cur.String())
	return out, nil
}

// FormatLine formats commands back into a command line that ParseLine
// accepts: "AT" followed by the commands, extended ones separated by ';'.
func FormatLine(cmds []Command) string {
	var b strings.Builder
	b.WriteString("AT")
	for i, c := range cmds {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(c.String())
	}
	return b.String()
}
