package handset

import (
	"strconv"
	"time"

	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// The texts of the events every challenge and every text message raise,
// built with append and strconv: fmt's reflection was a visible share of a
// phone's CPU per challenge. eventtext_test.go checks each against the fmt
// format it replaced; the rare events (errors, URLs, parts) keep fmt.

// emit sends an event whose detail the caller built.
func (h *Handset) emit(kind, detail string) {
	h.cfg.Event(Event{Time: h.now(), Kind: kind, Detail: detail})
}

// hexDigits are the digits of %X.
const hexDigits = "0123456789ABCDEF"

// appendHex appends v as %0nX does for a value of at most n digits.
func appendHex(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[v>>(4*uint(i))&0xF])
	}
	return b
}

// downloadText is "SMS-PP download part %d/%d: SW %04X".
func downloadText(part, parts int, sw uint16) string {
	var buf [48]byte
	b := append(buf[:0], "SMS-PP download part "...)
	b = strconv.AppendInt(b, int64(part), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(parts), 10)
	b = append(b, ": SW "...)
	return string(appendHex(b, uint64(sw), 4))
}

// swText is "SW %04X".
func swText(sw uint16) string {
	var buf [8]byte
	return string(appendHex(append(buf[:0], "SW "...), uint64(sw), 4))
}

// promptText is "%s %q" of the prompt's kind and text.
func promptText(kind person.PromptKind, text string) string {
	b := make([]byte, 0, 16+len(text)*5/4)
	b = append(b, kind.String()...)
	b = append(b, ' ')
	return string(strconv.AppendQuote(b, text))
}

// displayText is "display %q (no answer needed)".
func displayText(text string) string {
	b := make([]byte, 0, 40+len(text)*5/4)
	b = append(b, "display "...)
	b = strconv.AppendQuote(b, text)
	return string(append(b, " (no answer needed)"...))
}

// answerText is "%s after %v" of what the person did — "no answer within
// %v" of the timeout, "entered %d hidden characters", "entered %q" or the
// action — and the delay, at most timeout.
func answerText(a person.Answer, hidden, timedOut bool, timeout time.Duration) string {
	var buf [96]byte
	b := buf[:0]
	switch {
	case timedOut:
		b = append(b, "no answer within "...)
		b = append(b, timeout.String()...)
	case a.Action == person.Enter && hidden:
		b = append(b, "entered "...)
		b = strconv.AppendInt(b, int64(len(a.Input)), 10)
		b = append(b, " hidden characters"...)
	case a.Action == person.Enter:
		b = append(b, "entered "...)
		b = strconv.AppendQuote(b, a.Input)
	default:
		b = append(b, a.Action.String()...)
	}
	b = append(b, " after "...)
	return string(append(b, min(a.Delay, timeout).String()...))
}

// submitText is "SMS-SUBMIT to %s, PID %02X DCS %02X, %d bytes of user data".
func submitText(s *tpdu.Submit) string {
	var buf [96]byte
	b := append(buf[:0], "SMS-SUBMIT to "...)
	b = append(b, s.DA.String()...)
	b = append(b, ", PID "...)
	b = appendHex(b, uint64(s.PID), 2)
	b = append(b, " DCS "...)
	b = appendHex(b, uint64(s.DCS), 2)
	b = append(b, ", "...)
	b = strconv.AppendInt(b, int64(len(s.UD.Data)), 10)
	return string(append(b, " bytes of user data"...))
}

// receivedText is "text from %s (%d characters)", or with " in %d parts"
// before the parenthesis closes when parts > 1.
func receivedText(from string, chars, parts int) string {
	var buf [80]byte
	b := append(buf[:0], "text from "...)
	b = append(b, from...)
	b = append(b, " ("...)
	b = strconv.AppendInt(b, int64(chars), 10)
	b = append(b, " characters"...)
	if parts > 1 {
		b = append(b, " in "...)
		b = strconv.AppendInt(b, int64(parts), 10)
		b = append(b, " parts"...)
	}
	return string(append(b, ')'))
}
