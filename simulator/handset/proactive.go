package handset

import (
	"context"
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/applet/cat"
	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// proactive runs the proactive session the card announced with sw (91xx):
// FETCH, act, TERMINAL RESPONSE, until the card answers 9000.
func (h *Handset) proactive(ctx context.Context, sw uint16) error {
	var override *person.Step // a keyword seen in this session's texts
	for n := 0; sw>>8 == 0x91; n++ {
		if n > 64 {
			return fmt.Errorf("handset: proactive session did not end after %d commands", n)
		}
		data, fsw, err := h.transmit(ctx, []byte{0x80, 0x12, 0x00, 0x00, byte(sw)})
		if err != nil {
			return fmt.Errorf("handset: FETCH: %w", err)
		}
		if fsw != 0x9000 {
			return fmt.Errorf("handset: FETCH answered %04X", fsw)
		}
		cmd, err := cat.ParseCommand(data)
		var tr *cat.TerminalResponse
		if err != nil {
			details, ok := rawDetails(data)
			if !ok {
				return fmt.Errorf("handset: proactive command: %w", err)
			}
			h.event("error", "proactive command not understood: %v", err)
			tr = &cat.TerminalResponse{Details: details, Result: cat.Result{General: cat.ResultDataNotUnderstood}}
		} else {
			tr, err = h.handle(ctx, cmd, &override)
			if err != nil {
				return err
			}
		}
		apdu, err := tr.APDU()
		if err != nil {
			return fmt.Errorf("handset: TERMINAL RESPONSE: %w", err)
		}
		if _, sw, err = h.transmit(ctx, apdu); err != nil {
			return fmt.Errorf("handset: TERMINAL RESPONSE: %w", err)
		}
	}
	if h.cfg.Event != nil {
		h.emit("session_end", swText(sw))
	}
	if sw != 0x9000 {
		return fmt.Errorf("handset: proactive session ended with %04X", sw)
	}
	return nil
}

// rawDetails digs the command details (81 03 nn tt qq) out of a proactive
// command the cat package could not parse, to answer "data not understood".
func rawDetails(b []byte) (cat.CommandDetails, bool) {
	obj, _, err := tlv.ParseBER(b)
	if err != nil || obj.Tag != 0xD0 {
		return cat.CommandDetails{}, false
	}
	v := obj.Value
	if len(v) >= 5 && v[0]&0x7F == 0x01 && v[1] == 3 {
		return cat.CommandDetails{Number: v[2], Type: cat.CommandType(v[3]), Qualifier: v[4]}, true
	}
	return cat.CommandDetails{}, false
}

// wait lets the person take a.Delay from when the prompt was shown, or
// gives up at timeout after it. It reports whether the prompt timed out.
func wait(ctx context.Context, shown time.Time, a person.Answer, timeout time.Duration) (timedOut bool, err error) {
	d := a.Delay
	if a.Action == person.Ignore || d >= timeout {
		d, timedOut = timeout, true
	}
	d -= time.Since(shown) // an interactive person has already taken their time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
		}
	}
	return timedOut, nil
}

func (h *Handset) timeout(d *cat.Duration) time.Duration {
	if d != nil {
		if v := d.Duration(); v > 0 {
			return v
		}
	}
	return h.cfg.PromptTimeout
}

// userResult maps the person's action on a prompt to the general result.
func userResult(a person.Action, timedOut bool) (cat.GeneralResult, []byte) {
	switch {
	case timedOut:
		return cat.ResultNoResponse, nil
	case a == person.Cancel:
		return cat.ResultSessionTerminated, nil
	case a == person.Back:
		return cat.ResultBackwardMove, nil
	case a == person.Busy:
		return cat.ResultTerminalUnable, []byte{cat.CauseScreenBusy}
	}
	return cat.ResultOK, nil
}

