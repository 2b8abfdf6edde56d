package handset

import (
	"fmt"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// eventTexts are texts the events carry: quotes, escapes, non-ASCII,
// invalid UTF-8, control characters, empty.
var eventTexts = []string{"", "Approve login to demo?", `say "yes"\no`, "Größe €5 ✓", "bad \xff\xfe utf-8", "tab\tnl\ncr\r\x00\x7f", "𝄞 emoji 😀", "\u2028\u00a0"}

// TestEventTexts checks each event text built without fmt against the fmt
// format it replaced, over the values they take.
func TestEventTexts(t *testing.T) {
	t.Parallel()
	check := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	for _, sw := range []uint16{0, 0x9000, 0x911C, 0x6F00, 0x0A, 0xFFFF} {
		check(swText(sw), fmt.Sprintf("SW %04X", sw))
		for _, n := range [][2]int{{1, 1}, {2, 3}, {10, 255}} {
			check(downloadText(n[0], n[1], sw), fmt.Sprintf("SMS-PP download part %d/%d: SW %04X", n[0], n[1], sw))
		}
	}
	for _, text := range eventTexts {
		for _, k := range []person.PromptKind{person.Display, person.Input, person.Inkey, person.SelectItem, person.URL} {
			check(promptText(k, text), fmt.Sprintf("%s %q", k, text))
		}
		check(displayText(text), fmt.Sprintf("display %q (no answer needed)", text))
	}
	timeouts := []time.Duration{0, 1500 * time.Millisecond, 60 * time.Second, 90 * time.Minute}
	delays := []time.Duration{0, 1, 250 * time.Microsecond, 2 * time.Second, 2 * time.Hour}
	for _, act := range []person.Action{person.Confirm, person.Enter, person.Choose, person.Cancel, person.Busy, person.Action(42)} {
		for _, in := range eventTexts {
			for _, hidden := range []bool{false, true} {
				for _, timedOut := range []bool{false, true} {
					for _, to := range timeouts {
						for _, d := range delays {
							a := person.Answer{Action: act, Input: in, Delay: d}
							check(answerText(a, hidden, timedOut, to), answerFmt(a, hidden, timedOut, to))
						}
					}
				}
			}
		}
	}
	for _, da := range []tpdu.Address{{Number: "99955515"}, tpdu.InternationalAddress("+447900123456"), {}} {
		for _, pid := range []byte{0, 0x7F, 0xFF} {
			for _, dcs := range []tpdu.DCS{0, 0x16, 0xF6} {
				for _, n := range []int{0, 1, 140} {
					s := &tpdu.Submit{DA: da, PID: pid, DCS: dcs, UD: tpdu.UserData{Data: make([]byte, n)}}
					check(submitText(s), fmt.Sprintf("SMS-SUBMIT to %s, PID %02X DCS %02X, %d bytes of user data", s.DA.String(), s.PID, byte(s.DCS), len(s.UD.Data)))
				}
			}
		}
	}
	for _, from := range []string{"99955515", "+447900123456", "Bank ✓", ""} {
		for _, text := range eventTexts {
			for _, parts := range []int{0, 1, 2, 17} {
				want := fmt.Sprintf("text from %s (%d characters)", from, len([]rune(text)))
				if parts > 1 {
					want = fmt.Sprintf("text from %s (%d characters in %d parts)", from, len([]rune(text)), parts)
				}
				check(receivedText(from, len([]rune(text)), parts), want)
			}
		}
	}
}

// answerFmt is the answer event's text as the handset wrote it with fmt.
func answerFmt(a person.Answer, hidden, timedOut bool, timeout time.Duration) string {
	detail := a.Action.String()
	if timedOut {
		detail = fmt.Sprintf("no answer within %v", timeout)
	} else if a.Action == person.Enter && hidden {
		detail = fmt.Sprintf("entered %d hidden characters", len(a.Input))
	} else if a.Action == person.Enter {
		detail = fmt.Sprintf("entered %q", a.Input)
	}
	return fmt.Sprintf("%s after %v", detail, min(a.Delay, timeout))
}
