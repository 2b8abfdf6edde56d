package person

import (
	"strings"
	"time"
)

// Keyword finds an answer keyword in a challenge's binding message, so a test
// can choose the outcome per challenge without scripting the phone:
//
//	[approve] [cancel] [ignore] [wrong-pin] [busy] [back] [pin=12345]
//	[delay=2s]   (with any of the above, or alone: approve after 2 s)
//
// Keywords are case-insensitive. It returns nil when there is none. A
// per-phone script set over the API wins over a keyword; a keyword wins over
// the number's magic outcome.
func Keyword(text string) *Step {
	var s Step
	found := false
	for {
		i := strings.IndexByte(text, '[')
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i:], ']')
		if j < 0 {
			break
		}
		word := strings.ToLower(strings.TrimSpace(text[i+1 : i+j]))
		text = text[i+j+1:]
		key, val, hasVal := strings.Cut(word, "=")
		switch {
		case !hasVal && (key == AnswerApprove || key == AnswerCancel || key == AnswerIgnore || key == AnswerWrongPIN || key == AnswerBusy || key == AnswerBack):
			s.Answer, found = key, true
		case hasVal && key == "pin" && val != "" && strings.Trim(val, "0123456789") == "":
			s.Answer, s.PIN, found = AnswerPIN, val, true
		case hasVal && key == "delay":
			if d, err := time.ParseDuration(val); err == nil && d >= 0 {
				s.Delay, found = Duration(d), true
			}
		}
	}
	if !found {
		return nil
	}
	if s.Answer == "" {
		s.Answer = AnswerApprove
	}
	return &s
}