// handle performs one proactive command and builds its terminal response.
func (h *Handset) handle(ctx context.Context, cmd cat.Command, override **person.Step) (*cat.TerminalResponse, error) {
	switch c := cmd.(type) {
	case *cat.DisplayText:
		text, _ := c.Text.String()
		if !c.WaitForUser || c.ImmediateResponse {
			if h.cfg.Event != nil {
				h.emit("prompt", displayText(text))
			}
			return cat.RespondTo(c, cat.ResultOK), nil
		}
		return h.ask(ctx, c, person.Prompt{Kind: person.Display, Text: text}, h.timeout(c.Duration), override, nil)
	case *cat.GetInput:
		text, _ := c.Text.String()
		pr := person.Prompt{Kind: person.Input, Text: text, Hidden: c.HideInput, DigitsOnly: !c.Alphabet,
			MinLen: int(c.Length.Min), MaxLen: int(c.Length.Max), PIN: h.cfg.PIN}
		return h.ask(ctx, c, pr, h.timeout(c.Duration), override, func(tr *cat.TerminalResponse, a person.Answer) error {
			dcs := cat.DCSGSM8
			switch {
			case c.UCS2:
				dcs = cat.DCSUCS2
			case c.Packed:
				dcs = cat.DCSPacked
			}
			ts, err := cat.TextIn(a.Input, dcs)
			if err != nil {
				return err
			}
			tr.Text = &ts
			return nil
		})
	case *cat.GetInkey:
		text, _ := c.Text.String()
		return h.ask(ctx, c, person.Prompt{Kind: person.Inkey, Text: text}, h.timeout(c.Duration), override, func(tr *cat.TerminalResponse, a person.Answer) error {
			key := a.Input
			if key == "" {
				key = "Y"
			}
			if c.YesNo {
				key = "\x01" // yes (TS 102 223 §6.8.5)
			}
			ts, err := cat.TextIn(key[:1], cat.DCSGSM8)
			if err != nil {
				return err
			}
			tr.Text = &ts
			return nil
		})
	case *cat.SelectItem:
		var title string
		if c.Alpha != nil {
			title = string(*c.Alpha)
		}
		items := make([]string, len(c.Items))
		for i, it := range c.Items {
			items[i] = string(it.Text)
		}
		if len(c.Items) == 0 {
			return cat.RespondTo(c, cat.ResultDataNotUnderstood), nil
		}
		return h.ask(ctx, c, person.Prompt{Kind: person.SelectItem, Text: title, Items: items}, h.cfg.PromptTimeout, override, func(tr *cat.TerminalResponse, a person.Answer) error {
			i := a.Item - 1
			if i < 0 || i >= len(c.Items) {
				i = 0
			}
			id := c.Items[i].ID
			tr.ItemID = &id
			return nil
		})
	case *cat.SendShortMessage:
		return h.sendSM(ctx, c), nil
	case *cat.ProvideLocalInfo:
		return h.localInfo(c), nil
	case *cat.PlayTone, *cat.MoreTime, *cat.SetUpMenu, *cat.SetUpEventList, *cat.PollingOff, *cat.Refresh:
		return cat.RespondTo(cmd, cat.ResultOK), nil
	case *cat.PollInterval:
		tr := cat.RespondTo(cmd, cat.ResultOK)
		d := c.Interval
		tr.Duration = &d
		return tr, nil
	}
	h.event("error", "proactive command %v beyond this terminal's capabilities", cmd.Details().Type)
	return cat.RespondTo(cmd, cat.ResultBeyondCapabilities), nil
}

// ask shows a prompt, waits for the person (or the timeout) and builds the
// terminal response; fill adds the data of a successful answer.
func (h *Handset) ask(ctx context.Context, c cat.Command, pr person.Prompt, timeout time.Duration, override **person.Step,
	fill func(*cat.TerminalResponse, person.Answer) error) (*cat.TerminalResponse, error) {
	if k := person.Keyword(pr.Text); k != nil {
		*override = k
	}
	if h.cfg.Event != nil {
		h.emit("prompt", promptText(pr.Kind, pr.Text))
	}
	shown := time.Now()
	actx, cancel := context.WithDeadline(ctx, shown.Add(timeout))
	a := h.cfg.Person.Answer(actx, pr, *override)
	cancel()
	timedOut, err := wait(ctx, shown, a, timeout)
	if err != nil {
		return nil, err
	}
	g, add := userResult(a.Action, timedOut)
	if h.cfg.Event != nil {
		h.emit("answer", answerText(a, pr.Hidden, timedOut, timeout))
	}
	tr := cat.RespondTo(c, g, add...)
	if g == cat.ResultOK && fill != nil {
		if err := fill(tr, a); err != nil {
			return cat.RespondTo(c, cat.ResultTerminalUnable, cat.CauseNoSpecificCause), nil
		}
	}
	return tr, nil
}

func (h *Handset) sendSM(ctx context.Context, c *cat.SendShortMessage) *cat.TerminalResponse {
	if h.cfg.SendSMS == nil {
		h.event("error", "SEND SHORT MESSAGE: no network")
		return cat.RespondTo(c, cat.ResultNetworkUnable, cat.CauseNoService)
	}
	m, err := tpdu.Parse(c.TPDU, tpdu.MO)
	if err != nil {
		h.event("error", "SEND SHORT MESSAGE: TPDU: %v", err)
		return cat.RespondTo(c, cat.ResultDataNotUnderstood)
	}
	s, ok := m.(*tpdu.Submit)
	if !ok {
		h.event("error", "SEND SHORT MESSAGE: a %s, not an SMS-SUBMIT", m.Type())
		return cat.RespondTo(c, cat.ResultBeyondCapabilities)
	}
	if h.cfg.Event != nil {
		h.emit("sms_out", submitText(s))
	}
	if err := h.cfg.SendSMS(ctx, s); err != nil {
		h.event("error", "SEND SHORT MESSAGE failed: %v", err)
		// TS 31.111 §6.8.12: RP-ERROR, cause "temporary failure" (0x29).
		return cat.RespondTo(c, cat.ResultSMSRPError, 0x29)
	}
	return cat.RespondTo(c, cat.ResultOK)
}

func (h *Handset) localInfo(c *cat.ProvideLocalInfo) *cat.TerminalResponse {
	var obj tlv.CTLV
	var err error
	switch c.Kind {
	case cat.LocalInfoIMEI:
		imei := h.cfg.IMEI
		if imei == "" {
			imei = "359999000000000"
		}
		obj, err = cat.IMEIObject(imei)
	case cat.LocalInfoDateTime:
		obj, err = cat.DateTimeObject(time.Now())
	case cat.LocalInfoLanguage:
		obj, err = cat.LanguageObject("en")
	default:
		return cat.RespondTo(c, cat.ResultBeyondCapabilities)
	}
	if err != nil {
		return cat.RespondTo(c, cat.ResultBeyondCapabilities)
	}
	tr := cat.RespondTo(c, cat.ResultOK)
	tr.Extra = append(tr.Extra, obj)
	return tr
}
