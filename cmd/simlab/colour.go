package main

import (
	"bytes"
	"io"
	"os"
	"strings"

	"github.com/simlab-dev/simlab/simulator/doctor"
	"github.com/simlab-dev/simlab/simulator/push"
)

// palette colours the words a person scans for (an outcome, a doctor
// status) on a terminal, and leaves output to a pipe or file plain so it
// stays parseable.
type palette struct{ on bool }

// paletteFor colours for w when it is a terminal and neither NO_COLOR
// (https://no-color.org: set and not empty) nor TERM=dumb says no.
func paletteFor(w io.Writer) palette {
	return palette{on: colourOn(isTerminal(w), os.Getenv)}
}

func colourOn(tty bool, getenv func(string) string) bool {
	return tty && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

const (
	green  = "32"
	yellow = "33"
	red    = "31"
)

func (p palette) paint(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// outcome colours a push outcome: approved green; what the person did
// (cancelled, a wrong PIN, busy, no PIN support) yellow; what failed
// (timeout, not delivered, SIM error, PIN blocked) red.
func (p palette) outcome(o string) string {
	switch o {
	case "approved":
		return p.paint(green, o)
	case push.TimedOut, push.NotDelivered, push.SIMError, "pin_blocked":
		return p.paint(red, o)
	}
	return p.paint(yellow, o)
}

// status colours a doctor status.
func (p palette) status(s doctor.Status) string {
	switch s {
	case doctor.OK:
		return p.paint(green, string(s))
	case doctor.Warn:
		return p.paint(yellow, string(s))
	}
	return p.paint(red, string(s))
}

// column colours, in a table tabwriter has aligned, the word that starts
// at the column headed name on each line, with paint: colouring after
// alignment keeps the escape bytes out of the column widths.
func (p palette) column(table []byte, name string, paint func(word string) string) []byte {
	if !p.on {
		return table
	}
	lines := bytes.SplitAfter(table, []byte("\n"))
	if len(lines) == 0 {
		return table
	}
	at := bytes.Index(lines[0], []byte(name))
	if at < 0 {
		return table
	}
	var out bytes.Buffer
	out.Write(lines[0])
	for _, l := range lines[1:] {
		s := string(l)
		if len(s) <= at || s[at] == ' ' || (at > 0 && s[at-1] != ' ') {
			out.WriteString(s)
			continue
		}
		end := at + strings.IndexAny(s[at:]+" ", " \n")
		out.WriteString(s[:at] + paint(s[at:end]) + s[end:])
	}
	return out.Bytes()
}
